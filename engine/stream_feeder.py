"""One input in every batch slot: a source's samples cut into the model's frames.

moshi's script pads the whole input (silence before and after it, `layout.py`) and keeps only
whole frames; on a stream the padding shifts where every frame starts, so frames are cut here,
from the padded stream, whatever the size of the pieces the source gives.
"""
from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace

import numpy as np

from .contracts import Source
from .events import Event
from .framing import Framer
from .layout import StreamLayout
from .step_loop import StepInput


class StreamFeeder:
    """A `Feeder`: the source's frames for every slot, then the closing silence; the first
    frame of that silence ends the input (`inputs_ended`), the last one ends the stream."""

    def __init__(self, source: Source, layout: StreamLayout, batch_size: int = 1):
        self.source = source
        self.layout = layout
        self.framer = Framer(layout.frame_size, layout.prefix)
        self._every = tuple(range(batch_size))
        self._frames: deque[np.ndarray] = deque()  # cut, not handed over yet
        self._notices: tuple[Event, ...] = ()  # not handed over yet
        self._flushed = False

    async def __aiter__(self) -> AsyncGenerator[StepInput, None]:
        async with aclosing(aiter(self.source)) as pieces:
            async for piece in pieces:
                self._frames.extend(self.framer.push(piece))
                self._notices += self.framer.notices(0)
                while self._frames:
                    notices, self._notices = self._notices, ()
                    yield StepInput(self._frames.popleft(), notices=notices)
        for step in self.flush():
            yield step

    def flush(self) -> list[StepInput]:
        if self._flushed:
            return []
        self._flushed = True
        steps = [StepInput(frame) for frame in self._frames]
        self._frames.clear()
        closing = self.framer.finish(self.layout.flush)
        notices = self._notices + self.framer.notices(0, final=True)
        for i, frame in enumerate(closing):
            steps.append(StepInput(frame, inputs_ended=self._every if i == 0 else (),
                                   ends=self._every if i == len(closing) - 1 else ()))
        if steps and notices:
            steps[0] = replace(steps[0], notices=notices)
        return steps

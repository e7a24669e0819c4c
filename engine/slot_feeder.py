"""Many inputs through one batch: which input each slot holds, frame by frame.

Runs on the event loop (it reads the sources). Each slot takes the next input when its last one
ends; an input's frames are cut with its layout's silence as a lone run's are (`Framer`), so a
slot sees exactly the frames the input would get alone. A slot with no input left is left out
of the step (`live` False: the model leaves its state alone).
"""
from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field

import numpy as np

from .events import Event, StreamStarted
from .framing import Framer
from .layout import StreamLayout
from .step_loop import StepInput

Opener = Callable[[], AsyncIterable[np.ndarray]]  # opens one input when its slot is free


@dataclass
class _Slot:
    index: int
    name: str
    samples: AsyncIterator[np.ndarray]
    framer: Framer
    frames: deque = field(default_factory=deque)
    exhausted: bool = False  # its input has no more samples; its closing silence is cut
    real_frames: int = 0  # once exhausted: frames of its input still queued before the silence
    ended_reported: bool = False
    started: bool = False  # its first frame went out


class SlotFeeder:
    """A `Feeder` of many inputs, `batch_size` at a time; `flush` ends those in flight and
    starts no more."""

    def __init__(self, inputs: list[tuple[str, Opener]], layout: StreamLayout, batch_size: int):
        if layout.flush < layout.frame_size:
            raise ValueError("many inputs in one batch need a closing silence of a frame or more")
        self.layout = layout
        self.batch_size = batch_size
        self._waiting = deque(enumerate(inputs))
        self._slots: list[_Slot | None] = [None] * batch_size

    async def __aiter__(self) -> AsyncGenerator[StepInput, None]:
        try:
            while True:
                self._fill()
                if all(slot is None for slot in self._slots):
                    return
                for slot in self._slots:
                    while slot is not None and not slot.frames and not slot.exhausted:
                        try:
                            slot.frames.extend(slot.framer.push(await anext(slot.samples)))
                        except StopAsyncIteration:
                            self._exhaust(slot)
                yield self._step()
        finally:
            for slot in self._slots:
                if slot is not None:
                    await _close(slot.samples)

    def flush(self) -> list[StepInput]:
        self._waiting.clear()
        steps = []
        for slot in self._slots:
            if slot is not None and not slot.exhausted:
                self._exhaust(slot)
        while any(slot is not None for slot in self._slots):
            steps.append(self._step())
        return steps

    def _fill(self) -> None:
        for b in range(self.batch_size):
            if self._slots[b] is None and self._waiting:
                index, (name, opener) = self._waiting.popleft()
                self._slots[b] = _Slot(index, name, aiter(opener()),
                                       Framer(self.layout.frame_size, self.layout.prefix))

    def _exhaust(self, slot: _Slot) -> None:
        slot.exhausted = True
        slot.real_frames = len(slot.frames)
        slot.frames.extend(slot.framer.finish(self.layout.flush))

    def _step(self) -> StepInput:
        """The next frame of every slot that holds an input."""
        pcm = np.zeros((self.batch_size, self.layout.frame_size), dtype=np.float32)
        starts, ended, ends = [], [], []
        notices: list[Event] = []
        for b, slot in enumerate(self._slots):
            if slot is None:
                continue
            if not slot.started:
                slot.started = True
                starts.append(StreamStarted(b, slot.index, slot.name))
            if slot.exhausted and not slot.ended_reported:
                if slot.real_frames:
                    slot.real_frames -= 1
                else:
                    slot.ended_reported = True
                    ended.append(b)
            pcm[b] = slot.frames.popleft()
            if slot.exhausted and not slot.frames:
                ends.append(b)
            notices += slot.framer.notices(b, final=b in ends)
        live = tuple(slot is not None for slot in self._slots)
        for b in ends:
            self._slots[b] = None
        return StepInput(pcm, live, tuple(starts), tuple(ended), tuple(ends), tuple(notices))


async def _close(samples: AsyncIterator[np.ndarray]) -> None:
    aclose = getattr(samples, "aclose", None)
    if aclose is not None:
        await aclose()

"""Many inputs through one batch: which input each batch slot holds, frame by frame.

Runs on the event loop (it reads the sources). Each slot takes the next input when its last
one ends; an input's frames are cut with STT's padding as a single session cuts them
(`Framer`), so a slot sees exactly the frames the input would get alone. A slot with no input
left idles (`live` False: the model leaves its state alone).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import AsyncIterable, AsyncIterator, Callable

import numpy as np

from .framing import Framer

Opener = Callable[[], AsyncIterable[np.ndarray]]  # opens one input when its slot is free


@dataclass(frozen=True, eq=False)
class SlotFrame:
    """One batched step's input."""

    pcm: np.ndarray  # [batch, frame_size] float32; zeros in idle slots
    live: tuple[bool, ...]  # slots that hold an input this step
    starts: tuple[tuple[int, int, str], ...] = ()  # (slot, input index, name): first frame
    inputs_ended: tuple[int, ...] = ()  # slots whose real audio ended before this frame
    ends: tuple[int, ...] = ()  # slots whose input this frame is the last of


@dataclass
class _Slot:
    index: int
    name: str
    samples: AsyncIterator[np.ndarray]
    framer: Framer
    frames: deque = field(default_factory=deque)
    exhausted: bool = False
    ended_reported: bool = False


async def slot_frames(inputs: list[tuple[str, Opener]], batch_size: int, frame_size: int,
                      pad_left: int, pad_right: int) -> AsyncIterator[SlotFrame]:
    """SlotFrames until every input has gone through; `pad_right` must give at least a frame."""
    waiting = deque(enumerate(inputs))
    slots: list[_Slot | None] = [None] * batch_size
    try:
        while True:
            starts = []
            for b in range(batch_size):
                if slots[b] is None and waiting:
                    index, (name, opener) = waiting.popleft()
                    slots[b] = _Slot(index, name, aiter(opener()), Framer(frame_size, pad_left))
                    starts.append((b, index, name))
            if all(slot is None for slot in slots):
                return
            pcm = np.zeros((batch_size, frame_size), dtype=np.float32)
            ended, ends = [], []
            for b, slot in enumerate(slots):
                if slot is None:
                    continue
                while not slot.frames and not slot.exhausted:
                    try:
                        slot.frames.extend(slot.framer.push(await anext(slot.samples)))
                    except StopAsyncIteration:
                        slot.exhausted = True
                        slot.frames.extend(slot.framer.finish(pad_right))
                if slot.exhausted and not slot.ended_reported:
                    slot.ended_reported = True
                    ended.append(b)
                pcm[b] = slot.frames.popleft()
                if slot.exhausted and not slot.frames:
                    ends.append(b)
            live = tuple(slot is not None for slot in slots)
            for b in ends:
                slots[b] = None
            yield SlotFrame(pcm, live, tuple(starts), tuple(ended), tuple(ends))
    finally:
        for slot in slots:
            if slot is not None and hasattr(slot.samples, "aclose"):
                await slot.samples.aclose()

"""The server's clients as a `Feeder`: one batch slot each, a step whenever the model is free
and some slot has a whole frame.

Runs on the event loop. Each client's samples are cut into frames as they come (no silence
before them: moshi-server adds none, the client sends its own); a slot with no whole frame
waiting sits the step out (`live` False) and does not advance, so a slow client neither stalls
the others nor has its own stream changed. A client's first frame carries its `StreamStarted`,
which makes the step driver reset the slot (moshi's masked reset) for it. A step is cut only
once the previous one is done (`stepped`), so it takes every frame that came meanwhile: the
batch fills as it does on moshi-server, without steps of one slot queued ahead of the others.
"""
from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator

import numpy as np

from ..events import StreamStarted
from ..framing import Framer
from ..layout import StreamLayout
from ..step_loop import StepInput


class ClientSlot:
    """One client's place in the batch: its samples waiting for the model, bounded."""

    def __init__(self, feeder: "ClientFeeder", index: int, client_id: int, peer: str):
        self.feeder = feeder
        self.index = index
        self.client_id = client_id
        self.peer = peer
        self.framer = Framer(feeder.layout.frame_size)
        self.frames: deque[np.ndarray] = deque()
        self.received = 0  # samples received
        self.taken = 0  # frames handed to the model
        self.started = False  # its first frame went out
        self.open = True
        self.room = asyncio.Event()  # set while it may take more samples
        self.room.set()

    @property
    def waiting_samples(self) -> int:
        """Samples received that the feeder has not handed to the model yet."""
        return self.received - self.taken * self.feeder.layout.frame_size

    def push(self, samples: np.ndarray) -> None:
        """Samples of any length; `room` clears once more than the bound is waiting."""
        if not self.open:
            return
        self.received += samples.size
        self.frames.extend(self.framer.push(samples))
        self._update_room()
        if self.frames:
            self.feeder.wake()

    def _update_room(self) -> None:
        if self.waiting_samples < self.feeder.max_waiting:
            self.room.set()
        else:
            self.room.clear()

    def take(self) -> np.ndarray:
        self.taken += 1
        frame = self.frames.popleft()
        self._update_room()
        return frame


class ClientFeeder:
    """A `Feeder` of up to `batch_size` clients; `open` gives a client a free slot."""

    def __init__(self, layout: StreamLayout, batch_size: int, max_waiting_seconds: float = 5.0):
        self.layout = layout
        self.batch_size = batch_size
        self.max_waiting = max(int(max_waiting_seconds * layout.sample_rate), layout.frame_size)
        self.slots: list[ClientSlot | None] = [None] * batch_size
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # the model has done every step handed out
        self._idle.set()
        self._in_flight = 0
        self.closed = False  # flushed: no new clients, no more audio

    @property
    def free_slots(self) -> int:
        return sum(slot is None for slot in self.slots)

    def open(self, client_id: int, peer: str) -> ClientSlot | None:
        """A free slot for a new client, or None when the batch is full or closed."""
        if self.closed:
            return None
        for b, slot in enumerate(self.slots):
            if slot is None:
                self.slots[b] = ClientSlot(self, b, client_id, peer)
                return self.slots[b]
        return None

    def release(self, slot: ClientSlot) -> None:
        """The client left: its slot is free (the next client's start resets it)."""
        slot.open = False
        slot.room.set()  # nobody waits for room in a released slot
        if self.slots[slot.index] is slot:
            self.slots[slot.index] = None

    def wake(self) -> None:
        self._wake.set()

    def stepped(self, steps: int = 1) -> None:
        """The model finished `steps` of the steps handed out (the router sees them)."""
        self._in_flight = max(self._in_flight - steps, 0)
        if self._in_flight == 0:
            self._idle.set()

    async def __aiter__(self) -> AsyncGenerator[StepInput, None]:
        while not self.closed:
            await self._idle.wait()
            if not any(slot is not None and slot.frames for slot in self.slots):
                self._wake.clear()
                await self._wake.wait()
                continue
            self._in_flight += 1
            self._idle.clear()
            yield self._step()

    def _step(self, ending: dict[int, int] | None = None) -> StepInput:
        """The next frame of every slot that has one; `ending`: slots flushing, and how many
        of their frames are real audio before the closing silence."""
        pcm = np.zeros((self.batch_size, self.layout.frame_size), dtype=np.float32)
        live = [False] * self.batch_size
        starts, inputs_ended, ends = [], [], []
        for b, slot in enumerate(self.slots):
            if slot is None or not slot.frames:
                continue
            if not slot.started:
                slot.started = True
                starts.append(StreamStarted(b, slot.client_id, slot.peer))
            if ending is not None and b in ending:
                if ending[b] == 0:
                    inputs_ended.append(b)
                ending[b] -= 1
            pcm[b] = slot.take()
            live[b] = True
            if ending is not None and not slot.frames:
                ends.append(b)
        return StepInput(pcm, tuple(live), tuple(starts), tuple(inputs_ended), tuple(ends))

    def flush(self) -> list[StepInput]:
        """Shutting down: every client's waiting frames, then its closing silence (the model's
        delay and a margin), so its last words come out; no audio is taken after this."""
        if self.closed:
            return []
        self.closed = True
        ending = {}
        for b, slot in enumerate(self.slots):
            if slot is not None and (slot.started or slot.frames):
                ending[b] = len(slot.frames)
                slot.frames.extend(slot.framer.finish(self.layout.flush))
                slot.open = False
        steps = []
        while any(slot is not None and slot.frames for slot in self.slots):
            steps.append(self._step(ending))
        return steps

"""One connected client of the server: its slot, what waits to be sent to it, its markers and
its figures (for the log line and the metrics)."""
from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass, field

from .client_feeder import ClientSlot

MAX_OUTBOX = 4000  # messages waiting for a client that does not read (~5 min of Steps)
_ids = itertools.count(1)


def next_client_id() -> int:
    return next(_ids)


@dataclass
class Client:
    id: int
    peer: str
    slot: ClientSlot
    started: float = field(default_factory=time.monotonic)
    outbox: asyncio.Queue = field(default_factory=asyncio.Queue)  # bytes, then None: close
    steps: int = 0  # its steps the model has done
    words: int = 0
    markers: list[tuple[int, int, int]] = field(default_factory=list)  # (step, order, id) heap
    ended: str | None = None  # why it ended, once it has
    close_code: int = 1000  # the websocket close code it gets
    ended_event: asyncio.Event = field(default_factory=asyncio.Event)
    _marker_order: int = 0

    def send(self, data: bytes) -> None:
        """Queue a message for the client; one that has let too many pile up is dropped."""
        if self.ended is not None:
            return
        if self.outbox.qsize() >= MAX_OUTBOX:
            self.end("it did not read its messages", 1008)
            return
        self.outbox.put_nowait(data)

    def end(self, reason: str, close_code: int = 1000) -> None:
        """The first reason wins; the writer closes the socket once the outbox is sent."""
        if self.ended is None:
            self.ended = reason
            self.close_code = close_code
            self.outbox.put_nowait(None)
            self.ended_event.set()

    def add_marker(self, marker_id: int, target_steps: int) -> None:
        self._marker_order += 1
        heapq.heappush(self.markers, (target_steps, self._marker_order, marker_id))

    def due_markers(self, all_of_them: bool = False) -> list[int]:
        """The markers whose audio (and the model's delay after it) has been through."""
        due = []
        while self.markers and (all_of_them or self.markers[0][0] <= self.steps):
            due.append(heapq.heappop(self.markers)[2])
        return due

    @property
    def audio_seconds(self) -> float:
        return self.slot.received / self.slot.feeder.layout.sample_rate

    def log_line(self) -> str:
        return (f"client {self.id} from {self.peer} (slot {self.slot.index}): "
                f"{time.monotonic() - self.started:.1f} s, {self.audio_seconds:.1f} s of audio, "
                f"{self.words} words, ended: {self.ended or 'unknown'}")

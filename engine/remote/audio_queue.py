"""The input's audio on its way to a server: cut into frames as it comes, held while there is no
connection (bounded), and kept once sent until the server has stepped it (to send it again on
a new connection if the old one drops first).

Each piece carries the position of its first sample in the input, so a new connection knows
where in the input its stream begins. A live input (a microphone) drops its oldest audio when
the bound is reached (counted); a file is not read further until there is room.
"""
from __future__ import annotations

import asyncio
from collections import deque

import numpy as np

Piece = tuple[int, np.ndarray]  # (input sample of its first sample, samples)


class AudioQueue:
    def __init__(self, frame_size: int, max_samples: int, live: bool):
        self.frame_size = frame_size
        self.max_samples = max(max_samples, frame_size)
        self.live = live
        self.pieces: deque[Piece] = deque()  # to send
        self.sent: deque[Piece] = deque()  # sent, not stepped yet
        self.produced = 0  # input samples in, in all
        self.dropped = 0  # input samples dropped while the queue was full (live)
        self.ended = False  # the input is over; what remains is in `pieces`
        self._rest: np.ndarray = np.zeros(0, np.float32)  # less than a frame, waiting for more
        self._changed = asyncio.Event()

    @property
    def queued(self) -> int:
        return sum(p.size for _, p in self.pieces)

    async def put(self, samples: np.ndarray) -> None:
        """Input samples of any length, cut into frames."""
        samples = np.concatenate([self._rest, np.asarray(samples, np.float32).reshape(-1)])
        whole = samples.size - samples.size % self.frame_size
        start = self.produced - self._rest.size
        for i in range(0, whole, self.frame_size):
            while not self.live and self.queued >= self.max_samples:
                self._changed.clear()
                await self._changed.wait()
            self._append((start + i, samples[i:i + self.frame_size]))
        self._rest = samples[whole:]
        self.produced = start + samples.size

    def end(self) -> None:
        """The input is over: its last samples (less than a frame) go out as they are."""
        if self._rest.size:
            self._append((self.produced - self._rest.size, self._rest))
            self._rest = np.zeros(0, np.float32)
        self.ended = True
        self._changed.set()

    def _append(self, piece: Piece) -> None:
        self.pieces.append(piece)
        while self.live and self.queued > self.max_samples:
            self.dropped += self.pieces.popleft()[1].size
        self._changed.set()

    @property
    def next_start(self) -> int:
        """Where the next piece to send begins in the input."""
        return self.pieces[0][0] if self.pieces else self.produced - self._rest.size

    async def get(self) -> Piece | None:
        """The next piece to send; None once the input is over and all of it went out."""
        while not self.pieces:
            if self.ended:
                return None
            self._changed.clear()
            await self._changed.wait()
        piece = self.pieces.popleft()
        self.sent.append(piece)
        # a server that sends no `Step` (a model without extra heads) never says what it has
        # stepped: keep what can be sent again within the same bound as the queue
        while sum(p.size for _, p in self.sent) > self.max_samples:
            self.sent.popleft()
        self._changed.set()
        return piece

    def stepped(self, upto: int) -> None:
        """The server has stepped the input up to sample `upto`: that audio is safe."""
        while self.sent and self.sent[0][0] + self.sent[0][1].size <= upto:
            self.sent.popleft()

    def resend(self) -> None:
        """The connection dropped: what was sent and not stepped goes out again, first."""
        while self.sent:
            self.pieces.appendleft(self.sent.pop())
        while self.live and self.queued > self.max_samples:
            self.dropped += self.pieces.popleft()[1].size
        self._changed.set()

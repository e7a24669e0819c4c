"""Pacing a stream of samples at a multiple of real time, with pause and resume."""
from __future__ import annotations

import asyncio
import time


class Pacer:
    """`await wait(seconds)` before handing over a piece of `seconds` of audio: it returns when
    the piece is due, that is when the audio before it has played at `speed`.

    `speed` 1.0 is real time, 2.0 twice as fast, None as fast as possible. Time spent paused
    is not counted, so resuming does not burst to catch up.
    """

    def __init__(self, speed: float | None = 1.0):
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.seconds = 0.0  # audio handed over so far
        self._start: float | None = None
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._paused_at: float | None = None

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    def pause(self) -> None:
        if not self.paused:
            self._paused_at = time.monotonic()
            self._resumed.clear()

    def resume(self) -> None:
        if self.paused:
            if self._start is not None and self._paused_at is not None:
                self._start += time.monotonic() - self._paused_at
            self._paused_at = None
            self._resumed.set()

    @property
    def lag(self) -> float:
        """How far behind its schedule the next piece is (seconds; 0 when on time or unpaced)."""
        if self.speed is None or self._start is None or self.paused:
            return 0.0
        return max(0.0, time.monotonic() - (self._start + self.seconds / self.speed))

    def skip(self, seconds: float) -> None:
        """A piece dropped to catch up: its time passes without waiting."""
        self.seconds += seconds

    async def wait(self, seconds: float) -> None:
        await self._resumed.wait()
        now = time.monotonic()
        if self._start is None:
            self._start = now
        if self.speed is not None:
            due = self._start + self.seconds / self.speed
            if due > now:
                await asyncio.sleep(due - now)
                await self._resumed.wait()  # paused while sleeping: hold the piece
        self.seconds += seconds

"""Pacing a stream of frames at a multiple of real time, with pause and resume."""
from __future__ import annotations

import asyncio
import time


class Pacer:
    """`await wait()` before each frame: it returns when that frame is due.

    `speed` 1.0 is real time, 2.0 twice as fast, None as fast as possible. Time spent paused
    is not counted, so resuming does not burst to catch up.
    """

    def __init__(self, frame_seconds: float, speed: float | None = 1.0):
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        self.frame_seconds = frame_seconds
        self.speed = speed
        self.frames = 0
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

    async def wait(self) -> None:
        await self._resumed.wait()
        now = time.monotonic()
        if self._start is None:
            self._start = now
        if self.speed is not None:
            due = self._start + self.frames * self.frame_seconds / self.speed
            if due > now:
                await asyncio.sleep(due - now)
        self.frames += 1

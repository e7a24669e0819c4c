"""Where the console's events come from: a real engine session, or a script for tests.

Both give the app the same small surface (`Feed`): `events()`, pause and resume (for replays),
stop, and the live figures of the input (backlog, dropped frames, level).
"""
from __future__ import annotations

import asyncio
from typing import Protocol
from collections.abc import AsyncIterator, Iterable

from captty.engine import Event, RemoteSession, Session, Sink


class Feed(Protocol):
    @property
    def can_pause(self) -> bool:
        """A paced replay."""

    @property
    def fast(self) -> bool:
        """A replay as fast as the model goes."""

    @property
    def paused(self) -> bool: ...

    @property
    def backlog_seconds(self) -> float:
        """Audio received that the model has not taken yet."""

    @property
    def dropped(self) -> float | None:
        """Seconds of input audio dropped to keep up (None: the source never drops any)."""

    @property
    def overflows(self) -> int | None: ...

    @property
    def lost(self) -> str | None:
        """Why the input device stopped, if it did."""

    @property
    def level(self) -> float | None:
        """The input's RMS level."""

    def events(self) -> AsyncIterator[Event]: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def stop(self) -> None:
        """End the input; what is in flight still goes through."""

    def abort(self) -> None: ...


class EngineFeed:
    """A session of the engine, its events also fed to `sinks` (files, the WER, speech)."""

    def __init__(self, session: Session | RemoteSession, sinks: Iterable[Sink] = ()):
        self.session = session
        self.source = session.source
        self.sinks = list(sinks)

    @property
    def can_pause(self) -> bool:
        return hasattr(self.source, "pacer") and self.source.pacer.speed is not None

    @property
    def fast(self) -> bool:
        """A replay as fast as the model goes."""
        return hasattr(self.source, "pacer") and self.source.pacer.speed is None

    @property
    def paused(self) -> bool:
        return self.can_pause and self.source.pacer.paused

    def pause(self) -> None:
        if self.can_pause:
            self.source.pacer.pause()

    def resume(self) -> None:
        if self.can_pause:
            self.source.pacer.resume()

    def stop(self) -> None:
        """End the input; what is in flight is still transcribed."""
        self.resume()
        self.session.stop()

    def abort(self) -> None:
        self.resume()
        self.session.abort()

    @property
    def backlog_seconds(self) -> float:
        """Audio waiting for the model: in the session, and in the source's own buffer."""
        return self.session.backlog_seconds + getattr(self.source, "queued_seconds", 0.0)

    @property
    def dropped(self) -> float | None:
        return getattr(self.source, "dropped_seconds", None)

    @property
    def lost(self) -> str | None:
        """Why the input device stopped, if it did (the input then ended there)."""
        return getattr(self.source, "lost", None)

    @property
    def overflows(self) -> int | None:
        return getattr(self.source, "overflows", None)

    @property
    def level(self) -> float | None:
        return getattr(self.source, "level", None)

    async def events(self) -> AsyncIterator[Event]:
        try:
            async with self.session:
                async for event in self.session.events():
                    for sink in self.sinks:
                        sink.handle(event)
                    yield event
        finally:
            for sink in self.sinks:
                sink.close()


class ScriptedFeed:
    """Replays a fixed list of events (for tests and snapshots), optionally paced."""

    can_pause = True
    fast = False
    backlog_seconds = 0.0
    dropped = overflows = level = lost = None

    def __init__(self, events: list[Event], delay: float = 0.0, hold: bool = False):
        self.script = list(events)
        self.delay = delay
        self.hold = hold  # keep the stream open after the script, until stopped
        self._running = asyncio.Event()
        self._running.set()
        self._stopped = asyncio.Event()
        self.stopped = False

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self.stopped = True
        self._running.set()
        self._stopped.set()

    abort = stop

    async def events(self) -> AsyncIterator[Event]:
        for event in self.script:
            if self.delay:
                await asyncio.sleep(self.delay)
            await self._running.wait()
            if self.stopped:
                return
            yield event
        if self.hold:
            await self._stopped.wait()

"""A stream transcribed by a remote server (`captty serve` or Kyutai's moshi-server), with the
face of a local `Session`: `async with`, `events()`, `stop()`, `abort()`.

    async with RemoteSession("ws://localhost:8080", MicrophoneSource(), live=True) as session:
        async for event in session.events():
            ...

Each connection is one stream on the server: the model's silence prefix (captty's `Ready` says
how much; 1 s otherwise, as Kyutai's clients send), then the input's audio. When the input ends:
a `Marker`, the silence the model's delay needs (delay + 1 s, as `captty run` pads), then the
stream is over once the marker is echoed and, with a server that sends `Step`s, every frame has
been stepped. So a file sent whole gets exactly the frames `captty run` gives the model.

A dropped connection is retried with backoff (`backoff`); audio sent but not stepped is sent
again, and audio that came meanwhile waits, up to `max_outage_seconds` (a live input then drops
its oldest, counted in `ConnectionChanged.dropped_seconds`). The first connection failing is
an error (`EngineFailed`): the address or the key is wrong.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import aclosing, suppress

from ..contracts import Source
from ..errors import CapttyError
from ..events import EngineFailed, Event, SessionEnded, SessionStarted
from ..layout import FLUSH_MARGIN_SECONDS
from ..turns import DEFAULT_THRESHOLD
from .audio_queue import AudioQueue
from .connection import Connection, ConnectFailed, Refused
from .translate import ConnectionChanged

DEFAULT_PREFIX = 1.0  # seconds of silence first, as Kyutai's clients send (moshi-server's Ready says nothing)
DEFAULT_DELAY = 0.5  # kyutai/stt-1b-en_fr's, for a server that does not say


def backoff(attempt: int) -> float:
    return min(0.5 * 2 ** (attempt - 1), 10.0)


class RemoteSession:
    def __init__(self, url: str, source: Source, *, api_key: str | None = None, live: bool = False,
                 sample_rate: int = 24000, frame_size: int = 1920, turn_threshold: float = DEFAULT_THRESHOLD,
                 max_outage_seconds: float = 30.0, max_retries: int | None = None):
        self.url = url
        self.source = source
        self.api_key = api_key
        self.live = live
        self.sample_rate = sample_rate
        self.frame_size = frame_size
        self.turn_threshold = turn_threshold
        self.max_retries = max_retries
        self.audio = AudioQueue(frame_size, int(max_outage_seconds * sample_rate), live)
        self.connection: Connection | None = None  # the current one
        self.reconnects = 0
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._steps = 0  # steps of the connections before the current one
        self._stopped = False
        self._started = time.perf_counter()

    # --- the face of a Session ------------------------------------------------------------

    async def __aenter__(self) -> "RemoteSession":
        self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        self.abort()
        await self.wait_closed()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name="captty-remote")]

    async def events(self):
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, (SessionEnded, EngineFailed)):
                return

    def stop(self) -> None:
        """End the input now; what was sent is still transcribed."""
        self._stopped = True
        if len(self._tasks) > 1:
            self._tasks[1].cancel()  # the source; the queue then ends

    def abort(self) -> None:
        self._stopped = True
        for task in self._tasks:
            task.cancel()

    async def wait_closed(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def backlog_seconds(self) -> float:
        """Audio not stepped yet: waiting here, and held by the server."""
        held = self.connection.buffered_pcm if self.connection else 0
        return (self.audio.queued + held) / self.sample_rate

    # --- the work ----------------------------------------------------------------------------

    async def _read_source(self) -> None:
        try:
            async with aclosing(aiter(self.source)) as pieces:
                async for piece in pieces:
                    await self.audio.put(piece)
        except CapttyError as e:  # a broken input: said, and what was transcribed is kept
            self._emit([EngineFailed(str(e))])
        except Exception as e:
            self._emit([EngineFailed(f"the audio source failed: {type(e).__name__}: {e}")])
        finally:
            self.audio.end()

    def _emit(self, events) -> None:
        for event in events:
            self._events.put_nowait(event)

    async def _run(self) -> None:
        attempt = 0
        try:
            while True:
                connection = Connection(self.url, self.api_key, self.audio, self.sample_rate,
                                        self.frame_size, self.turn_threshold, self._emit)
                try:
                    await connection.open(first_step=self._steps)
                except Refused as e:
                    return self._fail(str(e))
                except ConnectFailed as e:
                    if self.connection is None:  # never connected: the address is wrong
                        return self._fail(str(e))
                    attempt += 1
                    if self.max_retries is not None and attempt > self.max_retries:
                        return self._fail(f"{e}; gave up after {attempt - 1} retries")
                    await asyncio.sleep(backoff(attempt))
                    continue
                if self.connection is None:
                    self._first(connection)
                else:
                    self.reconnects += 1
                attempt = 0
                self.connection = connection
                self._emit([ConnectionChanged(True, self.url, "", self.reconnects,
                                              self.audio.dropped / self.sample_rate)])
                reason = await connection.stream(DEFAULT_PREFIX, DEFAULT_DELAY,
                                                 FLUSH_MARGIN_SECONDS)
                self._steps += connection.translator.steps if connection.translator else 0
                if reason is None:  # the whole input went through
                    break
                self.audio.resend()
                self._emit([ConnectionChanged(False, self.url, reason, self.reconnects,
                                              self.audio.dropped / self.sample_rate)])
                attempt = 1
                await asyncio.sleep(backoff(attempt))
            self._emit([SessionEnded(self._steps, self._steps * self.frame_size / self.sample_rate,
                                     time.perf_counter() - self._started, self._stopped)])
        except asyncio.CancelledError:  # aborted
            if self.connection is not None:
                self._emit(self.connection.lost())
            self._emit([SessionEnded(self._steps, self._steps * self.frame_size / self.sample_rate,
                                     time.perf_counter() - self._started, True)])
            raise
        except Exception as e:  # something the server sent that captty cannot read, most likely
            self._fail(f"the transcription from {self.url} failed: {type(e).__name__}: {e}")
        finally:
            if len(self._tasks) > 1:
                self._tasks[1].cancel()

    def _first(self, connection: Connection) -> None:
        """The first connection: the session starts, and the input is read from now on."""
        delay, prefix = connection.delay(DEFAULT_DELAY), connection.prefix(DEFAULT_PREFIX)
        self._emit([SessionStarted(connection.model or self.url, "stt", "remote", "", 1, 1.0,
                                   self.sample_rate, self.frame_size, False, prefix + delay)])
        if self._stopped:  # stopped before it connected: nothing to send
            self.audio.end()
            return
        self._tasks.append(asyncio.create_task(self._read_source(), name="captty-remote-input"))

    def _fail(self, message: str) -> None:
        self._emit([EngineFailed(message)])
        with suppress(IndexError):
            self._tasks[1].cancel()

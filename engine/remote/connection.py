"""One websocket connection to a streaming-ASR server: one stream of the model.

`open` connects (the API key in the `kyutai-api-key` header) and waits for `Ready`; `stream`
sends the silence prefix and the input's audio from the `AudioQueue`, and the end of the stream
once the input is over, while it turns the server's messages into events; it returns None when
the stream is complete, or why the connection was lost. Pings every `PING_SECONDS` measure the
round trip; a server not heard from for `DEAD_SECONDS` counts as lost.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import suppress
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import numpy as np

from ..serve import protocol
from .audio_queue import AudioQueue
from .translate import MessageTranslator

PATH = "/api/asr-streaming"
PING_SECONDS = 2.0
DEAD_SECONDS = 20.0
READY_SECONDS = 10.0


class ConnectFailed(Exception):
    """No stream could be opened (retried after a drop)."""


class Refused(ConnectFailed):
    """The server will not serve us (a wrong key): not retried."""


def stream_url(url: str) -> str:
    """`ws://host:port` as Kyutai's clients take it, with the protocol's path added."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise Refused(f"'{url}' is not a websocket address (ws://HOST:PORT or wss://...)")
    path = parts.path if parts.path not in ("", "/") else PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class Connection:
    def __init__(self, url: str, api_key: str | None, audio: AudioQueue, sample_rate: int,
                 frame_size: int, threshold: float, emit: Callable[[list], None]):
        self.url = stream_url(url)
        self.api_key = api_key
        self.audio = audio
        self.rate = sample_rate
        self.frame = frame_size
        self.threshold = threshold
        self.emit = emit
        self.ready: dict = {}
        self.translator: MessageTranslator | None = None
        self.rtt_ms: float | None = None
        self.buffered_pcm = 0
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._first_step = 0
        self._sent = 0  # stream samples sent
        # (stream samples sent, when); bounded, as a server without `Step`s never trims it
        self._sent_log: deque[tuple[int, float]] = deque(maxlen=4096)
        self._total_frames: int | None = None  # once the end of the stream is sent
        self._heard = time.monotonic()

    @property
    def model(self) -> str | None:
        return self.ready.get("model")

    def delay(self, default: float) -> float:
        return float(self.ready.get("delay", default))

    def prefix(self, default: float) -> float:
        return float(self.ready.get("prefix", default))

    async def open(self, first_step: int = 0) -> None:
        self._first_step = first_step
        headers = {"kyutai-api-key": self.api_key} if self.api_key else {}
        self._http = aiohttp.ClientSession()
        try:
            self._ws = await self._http.ws_connect(self.url, headers=headers, autoping=False,
                                                   max_msg_size=protocol.MAX_MESSAGE_BYTES,
                                                   timeout=aiohttp.ClientWSTimeout(ws_close=2.0))
            message = await asyncio.wait_for(self._ws.receive(), READY_SECONDS)
        except aiohttp.WSServerHandshakeError as e:
            await self.close()
            if e.status in (401, 403):
                raise Refused(f"the server at {self.url} refused the API key "
                              f"(HTTP {e.status}): give the right one with --api-key") from None
            raise ConnectFailed(f"the server at {self.url} answered HTTP {e.status}"
                                + (" (full)" if e.status == 503 else "")) from None
        except aiohttp.ClientConnectorError as e:
            await self.close()
            raise ConnectFailed(f"cannot connect to {self.url}: "
                                f"{e.os_error.strerror or e.os_error}") from None
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as e:
            await self.close()
            raise ConnectFailed(f"cannot connect to {self.url}: "
                                f"{str(e) or type(e).__name__}") from None
        first = _unpack(message)
        if first.get("type") != "Ready":
            await self.close()
            said = first.get("message") or first.get("type") or "nothing"
            raise ConnectFailed(f"the server at {self.url} did not start a stream: {said}")
        self.ready = first

    async def close(self) -> None:
        if self._ws is not None:
            with suppress(Exception):
                await self._ws.close()
        if self._http is not None:
            await self._http.close()

    def lost(self) -> list:
        return self.translator.close() if self.translator else []

    async def stream(self, default_prefix: float, default_delay: float,
                     margin: float) -> str | None:
        prefix, delay = self.prefix(default_prefix), self.delay(default_delay)
        self._origin = self.audio.next_start
        self._prefix_samples = int(prefix * self.rate)
        self.translator = MessageTranslator(self._origin / self.rate, prefix, delay,
                                            self.rate / self.frame, self.threshold,
                                            self._first_step)
        self._echoed = False
        self._complete = asyncio.Event()
        tasks: list[asyncio.Task] = [asyncio.create_task(self._send_all(delay + margin)),
                                     asyncio.create_task(self._ping())]
        receiving = asyncio.create_task(self._receive())
        tasks.append(receiving)
        try:
            done = asyncio.create_task(self._complete.wait())
            tasks.append(done)
            await asyncio.wait([receiving, done], return_when=asyncio.FIRST_COMPLETED)
            if self._complete.is_set():
                self.emit(self.translator.close())
                return None
            return receiving.result()
        except (aiohttp.ClientError, ConnectionError) as e:
            self.emit(self.translator.close())
            return f"connection lost ({type(e).__name__})"
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.close()

    async def _send(self, samples: np.ndarray) -> None:
        assert self._ws is not None
        await self._ws.send_bytes(protocol.audio(samples))
        self._sent += samples.size
        self._sent_log.append((self._sent, time.monotonic()))

    async def _send_all(self, flush_seconds: float) -> None:
        assert self._ws is not None
        with suppress(ConnectionError, aiohttp.ClientError, RuntimeError):
            if self._prefix_samples:
                await self._send(np.zeros(self._prefix_samples, np.float32))
            while (piece := await self.audio.get()) is not None:
                await self._send(piece[1])
            await self._ws.send_bytes(protocol.client_marker(0))
            await self._send(np.zeros(int(flush_seconds * self.rate), np.float32))
            self._total_frames = self._sent // self.frame
            self._check_complete()

    def _check_complete(self) -> None:
        """The stream is over once its marker is back and (with Steps) every frame stepped."""
        steps = self.translator.steps if self.translator else 0
        if self._echoed and self._total_frames is not None and (
                steps == 0 or steps >= self._total_frames):
            self._complete.set()

    def _sent_at(self, steps: int) -> float | None:
        """When the audio of the stream's first `steps` steps had all been sent."""
        needed = steps * self.frame
        while self._sent_log and self._sent_log[0][0] < needed:
            self._sent_log.popleft()
        return self._sent_log[0][1] if self._sent_log else None

    async def _ping(self) -> None:
        assert self._ws is not None
        pings: dict[bytes, float] = {}
        self._pings = pings
        n = 0
        while True:
            await asyncio.sleep(PING_SECONDS)
            if time.monotonic() - self._heard > DEAD_SECONDS:
                await self._ws.close()
                return
            n += 1
            payload = str(n).encode()
            pings[payload] = time.monotonic()
            if len(pings) > 16:
                pings.pop(next(iter(pings)))
            with suppress(ConnectionError, RuntimeError):
                await self._ws.ping(payload)

    async def _receive(self) -> str | None:
        assert self._ws is not None and self.translator is not None
        error = None
        translator = self.translator
        async for msg in self._ws:
            now = self._heard = time.monotonic()
            if msg.type == aiohttp.WSMsgType.PING:
                await self._ws.pong(msg.data)
            elif msg.type == aiohttp.WSMsgType.PONG:
                sent = getattr(self, "_pings", {}).pop(msg.data, None)
                if sent is not None:
                    self.rtt_ms = 1000.0 * (now - sent)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                message = _unpack(msg.data)
                kind = message.get("type")
                if kind == "Marker":
                    self._echoed = True
                elif kind == "Error":
                    error = str(message.get("message", "an error"))
                else:
                    self.emit(translator.handle(message, self._sent_at, now))
                    if kind == "Step":
                        self.buffered_pcm = int(message.get("buffered_pcm", 0))
                        stepped = translator.steps * self.frame - self._prefix_samples
                        self.audio.stepped(self._origin + stepped)
                self._check_complete()
                if self._complete.is_set():
                    return None
        self.emit(translator.close())
        code = self._ws.close_code
        return (f"the server said: {error}" if error
                else f"the connection closed (code {code})" if code else "the connection dropped")


def _unpack(msg) -> dict:
    if getattr(msg, "type", None) not in (None, aiohttp.WSMsgType.BINARY):
        return {"type": "Closed"}
    try:
        return protocol.unpack(msg.data if hasattr(msg, "data") else msg)
    except protocol.ProtocolError:
        return {"type": "Unknown"}

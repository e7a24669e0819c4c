"""One client's websocket once upgraded: reading its messages (held back while its slot is
full), writing the router's messages to it (a ping when there was nothing to say for a while),
and dropping it when it goes silent.

Backpressure: while a client's slot holds `max_waiting_seconds` of audio, its socket is not read
(aiohttp then stops reading the TCP connection, and the client's sends block), so a client
faster than real time is slowed, not dropped. Time held back does not count towards the
limits: `silent_seconds` without any frame from the client (pongs included; moshi-server: twice
its 10 s ping period) and `idle_seconds` without Audio or Marker (moshi-server: 120 s).
"""
from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMsgType, web

from . import protocol
from .client import Client
from .metrics import ServerMetrics
from .router import EventRouter


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int = protocol.MAX_MESSAGE_BYTES
    max_waiting_seconds: float = 5.0  # a client's audio waiting for the model, at most
    ping_seconds: float = 10.0  # a ping when nothing was sent for this long
    silent_seconds: float = 20.0  # dropped after this long without a frame from the client
    idle_seconds: float = 120.0  # dropped after this long without Audio or Marker
    close_seconds: float = 10.0  # for the last messages and the close to go out


class IdleClock:
    """Seconds since the client was last heard, not counting the time it was held back."""

    def __init__(self) -> None:
        self.heard_any = self.heard_valid = time.monotonic()
        self._held_since: float | None = None

    def hold(self) -> None:
        if self._held_since is None:
            self._held_since = time.monotonic()

    def release(self) -> None:
        if self._held_since is not None:
            held = time.monotonic() - self._held_since
            self.heard_any += held
            self.heard_valid += held
            self._held_since = None

    def heard(self, valid: bool) -> None:
        self.heard_any = time.monotonic()
        if valid:
            self.heard_valid = self.heard_any

    def silences(self) -> tuple[float, float]:
        """(seconds without any frame, seconds without valid data), held time left out."""
        now = self._held_since if self._held_since is not None else time.monotonic()
        return now - self.heard_any, now - self.heard_valid


async def serve_client(ws: web.WebSocketResponse, client: Client, router: EventRouter,
                       limits: Limits, metrics: ServerMetrics) -> None:
    """Until the client ends (it leaves, breaks the protocol, goes silent, or the server shuts
    down) and its last messages are out."""
    clock = IdleClock()
    reading = asyncio.create_task(_read(ws, client, router, limits, metrics, clock))
    watching = asyncio.create_task(_watch(client, limits, clock))
    writing = asyncio.create_task(_write(ws, client, limits))
    try:
        await client.ended_event.wait()
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(writing), limits.close_seconds)
    finally:
        for task in (reading, watching, writing):
            task.cancel()
        await asyncio.gather(reading, watching, writing, return_exceptions=True)
        if not ws.closed:
            with suppress(Exception):
                await asyncio.wait_for(ws.close(code=client.close_code), 1.0)


async def _read(ws, client: Client, router: EventRouter, limits: Limits, metrics: ServerMetrics,
                clock: IdleClock) -> None:
    slot = client.slot
    rate = slot.feeder.layout.sample_rate
    try:
        while client.ended is None:
            if not slot.room.is_set():  # backpressure: the socket is not read meanwhile
                clock.hold()
                await slot.room.wait()
                clock.release()
            msg = await ws.receive()
            clock.heard(valid=False)
            if msg.type == WSMsgType.BINARY:
                if len(msg.data) > limits.max_message_bytes:
                    client.send(protocol.error(f"message too large: {len(msg.data)} bytes, "
                                               f"at most {limits.max_message_bytes}"))
                    client.end("message too large", WSCloseCode.MESSAGE_TOO_BIG)
                    return
                try:
                    message = protocol.decode_client(msg.data)
                except protocol.ProtocolError as e:
                    client.send(protocol.error(str(e)))
                    client.end(f"bad message: {e}", WSCloseCode.POLICY_VIOLATION)
                    return
                clock.heard(valid=True)
                if isinstance(message, protocol.Audio):
                    slot.push(message.pcm)
                    metrics.audio.inc(message.pcm.size / rate)
                elif isinstance(message, protocol.Marker):
                    client.add_marker(message.id, router.marker_target(slot.received))
            elif msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type in (WSMsgType.TEXT, WSMsgType.PONG):
                continue  # ignored, as moshi-server does
            elif msg.type == WSMsgType.ERROR:
                client.end(f"bad frame: {ws.exception()}", WSCloseCode.PROTOCOL_ERROR)
                return
            else:  # CLOSE, CLOSING, CLOSED
                client.end("client closed")
                return
    except (ConnectionError, asyncio.TimeoutError) as e:
        client.end(f"connection lost ({type(e).__name__})")


async def _write(ws, client: Client, limits: Limits) -> None:
    try:
        while True:
            try:
                data = await asyncio.wait_for(client.outbox.get(), limits.ping_seconds)
            except asyncio.TimeoutError:
                await ws.ping()
                continue
            if data is None:
                break
            await ws.send_bytes(data)
        await ws.close(code=client.close_code, message=(client.ended or "").encode()[:120])
    except (ConnectionError, RuntimeError) as e:  # aiohttp: RuntimeError once closing
        client.end(f"connection lost ({type(e).__name__})")


async def _watch(client: Client, limits: Limits, clock: IdleClock) -> None:
    tick = min(1.0, limits.silent_seconds / 4)
    while client.ended is None:
        await asyncio.sleep(tick)
        silent, idle = clock.silences()
        if silent > limits.silent_seconds:
            client.end(f"silent for {limits.silent_seconds:g} s", WSCloseCode.POLICY_VIOLATION)
        elif idle > limits.idle_seconds:
            client.end(f"no audio for {limits.idle_seconds:g} s", WSCloseCode.POLICY_VIOLATION)

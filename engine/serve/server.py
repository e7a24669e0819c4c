"""`captty serve`: an STT model behind Kyutai's streaming-ASR websocket protocol.

    server = AsrServer(model, ServeConfig(port=8080, batch_size=8))
    await server.run()  # until SIGTERM or SIGINT; then every stream is flushed

One `Session` runs for the server's life, fed by a `ClientFeeder` (one batch slot per client);
an `EventRouter` sends each slot's events to its client. `/api/asr-streaming` is the websocket
(before the upgrade: the API key, then a free slot), `/metrics` the Prometheus figures.

A full server answers a client that came through a proxy (`X-Forwarded-For` or `Forwarded`)
with HTTP 503 before the upgrade, which a balancer can retry on another server; a client that
came directly gets the protocol's `Error{"no free channels"}` and a close, as from moshi-server.
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import signal
import ssl
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

from aiohttp import web

from ..checkpoint import LoadedModel
from ..errors import CapttyError
from ..events import Event, SessionStarted
from ..session import Session
from . import protocol
from .client import Client, next_client_id
from .client_feeder import ClientFeeder
from .connection import Limits, serve_client
from .metrics import ServerMetrics
from .router import EventRouter

log = logging.getLogger("captty.serve")
PATH = "/api/asr-streaming"
NO_FREE_CHANNELS = "no free channels"  # moshi-server's words
STOP_SECONDS = 60.0  # for the flush at shutdown


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080  # 0: any free port (`AsrServer.port` tells which)
    batch_size: int = 8
    api_key: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    limits: Limits = field(default_factory=Limits)

    def check(self) -> None:
        if not is_loopback(self.host) and not self.api_key:
            raise CapttyError(f"serving on {self.host} (not a loopback address) needs an API key: "
                              "--api-key KEY or CAPTTY_API_KEY")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise CapttyError("TLS needs both --ssl-certfile and --ssl-keyfile")

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.ssl_certfile:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        except (OSError, ssl.SSLError) as e:
            raise CapttyError(f"cannot load the TLS certificate or key: {e}") from None
        return context


class AsrServer:
    def __init__(self, model: LoadedModel, config: ServeConfig):
        if model.model_type != "stt":
            raise CapttyError(f"captty serve is for STT models; '{model.name}' is a "
                              f"{model.model_type} model")
        config.check()
        self.model = model
        self.config = config
        self.layout = model.layout.without_prefix()
        self.metrics = ServerMetrics(config.batch_size)
        self.feeder = ClientFeeder(self.layout, config.batch_size,
                                   config.limits.max_waiting_seconds)
        self.router = EventRouter(self.feeder, self.layout.delay, self.metrics)
        self.session = Session(model, feeder=self.feeder, batch_size=config.batch_size,
                               max_queued_frames=2)
        self.port = config.port
        self.accepting = False
        self._ready = protocol.ready(model.name, self.layout.delay,
                                     model.layout.prefix / model.layout.sample_rate)
        self.observers: list[Callable[[Event], None]] = []  # see every event (tests, logs)
        self._handlers: set[asyncio.Task] = set()
        self._routing: asyncio.Task | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    @property
    def url(self) -> str:
        scheme = "wss" if self.config.ssl_certfile else "ws"
        return f"{scheme}://{self.config.host}:{self.port}{PATH}"

    async def start(self) -> None:
        """Warm the model up, then listen."""
        context = self.config.ssl_context()
        self.session.start()
        started = asyncio.get_running_loop().create_future()
        self._routing = asyncio.create_task(self._route(started), name="captty-router")
        await started
        app = web.Application()
        app.router.add_get(PATH, self._asr_stream)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.config.host, self.config.port,
                                 ssl_context=context)
        try:
            await self._site.start()
        except OSError as e:
            self.session.abort()
            await self._runner.cleanup()
            raise CapttyError(f"cannot listen on {self.config.host}:{self.config.port}: "
                              f"{e.strerror or e}") from None
        sockets = getattr(self._site._server, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        self.accepting = True

    async def _route(self, started: asyncio.Future) -> None:
        async for event in self.session.events():
            if not started.done():
                if isinstance(event, SessionStarted):
                    started.set_result(None)
                else:
                    started.set_exception(CapttyError(getattr(event, "message", str(event))))
                    return
            for observe in self.observers:
                observe(event)
            self.router.handle(event)

    async def run(self) -> None:
        """Serve until SIGTERM or SIGINT (or a failure of the model), then shut down cleanly."""
        await self.start()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        log.info("serving %s at %s (%d slots)", self.model.name, self.url,
                 self.config.batch_size)
        waiting = asyncio.create_task(stop.wait())
        await asyncio.wait([waiting, asyncio.create_task(self.router.ended.wait())],
                           return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        log.info("shutting down: flushing %d client(s)", len(self.router.clients))
        await self.stop()
        if self.router.failure:
            raise CapttyError(f"the model failed: {self.router.failure}")

    async def stop(self) -> None:
        """Stop accepting, flush every stream (each client gets its last words and marker
        echoes), close the connections."""
        self.accepting = False
        if self._site is not None:
            await self._site.stop()
        self.session.stop()
        with suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.router.ended.wait(), STOP_SECONDS)
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=self.config.limits.close_seconds + 2)
        if self._runner is not None:
            await self._runner.cleanup()
        self.session.abort()
        await self.session.wait_closed()
        if self._routing is not None:
            self._routing.cancel()
            with suppress(asyncio.CancelledError):
                await self._routing

    # --- HTTP ---------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        key = self.config.api_key
        if not key:
            return True
        given = request.headers.get("kyutai-api-key") or request.query.get("auth_id") or ""
        return hmac.compare_digest(given.encode(), key.encode())

    async def _metrics(self, request: web.Request) -> web.Response:
        self.metrics.clients.set(len(self.router.clients))
        self.metrics.free_slots.set(self.feeder.free_slots)
        return web.Response(body=self.metrics.render(),
                            headers={"Content-Type": self.metrics.content_type})

    async def _asr_stream(self, request: web.Request) -> web.StreamResponse:
        proxied = "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
        peer = request.remote or "?"
        if proxied:
            peer = f"{request.headers.get('X-Forwarded-For', '?')} via {peer}"
        if not self._authorized(request):
            self.metrics.connections.labels("refused_key").inc()
            log.info("refused %s: wrong or missing API key", peer)
            return web.Response(status=401, text="captty serve: wrong or missing API key\n")
        ws = web.WebSocketResponse(autoping=False, compress=False, timeout=2.0,
                                   max_msg_size=2 * self.config.limits.max_message_bytes)
        if not ws.can_prepare(request).ok:
            return web.Response(status=400, text="captty serve: this is a websocket endpoint\n")
        client_id = next_client_id()
        slot = self.feeder.open(client_id, peer) if self.accepting else None
        if slot is None:
            self.metrics.connections.labels("refused_full").inc()
            log.info("refused %s: %s", peer, NO_FREE_CHANNELS)
            if proxied:
                return web.Response(status=503, headers={"Retry-After": "1"},
                                    text=f"captty serve: {NO_FREE_CHANNELS}\n")
            await ws.prepare(request)
            with suppress(Exception):
                await ws.send_bytes(protocol.error(NO_FREE_CHANNELS))
                await ws.close()
            return ws
        client = Client(client_id, peer, slot)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            await ws.prepare(request)
            self.metrics.connections.labels("served").inc()
            self.router.clients[client_id] = client
            self._counts()
            client.send(self._ready)
            await serve_client(ws, client, self.router, self.config.limits, self.metrics)
        finally:
            client.end(client.ended or "connection lost")
            self.feeder.release(slot)
            self.router.clients.pop(client_id, None)
            self.metrics.client_left(slot.index)
            self._counts()
            if task is not None:
                self._handlers.discard(task)
            log.info("%s", client.log_line())
        return ws

    def _counts(self) -> None:
        self.metrics.clients.set(len(self.router.clients))
        self.metrics.free_slots.set(self.feeder.free_slots)

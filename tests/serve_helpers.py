"""Real servers and real websocket clients on loopback, for the `captty serve` tests."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import msgpack
import numpy as np
import sphn

from conftest import DEMO_EN, ROOT
from captty.engine import AsrServer, Limits, ServeConfig
from captty.engine.serve import protocol

RATE, FRAME = 24000, 1920


def demo_pcm(seconds: float | None = None) -> np.ndarray:
    pcm, _ = sphn.read(str(DEMO_EN), sample_rate=RATE)
    pcm = pcm[0].astype(np.float32)
    return pcm if seconds is None else pcm[: int(seconds * RATE)]


async def assert_clean(server, seconds: float = 20.0):
    """Once the server has seen every client go (it notices a close a little after the client
    made it): every slot free, no client left."""
    for _ in range(int(seconds / 0.025)):
        if server.feeder.free_slots == server.config.batch_size and not server.router.clients:
            break
        await asyncio.sleep(0.025)
    assert server.feeder.free_slots == server.config.batch_size
    assert server.router.clients == {}


@asynccontextmanager
async def running_server(model, batch_size=2, **config):
    limits = config.pop("limits", Limits())
    server = AsrServer(model, ServeConfig(port=0, batch_size=batch_size, limits=limits, **config))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@dataclass
class Received:
    messages: list = field(default_factory=list)
    close_code: int | None = None

    def of(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]


async def receive_all(ws, until_marker: bool = True) -> Received:
    """Every message until the marker's echo (or the close)."""
    got = Received()
    while True:
        msg = await ws.receive()
        if msg.type == aiohttp.WSMsgType.BINARY:
            message = msgpack.unpackb(msg.data)
            got.messages.append(message)
            if until_marker and message["type"] == "Marker":
                return got
        elif msg.type == aiohttp.WSMsgType.CLOSE:  # the code the server closed with
            got.close_code = msg.data
        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            got.close_code = got.close_code or ws.close_code
            return got


async def send_stream(ws, pcm: np.ndarray, prefix: int, flush: int, marker: bool = True,
                      frame: int = FRAME) -> None:
    """The silence prefix, the audio in frames, a Marker, then the closing silence."""
    await ws.send_bytes(protocol.audio(np.zeros(prefix, np.float32)))
    for i in range(0, pcm.size, frame):
        await ws.send_bytes(protocol.audio(pcm[i:i + frame]))
    if marker:
        await ws.send_bytes(protocol.client_marker(42))
    if flush:
        await ws.send_bytes(protocol.audio(np.zeros(flush, np.float32)))


async def transcribe(url: str, pcm: np.ndarray, flush_seconds: float = 1.5) -> Received:
    """One client's whole stream, as `captty run` pads it (prefix from Ready)."""
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        ready = msgpack.unpackb((await ws.receive()).data)
        assert ready["type"] == "Ready"
        prefix = int(ready["prefix"] * RATE)
        sending = asyncio.create_task(send_stream(ws, pcm, prefix, int(flush_seconds * RATE)))
        got = await receive_all(ws)
        await sending
        got.messages.insert(0, ready)
        return got


class ServeProcess:
    """`captty serve` in a subprocess, on a free port (read from its log line)."""

    def __init__(self, *args: str, env: dict | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "captty.tui.cli", "serve", "--model", "tiny-stt",
             "--device", "cpu", "--port", "0", *args], cwd=ROOT, stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL, text=True, env=dict(os.environ, **(env or {})))
        self.log: list[str] = []
        self.url = ""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            found = re.search(r"at (wss?://\S+)", line)
            if "serving" in line and found:
                self.url = found.group(1)
                self.port = int(self.url.split(":")[2].split("/")[0])
                break
        if not self.url:
            raise RuntimeError("captty serve did not start: " + "".join(self.log))

    def terminate(self, timeout: float = 60) -> str:
        """SIGTERM, then the rest of its log; it must exit by itself."""
        self.proc.send_signal(signal.SIGTERM)
        _, rest = self.proc.communicate(timeout=timeout)
        self.log.append(rest)
        return "".join(self.log)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

"""The console's client side (`--server`): a file through `captty serve` gives `captty run`'s
words, turns and transcript files; a dropped connection is retried, the transcript kept, and
live audio during the outage is buffered up to its bound, then dropped and counted."""
import asyncio
import json

import numpy as np

from captty.engine import (ConnectionChanged, FileSource, RemoteSession, SessionEnded,
                           WordFinished)
from conftest import DEMO_EN, TINY_STT, captty
from serve_helpers import ServeProcess, running_server


def test_run_through_a_server_writes_captty_runs_files(tmp_path):
    server = ServeProcess("--batch-size", "2")
    try:
        remote = captty("run", DEMO_EN, "--server", server.url.rsplit("/api", 1)[0],
                        "-o", tmp_path / "remote.json", "-o", tmp_path / "remote.txt")
    finally:
        log = server.terminate()
    assert remote.returncode == 0, remote.stderr
    local = captty("run", "--model", TINY_STT, "--device", "cpu", "--batch-size", "2", DEMO_EN,
                   "-o", tmp_path / "local.json", "-o", tmp_path / "local.txt")
    assert local.returncode == 0, local.stderr
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("remote", "local"))
    assert len(a["words"]) >= 10
    assert a["words"] == b["words"] and a["turns"] == b["turns"]  # times to the millisecond
    assert (tmp_path / "remote.txt").read_text() == (tmp_path / "local.txt").read_text()
    assert remote.stdout.split() == [w["text"] for w in a["words"]]
    assert "ended: client closed" in log


class Relay:
    """A TCP relay on loopback that can drop its connections, and refuse new ones for a while."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.refusing = False
        self.writers: set = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader, writer):
        if self.refusing:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def drop(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()


async def test_a_dropped_connection_is_retried_and_the_transcript_kept(tiny_stt):
    async with running_server(tiny_stt, batch_size=1) as server:
        relay = Relay(server.port)
        port = await relay.start()
        source = FileSource(DEMO_EN, speed=4.0)
        events = []
        async with RemoteSession(f"ws://127.0.0.1:{port}", source) as session:
            async for event in session.events():
                events.append(event)
                words = [e for e in events if isinstance(e, WordFinished)]
                if len(words) == 4 and session.reconnects == 0 and not relay.refusing:
                    relay.refusing = True  # down for a moment: the first retry fails
                    relay.drop()
                    asyncio.get_running_loop().call_later(0.8, setattr, relay, "refusing", False)
        relay.server.close()
    changes = [(e.connected, e.reconnects) for e in events if isinstance(e, ConnectionChanged)]
    assert changes == [(True, 0), (False, 0), (True, 1)]
    ended = events[-1]
    assert isinstance(ended, SessionEnded) and not ended.stopped
    words = [e for e in events if isinstance(e, WordFinished)]
    assert len(words) > 6  # words before the drop, kept, and words after it
    starts = [w.start for w in words]
    assert starts == sorted(starts)  # the new stream's times continue the input's


class LiveNoise:
    """A live input: 80 ms blocks of noise at real time, until stopped."""

    def __init__(self):
        self.rng = np.random.default_rng(0)

    async def __aiter__(self):
        while True:
            await asyncio.sleep(0.08)
            yield (0.05 * self.rng.standard_normal(1920)).astype(np.float32)


async def test_live_audio_during_an_outage_is_buffered_to_a_bound_then_dropped(tiny_stt):
    async with running_server(tiny_stt, batch_size=1) as server:
        relay = Relay(server.port)
        port = await relay.start()
        events = []
        session = RemoteSession(f"ws://127.0.0.1:{port}", LiveNoise(), live=True,
                                max_outage_seconds=0.5)
        async with session:
            async for event in session.events():
                events.append(event)
                if isinstance(event, ConnectionChanged) and event.connected:
                    if event.reconnects == 0:  # up: take it down for 2 s
                        relay.refusing = True
                        relay.drop()
                        await asyncio.sleep(2.0)
                        relay.refusing = False
                    else:
                        session.stop()  # back: end the input, what was sent is transcribed
        relay.server.close()
    back = [e for e in events if isinstance(e, ConnectionChanged) and e.reconnects == 1]
    assert back and back[0].connected
    # down for 2 s at least (and the retries' backoff): all but the last 0.5 s is dropped
    assert back[0].dropped_seconds >= 2.0 - 0.5 - 0.2
    assert isinstance(events[-1], SessionEnded)

"""SIGTERM with clients connected: `captty serve` stops accepting, flushes every stream with the
silence the model's delay needs, so each client gets its last words (the last one's end too)
and its marker's echo, closes with 1001 (going away), logs one line per client, and exits 0."""
import asyncio

import aiohttp
import msgpack
import pytest
import sphn

from captty.engine import WordFinished
from engine_run import collect
from serve_helpers import FRAME, RATE, ServeProcess, demo_pcm, receive_all, send_stream


@pytest.fixture
def server():
    process = ServeProcess("--batch-size", "2")
    yield process
    process.kill()


async def test_sigterm_flushes_every_client(tiny_stt, server, tmp_path):
    pcm = demo_pcm(3.0)[: 3 * RATE - 700]  # not a whole number of frames
    path = tmp_path / "cut.wav"
    sphn.write_wav(str(path), pcm[None], RATE)
    pcm = sphn.read(str(path), sample_rate=RATE)[0][0]
    local = await collect(tiny_stt, path, batch_size=2)
    expected = [(e.text, e.start, e.end) for e in local.events
                if isinstance(e, WordFinished) and e.item == 0]

    async with aiohttp.ClientSession() as http:
        clients = [await http.ws_connect(server.url) for _ in range(2)]
        prefix = 0
        for ws in clients:
            prefix = int(msgpack.unpackb((await ws.receive()).data)["prefix"] * RATE)
            await send_stream(ws, pcm, prefix, flush=0)  # no closing silence: the server's
        whole = (prefix + pcm.size) // FRAME

        async def until_stepped(ws):
            got = []
            async for msg in ws:
                got.append(msgpack.unpackb(msg.data))
                if sum(m["type"] == "Step" for m in got) == whole:
                    return got

        heard = await asyncio.gather(*(until_stepped(ws) for ws in clients))
        log = await asyncio.to_thread(server.terminate)
        rest = [await receive_all(ws, until_marker=False) for ws in clients]  # to the close
        assert [got.close_code for got in rest] == [1001, 1001]

    assert server.proc.returncode == 0
    assert "shutting down: flushing 2 client(s)" in log
    assert log.count("ended: server shut down") == 2
    for before, after in zip(heard, rest):
        messages = before + after.messages
        types = [m["type"] for m in messages]
        assert types.count("Marker") == 1
        assert types.count("Word") == types.count("EndWord") > 0  # the last word ended too
    # the first client holds slot 0: its words are captty run's, times plus the prefix
    messages = heard[0] + rest[0].messages
    starts = [m["start_time"] for m in messages if m["type"] == "Word"]
    texts = [m["text"] for m in messages if m["type"] == "Word"]
    ends = [m["stop_time"] for m in messages if m["type"] == "EndWord"]
    assert texts == [text for text, _, _ in expected]
    offset = prefix / RATE
    for (_, start, end), got_start, got_end in zip(expected, starts, ends):
        assert max(got_start - offset, 0) == pytest.approx(start, abs=1e-9)
        assert max(got_end - offset, 0) == pytest.approx(end, abs=1e-9)

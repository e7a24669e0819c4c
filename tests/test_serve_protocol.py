"""`captty serve` speaks Kyutai's streaming-ASR protocol, and a client's stream maps exactly to
`captty run`: real servers, real websocket clients (aiohttp's, and `websockets`, the library of
Kyutai's client scripts), on loopback, with the bundled tiny STT model.

The mapping (README, `captty serve`): a client that sends the model's silence prefix (captty's
`Ready.prefix`; 1 s for tiny-stt) itself, then the file, then the model's delay + 1 s of silence,
gets `captty run --batch-size N`'s tokens, N being the server's slots; its words, and their
times plus the prefix (moshi-server adds none; times have the delay taken out).
"""
import asyncio
import math

import msgpack
import numpy as np
import pytest
import sphn
import websockets

from captty.engine import StreamStarted, TextDecoded, WordFinished, WordStarted
from captty.engine.serve import protocol
from engine_run import collect
from serve_helpers import FRAME, RATE, assert_clean, demo_pcm, running_server, transcribe

SLOTS = 2
PREFIX = 1.0  # tiny-stt's audio_silence_prefix_seconds
DELAY = 0.5


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    """4 s of the English demo and a bit (not a whole frame), as a WAV."""
    pcm = demo_pcm(4.0)[: 4 * RATE - 555]
    path = tmp_path_factory.mktemp("audio") / "cut.wav"
    sphn.write_wav(str(path), pcm[None], RATE)
    return path, sphn.read(str(path), sample_rate=RATE)[0][0]


def reference(events):
    tokens = [e.token for e in events if isinstance(e, TextDecoded) and e.item == 0]
    started = [(e.text, e.start) for e in events if isinstance(e, WordStarted) and e.item == 0]
    finished = [e for e in events if isinstance(e, WordFinished) and e.item == 0]
    return tokens, started, finished


async def test_a_clients_stream_is_captty_runs_with_the_prefix_as_documented(tiny_stt, cut):
    path, pcm = cut
    local = await collect(tiny_stt, path, batch_size=SLOTS)
    tokens, started, finished = reference(local.events)
    assert len(finished) >= 5

    seen = []
    async with running_server(tiny_stt, batch_size=SLOTS) as server:
        server.observers.append(seen.append)
        got = await transcribe(server.url, pcm)
    ready = got.messages[0]
    assert ready == {"type": "Ready", "model": tiny_stt.name, "delay": DELAY, "prefix": PREFIX}
    slot = next(e.item for e in seen if isinstance(e, StreamStarted))
    remote_tokens = [e.token for e in seen if isinstance(e, TextDecoded) and e.item == slot]
    assert remote_tokens == tokens  # the same tokens, exactly

    words = got.of("Word")
    assert [w["text"] for w in words] == [text for text, _ in started]
    for word, (_, start) in zip(words, started):  # times: captty run's plus the prefix
        # (times inside the prefix are 0 in captty run: it clamps at 0, as the server does)
        assert max(word["start_time"] - PREFIX, 0) == pytest.approx(start, abs=1e-9)
    ends = [m["stop_time"] for m in got.of("EndWord")]
    # every word but the last gets its end (the last one's comes at the end of the stream)
    assert len(ends) == len(finished) - 1
    for stop, word in zip(ends, finished):
        assert max(stop - PREFIX, 0) == pytest.approx(word.end, abs=1e-9)

    steps = got.of("Step")
    frames = (int(PREFIX * RATE) + pcm.size) // FRAME  # whole frames before the marker's target
    assert len(steps) >= frames + math.ceil(DELAY * 12.5)  # the marker's audio, and the delay
    assert [s["step_idx"] for s in steps] == list(range(len(steps)))
    assert all(len(s["prs"]) == 4 for s in steps)  # tiny-stt has 4 extra heads, as stt-1b
    assert got.types[-1] == "Marker" and got.messages[-1]["id"] == 42
    assert "Error" not in got.types


async def kyutai_file_client(url: str, pcm: np.ndarray, api_key="public_token"):
    """What Kyutai's `stt_from_file_rust_server.py` does, with the library it uses: 1 s of
    silence, the file in 1920-sample frames as fast as allowed, 5 s of silence, a Marker, 35 s
    of silence without waiting; words until the marker comes back."""
    async def send(ws):
        async def audio(x):
            await ws.send(msgpack.packb({"type": "Audio", "pcm": [float(v) for v in x]},
                                        use_single_float=True))
        await audio([0.0] * RATE)
        for i in range(0, len(pcm), FRAME):
            await audio(pcm[i:i + FRAME])
            await asyncio.sleep(0.001)
        for _ in range(5):
            await audio([0.0] * RATE)
        await ws.send(msgpack.packb({"type": "Marker", "id": 0}, use_single_float=True))
        for _ in range(35):
            await audio([0.0] * RATE)

    transcript = []
    async with websockets.connect(url, additional_headers={"kyutai-api-key": api_key}) as ws:
        sending = asyncio.create_task(send(ws))
        async for message in ws:
            data = msgpack.unpackb(message, raw=False)
            if data["type"] == "Word":
                transcript.append([data["text"], data["start_time"], data["start_time"]])
            elif data["type"] == "EndWord" and transcript:
                transcript[-1][2] = data["stop_time"]
            elif data["type"] == "Marker":
                break
        sending.cancel()
    return transcript


async def test_kyutais_file_client_gets_its_words_with_backpressure(tiny_stt, cut):
    _, pcm = cut
    async with running_server(tiny_stt, batch_size=SLOTS) as server:
        own = await transcribe(server.url, pcm)  # the prefix it sends is tiny-stt's own: 1 s
        kyutai = await kyutai_file_client(server.url, pcm)
        await assert_clean(server)
    assert [w[0] for w in kyutai] == [w["text"] for w in own.of("Word")]
    assert [w[1] for w in kyutai] == [w["start_time"] for w in own.of("Word")]


async def test_api_key_in_the_query_and_text_frames_ignored(tiny_stt, cut):
    _, pcm = cut
    async with (running_server(tiny_stt, api_key="sesame") as server,
                websockets.connect(server.url + "?auth_id=sesame") as ws):
        assert msgpack.unpackb(await ws.recv())["type"] == "Ready"
        await ws.send("a text frame: ignored, as moshi-server does")
        await ws.send(protocol.audio(pcm[: 10 * FRAME]))
        assert msgpack.unpackb(await ws.recv())["type"] in ("Step", "Word")

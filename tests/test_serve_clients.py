"""Many clients on one `captty serve`: joining and leaving at any step, a full batch, keys,
bad messages, a client killed mid-stream, backpressure and idle limits. Real websocket clients
on loopback; after each, the server has every slot free and no client or task left over."""
import asyncio
import logging

import aiohttp
import msgpack
import numpy as np
import pytest

from captty.engine import CapttyError, Limits, ServeConfig, StreamStarted
from captty.engine.serve import protocol
from conftest import captty
from serve_helpers import (FRAME, RATE, assert_clean, demo_pcm, receive_all, running_server,
                           send_stream, transcribe)

PCM = demo_pcm(3.0)


def words(got):
    return [(w["text"], w["start_time"]) for w in got.of("Word")]




async def test_clients_joining_and_leaving_at_different_steps(tiny_stt):
    """Each stream reads as a lone run in its slot, whoever else joins, leaves or sits a step out.
    (A stream's tokens can depend on its slot: CPU kernels may round one row of a batch
    differently from another, and tiny-stt's random logits are nearly tied.)"""
    seen = []
    async with running_server(tiny_stt, batch_size=2) as server:
        server.observers.append(seen.append)
        in_slot0 = await transcribe(server.url, PCM)  # the batch to itself, in slot 0
        async with aiohttp.ClientSession() as http, http.ws_connect(server.url) as idle:
            await idle.receive()  # holds slot 0, sends nothing
            in_slot1 = await transcribe(server.url, PCM)
        lone = {tuple(words(in_slot0)), tuple(words(in_slot1))}
        assert len(words(in_slot0)) >= 3

        async def late(delay, pcm):
            await asyncio.sleep(delay)
            return await transcribe(server.url, pcm)

        async def leaves_early():
            async with aiohttp.ClientSession() as http, http.ws_connect(server.url) as ws:
                await ws.receive()
                for i in range(0, 20 * FRAME, FRAME):
                    await ws.send_bytes(protocol.audio(PCM[i:i + FRAME]))
                    await asyncio.sleep(0.01)
            return "left"

        # one client leaves mid-stream; two others join at other steps, one into its slot
        seen.clear()
        results = await asyncio.gather(leaves_early(), late(0.1, PCM), late(0.6, PCM))
        assert results[0] == "left"
        for got in results[1:]:
            assert tuple(words(got)) in lone  # joining late changes nothing in a stream
            assert got.types[-1] == "Marker"
        starts = [e.item for e in seen if isinstance(e, StreamStarted)]
        assert sorted(starts) == [0, 0, 1]  # a slot left mid-stream was reset for the next
        await assert_clean(server)


async def test_a_full_server_refuses_directly_with_error_and_proxied_with_503(tiny_stt):
    async with running_server(tiny_stt, batch_size=1) as server:
        async with aiohttp.ClientSession() as http, http.ws_connect(server.url) as first:
            assert msgpack.unpackb((await first.receive()).data)["type"] == "Ready"
            async with http.ws_connect(server.url) as second:
                got = await receive_all(second, until_marker=False)
            assert got.messages == [{"type": "Error", "message": "no free channels"}]
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(server.url, headers={"X-Forwarded-For": "10.0.0.7"})
            assert refused.value.status == 503
            async with http.get(server.url.replace("ws://", "http://").replace(
                    "/api/asr-streaming", "/metrics")) as metrics:
                text = await metrics.text()
            assert 'captty_connections_total{outcome="refused_full"} 2.0' in text
            assert "captty_free_slots 0.0" in text
        served = await transcribe(server.url, PCM)  # the slot is free again
        assert served.types[-1] == "Marker"
        await assert_clean(server)


async def test_a_wrong_key_is_refused_before_any_audio(tiny_stt):
    async with (running_server(tiny_stt, batch_size=1, api_key="sesame") as server,
                aiohttp.ClientSession() as http):
        for headers in ({}, {"kyutai-api-key": "wrong"}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(server.url, headers=headers)
            assert refused.value.status == 401
        async with http.ws_connect(server.url, headers={"kyutai-api-key": "sesame"}) as ws:
            assert msgpack.unpackb((await ws.receive()).data)["type"] == "Ready"
    with pytest.raises(CapttyError, match="needs an API key"):
        ServeConfig(host="0.0.0.0").check()


def test_serve_on_a_public_address_without_a_key_exits_with_one_line():
    out = captty("serve", "--model", "tiny-stt", "--host", "0.0.0.0", "--port", "0")
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "captty: serving on 0.0.0.0 (not a loopback address) needs an API key: --api-key KEY "
        "or CAPTTY_API_KEY"]


BAD = {
    "not msgpack": b"\xc1\xc1 not msgpack",
    "not a map": msgpack.packb([1, 2, 3]),
    "unknown type": msgpack.packb({"type": "Dance"}),
    "wrong pcm": msgpack.packb({"type": "Audio", "pcm": "loud"}),
    "strings in pcm": msgpack.packb({"type": "Audio", "pcm": ["1.0"]}),
    "nan in pcm": msgpack.packb({"type": "Audio", "pcm": [float("nan")]}),
    "wrong marker": msgpack.packb({"type": "Marker", "id": "x"}),
    "too large": protocol.audio(np.zeros(300_000, np.float32)),  # 1.5 MB
}


async def test_bad_messages_get_an_error_and_the_others_carry_on(tiny_stt):
    async with running_server(tiny_stt, batch_size=2) as server:
        tasks_before = len(asyncio.all_tasks())
        async with aiohttp.ClientSession() as http:
            for name, data in BAD.items():
                async with http.ws_connect(server.url, max_msg_size=0) as ws:
                    await ws.receive()  # Ready
                    await ws.send_bytes(data)
                    got = await receive_all(ws, until_marker=False)
                errors = got.of("Error")
                assert len(errors) == 1, name
                assert got.close_code in (1008, 1009), name
            # far past the limit: aiohttp closes before reading it whole (1009)
            async with http.ws_connect(server.url) as ws:
                await ws.receive()
                await ws.send_bytes(b"\x00" * (3 << 20))
                got = await receive_all(ws, until_marker=False)
                assert ws.close_code == 1009
        assert (await transcribe(server.url, PCM)).types[-1] == "Marker"
        await assert_clean(server)
        assert len(asyncio.all_tasks()) == tasks_before


async def test_a_client_killed_mid_stream_frees_its_slot(tiny_stt):
    async with running_server(tiny_stt, batch_size=1) as server:
        reference = await transcribe(server.url, PCM)
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(server.url)
            await ws.receive()
            await send_stream(ws, PCM[: PCM.size // 2], RATE, 0, marker=False)
            ws._response.connection.transport.abort()  # vanishes: no close frame
        for _ in range(100):  # the server notices (the next read fails)
            if server.feeder.free_slots == 1:
                break
            await asyncio.sleep(0.05)
        assert words(await transcribe(server.url, PCM)) == words(reference)
        await assert_clean(server)


async def test_a_client_faster_than_real_time_is_held_back_not_dropped(tiny_stt):
    limits = Limits(max_waiting_seconds=0.5, silent_seconds=1.0, idle_seconds=2.0)
    long = np.tile(PCM, 12)  # 36 s, sent at once: held back for longer than the limits
    async with running_server(tiny_stt, batch_size=1, limits=limits) as server:
        async with aiohttp.ClientSession() as http, http.ws_connect(server.url) as ws:
            await ws.receive()
            sending = asyncio.create_task(send_stream(ws, long, RATE, int(1.5 * RATE)))
            got = await receive_all(ws)
            await sending
        assert got.types[-1] == "Marker" and "Error" not in got.types
        assert len(got.of("Step")) >= (RATE + long.size) // FRAME
        assert max(s["buffered_pcm"] for s in got.of("Step")) <= 0.5 * RATE + RATE + 36000
        await assert_clean(server)


async def test_silent_and_idle_clients_are_dropped(tiny_stt, caplog):
    caplog.set_level(logging.INFO, logger="captty.serve")
    limits = Limits(ping_seconds=0.2, silent_seconds=1.0, idle_seconds=2.0)
    async with running_server(tiny_stt, batch_size=2, limits=limits) as server:
        async with aiohttp.ClientSession() as http:
            # answers pings (aiohttp does, while reading) but sends no audio: idle
            async with http.ws_connect(server.url) as idle:
                got = await receive_all(idle, until_marker=False)
            assert idle.close_code == 1008
            # does not read, so answers no ping: silent
            silent = await http.ws_connect(server.url, autoping=False)
            await asyncio.sleep(1.8)
            got_silent = await receive_all(silent, until_marker=False)
            assert silent.closed  # (1006: it answered the server's close no more than its pings)
        assert got.types == ["Ready"] and got_silent.types == ["Ready"]
        await assert_clean(server)
    ends = [r.getMessage().split("ended: ")[1] for r in caplog.records if "ended: " in r.getMessage()]
    assert ends == ["no audio for 2 s", "silent for 1 s"]

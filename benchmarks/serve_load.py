"""Load on `captty serve`: N real websocket clients at real-time pace on loopback.

    .venv/bin/python benchmarks/serve_load.py --clients 1,2,4,8 --seconds 10
    .venv/bin/python benchmarks/serve_load.py --server ws://gpu-box:8080 --clients 64

Each client streams a recording (looped) in 80 ms frames at real time, its start spread at
random over one frame, for `--seconds`. Its lag is the time from sending a frame to the `Step`
that covers it (the protocol's per-step message; models with extra heads). Per N: lag p50 / p95 /
max over all clients' steps, the worst client's p95, words and errors per client, the server's
ms/step (from /metrics); then the largest N whose p95 lag stays under one step (80 ms).
Without --server it starts `captty serve --model tiny-stt` itself, with as many slots as the
largest N.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import msgpack
import numpy as np
import sphn

from captty.engine import bundled_audio
from captty.engine.serve import protocol

RATE, FRAME = 24000, 1920
STEP_MS = 1000 * FRAME / RATE


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def client(url: str, pcm: np.ndarray, seconds: float, phase: float, key: str | None):
    """One real-time client: (lags in ms, words, errors)."""
    await asyncio.sleep(phase)
    lags, words, errors, sent = [], 0, [], []
    headers = {"kyutai-api-key": key} if key else {}
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(url, headers=headers) as ws:
            ready = msgpack.unpackb((await ws.receive()).data)
            if ready.get("type") != "Ready":
                return lags, words, [str(ready.get("message", ready))]

            async def send():
                start = time.monotonic()
                frames = int(seconds * RATE / FRAME)
                for i in range(frames):
                    j = (i * FRAME) % (pcm.size - FRAME)
                    await ws.send_bytes(protocol.audio(pcm[j:j + FRAME]))
                    sent.append(time.monotonic())
                    await asyncio.sleep(max(0.0, start + (i + 1) * FRAME / RATE - time.monotonic()))
                await ws.send_bytes(protocol.client_marker(1))
                await ws.send_bytes(protocol.audio(np.zeros(2 * RATE, np.float32)))

            sending = asyncio.create_task(send())
            steps = 0
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    continue
                m = msgpack.unpackb(msg.data)
                if m["type"] == "Step":
                    if steps < len(sent):
                        lags.append(1000 * (time.monotonic() - sent[steps]))
                    steps += 1
                elif m["type"] == "Word":
                    words += 1
                elif m["type"] == "Error":
                    errors.append(m["message"])
                elif m["type"] == "Marker":
                    break
            await sending
    except (aiohttp.ClientError, OSError) as e:
        errors.append(f"{type(e).__name__}: {e}")
    return lags, words, errors


async def scrape(metrics_url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as http, http.get(metrics_url) as r:
        text = await r.text()
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(captty_step_ms_p\d+) (\S+)$", text, re.M)}


async def round_of(url: str, n: int, pcm, seconds: float, key: str | None) -> dict:
    results = await asyncio.gather(*(client(url, pcm, seconds, random.random() * FRAME / RATE,
                                            key) for _ in range(n)))
    lags = [lag for r in results for lag in r[0]]
    worst = max((percentile(r[0], 0.95) for r in results if r[0]), default=float("nan"))
    metrics = await scrape(url.replace("ws", "http", 1).replace("/api/asr-streaming", "/metrics"))
    return {"clients": n, "p50": percentile(lags, 0.5), "p95": percentile(lags, 0.95),
            "max": max(lags, default=float("nan")), "worst_client_p95": worst,
            "words": statistics.mean(r[1] for r in results),
            "errors": sum(len(r[2]) for r in results), "step_ms": metrics}


def start_server(slots: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "captty.tui.cli", "serve", "--model", "tiny-stt",
                             "--port", "0", "--batch-size", str(slots)],
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"serving .* at (\S+)", line)
        if found:  # its log (a line per client) is read on, or the pipe would fill and block it
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc, found.group(1)
    raise SystemExit("captty serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,2,4,8", help="N values, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="streaming time per round")
    parser.add_argument("--server", help="ws://HOST:PORT of a running server (default: start one)")
    parser.add_argument("--api-key")
    parser.add_argument("--audio", default=str(bundled_audio("demo-en.wav")))
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    pcm = sphn.read(args.audio, sample_rate=RATE)[0][0].astype(np.float32)
    proc = None
    if args.server:
        url = args.server.rstrip("/") + "/api/asr-streaming"
    else:
        proc, url = start_server(max(counts))
    print(f"serve_load: {url}, {args.seconds:g} s a round, audio {Path(args.audio).name}")
    print(f"{'N':>4} {'lag p50':>8} {'p95':>8} {'max':>8} {'worst p95':>10} {'words':>6} "
          f"{'errors':>6} {'step p50':>9} {'p95':>6}  (ms)")
    best = 0
    try:
        for n in counts:
            r = asyncio.run(round_of(url, n, pcm, args.seconds, args.api_key))
            step = r["step_ms"]
            print(f"{n:4d} {r['p50']:8.1f} {r['p95']:8.1f} {r['max']:8.1f} "
                  f"{r['worst_client_p95']:10.1f} {r['words']:6.1f} {r['errors']:6d} "
                  f"{step.get('captty_step_ms_p50', float('nan')):9.1f} "
                  f"{step.get('captty_step_ms_p95', float('nan')):6.1f}", flush=True)
            if r["p95"] < STEP_MS and not r["errors"]:
                best = max(best, n)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=60)
    print(f"largest N with p95 lag under one step ({STEP_MS:.0f} ms): {best or 'none'}")


if __name__ == "__main__":
    main()

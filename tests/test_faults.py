"""Faults a run must survive: the GPU failing mid-run (injected on the CPU path), a model slower
than real time, a full disk, and signals; what was transcribed is always kept."""
import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import sphn
import torch

from captty.engine import (EngineFailed, FileSource, Session, StepTimed, WordFinished,
                           transcript_sink)
from captty.engine.step_loop import StepLoop
from conftest import DEMO_EN, ROOT, TINY_STT, captty


def failing_step(monkeypatch, after: int, error: Exception):
    real = StepLoop.launch  # every step goes through it, the warm-up's too
    calls = {"n": 0}

    def step(self, frame):
        calls["n"] += 1
        if calls["n"] > after + 3:  # 3 warm-up steps first
            raise error
        return real(self, frame)

    monkeypatch.setattr(StepLoop, "launch", step)


async def run_with_files(model, path, outputs):
    sink = transcript_sink([str(p) for p in outputs])
    events = []
    async with Session(model, FileSource(path, speed=None)) as session:
        async for event in session.events():
            sink.handle(event)
            events.append(event)
    sink.close()
    return events


@pytest.mark.parametrize("error,message", [
    (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
     "the GPU ran out of memory after"),
    (RuntimeError("CUDA error: an illegal memory access was encountered"),
     "a CUDA error stopped the model (CUDA error: an illegal memory access was encountered)"),
])
@pytest.mark.parametrize("pipelined", ["0", "1"])
def test_a_gpu_failure_mid_run_says_what_to_try_and_keeps_the_words(monkeypatch, tmp_path,
                                                                     tiny_stt, error, message,
                                                                     pipelined):
    monkeypatch.setenv("CAPTTY_PIPELINE", pipelined)  # "1": outputs read a step late, as on CUDA
    failing_step(monkeypatch, after=60, error=error)
    outputs = [tmp_path / "t.txt", tmp_path / "t.json"]
    events = asyncio.run(run_with_files(tiny_stt, DEMO_EN, outputs))
    assert [e.step for e in events if isinstance(e, StepTimed)] == list(range(60))
    failed = events[-1]
    assert isinstance(failed, EngineFailed) and message in failed.message
    assert "try a smaller --batch-size, --half, or --device cpu" in failed.message
    words = [e.text for e in events if isinstance(e, WordFinished)]
    assert len(words) >= 3  # transcribed before the failure, and kept
    assert outputs[0].read_text().split() == words
    doc = json.loads(outputs[1].read_text())
    assert [w["text"] for w in doc["words"]] == words and doc["complete"] is False


def slow_steps(monkeypatch, seconds: float):
    real = StepLoop.launch  # every step goes through it, the warm-up's too

    def step(self, frame):
        time.sleep(seconds)
        return real(self, frame)

    monkeypatch.setattr(StepLoop, "launch", step)


async def paced_run(model, path, speed, max_lag):
    source = FileSource(path, speed=speed, max_lag=max_lag)
    steps = 0
    async with Session(model, source) as session:
        async for event in session.events():
            steps += isinstance(event, StepTimed)
    return source, steps


def test_a_slow_model_catches_up_by_dropping_the_oldest_audio(monkeypatch, tiny_stt):
    """Replayed at 8x real time through a model that manages about 2x: with a bound on the
    lag, the oldest audio goes, counted; without one, every frame goes through, late."""
    slow_steps(monkeypatch, 0.04)  # 25 steps a second: 2 s of audio a second
    frames = len(sphn.read(str(DEMO_EN))[0][0]) // 1920
    catching_up, steps = asyncio.run(paced_run(tiny_stt, DEMO_EN, speed=8.0, max_lag=0.3))
    assert catching_up.dropped_seconds > 1.0  # seconds of audio left out to stay within the bound
    assert steps < frames + 19  # fewer steps than the whole input plus its padding
    keeping, steps = asyncio.run(paced_run(tiny_stt, DEMO_EN, speed=8.0, max_lag=None))
    assert keeping.dropped_seconds == 0 and steps >= frames + 18  # every frame, and the padding


def tiled(tmp_path, times):
    speech = sphn.read(str(DEMO_EN))[0]
    path = tmp_path / "long.wav"
    sphn.write_wav(str(path), np.tile(speech, (1, times)), sample_rate=24000)
    return path


def test_a_full_disk_leaves_the_other_outputs_and_says_so(tmp_path):
    full = tmp_path / "full.txt"
    full.symlink_to("/dev/full")  # every write fails: No space left on device
    result = captty("run", "--model", TINY_STT, "--device", "cpu", DEMO_EN, "-o", full,
                    "-o", tmp_path / "ok.srt", "-o", tmp_path / "missing" / "dir.json")
    assert result.returncode == 1 and result.stdout.strip()  # the transcript still printed
    err = result.stderr
    assert err.count(f"cannot write '{full}': No space left on device; the run goes on") == 1
    assert "missing/dir.json': No such file or directory; the run goes on without it" in err
    assert err.strip().splitlines()[-1] == \
        f"captty: not written in full: {full}, {tmp_path / 'missing' / 'dir.json'}"
    assert (tmp_path / "ok.srt").read_text().strip() and "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_mid_run_leaves_complete_files_and_says_which(tmp_path, sig):
    long = tiled(tmp_path, 20)
    outs = [tmp_path / f"t.{fmt}" for fmt in ("srt", "json", "txt")]
    proc = subprocess.Popen([sys.executable, "-m", "captty.tui.cli", "run", long, "--model",
                             TINY_STT, "--device", "cpu", *[a for o in outs for a in ("-o", o)]],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    deadline = time.monotonic() + 120
    while len(outs[2].read_text().split() if outs[2].exists() else []) < 15:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert f"stopped by {sig.name}" in err or (sig == signal.SIGINT and "interrupted" in err)
    words = outs[2].read_text().split()
    doc = json.loads(outs[1].read_text())
    import srt

    captions = " ".join(s.content for s in srt.parse(outs[0].read_text())).split()
    assert len(words) >= 15
    # closed properly: the captions hold the last cue, the json every word
    assert [w["text"] for w in doc["words"]] == words == captions


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_the_console_saves_and_says_which_signal_stopped_it(tmp_path, sig):
    from terminal import Terminal

    save = tmp_path / "saved.txt"
    console = Terminal.start(["replay", tiled(tmp_path, 10), "--model", TINY_STT, "--device",
                              "cpu", "--speed", "4", "--save", save])
    console.wait_for(b"step latency")
    time.sleep(3)  # some words in
    console.proc.send_signal(sig)
    assert console.proc.wait(timeout=60) == 128 + sig
    assert save.read_text().split()  # what was transcribed is saved
    assert b"\x1b[?1049l" in console.screen  # the terminal's own screen is back
    assert f"stopped by {sig.name}".encode() in console.screen


async def test_a_session_stopped_before_it_began_still_ends(tiny_stt):
    """stop() or abort() before the feeder task has run once (an error in the caller's own
    `async with` body, a quick Ctrl-C): the model thread is told, nothing waits for ever."""
    for end in ("abort", "stop"):
        session = Session(tiny_stt, FileSource(DEMO_EN, speed=None))
        session.start()
        getattr(session, end)()
        await asyncio.wait_for(session.wait_closed(), 60)
        events = [e async for e in session.events()]
        assert events[-1].stopped

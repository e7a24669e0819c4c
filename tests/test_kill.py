"""Killed with SIGKILL mid-stream, `captty run` leaves transcript files and speech WAVs that
parse, agree with one another, and lack at most the word in progress (the cue in progress for
captions)."""
import json
import os
import signal
import subprocess
import sys
import time
import wave

import numpy as np
import sphn
import srt
import webvtt
from conftest import DEMO_EN, DEMO_FR, ROOT, TINY_HIBIKI, TINY_STT
from engine_run import run

from captty.engine.exports.cues import CueRules, wrap
from captty.engine.words import WordFinished


def tiled(src, dst, times):
    speech = sphn.read(str(src))[0]
    sphn.write_wav(str(dst), np.tile(speech, (1, times)), sample_rate=24000)
    return dst


def start(*args):
    return subprocess.Popen([sys.executable, "-m", "captty.tui.cli", "run", *map(str, args)],
                            cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ))


def kill_when(proc, ready, timeout=120):
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the run wrote nothing in time"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def json_words(path) -> list[str]:
    return [w["text"] for w in json.loads(path.read_text())["words"]]


def test_sigkill_leaves_every_transcript_file_parseable(tmp_path, tiny_stt):
    long = tiled(DEMO_EN, tmp_path / "long.wav", 30)  # three minutes
    outs = {fmt: tmp_path / f"talk.{fmt}" for fmt in ("json", "srt", "vtt", "txt", "jsonl")}
    proc = start(long, "--model", TINY_STT, *[a for o in outs.values() for a in ("-o", o)])
    # the .json file is polled (and parsed) while the run writes it
    kill_when(proc, lambda: outs["json"].exists() and len(json_words(outs["json"])) >= 25)

    doc = json.loads(outs["json"].read_text())
    assert doc["complete"] is False and doc["summary"] is None
    written = {
        "json": [w["text"] for w in doc["words"]],
        "srt": " ".join(s.content for s in srt.parse(outs["srt"].read_text())).split(),
        "vtt": " ".join(c.text for c in webvtt.read(str(outs["vtt"])).captions).split(),
        "txt": outs["txt"].read_text().split(),
    }
    lines = outs["jsonl"].read_text().split("\n")
    records = [json.loads(line) for line in lines[:-1]]  # the last one may be cut: no newline
    written["jsonl"] = [r["text"] for r in records
                        if r["event"] == "WordFinished" and r["item"] == 0]
    longest = max(written.values(), key=len)
    for fmt, words in written.items():  # every file has every finished word, but maybe the last
        assert words == longest[: len(words)], fmt
        if fmt in ("srt", "vtt"):  # ...or, for captions, the cue in progress (at most 2 lines)
            assert len(wrap(longest[len(words):], CueRules().max_line)) <= CueRules().max_lines, fmt
        else:
            assert len(words) >= 24 and len(longest) - len(words) <= 1, fmt
    # and they are the right words: the long file starts with the demo recording
    once = tiled(DEMO_EN, tmp_path / "once.wav", 1)  # the same samples as the long file's start
    short = [e.text for e in run(tiny_stt, once).events if isinstance(e, WordFinished)]
    assert longest[: len(short) - 1] == short[:-1]


def header_frames(path) -> int:
    """The samples a WAV's header counts so far (the data may run ahead of it mid-write)."""
    try:
        with wave.open(str(path)) as w:
            return w.getnframes()
    except (OSError, EOFError, wave.Error):
        return 0


def test_sigkill_leaves_valid_speech_wavs(tmp_path):
    long = tiled(DEMO_FR, tmp_path / "long.wav", 20)
    out = tmp_path / "speech.wav"
    proc = start(long, out, "--model", TINY_HIBIKI, "--batch-size", "2", "--max-tail", "1")
    paths = [tmp_path / "speech-0.wav", tmp_path / "speech-1.wav"]
    kill_when(proc, lambda: all(header_frames(p) >= 3 * 24000 for p in paths))
    for path in paths:
        with wave.open(str(path)) as w:  # the header's sizes match the samples written
            frames = w.getnframes()
            assert w.getframerate() == 24000 and w.getsampwidth() == 2
            assert path.stat().st_size >= 44 + 2 * frames
        pcm, rate = sphn.read(str(path))
        assert rate == 24000 and pcm.shape[1] == frames and frames >= 3 * 24000
        assert np.abs(pcm).max() > 0

"""Audio from standard input, raw PCM and named pipes: opened once, streamed, never hung."""
import os
import subprocess
import sys
import threading
import time

import numpy as np
import sphn

from conftest import DEMO_EN, ROOT, TINY_STT
from terminal import Terminal

RUN = [sys.executable, "-m", "captty.tui.cli", "run", "--model", str(TINY_STT), "--device", "cpu"]


def run(*args, stdin=None, timeout=300):
    return subprocess.run([*RUN, *map(str, args)], stdin=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def test_standard_input_and_raw_pcm_give_the_file_s_transcript(tmp_path):
    expected = run(DEMO_EN)
    assert expected.returncode == 0 and expected.stdout.strip()
    with open(DEMO_EN, "rb") as wav:
        piped = run("-", stdin=wav)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == expected.stdout
    pcm = sphn.read(str(DEMO_EN))[0][0]
    raw = tmp_path / "demo.raw"
    raw.write_bytes(np.round(pcm * 32768).clip(-32768, 32767).astype("<i2").tobytes())
    with open(raw, "rb") as stream:
        headerless = run("-", "--raw-format", "s16le:24000:1", stdin=stream)
    assert headerless.returncode == 0, headerless.stderr
    assert headerless.stdout == expected.stdout  # the WAV holds the same 16-bit samples


def test_a_bad_raw_format_is_one_line():
    with open(DEMO_EN, "rb") as wav:
        result = run("-", "--raw-format", "pcm:fast", stdin=wav)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("captty: raw format 'pcm:fast'")


def test_a_named_pipe_waits_for_its_writer_then_streams(tmp_path):
    fifo = tmp_path / "audio.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*RUN, str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    err = []
    reader = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not any("waiting for a writer" in line for line in err):
        assert proc.poll() is None and time.monotonic() < deadline, "".join(err)
        time.sleep(0.05)
    with open(fifo, "wb") as pipe:  # the writer, once captty says it waits
        pipe.write(DEMO_EN.read_bytes())
    out = proc.stdout.read()
    assert proc.wait(timeout=120) == 0, "".join(err)
    reader.join(5)
    assert out == run(DEMO_EN).stdout and out.strip()


def test_the_console_reads_its_keys_from_the_terminal_while_stdin_carries_audio(tmp_path):
    """`captty replay -` in a terminal: the audio comes in on stdin, q comes from the keyboard."""
    save = tmp_path / "saved.txt"
    long = tmp_path / "long.wav"
    sphn.write_wav(str(long), np.tile(sphn.read(str(DEMO_EN))[0], (1, 10)), 24000)
    with open(long, "rb") as wav:
        console = Terminal.start(["replay", "-", "--model", TINY_STT, "--device", "cpu",
                                  "--speed", "4", "--save", save], stdin=wav)
    console.wait_for(b"step latency")  # the console is up
    time.sleep(3)  # some words in
    console.type(b"q")  # from the keyboard, not from the audio on stdin
    assert console.proc.wait(timeout=60) == 0, console.screen[-2000:]
    assert save.exists() and save.read_text().split()

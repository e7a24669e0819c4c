"""CPU used by the console while a replay runs, while it is paused, and once it has finished.

    python benchmarks/console_idle_cpu.py [--seconds 10] [--tree PATH] [--model tiny-stt]

Starts `captty replay` at real-time pace in a pseudo-terminal (the console draws as it would
for a person; the output is read and thrown away), and counts the process's CPU time (all its
threads, from /proc/PID/stat) over three windows of `--seconds`: while the replay runs, while it
is paused (space), and after it has finished. `--tree` runs the `captty` of another checkout
(e.g. a worktree of an older commit, whose packages import as top-level `engine`/`tui`) with
this interpreter, for a before/after comparison on the same machine.
"""
from __future__ import annotations

import argparse
import fcntl
import os
import pty
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import numpy as np
import sphn

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime, every thread


def long_recording(seconds: float) -> Path:
    from captty.engine import bundled_audio

    pcm, _ = sphn.read(str(bundled_audio("demo-en.wav")), sample_rate=24000)
    reps = int(np.ceil(seconds * 24000 / pcm.shape[1]))
    path = Path(tempfile.gettempdir()) / f"captty-idle-{seconds:g}s.wav"
    sphn.write_wav(str(path), np.tile(pcm[:1], (1, reps))[:, : int(seconds * 24000)], 24000)
    return path


def start(tree: Path | None, model: str, audio: Path, save: Path):
    if tree is None:
        command = [sys.executable, "-m", "captty.tui.cli"]
        cwd = None
    else:  # an older checkout: its packages are top-level, found from its folder
        command = [sys.executable, "-m", "tui.cli"]
        cwd = tree
        model = str(tree / "assets" / "models" / model) if "/" not in model else model
    command += ["replay", str(audio), "--model", model, "--device", "cpu", "--save", str(save)]
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(command, stdin=child, stdout=child, stderr=child, cwd=cwd,
                            env=dict(os.environ, TERM="xterm-256color"), close_fds=True)
    os.close(child)
    finished = threading.Event()

    def drain() -> None:  # a terminal that is not read would block the app
        tail = b""
        while True:
            try:
                data = os.read(main, 65536)
            except OSError:
                return
            if not data:
                return
            if b"[finished]" in tail + data:  # the heading says the stream has ended
                finished.set()
            tail = data[-16:]

    threading.Thread(target=drain, daemon=True).start()
    return proc, main, finished


def window(pid: int, seconds: float) -> float:
    """The share of one core used over the next `seconds`."""
    before, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--tree", type=Path, help="another checkout's captty (before/after)")
    parser.add_argument("--model", default="tiny-stt")
    args = parser.parse_args()
    length = 3 * args.seconds + 10  # loading and warm-up, then a running window, then pause
    audio = long_recording(length)
    save = Path(tempfile.mkdtemp()) / "transcript.txt"
    proc, terminal, ended = start(args.tree, args.model, audio, save)
    try:
        time.sleep(8.0)  # loading, warm-up, first steps
        running = window(proc.pid, args.seconds)
        os.write(terminal, b" ")  # pause
        time.sleep(0.5)
        paused = window(proc.pid, args.seconds)
        os.write(terminal, b" ")  # resume, then let it run to its end (and the model's delay)
        if not ended.wait(timeout=length + 60):
            raise SystemExit("the replay never showed [finished]")
        time.sleep(2.0)
        finished = window(proc.pid, args.seconds)
        os.write(terminal, b"q")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    where = args.tree or "this tree"
    print(f"console CPU over {args.seconds:g} s windows ({where}, {args.model}, replay at 1x, "
          f"100x30): running {100 * running:.1f}% of a core, paused {100 * paused:.1f}%, "
          f"finished {100 * finished:.1f}%")


if __name__ == "__main__":
    main()

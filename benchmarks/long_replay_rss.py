"""Resident memory of `captty run` over a long file, replayed as fast as the model goes.

    python benchmarks/long_replay_rss.py [--minutes 60] [--model tiny-stt] [--many]

Makes the long input by tiling a recording (written to /tmp, not kept in the repository), runs
it through what `captty run` does (file source, session on the model thread, events, the stdout
printer writing to /dev/null) and prints the process's resident set size when the model has
taken 1, 10, 30 and 60 minutes of audio (the marks up to --minutes). `--many` does the same
through `captty run FILE FILE` (the batched multi-file path), the long file in both slots.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import numpy as np

from captty.engine import FileSource, ModelSpec, StepTimed, TextPrinter, bundled_audio, load_model
from captty.engine.bench import rss_mb
from captty.tui.headless import run_session, session_for
from captty.tui.multi_run import TranscriptsInOrder, many_files_session
from captty.tui.options import StreamOptions

MARKS = (1, 10, 30, 60)


def long_file(source: Path, minutes: float) -> Path:
    import sphn

    out = Path(f"/tmp/captty-long-{source.stem}-{minutes:g}min.wav")
    if not out.exists():
        pcm, _ = sphn.read(str(source), sample_rate=24000)
        pcm = pcm[:1]
        reps = int(np.ceil(minutes * 60 * 24000 / pcm.shape[1]))
        sphn.write_wav(str(out), np.tile(pcm, (1, reps))[:, :int(minutes * 60 * 24000)], 24000)
    return out


class RssAtMarks:
    """A sink: the RSS when the audio taken passes each mark (minutes)."""

    def __init__(self, marks):
        self.marks = list(marks)
        self.rows: list[tuple[float, float, float]] = []
        self.start = time.perf_counter()

    def handle(self, event) -> None:
        if isinstance(event, StepTimed) and self.marks and event.audio_time >= self.marks[0] * 60:
            self.rows.append((self.marks.pop(0), rss_mb(), time.perf_counter() - self.start))
            print(f"{self.rows[-1][0]:>4g} min of audio: RSS {self.rows[-1][1]:.1f} MB "
                  f"({self.rows[-1][2]:.0f} s)", flush=True)

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--model", default="tiny-stt")
    parser.add_argument("--source", default=str(bundled_audio("demo-en.wav")))
    parser.add_argument("--many", action="store_true")
    args = parser.parse_args()
    path = long_file(Path(args.source), args.minutes)
    model = load_model(ModelSpec(model=args.model, device="cpu"))
    marks = RssAtMarks(m for m in MARKS if m <= args.minutes)
    print(f"{path} ({args.minutes:g} min), {model.name}; RSS after loading {rss_mb():.1f} MB",
          flush=True)
    with open(os.devnull, "w") as null:
        if args.many:
            printer = TranscriptsInOrder([str(path)] * 2, null)
            session = many_files_session(model, [str(path)] * 2, 2)
            result = asyncio.run(run_session(session, [printer, marks]))
        else:
            source = FileSource(path, model.layout.sample_rate, speed=None)
            session = session_for(model, source, StreamOptions())
            result = asyncio.run(run_session(session, [TextPrinter(null), marks]))
    print(f"done: {result.ended.steps} steps, {result.ended.ms_per_step:.2f} ms/step; "
          f"RSS {rss_mb():.1f} MB")


if __name__ == "__main__":
    main()

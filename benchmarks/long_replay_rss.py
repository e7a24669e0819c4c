"""Resident memory of `captty run` over a long file, replayed as fast as the model goes.

    python benchmarks/long_replay_rss.py [--minutes 60] [--model assets/models/tiny-stt] [--many]

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
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from captty.engine import FileSource, ModelSpec, StepTimed, load_model  # noqa: E402
from captty.engine.bench import rss_mb  # noqa: E402
from captty.engine.sinks import TextPrinter  # noqa: E402
from captty.tui.headless import run_file  # noqa: E402
from captty.tui.multi_run import TranscriptsInOrder, run_many  # noqa: E402

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
    parser.add_argument("--model", default=str(ROOT / "assets" / "models" / "tiny-stt"))
    parser.add_argument("--source", default=str(ROOT / "assets" / "audio" / "demo-en.wav"))
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
            result = asyncio.run(run_many(model, [str(path)] * 2, 2, [printer, marks]))
        else:
            source = FileSource(path, model.sample_rate, model.frame_size, speed=None)
            result = asyncio.run(run_file(model, source, [TextPrinter(null), marks], batch_size=1,
                                          cfg_coef=1.0, max_tail_seconds=30.0))
    print(f"done: {result.ended.steps} steps, {result.ended.ms_per_step:.2f} ms/step; "
          f"RSS {rss_mb():.1f} MB")


if __name__ == "__main__":
    main()

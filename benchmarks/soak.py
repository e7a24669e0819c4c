"""Hours of audio through captty as fast as the model goes: do memory and costs stay flat?

    python benchmarks/soak.py [--hours 6] [--marks 1,3,6] [--headless] [--model tiny-stt]

The input is the bundled speech recording repeated for `--hours` (made as it goes, nothing is
held whole). It runs through the console (Textual's headless driver, 120x40, the real engine
feed) or, with `--headless`, through what `captty run` does, writing all five transcript formats
and scoring a live WER (against the recording's own text, repeated) as a person's run would. At
each mark (hours of audio) it prints the resident memory, the mean step time, the mean redraw
time (console) and the mean cost a word of the files and the WER over the words since the last
mark. At the end it checks that the transcript is complete: every frame of the input went
through the model, and the console's saved transcript equals the .txt written in the same run.

`run_soak` is also what `tests/test_soak.py` runs, for a few minutes of audio, asserting only
completeness and bounded memory.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import sphn

from captty.engine import (LoadedModel, ModelSpec, StepTimed, TextPrinter, WordFinished,
                           bundled_audio, load_model)
from captty.engine.bench import rss_mb
from captty.tui.console import console_app
from captty.tui.headless import run_session, session_for
from captty.tui.options import StreamOptions
from captty.tui.outputs import outputs_for

SPEECH = "demo-en.wav"
SPEECH_TEXT = "Hello and welcome to captty. This console turns live speech into text as you speak."
FORMATS = ("txt", "srt", "vtt", "json", "jsonl")


class LongSpeech:
    """A recording repeated for `seconds`, in half-second pieces, as fast as it is taken."""

    def __init__(self, seconds: float, sample_rate: int = 24000):
        self.pcm = sphn.read(str(bundled_audio(SPEECH)), sample_rate=sample_rate)[0][0]
        self.samples = int(seconds * sample_rate)
        self.piece = sample_rate // 2

    async def __aiter__(self):
        sent = 0
        while sent < self.samples:
            start = sent % self.pcm.size
            n = min(self.piece, self.pcm.size - start, self.samples - sent)
            yield self.pcm[start:start + n]
            sent += n
            if sent % (self.piece * 8) == 0:
                await asyncio.sleep(0)  # let the event loop breathe, as a decoder would


class Timed:
    """A sink whose `handle` time is added up (per word: the writers' and the WER's cost)."""

    def __init__(self, sink, clock: dict):
        self.sink, self.clock = sink, clock

    def handle(self, event) -> None:
        start = time.perf_counter()
        self.sink.handle(event)
        self.clock["sinks"] += time.perf_counter() - start

    def close(self) -> None:
        self.sink.close()


@dataclass
class Marks:
    """A sink: figures each time the audio taken passes a mark (hours)."""

    marks: list[float]
    clock: dict
    rows: list[dict] = field(default_factory=list)
    steps_ms: list[float] = field(default_factory=list)
    words: int = 0
    steps: int = 0
    _since: dict = field(default_factory=lambda: {"sinks": 0.0, "words": 0, "redraws": []})

    def handle(self, event) -> None:
        if isinstance(event, WordFinished) and event.item == 0:
            self.words += 1
            self._since["words"] += 1
        elif isinstance(event, StepTimed):
            self.steps += 1
            self.steps_ms.append(event.total_ms)
            if self.marks and event.audio_time >= self.marks[0] * 3600:
                self._mark(self.marks.pop(0))

    def _mark(self, hours: float) -> None:
        redraws = self.clock["redraws"][self._since["redraw_at"]:] if "redraw_at" in self._since \
            else self.clock["redraws"]
        words = max(self._since["words"], 1)
        row = {"hours": hours, "rss_mb": rss_mb(), "step_ms": statistics.fmean(self.steps_ms),
               "redraw_ms": 1000 * statistics.fmean(redraws) if redraws else None,
               "sinks_ms_per_word": 1000 * (self.clock["sinks"] - self._since["sinks"]) / words,
               "words": self.words}
        self.rows.append(row)
        redraw = f"{row['redraw_ms']:.2f}" if row["redraw_ms"] is not None else "-"
        print(f"{hours:>5g} h: RSS {row['rss_mb']:7.1f} MB, step {row['step_ms']:.2f} ms, "
              f"redraw {redraw} ms, files+WER {row['sinks_ms_per_word']:.3f} ms a word, "
              f"{self.words} words", flush=True)
        self.steps_ms = []
        self._since = {"sinks": self.clock["sinks"], "words": 0,
                       "redraw_at": len(self.clock["redraws"])}

    def close(self) -> None:
        pass


@dataclass
class SoakResult:
    rows: list[dict]
    steps: int
    expected_steps: int
    saved: str | None  # the console's saved transcript
    exported: str  # the .txt of the same run

    @property
    def complete(self) -> bool:
        return self.steps == self.expected_steps and (self.saved is None
                                                      or self.saved == self.exported)


def run_soak(model: LoadedModel, hours: float, marks: list[float], console: bool,
             folder: Path) -> SoakResult:
    seconds = hours * 3600
    reference = folder / "reference.txt"
    reference.write_text(" ".join([SPEECH_TEXT] * int(seconds / 6 + 1)))
    options = StreamOptions(outputs=tuple(str(folder / f"soak.{f}") for f in FORMATS),
                            reference=str(reference), save_path=folder / "saved.txt")
    clock: dict = {"sinks": 0.0, "redraws": []}
    marker = Marks(sorted(marks), clock)
    source = LongSpeech(seconds)
    saved = None
    if console:
        app = console_app(model, source, options, "soak", exit_when_done=True, refresh_hz=5.0)
        app.feed.sinks = [Timed(s, clock) for s in app.feed.sinks] + [marker]
        redraw = app.redraw

        def timed_redraw(everything: bool = False) -> None:
            start = time.perf_counter()
            redraw(everything)
            clock["redraws"].append(time.perf_counter() - start)

        app.redraw = timed_redraw  # type: ignore[method-assign]
        asyncio.run(app.run_async(headless=True, size=(120, 40)))
        saved = app.transcript
    else:
        outputs = outputs_for(model, options, "soak", 1)
        with open(os.devnull, "w") as null:
            sinks = [TextPrinter(null), *(Timed(s, clock) for s in outputs.sinks), marker]
            asyncio.run(run_session(session_for(model, source, options), sinks))
    layout = model.layout
    frames = (layout.prefix + source.samples + layout.flush) // layout.frame_size
    return SoakResult(marker.rows, marker.steps, frames, saved,
                      (folder / "soak.txt").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--marks", default="1,3,6", help="hours of audio at which to report")
    parser.add_argument("--headless", action="store_true", help="what `captty run` does")
    parser.add_argument("--model", default="tiny-stt")
    args = parser.parse_args()
    model = load_model(ModelSpec(model=args.model, device="cpu"))
    marks = [float(m) for m in args.marks.split(",") if float(m) <= args.hours]
    print(f"soak: {args.hours:g} h of audio through the {'printer' if args.headless else 'console'}"
          f" with {model.name}; RSS after loading {rss_mb():.1f} MB", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = run_soak(model, args.hours, marks, not args.headless, Path(folder))
    print(f"done in {time.perf_counter() - start:.0f} s: {result.steps} steps (expected "
          f"{result.expected_steps}), transcript complete: {'yes' if result.complete else 'NO'}")


if __name__ == "__main__":
    main()

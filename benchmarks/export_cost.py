"""Cost per word of the transcript files and of the live WER, early and late in a long session.

    python benchmarks/export_cost.py [--hours 3] [--tree PATH] [--wer-skip-middle]

Makes `--hours` of synthetic words (2.5 words a second, a turn end every 10 to 30 words, a
pause now and then, some non-ASCII words) and feeds them unpaced, as annotated events, through
each writer in turn (.txt, .srt, .vtt, .json, .jsonl, written to a temporary folder) and through
`LiveWer` (the reference is the words themselves, the transcript has one word in 20 wrong).
It times each word's events (the word, and the turn end after it if any) and prints, for each,
the mean cost a word over the first and over the last 1,000 words, their ratio, and the most a
word cost among the last 1,000.

The WER is scored after every word: the console scores up to 4 times a second, only when words
came since, and at 2.5 words a second nearly every word is followed by its own score. Its cost
a word is the `add` and the `score`.

`--tree PATH` imports the engine from another source tree (its `engine/` folder, e.g. a
checkout of older code) instead of this one. `--wer-skip-middle` scores only within the first
and the last 1,000 words: it gives the same figures for a `LiveWer` that keeps no state between
scores (whose score re-aligns everything) in a fraction of the time; it is not fair to one that
does.
"""
from __future__ import annotations

import argparse
import importlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDGE = 1000  # words at the start and at the end that are compared
VOCABULARY = ["the", "a", "of", "and", "to", "in", "is", "it", "that", "was", "for", "on", "with",
              "as", "at", "by", "this", "we", "you", "not", "but", "from", "they", "his", "her",
              "she", "he", "or", "an", "be", "are", "have", "had", "were", "one", "all", "there",
              "their", "what", "so", "up", "speech", "model", "stream", "word", "turn", "café",
              "naïve", "école", "日本語", "Zürich"]


def synthetic_session(hours: float, seed: int = 0):
    """[(text, start, end, turn end time or None)], 2.5 words a second."""
    rnd = random.Random(seed)
    words, t, next_turn = [], 0.5, rnd.randint(10, 30)
    for i in range(int(hours * 3600 * 2.5)):
        start = t
        t += rnd.uniform(0.3, 0.5)
        if rnd.random() < 0.03:
            t += rnd.uniform(1.0, 2.0)  # a pause: the word lasts until the next one
        turn = None
        if i + 1 == next_turn:
            turn, next_turn = t - 0.05, next_turn + rnd.randint(10, 30)
        words.append((rnd.choice(VOCABULARY), round(start, 3), round(t - 0.02, 3), turn))
    return words


def load(tree: Path):
    sys.path.insert(0, str(tree))
    engine = importlib.import_module("engine")
    if Path(engine.__file__).resolve().parent != (tree / "engine").resolve():
        raise SystemExit(f"imported engine from {engine.__file__}, not from {tree}")
    return {name: importlib.import_module(f"engine.{name}")
            for name in ("events", "words", "turns", "exports", "wer")}


def figures(label: str, costs: list[float]) -> str:
    first, last = statistics.fmean(costs[:EDGE]), statistics.fmean(costs[-EDGE:])
    return (f"{label:6s} {1000 * first:9.4f} {1000 * last:9.4f} {last / first:7.2f}x "
            f"{1000 * max(costs[-EDGE:]):9.3f}")


def writer_costs(m, fmt: str, words, folder: Path) -> list[float]:
    started = m["events"].SessionStarted("bench", "stt", "cpu", "float32", 1, 1.0, 24000, 1920,
                                         False)
    writer = m["exports"].open_writer(folder / f"talk.{fmt}", settings={"input": "talk.wav"},
                                      timing=m["words"].WordTiming(12.5, 0.5))
    writer.handle(started)
    finished, turn_ended = m["words"].WordFinished, m["turns"].TurnEnded
    costs = []
    for step, (text, start, end, turn) in enumerate(words):
        word = finished(0, step, text, start, end)
        turn = None if turn is None else turn_ended(0, step, turn, 0.9)
        t0 = time.perf_counter()
        writer.handle(word)
        if turn is not None:
            writer.handle(turn)
        costs.append(time.perf_counter() - t0)
    writer.handle(m["events"].SessionEnded(len(words), words[-1][2], 1.0, False))
    writer.close()
    return costs


def wer_costs(m, words, skip_middle: bool) -> list[float]:
    rnd = random.Random(1)
    live = m["wer"].LiveWer(" ".join(w[0] for w in words))
    costs = []
    for i, (text, *_) in enumerate(words):
        said = rnd.choice(VOCABULARY) if rnd.random() < 0.05 else text
        t0 = time.perf_counter()
        live.add(said)
        if not skip_middle or i < EDGE or i >= len(words) - EDGE:
            _ = live.score
        costs.append(time.perf_counter() - t0)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--tree", type=Path, default=ROOT, help="source tree holding engine/")
    parser.add_argument("--wer-skip-middle", action="store_true")
    parser.add_argument("--only", nargs="*", default=["txt", "srt", "vtt", "json", "jsonl", "wer"],
                        help="what to measure (default: everything)")
    args = parser.parse_args()
    m = load(args.tree.resolve())
    words = synthetic_session(args.hours)
    turns = sum(w[3] is not None for w in words)
    print(f"{args.tree.resolve()}: {len(words)} words, {turns} turns")
    print(f"{'':6s} {'first ms':>9s} {'last ms':>9s} {'ratio':>8s} {'max last':>9s}   (a word)")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in args.only:
            if fmt == "wer":
                costs = wer_costs(m, words, args.wer_skip_middle)
            else:
                costs = writer_costs(m, fmt, words, Path(folder))
            print(figures(fmt, costs), flush=True)


if __name__ == "__main__":
    main()

"""The console replaying a file as fast as the model goes, against `captty run` on the same file.

    python benchmarks/tui_vs_headless.py [--model tiny-stt] [--rounds 3] FILE

Both run in this process on the same loaded model, alternating: the headless path is what
`captty run` does (printer to a discarded buffer); the console is the full Textual app with the
real engine feed, rendering headless (Textual's own headless driver, the whole compositor runs,
nothing is written to a terminal) at 120x40. Prints each round, the medians, their ratio, and
the token-to-screen delay (from the end of the step that decoded a token, on the model thread,
to the screen refresh that shows it), also for one paced replay.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # this folder

from captty.engine import FileSource, ModelSpec, load_model
from captty.tui.console import console_app
from captty.tui.console_state import percentile
from captty.tui.options import StreamOptions
from run_vs_reference import engine_round


def headless(model, path):
    steps, seconds, _ = engine_round(model, path, batch_size=1)  # what `captty run` does
    return seconds, steps


def console(model, path, save, speed=None):
    start = time.perf_counter()
    source = FileSource(path, model.layout.sample_rate, speed=speed)
    app = console_app(model, source, StreamOptions(save_path=save), "benchmark",
                      exit_when_done=True)
    asyncio.run(app.run_async(headless=True, size=(120, 40)))
    return time.perf_counter() - start, app.state.steps, list(app.state.screen_latency_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file")
    parser.add_argument("--model", default="tiny-stt")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paced", type=float, default=4.0, metavar="SPEED",
                        help="also replay once at this pace (20 redraws a second, as live) and "
                             "report its token-to-screen delay; 0 to skip")
    args = parser.parse_args()
    model = load_model(ModelSpec(model=args.model, device=args.device))
    save = Path(tempfile.mkdtemp()) / "transcript.txt"
    headless(model, args.file)  # warm-up: compile, caches
    console(model, args.file, save)
    runs, delays = [], []
    for i in range(args.rounds):
        h, steps = headless(model, args.file)
        c, c_steps, latency = console(model, args.file, save)
        delays += latency
        runs.append((h, c))
        print(f"round {i + 1}: captty run {h:.2f} s, console --fast {c:.2f} s, ratio {c / h:.3f} "
              f"({steps} steps, console {c_steps} timed steps)", flush=True)
    h = statistics.median(r[0] for r in runs)
    c = statistics.median(r[1] for r in runs)
    ratio = statistics.median(r[1] / r[0] for r in runs)
    print(f"median over {args.rounds} rounds: captty run {h:.2f} s, console {c:.2f} s, "
          f"ratio {ratio:.3f} (median of the rounds' ratios); token-to-screen p50 "
          f"{percentile(delays, 0.5):.1f} ms, p95 {percentile(delays, 0.95):.1f} ms over "
          f"{len(delays)} tokens")
    if args.paced:
        _, _, paced = console(model, args.file, save, speed=args.paced)
        print(f"paced at {args.paced:g}x real time: token-to-screen p50 "
              f"{percentile(paced, 0.5):.1f} ms, p95 {percentile(paced, 0.95):.1f} ms over "
              f"{len(paced)} tokens")


if __name__ == "__main__":
    main()

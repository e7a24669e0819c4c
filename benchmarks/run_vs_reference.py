"""`captty run` against moshi's reference loop, on the same model and file, in one process.

    python benchmarks/run_vs_reference.py [--model tiny-stt] [--rounds 3] FILE

The engine path is what `captty run` does (file source, model thread, events, stdout printer,
here writing to a discarded buffer), timed end to end; the reference is moshi's seed loop,
timed as moshi's script times it (the step loop only, the file already decoded), run on the
same model thread so that both use one PyTorch CPU thread pool. Rounds
alternate between the two; the table gives each round and the median.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import time

from captty.engine import FileSource, ModelSpec, TextPrinter, load_model
from captty.engine.model_thread import model_thread
from captty.engine.reference_loop import seed_loop
from captty.tui.headless import run_session, session_for
from captty.tui.options import StreamOptions


def engine_round(model, path, batch_size):
    printer = TextPrinter(io.StringIO())
    start = time.perf_counter()
    source = FileSource(path, model.layout.sample_rate, speed=None)
    session = session_for(model, source, StreamOptions(batch_size=batch_size))
    result = asyncio.run(run_session(session, [printer]))
    seconds = time.perf_counter() - start
    return result.ended.steps, seconds, printer.stream.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file")
    parser.add_argument("--model", default="tiny-stt")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1)
    args = parser.parse_args()
    model = load_model(ModelSpec(model=args.model, device=args.device))
    # the reference runs on the model thread too: one PyTorch CPU thread pool for both
    model_thread().call(seed_loop, model, args.file, args.batch_size)  # warm-up (torch.compile)
    engine_round(model, args.file, args.batch_size)
    rows = []
    for i in range(args.rounds):
        ref = model_thread().call(seed_loop, model, args.file, args.batch_size)
        steps, seconds, _ = engine_round(model, args.file, args.batch_size)
        assert steps == ref.steps, (steps, ref.steps)
        rows.append((1000 * ref.seconds / ref.steps, 1000 * seconds / steps))
        print(f"round {i + 1}: reference {rows[-1][0]:.2f} ms/step, captty run {rows[-1][1]:.2f} "
              f"ms/step, ratio {rows[-1][1] / rows[-1][0]:.3f} ({steps} steps)", flush=True)
    ref_ms = statistics.median(r[0] for r in rows)
    ours_ms = statistics.median(r[1] for r in rows)
    print(f"median over {args.rounds} rounds, {model.name} on {model.device}, batch "
          f"{args.batch_size}: reference {ref_ms:.2f} ms/step, captty run {ours_ms:.2f} ms/step, "
          f"ratio {ours_ms / ref_ms:.3f}")


if __name__ == "__main__":
    main()

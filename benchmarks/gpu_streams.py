"""Issue 10, part 3: how many real-time streams of a shape one GPU carries, and the memory per
stream. Grows the batch of captty's step loop (the server's and the many-files loop) until a
step no longer fits the 80 ms frame or the GPU runs out of memory, then narrows down between
the last batch that fit and the first that did not. One JSON line a batch tried.
    python benchmarks/gpu_streams.py [--shape stt-1b] [--start 400] [--step-ms 80] [--granularity 32]
On the CPU (`--device cpu --tiny`) it runs too, as a check of the script itself.
"""
import argparse
import json
import time

import numpy as np
import torch

from captty.engine import ModelSpec, load_model
from captty.engine.model_thread import model_thread
from captty.engine.step_loop import StepInput, StepLoop

STEPS = 20


@torch.no_grad()
def try_batch(model, batch):
    """ms a step and peak memory at `batch`, or None when it does not fit in memory."""
    cuda = model.device.type == "cuda"
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(model.device)
    frames = (np.random.default_rng(0).standard_normal((STEPS + 3, batch, model.layout.frame_size))
              * 0.1).astype(np.float32)
    try:
        loop = StepLoop(model, batch)
        with loop.streaming():
            loop.warm_up()
            for frame in frames[:3]:
                loop.step(StepInput(frame))
            if cuda:
                torch.cuda.synchronize(model.device)
            start = time.perf_counter()
            for frame in frames[3:]:
                loop.step(StepInput(frame))
            if cuda:
                torch.cuda.synchronize(model.device)
            ms = 1000 * (time.perf_counter() - start) / STEPS
    except torch.cuda.OutOfMemoryError:
        return None
    peak = torch.cuda.max_memory_allocated(model.device) if cuda else 0
    return ms, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="stt-1b")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--start", type=int, default=400)
    parser.add_argument("--max-batch", type=int, default=4096)
    parser.add_argument("--step-ms", type=float, default=80.0)
    parser.add_argument("--granularity", type=int, default=32)
    args = parser.parse_args()
    model = load_model(ModelSpec(shape=args.shape, device=args.device, tiny=args.tiny))
    weights = (torch.cuda.memory_allocated(model.device) if model.device.type == "cuda" else 0)
    name = torch.cuda.get_device_name(model.device) if model.device.type == "cuda" else "cpu"

    def fits(batch: int) -> bool:
        result = model_thread().call(try_batch, model, batch)
        row = {"shape": args.shape, "device": name, "batch": batch, "fits": False}
        if result is None:
            row["oom"] = True
        else:
            ms, peak = result
            row |= {"ms_per_step": round(ms, 2), "real_time": ms <= args.step_ms,
                    "peak_gb": round(peak / 2**30, 2),
                    "mb_per_stream": round((peak - weights) / batch / 2**20, 1) if peak else None}
            row["fits"] = ms <= args.step_ms
        print(json.dumps(row), flush=True)
        return row["fits"]

    good, bad = 0, None
    batch = args.start
    while batch <= args.max_batch:  # grow by half until it no longer fits
        if not fits(batch):
            bad = batch
            break
        good, batch = batch, batch + max(batch // 2, args.granularity)
    while bad is not None and bad - good > args.granularity:  # then narrow down
        middle = (good + bad) // 2
        if fits(middle):
            good = middle
        else:
            bad = middle
    print(json.dumps({"shape": args.shape, "device": name, "largest_real_time_batch": good,
                      "first_that_did_not_fit": bad}), flush=True)


if __name__ == "__main__":
    main()

"""Where a batch-1 step's time goes on a GPU: engine steps of random-weight real shapes under
PyTorch's profiler. Per shape, one JSON line (wall ms a step with and without the profiler, GPU
busy ms a step, kernels a step, device-to-host copies a step), then the busiest kernels.
    python benchmarks/gpu_profile.py stt-1b hibiki-2b
"""
import json
import sys
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from captty.engine import ModelSpec, load_model
from captty.engine.model_thread import model_thread
from captty.engine.step_loop import StepInput, StepLoop

STEPS = 30


@torch.no_grad()
def steps(model):
    loop = StepLoop(model, 1)
    rng = np.random.default_rng(0)
    frames = (rng.standard_normal((2 * STEPS + 5, model.layout.frame_size)) * 0.1).astype(np.float32)
    with loop.streaming():
        loop.warm_up()
        for frame in frames[:5]:
            loop.step(StepInput(frame))
        torch.cuda.synchronize()
        start = time.perf_counter()
        for frame in frames[5:5 + STEPS]:
            loop.step(StepInput(frame))
        torch.cuda.synchronize()
        plain = 1000 * (time.perf_counter() - start) / STEPS
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            start = time.perf_counter()
            for frame in frames[5 + STEPS:]:
                loop.step(StepInput(frame))
            torch.cuda.synchronize()
            profiled = 1000 * (time.perf_counter() - start) / STEPS
    return plain, profiled, prof


for shape in sys.argv[1:] or ["stt-1b", "hibiki-2b"]:
    model = load_model(ModelSpec(shape=shape, device="cuda"))
    plain, profiled, prof = model_thread().call(steps, model)
    gpu = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    busy = sum(e.device_time for e in gpu if "Memcpy" not in e.name and "Memset" not in e.name)
    copies = [e for e in gpu if "Memcpy DtoH" in e.name]
    print(json.dumps({"shape": shape, "batch": 1, "ms_per_step": round(plain, 3),
                      "ms_per_step_profiled": round(profiled, 3),
                      "gpu_busy_ms_per_step": round(busy / 1000 / STEPS, 3),
                      "kernels_per_step": round(len(gpu) / STEPS, 1),
                      "dtoh_copies_per_step": round(len(copies) / STEPS, 2),
                      "device": torch.cuda.get_device_name()}), flush=True)
    table = prof.key_averages().table(sort_by="device_time_total", row_limit=15)
    print(table, flush=True)
    del model
    torch.cuda.empty_cache()

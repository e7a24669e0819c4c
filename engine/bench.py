"""`captty bench`: the engine against moshi's reference loop, same model, same input, one process.

For each batch size, the engine runs a `Session` (model thread, frame hand-off, events) on the
input's frames, fed as fast as it takes them; the reference is the seed loop of moshi's
`run_inference.py` (encode, step, decode, a device-to-host copy of the tokens every step) on the
same frames, run on the same model thread so both use one PyTorch CPU pool (and one CUDA
context). Each step is stamped when it ends; ms/step is the mean gap between step ends after
the warm-up steps (so waiting for frames and handing events over count for the engine), p50 and
p95 are of those gaps, and the encode / LM / decode split is the mean of each phase.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import resource
import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .checkpoint import LoadedModel
from .events import EngineFailed, StepTimed
from .framing import Framer
from .model_thread import model_thread
from .session import Session
from .step_loop import condition_tensors

FRAME_MS = 80.0


@dataclass
class Timing:
    """One loop at one batch size."""

    loop: str  # "engine" or "reference"
    batch: int
    steps: int  # timed steps (after the warm-up)
    ms_per_step: float
    p50_ms: float
    p95_ms: float
    encode_ms: float
    lm_ms: float
    decode_ms: float
    peak_mb: float  # CUDA: max_memory_allocated; CPU: peak resident set size of the process
    ratio: float | None = None  # engine over reference

    @property
    def real_time_factor(self) -> float:
        return self.ms_per_step / FRAME_MS

    @property
    def real_time_streams(self) -> float:
        return self.batch * FRAME_MS / self.ms_per_step if self.ms_per_step else 0.0

    def as_dict(self) -> dict:
        return asdict(self) | {"real_time_factor": round(self.real_time_factor, 4),
                               "real_time_streams": round(self.real_time_streams, 1)}


def input_frames(model: LoadedModel, path: str | None, count: int) -> list[np.ndarray]:
    """`count` whole frames of the input file, tiled as often as needed (noise without a file)."""
    size = model.layout.frame_size
    if path is None:
        samples = np.random.default_rng(0).standard_normal(size * count).astype(np.float32) * 0.1
    else:
        from .file_source import FileSource

        source = FileSource(path, model.layout.sample_rate, speed=None)
        samples = np.concatenate(list(source.samples()))
        source.close()
        samples = np.tile(samples, -(-size * count // max(samples.size, 1)))
    return Framer(size).push(samples[:size * count])


# --- memory ---------------------------------------------------------------------------------

def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:  # Linux: "5" resets the peak resident set size (VmHWM) to the current one
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """The current resident set size of this process."""
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- the two loops --------------------------------------------------------------------------

def _timing(loop: str, batch: int, ends: list[float], phases: list[tuple[float, float, float]],
            warmup: int, peak: float) -> Timing:
    ends, phases = ends[warmup:], phases[warmup + 1:]
    gaps = [1000.0 * (b - a) for a, b in itertools.pairwise(ends)]
    if not gaps:
        raise ValueError("too few steps to time: raise --steps")
    quantiles = statistics.quantiles(gaps, n=20, method="inclusive") if len(gaps) > 1 else gaps * 19
    encode, lm, decode = (statistics.fmean(p[i] for p in phases) for i in range(3))
    return Timing(loop, batch, len(gaps), statistics.fmean(gaps), statistics.median(gaps),
                  quantiles[18], encode, lm, decode, peak)


async def _engine_run(model: LoadedModel, frames: list[np.ndarray], batch: int):
    async def source():
        for frame in frames:
            yield frame

    session = Session(model, source(), batch_size=batch, max_tail_seconds=0.0)
    timed: list[StepTimed] = []
    async with session:
        async for event in session.events():
            if isinstance(event, StepTimed):
                timed.append(event)
            elif isinstance(event, EngineFailed):
                raise RuntimeError(event.message)
    return timed


def engine_timing(model: LoadedModel, frames: list[np.ndarray], batch: int,
                  warmup: int) -> Timing:
    model_thread().call(_reset_peak, model.device)
    timed = asyncio.run(_engine_run(model, frames, batch))
    timed = timed[:len(frames)]  # the input's steps; STT's padding and Hibiki's tail left out
    peak = model_thread().call(_peak_mb, model.device)
    return _timing("engine", batch, [t.clock for t in timed],
                   [(t.encode_ms, t.lm_ms, t.decode_ms) for t in timed], warmup, peak)


@torch.no_grad()
def _reference_run(model: LoadedModel, frames: list[np.ndarray], batch: int):
    """moshi's seed loop, step for step, stamping each step's phases and end."""
    from moshi.models import LMGen

    _reset_peak(model.device)
    mimi, lm, device = model.mimi, model.lm, model.device
    cuda = device.type == "cuda"
    lm_gen = LMGen(lm, condition_tensors=condition_tensors(model.model_type, lm, batch, 1.0),
                   **dict(model.info.lm_gen_config))
    ends, phases = [], []
    first = True
    with mimi.streaming(batch), lm_gen.streaming(batch):
        for frame in frames:
            a = time.perf_counter()
            chunk = torch.from_numpy(frame).to(device)[None, None].expand(batch, 1, -1)
            codes = mimi.encode(chunk)
            if cuda:
                torch.cuda.synchronize(device)
            b = time.perf_counter()
            if first:
                lm_gen.step(codes)
                first = False
            tokens = lm_gen.step(codes)
            if cuda:
                torch.cuda.synchronize(device)
            c = time.perf_counter()
            if tokens is not None:
                if lm.dep_q > 0:
                    mimi.decode(tokens[:, 1:]).cpu()
                tokens[:, 0].cpu()
            d = time.perf_counter()
            ends.append(d)
            phases.append((1000 * (b - a), 1000 * (c - b), 1000 * (d - c)))
    return ends, phases, _peak_mb(device)


def reference_timing(model: LoadedModel, frames: list[np.ndarray], batch: int,
                     warmup: int) -> Timing:
    ends, phases, peak = model_thread().call(_reference_run, model, frames, batch)
    return _timing("reference", batch, ends, phases, warmup, peak)


def bench(model: LoadedModel, frames: list[np.ndarray], batches: list[int],
          warmup: int = 4, on_row=None) -> list[Timing]:
    """Reference then engine at each batch size; `on_row(timing)` as each row is ready."""
    rows = []
    # first calls pay torch.compile and kernel selection
    model_thread().call(_reference_run, model, frames[:warmup + 2], batches[0])
    for batch in batches:
        ref = reference_timing(model, frames, batch, warmup)
        ours = engine_timing(model, frames, batch, warmup)
        ours.ratio = ours.ms_per_step / ref.ms_per_step if ref.ms_per_step else None
        for row in (ref, ours):
            rows.append(row)
            if on_row:
                on_row(row)
        if model.device.type == "cuda":
            model_thread().call(torch.cuda.empty_cache)
    return rows


HEADER = ("loop", "batch", "ms/step", "p50", "p95", "encode", "LM", "decode", "RTF", "streams",
          "peak MB", "ratio")


def table_row(t: Timing) -> tuple[str, ...]:
    return (t.loop, str(t.batch), f"{t.ms_per_step:.2f}", f"{t.p50_ms:.2f}", f"{t.p95_ms:.2f}",
            f"{t.encode_ms:.2f}", f"{t.lm_ms:.2f}", f"{t.decode_ms:.2f}",
            f"{t.real_time_factor:.3f}", f"{t.real_time_streams:.1f}", f"{t.peak_mb:.0f}",
            f"{t.ratio:.3f}" if t.ratio is not None else "")


def format_table(rows: list[Timing]) -> str:
    cells = [HEADER] + [table_row(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                               enumerate(zip(line, widths))).rstrip() for line in cells)

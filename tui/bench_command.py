"""`captty bench`: captty's engine against moshi's reference loop (logic in engine/bench.py)."""
from __future__ import annotations

import json

import click

from captty.tui.options import model_options, spec_from


@click.command()
@model_options
@click.option("--batch-sizes", "-b", default="1", show_default=True, metavar="N[,N...]",
              help="Batch sizes to run, comma-separated.")
@click.option("--steps", type=click.IntRange(min=3), default=100, show_default=True,
              help="Steps (80 ms frames) per run, warm-up included.")
@click.option("--warmup", type=click.IntRange(min=0), default=4, show_default=True,
              help="First steps of each run left out of the figures.")
@click.option("--input", "input_path", metavar="AUDIO",
              type=click.Path(dir_okay=False, path_type=str),
              help="Audio fed to both loops, tiled to --steps frames (default: noise).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, for machines.")
def bench(batch_sizes, steps, warmup, input_path, as_json, **kwargs) -> None:
    """Time captty's engine and moshi's reference loop on the same model and input."""
    from captty.engine import load_model
    from captty.engine.bench import bench as run_bench, format_table, input_frames

    try:
        batches = [int(b) for b in batch_sizes.split(",") if b.strip()]
    except ValueError:
        raise click.BadParameter(f"'{batch_sizes}' is not a list of numbers",
                                 param_hint="--batch-sizes") from None
    if not batches or min(batches) < 1:
        raise click.BadParameter("batch sizes must be at least 1", param_hint="--batch-sizes")
    if steps <= warmup + 2:
        raise click.BadParameter("must be more than --warmup + 2", param_hint="--steps")
    model = load_model(spec_from(kwargs))
    frames = input_frames(model, input_path, steps)
    where = str(model.device) + (f" ({_gpu_name()})" if model.device.type == "cuda" else "")
    if not as_json:
        print(f"captty bench: {model.name} on {where}, {str(model.dtype).removeprefix('torch.')}, "
              f"{steps} steps ({warmup} warm-up), input {input_path or 'noise'}", flush=True)

    def row(timing) -> None:
        if as_json:
            print(json.dumps({"model": model.name, "device": where} | timing.as_dict()), flush=True)

    rows = run_bench(model, frames, batches, warmup=warmup, on_row=row)
    if not as_json:
        print(format_table(rows))
        print("ms/step: mean gap between step ends; RTF: ms/step over 80 ms; streams: batch x 80 / "
              "ms/step; ratio: engine over reference")


def _gpu_name() -> str:
    import torch

    return torch.cuda.get_device_name()

"""Is a GPU run reproducible? The same file through the stt-1b shape twice on the eager path and
twice on the graphed, pipelined one: are the tokens equal, and how far apart are the turn-end
scores of each pair? One JSON line.
    python benchmarks/gpu_repeat.py
"""
import asyncio
import json
import os

import numpy as np

from captty.engine import (FileSource, ModelSpec, Session, TextDecoded, TurnEndScored,
                           load_model)

FLAGS = {"CAPTTY_EAGER_ENCODE": "1", "CAPTTY_PIPELINE": "0"}


async def events(model):
    session = Session(model, FileSource("assets/audio/demo-en.wav", 24000, speed=None))
    async with session:
        return [e async for e in session.events()]


def run(model, eager):
    for name, value in FLAGS.items():
        if eager:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    out = asyncio.run(events(model))
    return ([(e.step, e.token) for e in out if isinstance(e, TextDecoded)],
            np.array([e.heads for e in out if isinstance(e, TurnEndScored)]))


model = load_model(ModelSpec(shape="stt-1b", device="cuda"))
runs = {"eager1": run(model, True), "eager2": run(model, True),
        "fast1": run(model, False), "fast2": run(model, False)}
result = {}
for a, b in (("eager1", "eager2"), ("fast1", "fast2"), ("eager1", "fast1")):
    result[f"{a}_vs_{b}"] = {"tokens_equal": runs[a][0] == runs[b][0],
                             "heads_max_diff": float(np.abs(runs[a][1] - runs[b][1]).max()),
                             "steps_differing": int((runs[a][1] != runs[b][1]).any(1).sum())}
print(json.dumps(result), flush=True)

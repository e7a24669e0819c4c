#!/bin/sh
# The GPU half of issue 5's tables: captty bench on random-initialised real shapes (no download),
# the engine and moshi's reference loop in one process, on whatever CUDA device is there.
#     sh benchmarks/gpu_bench.sh > gpu-bench.jsonl
set -e
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader >&2
$PY -m captty.tui.cli -q bench --shape stt-1b --device cuda -b 1,8,64,256,400 --steps 60 --json
$PY -m captty.tui.cli -q bench --shape hibiki-2b --device cuda -b 1,8 --steps 60 --json
$PY -m captty.tui.cli -q bench --shape stt-2.6b --device cuda -b 1,64 --steps 40 --json
# many files in one batch on the GPU: each transcript as its lone run's at the same batch size
$PY - <<'PYEOF' >&2
import asyncio, sys
sys.path[:0] = [".", "tests"]
from conftest import DEMO_EN, DEMO_FR, TINY_STT
from captty.engine import ModelSpec, load_model
import test_multi_session as t
m = load_model(ModelSpec(model=str(TINY_STT), device="cuda"))
paths = [DEMO_EN, DEMO_FR, DEMO_EN]
events, starts = t.per_input(m, paths, 2)
slot_of = {stream: slot for slot, stream, _ in starts}
for stream, (p, e) in enumerate(zip(paths, events)):  # against its lone run in the same slot
    t.assert_same_events(e, t.lone(m, p, 2, slot_of[stream]), p)
print("multi-file on cuda: each input's events equal its lone run's")
PYEOF

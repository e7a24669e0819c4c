#!/bin/sh
# Issue 10's tables: captty bench on random-initialised real shapes (no download, codebooks
# calibrated), the engine and moshi's reference loop in one process and on the same input, on
# whatever CUDA device is there. JSON lines on stdout, the GPU and driver on stderr.
#     sh benchmarks/gpu_bench.sh > gpu-bench.jsonl
set -e
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2
IN=assets/audio/demo-en.wav
$PY -m captty.tui.cli -q bench --shape stt-1b --device cuda -b ${STT_BATCHES:-1,8,64,256,400} --steps ${STEPS:-60} --input $IN --json
$PY -m captty.tui.cli -q bench --shape hibiki-2b --device cuda -b ${HIBIKI_BATCHES:-1,8} --steps ${STEPS:-60} --input $IN --json

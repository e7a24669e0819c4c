#!/bin/sh
# On a CUDA machine: the GPU tests (graphed encode and pipelined step against the eager path,
# no wait at launch, one device-to-host copy a step), the parity tests in bf16, and `captty run`
# and the console on random-weight real shapes (no download). Screens go to $OUT (default .).
#     sh benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-.}
IN=assets/audio/demo-en.wav
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
failed=0
check() { echo "== $*"; "$@" || { echo "!! failed: $*"; failed=1; }; }
check $PY -m pytest -q -p no:cacheprovider tests/test_cuda.py
check env CAPTTY_TEST_DEVICE=cuda $PY -m pytest -q -p no:cacheprovider tests/test_parity.py
check $PY -m captty.tui.cli run --shape stt-1b --device cuda $IN
check $PY -m captty.tui.cli run --shape stt-1b --device cuda:0 --half $IN
check $PY -m captty.tui.cli run --shape hibiki-2b --device cuda --max-tail 4 $IN
check $PY benchmarks/gpu_console.py "$OUT" stt-1b hibiki-2b
exit $failed

"""The console on a GPU with random-weight real shapes: replay the demo for a few seconds in a
real pseudo-terminal, quit with q, and keep what the terminal received (OUT/console-SHAPE.raw;
`cat` it in an 80x24 terminal to see the screen).
    python benchmarks/gpu_console.py OUT stt-1b hibiki-2b
"""
import os
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "tests")]
from conftest import DEMO_EN  # noqa: E402
from terminal import Terminal  # noqa: E402

out = Path(sys.argv[1])
failed = 0
for shape in sys.argv[2:]:
    console = Terminal.start(["replay", DEMO_EN, "--shape", shape, "--device", "cuda",
                              "--save", out / f"saved-{shape}.txt"])
    try:
        console.wait_for(b"step latency", timeout=300)
        time.sleep(float(os.environ.get("SECONDS_SHOWN", 8)))
        console.type(b"q")
        code = console.proc.wait(timeout=60)
    except AssertionError as e:
        console.proc.kill()
        code = f"failed: {str(e)[-300:]}"
    (out / f"console-{shape}.raw").write_bytes(bytes(console.screen))
    print(f"console {shape}: exit {code}", flush=True)
    failed |= code != 0
sys.exit(failed)

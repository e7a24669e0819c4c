"""`captty bench` at tiny sizes: it runs both loops and reports every figure (no timing checks)."""
import json

from conftest import DEMO_EN, TINY_STT, captty
from captty.engine.bench import bench, format_table, input_frames
from captty.engine.bench_models import random_model
from captty.engine.model_thread import model_thread

FIGURES = {"ms_per_step", "p50_ms", "p95_ms", "encode_ms", "lm_ms", "decode_ms", "peak_mb",
           "real_time_factor", "real_time_streams"}


def test_bench_command_on_a_checkpoint_prints_json_rows():
    done = captty("bench", "--model", TINY_STT, "--device", "cpu", "-b", "1,2", "--steps", "10",
                  "--warmup", "2", "--input", DEMO_EN, "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["loop"], r["batch"]) for r in rows] == [("reference", 1), ("engine", 1),
                                                       ("reference", 2), ("engine", 2)]
    for r in rows:
        assert r.keys() >= FIGURES and r["steps"] == 7 and r["ms_per_step"] > 0 and r["peak_mb"] > 0
    assert all(r["ratio"] > 0 for r in rows if r["loop"] == "engine")


def test_bench_table_for_a_random_hibiki_shape():
    model = model_thread().call(random_model, "hibiki-2b", "cpu", False, True)
    assert model.lm.dep_q == 16 and model.model_type == "hibiki"
    rows = bench(model, input_frames(model, None, 8), [1], warmup=2)
    assert [r.loop for r in rows] == ["reference", "engine"]
    assert rows[1].decode_ms > 0 and rows[1].ratio > 0  # Hibiki decodes speech
    table = format_table(rows)
    assert table.splitlines()[0].split()[:3] == ["loop", "batch", "ms/step"]


def test_bench_refuses_bad_batch_sizes():
    done = captty("bench", "--model", TINY_STT, "-b", "0")
    assert done.returncode != 0 and "batch sizes" in done.stderr

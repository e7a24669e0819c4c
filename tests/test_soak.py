"""A short soak: minutes of audio through the console as fast as the model goes. The full one
(`benchmarks/soak.py`, hours) reports the figures; this asserts only that the transcript is
complete and that memory stays bounded (no timings)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from soak import run_soak


def test_minutes_through_the_console_lose_nothing_and_hold_memory(tiny_stt, tmp_path):
    minutes = [1.0, 2.0, 4.0]
    result = run_soak(tiny_stt, hours=4 / 60, marks=[m / 60 for m in minutes], console=True,
                      folder=tmp_path)
    assert result.steps == result.expected_steps  # every frame of the input went through
    assert result.saved and result.saved == result.exported  # and every word to the screen's text
    assert [row["hours"] for row in result.rows] == [m / 60 for m in minutes]
    # memory: the transcript grows by a few kB a minute; anything that grows per step would show
    growth = result.rows[-1]["rss_mb"] - result.rows[0]["rss_mb"]
    assert growth < 40, result.rows

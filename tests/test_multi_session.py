"""Many files in one batch: each file's events equal a lone run's at the same batch size."""
import asyncio
import dataclasses

import pytest
import sphn

from conftest import DEMO_EN, DEMO_FR, TINY_STT, captty
from captty.engine import (FileSource, ItemState, ItemStateChanged, StepTimed, TextDecoded,
                           TurnEnded, TurnEndScored, WordFinished)
from captty.engine.errors import CapttyError
from captty.engine.events import StreamStarted
from captty.engine.multi_session import MultiSession
from engine_run import run

GREEDY = {"temp": 0.0, "temp_text": 0.0}
# An input is compared with its lone run in the same slot (the lone run puts the input in every
# slot): row b of a batch goes through the same arithmetic whatever the other rows hold, so
# tokens, words, steps and states are exact. Across slots they are not: CPU GEMM kernels may
# round one row differently from another (0.017 apart in end-of-turn scores on an AMD EPYC,
# and a greedy token flipped with 3 threads on 2 cores and AVX2 kernels). End-of-turn scores
# are still compared within a tolerance, in case a kernel's blocking depends on more than the
# shapes; tiny-stt's scores stay far from 0.5 (`test_turn_scores_stay_clear_of_the_threshold`),
# so the turn ends they decide are exact.
PROBABILITY_TOLERANCE = 0.05


def assert_same_events(got, expected, what=""):
    assert [type(e) for e in got] == [type(e) for e in expected], what
    for a, b in zip(got, expected):
        if isinstance(a, (TurnEndScored, TurnEnded)):
            assert (a.item, a.step, a.time) == (b.item, b.step, b.time), what
            assert a.probability == pytest.approx(b.probability, abs=PROBABILITY_TOLERANCE), what
        else:
            assert a == b, what


@pytest.fixture(scope="module")
def short_cut(tmp_path_factory):
    """The first 3 s (and a bit, not a whole frame) of the French demo."""
    pcm, _ = sphn.read(str(DEMO_FR), sample_rate=24000)
    path = tmp_path_factory.mktemp("audio") / "cut.wav"
    sphn.write_wav(str(path), pcm[:, :24000 * 3 + 777], 24000)
    return path


def per_input(model, paths, batch_size):
    """Each input's events (slot renumbered 0, step timings left out) and the slot order."""
    async def go():
        inputs = [(str(p), lambda p=p: FileSource(p, speed=None)) for p in paths]
        session = MultiSession(model, inputs, batch_size=batch_size, lm_gen_overrides=GREEDY)
        holder, events, starts = {}, [[] for _ in paths], []
        async with session:
            async for e in session.events():
                if isinstance(e, StreamStarted):
                    holder[e.item] = e.stream
                    starts.append((e.item, e.stream, e.name))
                elif hasattr(e, "item") and not isinstance(e, StepTimed):
                    events[holder[e.item]].append(dataclasses.replace(e, item=0))
        return events, starts
    return asyncio.run(go())


def lone(model, path, batch_size, slot=0):
    """The input's events in `slot` of a lone run (every slot holds it), renumbered 0."""
    events = run(model, path, batch_size=batch_size, **GREEDY).events
    return [dataclasses.replace(e, item=0) for e in events
            if getattr(e, "item", None) == slot and not isinstance(e, StepTimed)]


def test_files_refilling_two_slots_equal_their_lone_runs(tiny_stt, short_cut):
    paths = [DEMO_EN, short_cut, DEMO_FR, DEMO_EN]
    events, starts = per_input(tiny_stt, paths, batch_size=2)
    # the short cut ends first, so its slot takes the French demo; demo-en fills the next free one
    assert [(slot, stream) for slot, stream, _ in starts] == [(0, 0), (1, 1), (1, 2), (0, 3)]
    assert starts[1][2] == str(short_cut)
    slot_of = {stream: slot for slot, stream, _ in starts}
    for stream, (path, got) in enumerate(zip(paths, events)):
        expected = lone(tiny_stt, path, batch_size=2, slot=slot_of[stream])
        assert any(isinstance(e, TextDecoded) for e in got)
        assert any(isinstance(e, WordFinished) for e in got)  # words, per slot, as in a lone run
        assert_same_events(got, expected, path)
        states = [e.state for e in got if isinstance(e, ItemStateChanged)]
        assert states == [ItemState.INPUT_ENDED, ItemState.EOS_REACHED]


def test_turn_scores_stay_clear_of_the_threshold(tiny_stt, short_cut):
    """What makes comparing turn ends across slots sound: no score within the tolerance of 0.5."""
    for path in (DEMO_EN, DEMO_FR, short_cut):
        scores = [e.probability for e in lone(tiny_stt, path, 2) if isinstance(e, TurnEndScored)]
        assert scores and min(abs(p - 0.5) for p in scores) > PROBABILITY_TOLERANCE


def test_more_slots_than_files_leaves_the_spare_slots_idle(tiny_stt, short_cut):
    events, starts = per_input(tiny_stt, [short_cut, DEMO_FR], batch_size=3)
    assert [slot for slot, _, _ in starts] == [0, 1]
    assert_same_events(events[0], lone(tiny_stt, short_cut, batch_size=3, slot=0))
    assert_same_events(events[1], lone(tiny_stt, DEMO_FR, batch_size=3, slot=1))


def test_models_that_speak_are_refused(tiny_hibiki):
    with pytest.raises(CapttyError, match="STT"):
        MultiSession(tiny_hibiki, [], batch_size=2)


def test_run_with_several_files_prints_each_transcript_in_order(short_cut):
    files = [DEMO_EN, DEMO_FR, short_cut]
    many = captty("run", "--model", TINY_STT, "--device", "cpu", "--batch-size", "2", *files)
    assert many.returncode == 0, many.stderr
    headers = [line for line in many.stdout.splitlines() if line.startswith("==> ")]
    assert headers == [f"==> {f} <==" for f in files]
    assert "processed" in many.stderr

"""End of turn: reported once when the semantic-VAD score crosses the threshold, re-armed by text."""
import pytest

from captty.engine.events import TextDecoded, TurnEndScored
from captty.engine.turns import TurnEnded, TurnTracker
from captty.engine.words import WordTiming
from engine_run import run
from conftest import DEMO_EN


def scores(tracker, probabilities, text_at=()):
    out = []
    for step, p in enumerate(probabilities):
        out += tracker.handle(TurnEndScored(0, step, step * 0.08, p))
        if step in text_at:
            out += tracker.handle(TextDecoded(0, step, step * 0.08, 5, " word"))
    return out


def test_a_turn_ends_once_above_the_threshold_and_rearms_at_the_next_word():
    tracker = TurnTracker(WordTiming(12.5, 0.1))  # times: step / 12.5 - 0.1
    probabilities = [0.9, 0.1, 0.2, 0.6, 0.7, 0.8, 0.1, 0.1, 0.55, 0.3]
    turns = scores(tracker, probabilities, text_at={1, 6})
    # step 0: nobody spoke yet; 3: after the word at 1; 4, 5: reported already; 8: after 6
    assert turns == [TurnEnded(0, 3, pytest.approx(0.14), 0.6), TurnEnded(0, 8, pytest.approx(0.54), 0.55)]
    assert tracker.last_probability[0] == 0.3


def test_the_threshold_is_configurable_and_strict():
    assert scores(TurnTracker(threshold=0.5), [0.5, 0.5], text_at={0}) == []
    turns = scores(TurnTracker(WordTiming(12.5, 0.0), threshold=0.8), [0.7, 0.85], text_at={0})
    assert turns == [TurnEnded(0, 1, 0.08, 0.85)]
    with pytest.raises(ValueError):
        TurnTracker(threshold=1.5)


def test_models_without_heads_have_no_turns_and_no_error(tiny_hibiki):
    out = run(tiny_hibiki, DEMO_EN, batch_size=1, max_tail_seconds=1.0)
    assert not any(isinstance(e, TurnEndScored) for e in out.events)
    assert not any(isinstance(e, TurnEnded) for e in out.events)


def test_tiny_stt_ends_turns_at_its_silences(tiny_stt):
    """tiny-stt's head says "turn over" on silent frames: the pause between the demo's two
    sentences and the silence after them end turns; silence before the first word does not."""
    out = run(tiny_stt, DEMO_EN)
    scored = [e for e in out.events if isinstance(e, TurnEndScored)]
    assert len(scored) == out.ended.steps and all(0 <= e.probability <= 1 for e in scored)
    assert scored[0].probability > 0.5  # the silence prefix: no turn to end yet
    turns = [e for e in out.events if isinstance(e, TurnEnded)]  # the session decided them
    first_text = next(e.step for e in out.events if isinstance(e, TextDecoded))
    last_text = max(e.step for e in out.events if isinstance(e, TextDecoded))
    assert len(turns) >= 2 and turns[0].step > first_text and turns[-1].step > last_text
    assert all(t.probability > 0.5 for t in turns)

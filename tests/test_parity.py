"""The engine's text and speech equal moshi's reference loop on the same input (greedy)."""
import numpy as np
import pytest

from conftest import DEMO_EN, DEMO_FR, TINY_STT, load
from captty.engine import ItemState
from engine_run import run
from captty.engine.model_thread import model_thread
from captty.engine.reference_loop import seed_loop as _seed_loop
from reference import moshi_stt_text

HIDDEN = {0, 1, 2, 3}  # word boundary, bos, eos, padding: never shown
GREEDY = {"temp": 0.0, "temp_text": 0.0}


def seed_loop(*args, **kwargs):
    # on the engine's model thread: one PyTorch CPU thread pool, as in captty itself
    return model_thread().call(_seed_loop, *args, **kwargs)


def visible(tokens):
    return [t for t in tokens if t not in HIDDEN]


def test_stt_text_equals_moshi_inference_state(tiny_stt):
    # moshi's own InferenceState leaves its model streaming for good: give it a copy
    printed = model_thread().call(moshi_stt_text, load(TINY_STT), DEMO_EN)
    ours = run(tiny_stt, DEMO_EN)
    assert ours.text[0].strip()  # the tiny model does say something
    assert ours.text[0] == printed


@pytest.mark.parametrize("batch_size", [1, 2])
def test_stt_tokens_equal_the_seed_loop(tiny_stt, batch_size):
    reference = seed_loop(tiny_stt, DEMO_EN, batch_size).items
    ours = run(tiny_stt, DEMO_EN, batch_size=batch_size)
    for b in range(batch_size):
        assert ours.tokens[b] == visible(reference[b][0])
        assert ours.states[b] == [ItemState.INPUT_ENDED, ItemState.EOS_REACHED]
    # moshi's count of steps: every padded frame gives one
    assert ours.ended.steps == len(reference[0][0])


@pytest.mark.parametrize("batch_size,cfg_coef", [(1, 1.0), (2, 1.0), (1, 3.0), (2, 3.0)])
def test_hibiki_text_and_speech_equal_the_seed_loop(tiny_hibiki, batch_size, cfg_coef):
    tail = 2.0  # seconds of silence after the input, for both loops
    reference = seed_loop(tiny_hibiki, DEMO_FR, batch_size, cfg_coef,
                          max_tail_steps=int(tail * 12.5), **GREEDY).items
    ours = run(tiny_hibiki, DEMO_FR, batch_size=batch_size, cfg_coef=cfg_coef,
               max_tail_seconds=tail, **GREEDY)
    for b in range(batch_size):
        ref_tokens, ref_pcm = reference[b]
        assert ours.tokens[b] == visible(ref_tokens)
        assert ours.speech[b] is not None and ours.speech[b].size == ref_pcm.size
        np.testing.assert_array_equal(ours.speech[b], ref_pcm)
        reached = bool(ref_tokens) and ref_tokens[-1] == 2
        assert ours.states[b][0] == ItemState.INPUT_ENDED
        assert ours.states[b][-1] == (ItemState.EOS_REACHED if reached else ItemState.EOS_MISSING)


def test_hibiki_sampling_follows_the_seed_loop_too(tiny_hibiki):
    # with the model's own sampling config and moshi's seed, the draws line up step for step
    reference = seed_loop(tiny_hibiki, DEMO_FR, 2, 1.0, max_tail_steps=25).items
    ours = run(tiny_hibiki, DEMO_FR, batch_size=2, max_tail_seconds=2.0)
    assert [ours.tokens[b] for b in range(2)] == [visible(reference[b][0]) for b in range(2)]
    assert ours.tokens[0] != ours.tokens[1]  # sampling: the two items differ

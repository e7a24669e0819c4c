"""The demo model's Mimi training (`engine/training/mimi.py`), on tones instead of eSpeak speech
(so it runs without eSpeak NG): a few steps with the quantizer in, and its buffers hold no
autograd graph afterwards. moshi's quantizer writes samples of the batch into its codebook when
it replaces dead codes; before the fix each replacement kept that step's whole graph alive and
a full build grew by about 0.7 GB every 100 steps.
"""
import numpy as np
import torch

from captty.engine.training import corpus
from captty.engine.training.mimi import demo_mimi_config, train_mimi
from captty.engine.training.streams import SpeechPools, Utterance


def tone_pools(rng: np.random.Generator) -> SpeechPools:
    """Every vocabulary word a 0.2 s tone of its own pitch, one 'voice', one 'sentence'."""
    t = np.arange(4800) / 24000

    def word(k: int) -> Utterance:
        audio = (0.3 * np.sin(2 * np.pi * (150 + 20 * k) * t) + 0.01 * rng.standard_normal(t.size))
        return Utterance(audio.astype(np.float32), [0], [t.size], [k], False, [(0, 1 + k % 5)])

    words = [word(k) for k in range(len(corpus.VOCABULARY))]
    sentence = Utterance(np.concatenate([w.audio for w in words[:3]]), [0, 4800, 9600],
                         [4800, 9600, 14400], [0, 1, 2], True, [(0, 1), (4800, 2), (9600, 3)])
    return SpeechPools([words], [sentence], {"_": 0})


def test_the_quantizer_buffers_hold_no_graph_after_training():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    mimi, config = train_mimi(tone_pools(rng), rng, steps=14, batch=2, frames=2, filters=8, dim=64,
                              unquantized_steps=2, log=lambda _: None)
    assert config == demo_mimi_config(8, 64) and config["seanet"]["n_filters"] == 8
    buffers = dict(mimi.quantizer.named_buffers())
    assert any(name.endswith("embedding_sum") for name in buffers)
    # 12 steps with the quantizer in, its dead codes checked every 5: without the fix this lists
    # the codebook buffers that replacements wrote into (8 of them, rvq_first's embedding_sum first)
    assert [name for name, b in buffers.items() if b.requires_grad or b.grad_fn is not None] == []
    with torch.no_grad():  # and the trained Mimi encodes as a checkpoint's would
        codes = mimi.encode(torch.zeros(1, 1, 1920 * 3))
    assert codes.shape == (1, 8, 3)

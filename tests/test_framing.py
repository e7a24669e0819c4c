import numpy as np
import pytest
import torch

from captty.engine.framing import Framer


@pytest.mark.parametrize("pad_left,pad_right,pieces", [
    (0, 0, [1920] * 3), (24000, 36000, [1000, 5000, 7, 1920, 333]), (100, 0, [1]), (0, 1919, [5000]),
])
def test_framer_matches_padding_the_whole_signal(pad_left, pad_right, pieces):
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(sum(pieces)).astype(np.float32)
    # what moshi's script does: pad the whole input, split, keep whole frames only
    padded = torch.nn.functional.pad(torch.from_numpy(signal)[None, None], (pad_left, pad_right))
    expected = [c[0, 0].numpy() for c in padded.split(1920, dim=2) if c.shape[-1] == 1920]

    framer = Framer(1920, pad_left)
    frames, start = [], 0
    for n in pieces:
        frames += framer.push(signal[start:start + n])
        start += n
    frames += framer.finish(pad_right)

    assert len(frames) == len(expected)
    for got, want in zip(frames, expected):
        np.testing.assert_array_equal(got, want)
    assert framer.samples_in == signal.size

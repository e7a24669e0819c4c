"""Property-based tests over generated buffers: through the sources and the framing, no sample
is lost or invented, and the frames and padding are as documented (`framing.py`, `layout.py`).

Documented: the frames are the input with `prefix` zeros before and `flush` zeros after it, cut
into whole frames from the start; a partial last frame is dropped; samples that are not finite
become 0 and are counted.
"""
import asyncio
import wave

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from captty.engine import FileSource, StreamLayout
from captty.engine.framing import Framer
from captty.engine.stream_feeder import StreamFeeder

SETTINGS = settings(max_examples=60, deadline=None)
samples = st.lists(st.one_of(st.floats(-1, 1, width=32), st.sampled_from([np.nan, np.inf, -np.inf])),
                   max_size=400)


def expected_frames(signal: np.ndarray, frame: int, prefix: int, flush: int) -> list[np.ndarray]:
    clean = np.where(np.isfinite(signal), signal, 0).astype(np.float32)
    padded = np.concatenate([np.zeros(prefix, np.float32), clean, np.zeros(flush, np.float32)])
    return [padded[i:i + frame] for i in range(0, padded.size - frame + 1, frame)]


@SETTINGS
@given(values=samples, cuts=st.lists(st.integers(0, 400), max_size=8),
       frame=st.integers(1, 64), prefix=st.integers(0, 100), flush=st.integers(0, 100))
def test_framer_frames_are_the_padded_signal_cut_whole(values, cuts, frame, prefix, flush):
    signal = np.array(values, np.float32)
    framer = Framer(frame, prefix)
    frames, start = [], 0
    for cut in [*sorted(c for c in cuts if c <= signal.size), signal.size]:
        frames += framer.push(signal[start:cut])
        start = cut
    frames += framer.finish(flush)
    want = expected_frames(signal, frame, prefix, flush)
    assert len(frames) == len(want) == (prefix + signal.size + flush) // frame
    for got, expected in zip(frames, want):
        np.testing.assert_array_equal(got, expected)
    assert framer.replaced == int((~np.isfinite(signal)).sum())
    assert framer.samples_in == signal.size


@SETTINGS
@given(values=samples, pieces=st.lists(st.integers(1, 300), min_size=1, max_size=6),
       prefix=st.integers(0, 50), flush=st.integers(32, 120), batch=st.integers(1, 3))
def test_a_stream_feeder_gives_every_frame_then_closes_the_stream(values, pieces, prefix, flush,
                                                                   batch):
    signal = np.array(values, np.float32)
    layout = StreamLayout(sample_rate=1600, frame_size=32, prefix=prefix, flush=flush)

    async def source():
        start = 0
        for n in pieces * (1 + signal.size // sum(pieces)):
            if start >= signal.size:
                return
            yield signal[start:start + n]
            start += n

    async def steps():
        return [step async for step in StreamFeeder(source(), layout, batch)]

    got = asyncio.run(steps())
    want = expected_frames(signal, 32, prefix, flush)
    assert len(got) == len(want)
    for step, expected in zip(got, want):
        np.testing.assert_array_equal(step.pcm, expected)
    every = tuple(range(batch))
    # the first frame cut after the input ended (with no input at all, the prefix's own)
    closing = (prefix + signal.size) // 32 if signal.size else 0
    assert [i for i, s in enumerate(got) if s.inputs_ended] == [closing]
    assert got[closing].inputs_ended == every and got[-1].ends == every
    bad = int((~np.isfinite(signal)).sum())
    repaired = [n for s in got for n in s.notices]  # reported once, then the total at the end
    assert len([n for n in repaired if not n.final]) == (1 if bad else 0)
    assert len([n for n in repaired if n.final]) <= 1
    assert max((n.samples for n in repaired), default=0) == bad


def write_wav(path, pcm: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 20000), channels=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_a_24k_file_of_any_length_and_channel_count_comes_out_whole(tmp_path_factory, n, channels,
                                                                    seed):
    """Same rate: every sample out, none invented; channels averaged."""
    rng = np.random.default_rng(seed)
    pcm = rng.integers(-20000, 20000, (n, channels), dtype=np.int16)
    path = tmp_path_factory.mktemp("wav") / "a.wav"
    write_wav(path, pcm, 24000)
    out = np.concatenate(list(FileSource(path, speed=None).samples()))
    assert out.size == n
    np.testing.assert_allclose(out, pcm.astype(np.float64).mean(axis=1) / 32768, atol=2e-6)


@settings(max_examples=20, deadline=None)
@given(seconds=st.floats(0.05, 2.0), rate=st.sampled_from([8000, 16000, 22050, 44100, 48000,
                                                          96000]), seed=st.integers(0, 2**16))
def test_other_rates_keep_the_duration(tmp_path_factory, seconds, rate, seed):
    """Resampled: the duration is kept within the resampler's own few samples."""
    n = int(seconds * rate)
    pcm = np.random.default_rng(seed).integers(-8000, 8000, (n, 1), dtype=np.int16)
    path = tmp_path_factory.mktemp("wav") / "b.wav"
    write_wav(path, pcm, rate)
    out = np.concatenate(list(FileSource(path, speed=None).samples()))
    assert abs(out.size - n * 24000 / rate) <= 64
    assert np.isfinite(out).all()

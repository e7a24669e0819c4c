import asyncio
import time

import numpy as np
import pytest
import sphn

from captty.engine import CapttyError, FileSource
from captty.engine.pacing import Pacer


def sine(freq, seconds, rate, amp=0.3):
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write(path, pcm, rate):
    sphn.write_wav(str(path), np.atleast_2d(pcm), sample_rate=rate)
    return path


def all_samples(source):
    return np.concatenate(list(source.samples()))


def peak_hz(pcm, rate):
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(pcm.size)))
    return np.argmax(spectrum) * rate / pcm.size


def test_24k_mono_file_passes_through_unchanged(tmp_path):
    pcm = np.random.default_rng(1).uniform(-0.5, 0.5, 24000 * 3 + 77).astype(np.float32)
    path = write(tmp_path / "a.wav", pcm, 24000)
    out = all_samples(FileSource(path, speed=None))
    reference, _ = sphn.read(str(path), sample_rate=24000)
    assert out.size == pcm.size
    np.testing.assert_allclose(out, reference[0], atol=1e-6)


def test_resampled_to_24k_keeping_pitch_and_length(tmp_path):
    path = write(tmp_path / "a.wav", sine(1000, 2.0, 44100), 44100)
    out = all_samples(FileSource(path, speed=None))
    assert abs(out.size - 48000) <= 64
    assert abs(peak_hz(out[4800:-4800], 24000) - 1000) < 5


def test_stereo_is_downmixed_to_mono_by_averaging(tmp_path):
    x = sine(440, 1.0, 48000, amp=0.9)
    mono = all_samples(FileSource(write(tmp_path / "m.wav", x, 48000), speed=None))
    same = FileSource(write(tmp_path / "same.wav", np.stack([x, x]), 48000), speed=None)
    assert same.source_channels == 2 and same.source_rate == 48000
    np.testing.assert_allclose(all_samples(same), mono, atol=1e-6)  # no gain, no clipping
    opposite = all_samples(FileSource(write(tmp_path / "opp.wav", np.stack([x, -x]), 48000),
                                      speed=None))
    assert np.abs(opposite).max() < 1e-6


def test_long_files_are_decoded_in_small_pieces(tmp_path):
    path = write(tmp_path / "long.wav", sine(300, 60.0, 16000), 16000)
    source = FileSource(path, speed=None)
    sizes = [piece.size for piece in source.samples()]
    assert sum(sizes) == pytest.approx(60 * 24000, abs=64)
    assert len(sizes) > 100 and max(sizes) <= 24000  # never more than a second at a time


def test_compressed_real_recording(shared_audio):
    out = all_samples(FileSource(shared_audio / "bria.mp3", speed=None))
    assert abs(out.size / 24000 - 44.85) < 0.1
    whole, _ = sphn.read(str(shared_audio / "bria.mp3"), sample_rate=24000)
    assert abs(np.sqrt(np.mean(out ** 2)) - np.sqrt(np.mean(whole ** 2))) < 0.005


@pytest.mark.parametrize("name,content,message", [
    ("missing.wav", None, "no such file"),
    ("text.wav", b"this is not audio at all\n" * 20, "not an audio file"),
    ("empty.wav", b"", "not an audio file"),
])
def test_bad_files_raise_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CapttyError, match=message):
        FileSource(path)


def test_a_file_without_samples_is_an_error(tmp_path):
    path = write(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32), 24000)
    with pytest.raises(CapttyError, match="no audio"):
        FileSource(path)


async def test_file_source_paces_its_samples_at_the_given_speed(tmp_path):
    path = write(tmp_path / "a.wav", sine(440, 2.0, 24000), 24000)
    start = time.monotonic()
    pieces = [p async for p in FileSource(path, speed=10.0)]
    elapsed = time.monotonic() - start
    assert sum(p.size for p in pieces) == 48000
    # each piece is due when the audio before it has played at 10x: 2 s less the last piece
    assert (2.0 - pieces[-1].size / 24000) / 10 - 0.01 <= elapsed < 1.0


async def test_pause_holds_pieces_and_resume_does_not_burst():
    pacer = Pacer(speed=1.0)
    await pacer.wait(0.02)
    pacer.pause()
    waiter = asyncio.create_task(pacer.wait(0.02))
    await asyncio.sleep(0.15)
    assert not waiter.done() and pacer.paused
    pacer.resume()
    await waiter
    resumed = time.monotonic()
    await pacer.wait(0.02)  # the next piece is still one piece later, not due at once
    assert time.monotonic() - resumed >= 0.01

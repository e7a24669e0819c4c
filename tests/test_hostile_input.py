"""Odd and broken audio: each file either decodes what can be decoded or fails with one clear
error naming it; samples that are not finite never reach the model."""
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest
import sphn

from captty.engine import CapttyError, FileSource, RawFormat
from captty.engine.framing import Framer
from conftest import DEMO_EN, TINY_STT, captty


def decoded(path, **kwargs) -> np.ndarray:
    return np.concatenate(list(FileSource(path, speed=None, **kwargs).samples()))


def sine_wav(path, rate, channels, seconds=1.0, freq=440.0, amp=0.5):
    """A 16-bit WAV with the same sine in every channel."""
    t = np.arange(int(seconds * rate)) / rate
    one = np.round(amp * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(one[:, None], channels, axis=1).tobytes())
    return path


def encode(pcm: np.ndarray, path, codec: str, rate: int = 24000):
    """Mono float samples to a compressed file, with FFmpeg's encoder (PyAV)."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm[None].astype(np.float32), format="flt",
                                           layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize("channels", [1, 2, 8, 9, 16, 32])
def test_any_channel_count_is_averaged_to_mono(tmp_path, channels):
    """More than 8 channels once crashed the process (planar frames beyond PyAV's pointers)."""
    out = decoded(sine_wav(tmp_path / f"c{channels}.wav", 48000, channels))
    assert out.size == 24000 and 0.45 < np.abs(out).max() < 0.55


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 44100, 96000, 192000, 384000])
def test_any_sample_rate_is_resampled_to_24k(tmp_path, rate):
    out = decoded(sine_wav(tmp_path / f"r{rate}.wav", rate, 1, seconds=2.0))
    assert abs(out.size - 48000) <= 64  # the resampler's own delay, at most
    spectrum = np.abs(np.fft.rfft(out[4800:-4800] * np.hanning(out.size - 9600)))
    assert abs(np.argmax(spectrum) * 24000 / (out.size - 9600) - 440) < 5


def test_a_truncated_file_gives_what_it_holds(tmp_path, caplog):
    whole = (DEMO_EN).read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[: len(whole) // 2])  # the header still says the whole length
    out = decoded(cut)
    assert 0.45 < out.size / decoded(DEMO_EN).size < 0.55


def test_a_corrupt_mp3_decodes_around_the_damage(tmp_path):
    good = encode(decoded(DEMO_EN), tmp_path / "good.mp3", "libmp3lame")
    data = bytearray(good.read_bytes())
    rng = np.random.default_rng(0)
    start = len(data) // 3
    data[start:start + 2000] = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(bytes(data))
    clean, damaged = decoded(good), decoded(bad)
    assert 0.7 < damaged.size / clean.size <= 1.01 and np.isfinite(damaged).all()


@pytest.mark.parametrize("name,content,message", [
    ("empty.wav", b"", "not an audio file"),
    ("text.mp3", b"not audio, just text\n" * 50, "not an audio file"),
    ("random.flac", np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes(),
     "not an audio file"),
])
def test_files_that_are_not_audio_fail_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CapttyError, match=f"'{path}'.*{message}"):
        FileSource(path)


def test_a_folder_and_a_missing_file(tmp_path):
    with pytest.raises(CapttyError, match="is a folder"):
        FileSource(tmp_path)
    with pytest.raises(CapttyError, match="no such file"):
        FileSource(tmp_path / "nothing.wav")


def test_silent_and_clipped_files_decode(tmp_path):
    sphn.write_wav(str(tmp_path / "silent.wav"), np.zeros((1, 24000), np.float32), 24000)
    loud = np.clip(np.sin(np.arange(24000) / 3.0) * 5.0, -1, 1).astype(np.float32)
    sphn.write_wav(str(tmp_path / "clipped.wav"), loud[None], 24000)
    assert not decoded(tmp_path / "silent.wav").any()
    np.testing.assert_allclose(decoded(tmp_path / "clipped.wav"), loud, atol=1e-4)


def test_raw_pcm_described_by_its_format(tmp_path):
    pcm = (np.sin(np.arange(24000) / 10) * 8000).astype("<i2")
    path = tmp_path / "audio.raw"
    path.write_bytes(pcm.tobytes())
    with open(path, "rb") as stream:
        out = np.concatenate(list(FileSource(stream, raw=RawFormat.parse("s16le:24000:1"),
                                             name="stdin", speed=None).samples()))
    np.testing.assert_allclose(out, pcm / 32768.0, atol=1e-6)
    for bad in ("s16le:fast", "mp3:24000:1", "s16le:24000:1:9", "f32le:10:1"):
        with pytest.raises(CapttyError, match="raw format"):
            RawFormat.parse(bad)


def test_not_finite_samples_are_replaced_counted_and_reported_once():
    framer = Framer(4)
    assert framer.push(np.array([1, np.nan, 2], np.float32)) == []
    assert framer.notices(0) and framer.notices(0) == ()  # the first time, then not again
    frames = framer.push(np.array([np.inf, -np.inf, 3, 4, 5], np.float32))
    np.testing.assert_array_equal(np.concatenate(frames), [1, 0, 2, 0, 0, 3, 4, 5])
    assert framer.replaced == 3 and framer.notices(0) == ()
    (final,) = framer.notices(0, final=True)
    assert final.samples == 3 and final.final


def test_a_run_on_nan_samples_keeps_the_model_clean(tmp_path, tiny_stt):
    """NaN in the file: the text equals the run on the file with those samples silenced."""
    speech, _ = sphn.read(str(DEMO_EN), sample_rate=24000)
    poisoned, silenced = speech.copy(), speech.copy()
    poisoned[0, 30000:30100] = np.nan
    poisoned[0, 50000] = np.inf
    silenced[0, 30000:30100] = 0
    silenced[0, 50000] = 0
    for name, pcm in (("poisoned.wav", poisoned), ("silenced.wav", silenced)):
        encode(pcm[0], tmp_path / name, "pcm_f32le")  # float WAV: NaN and inf kept as they are
    assert np.isnan(decoded(tmp_path / "poisoned.wav")).sum() == 100
    bad = captty("run", "--model", TINY_STT, "--device", "cpu", tmp_path / "poisoned.wav")
    good = captty("run", "--model", TINY_STT, "--device", "cpu", tmp_path / "silenced.wav")
    assert bad.returncode == 0, bad.stderr
    assert bad.stdout == good.stdout and bad.stdout.strip()
    assert bad.stderr.count("not finite (NaN, inf)") == 1
    assert "101 samples that were not finite were replaced" in bad.stderr


def test_an_unreadable_file_says_permission_denied():
    folder = Path(tempfile.mkdtemp())  # not under pytest's own folder, which only root enters
    try:
        folder.chmod(0o755)
        path = folder / "locked.wav"
        path.write_bytes(DEMO_EN.read_bytes())
        path.chmod(0)
        # root reads anything: then it asks as nobody, once everything is imported
        code = ("import os, sys, av; from captty.engine import FileSource, CapttyError\n"
                "if os.geteuid() == 0:\n    os.setgid(65534); os.setuid(65534)\n"
                "try:\n    FileSource(sys.argv[1])\nexcept CapttyError as e:\n    print(e)\n")
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                             text=True, timeout=120)
        assert out.stdout.strip() == f"cannot read '{path}': permission denied", out.stderr
    finally:
        shutil.rmtree(folder)

"""The microphone source from PortAudio's callback inward (no capture device on CI machines)."""
import asyncio
import contextlib
import threading
import types

import numpy as np
import pytest
import sphn

from conftest import DEMO_EN
from captty.engine import CapttyError
from captty.engine import microphone
from captty.engine.microphone import MicrophoneSource


class FakeInputStream:
    """Calls back from its own thread with blocks of a recording, as PortAudio does."""

    recording: np.ndarray
    overflow_at = 3
    gate: threading.Event | None = None  # if set: the first block, then wait for the gate

    unplug_after: int | None = None  # blocks played before the device goes away

    def __init__(self, device, channels, samplerate, blocksize, dtype, callback,
                 finished_callback):
        assert (channels, samplerate, dtype) == (1, 24000, "float32")
        self.blocksize, self.callback, self.finished = blocksize, callback, finished_callback
        self.running = False

    def start(self):
        self.running = True
        self.thread = threading.Thread(target=self._play)
        self.thread.start()

    def _play(self):
        for i in range(0, self.recording.size - self.blocksize + 1, self.blocksize):
            if not self.running:
                return
            if i == (self.unplug_after or -1) * self.blocksize:
                self.running = False
                self.finished()  # as PortAudio does when the device goes away
                return
            if i == self.blocksize and self.gate is not None:
                while not self.gate.wait(0.02):  # stopping the stream ends the wait too
                    if not self.running:
                        return
            block = self.recording[i:i + self.blocksize].reshape(-1, 1)
            status = types.SimpleNamespace(input_overflow=(i // self.blocksize == self.overflow_at))
            self.callback(block, self.blocksize, None, status)

    def stop(self):
        was_running, self.running = self.running, False
        self.thread.join()
        if was_running:
            self.finished()

    def close(self):
        pass


def fake_sounddevice(recording, gate=None, unplug_after=None):
    FakeInputStream.recording = recording
    FakeInputStream.gate = gate
    FakeInputStream.unplug_after = unplug_after
    return types.SimpleNamespace(InputStream=FakeInputStream, PortAudioError=OSError)


async def test_callback_blocks_become_frames_in_order(monkeypatch):
    recording = sphn.read(str(DEMO_EN))[0][0]
    monkeypatch.setattr(microphone, "import_sounddevice", lambda: fake_sounddevice(recording))
    source = MicrophoneSource()
    frames = []
    async with contextlib.aclosing(source.__aiter__()) as stream:
        async for frame in stream:
            frames.append(frame)
            if len(frames) == 20:
                break
    assert source._stream is None  # closing the iterator closes the device
    np.testing.assert_array_equal(np.concatenate(frames), recording[: 20 * 1920])
    assert source.overflows == 1 and source.dropped == 0


async def test_a_slow_consumer_drops_frames_and_counts_them(monkeypatch):
    recording = np.full(1920 * 30, 0.5, dtype=np.float32)
    gate = threading.Event()  # the other blocks come once the first one is taken
    monkeypatch.setattr(microphone, "import_sounddevice", lambda: fake_sounddevice(recording, gate))
    source = MicrophoneSource(max_backlog=5 * 0.08)  # 5 blocks wait at most
    it = source.__aiter__()
    first = await it.__anext__()
    gate.set()
    await asyncio.to_thread(source._stream.thread.join)  # the other 29 blocks are called back
    for _ in range(3):
        await asyncio.sleep(0)  # and handed to the event loop
    rest = []
    while source._stream is not None and len(rest) < 5:
        rest.append(await asyncio.wait_for(it.__anext__(), 1))
    await it.aclose()
    assert first.size == 1920 and len(rest) == 5
    assert source.dropped == 30 - 1 - 5
    assert source.level == pytest.approx(0.5)  # RMS of the last block, for the level meter


async def test_an_unplugged_microphone_ends_the_input_with_what_was_captured(monkeypatch,
                                                                             caplog):
    recording = sphn.read(str(DEMO_EN))[0][0]
    monkeypatch.setattr(microphone, "import_sounddevice",
                        lambda: fake_sounddevice(recording, unplug_after=12))
    source = MicrophoneSource()
    frames = [frame async for frame in source]  # ends by itself: no hang
    np.testing.assert_array_equal(np.concatenate(frames), recording[: 12 * 1920])
    assert source.lost == "the input stream stopped" and source._stream is None
    assert "the microphone stopped (the input stream stopped)" in caplog.text


async def test_a_stalled_microphone_ends_the_input_too(monkeypatch):
    recording = np.zeros(1920 * 4, dtype=np.float32)
    gate = threading.Event()  # never set: after its first block the device delivers nothing
    monkeypatch.setattr(microphone, "import_sounddevice", lambda: fake_sounddevice(recording, gate))
    monkeypatch.setattr(MicrophoneSource, "STALL_SECONDS", 0.3)
    source = MicrophoneSource()
    frames = [frame async for frame in source]
    assert len(frames) == 1 and source.lost == "no audio for 0.3 s"


def test_missing_portaudio_says_how_to_install_it(monkeypatch):
    def no_portaudio():
        raise OSError("PortAudio library not found")

    monkeypatch.setattr("builtins.__import__", _import_failing("sounddevice", no_portaudio))
    with pytest.raises(CapttyError, match="libportaudio2"):
        microphone.import_sounddevice()


def _import_failing(name, fail):
    real = __import__

    def fake(module, *args, **kwargs):
        if module == name:
            fail()
        return real(module, *args, **kwargs)

    return fake

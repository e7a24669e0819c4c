"""Speech playback from PortAudio's output callback inward (no output device on CI machines)."""
import types

import numpy as np
import pytest

from captty.engine import CapttyError, SpeechDecoded, TextDecoded
from captty.engine import speaker
from captty.engine.speaker import SpeechPlayer


class FakeOutputStream:
    def __init__(self, device, samplerate, channels, dtype, callback):
        assert (samplerate, channels, dtype) == (24000, 1, "float32")
        self.callback = callback

    def start(self):
        pass

    def stop(self):
        pass

    def close(self):
        pass

    def pull(self, frames):
        out = np.full((frames, 1), 9.0, dtype=np.float32)
        self.callback(out, frames, None, None)
        return out[:, 0]


@pytest.fixture
def player(monkeypatch):
    fake = types.SimpleNamespace(OutputStream=FakeOutputStream, PortAudioError=OSError)
    monkeypatch.setattr(speaker, "import_sounddevice", lambda: fake)
    p = SpeechPlayer(max_seconds=0.2)
    yield p
    p.close()
    p.wait_closed(2.0)


def test_item_speech_is_played_in_order_then_silence(player):
    a, b = np.arange(1920, dtype=np.float32), -np.arange(1920, dtype=np.float32)
    player.handle(SpeechDecoded(0, 1, a))
    player.handle(SpeechDecoded(1, 1, np.ones(1920, dtype=np.float32)))  # another item: not played
    player.handle(TextDecoded(0, 1, 0.08, 5, " hi"))
    player.handle(SpeechDecoded(0, 2, b))
    played = np.concatenate([player._stream.pull(1000) for _ in range(4)])
    np.testing.assert_array_equal(played[:3840], np.concatenate([a, b]))
    assert not played[3840:].any()  # then silence, once the buffer runs dry
    assert player.underruns == 1


def test_a_model_ahead_of_real_time_drops_the_oldest_audio(player):
    for step in range(5):  # 0.4 s of speech into a 0.2 s buffer
        player.handle(SpeechDecoded(0, step, np.full(1920, float(step), dtype=np.float32)))
    assert player.dropped_samples == 3 * 1920
    played = player._stream.pull(3840)
    np.testing.assert_array_equal(played, np.repeat([3.0, 4.0], 1920).astype(np.float32))


def test_no_output_device_is_one_clear_error(monkeypatch):
    class NoDevice:
        def __init__(self, **kwargs):
            raise OSError("Error querying device -1")

    fake = types.SimpleNamespace(OutputStream=NoDevice, PortAudioError=OSError)
    monkeypatch.setattr(speaker, "import_sounddevice", lambda: fake)
    with pytest.raises(CapttyError, match="no audio output device"):
        SpeechPlayer()


def test_closing_lets_the_buffered_speech_play_out(player):
    player.handle(SpeechDecoded(0, 1, np.ones(1920, dtype=np.float32)))
    stream = player._stream
    player.close()
    assert player._stream is stream  # still playing what is buffered
    stream.pull(1920)
    player.wait_closed(2.0)
    assert player._stream is None

"""Speech out to an audio device as it is decoded (Hibiki's translation), through sounddevice.

`SpeechPlayer` is a sink: it takes one batch item's `SpeechDecoded` chunks and PortAudio plays
them from its own thread. Chunks wait in a bounded buffer; when the model runs ahead of real
time (a fast replay) the oldest audio is dropped and counted rather than letting the buffer
grow; when it falls behind, the device plays silence until more comes.
"""
from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from .errors import CapttyError
from .events import Event, SpeechDecoded
from .microphone import import_sounddevice

NO_OUTPUT_HINT = "no audio output device here (write the speech to a WAV file instead)"


class SpeechPlayer:
    def __init__(self, sample_rate: int = 24000, item: int = 0, device: int | str | None = None,
                 max_seconds: float = 30.0):
        self.sample_rate = sample_rate
        self.item = item
        self.max_samples = int(max_seconds * sample_rate)
        self.dropped_samples = 0
        self.underruns = 0
        self._chunks: deque[np.ndarray] = deque()
        self._buffered = 0
        self._lock = threading.Lock()
        self._closer: threading.Thread | None = None
        sd = import_sounddevice()
        try:
            self._stream = sd.OutputStream(device=device, samplerate=sample_rate, channels=1,
                                           dtype="float32", callback=self._play)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as e:
            text = str(e)
            if "No output device" in text or "Invalid device" in text or "Error querying" in text:
                raise CapttyError(NO_OUTPUT_HINT) from None
            raise CapttyError(f"cannot open the audio output: {text}") from None

    def handle(self, event: Event) -> None:
        if isinstance(event, SpeechDecoded) and event.item == self.item:
            with self._lock:
                self._chunks.append(event.pcm)
                self._buffered += event.pcm.size
                while self._buffered > self.max_samples:
                    old = self._chunks.popleft()
                    self._buffered -= old.size
                    self.dropped_samples += old.size

    def _play(self, outdata, frames, time_info, status) -> None:
        """PortAudio's callback: fill `outdata` from the buffer, silence for what is missing."""
        filled = 0
        with self._lock:
            while filled < frames and self._chunks:
                chunk = self._chunks[0]
                take = min(frames - filled, chunk.size)
                outdata[filled:filled + take, 0] = chunk[:take]
                filled += take
                self._buffered -= take
                if take == chunk.size:
                    self._chunks.popleft()
                else:
                    self._chunks[0] = chunk[take:]
        if filled < frames:
            outdata[filled:, 0] = 0.0
            if filled:
                self.underruns += 1

    @property
    def buffered_seconds(self) -> float:
        return self._buffered / self.sample_rate

    def close(self) -> None:
        """Stop once what is buffered has played (on a thread of its own: this returns now)."""
        if self._stream is not None and self._closer is None:
            self._closer = threading.Thread(target=self._drain_and_stop, daemon=True,
                                            name="captty-speech-drain")
            self._closer.start()

    def wait_closed(self, timeout: float | None = None) -> None:
        if self._closer is not None:
            self._closer.join(timeout)

    def _drain_and_stop(self) -> None:
        deadline = time.monotonic() + self.buffered_seconds + 1.0
        while self._buffered > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        stream, self._stream = self._stream, None
        stream.stop()
        stream.close()

"""Consumers of session events: the transcript printer and the speech WAV writer
(transcript files are in `exports/`).

Each is a `Sink` (`contracts.py`): `handle(event)` for every event in order, `close()` once at
the end, whether the session finished, failed or was interrupted.
"""
from __future__ import annotations

import logging
import sys
import wave
from pathlib import Path
from typing import TextIO

import numpy as np

from .contracts import Sink
from .errors import CapttyError
from .events import Event, SpeechDecoded, TextDecoded

log = logging.getLogger(__name__)


class TextPrinter:
    """Streams one batch item's text to a stream (stdout by default) as it is decoded."""

    def __init__(self, stream: TextIO | None = None, item: int = 0):
        self.stream = stream or sys.stdout
        self.item = item
        self.wrote = False

    def handle(self, event: Event) -> None:
        if isinstance(event, TextDecoded) and event.item == self.item:
            text = event.text.lstrip() if not self.wrote else event.text
            self.stream.write(text)
            self.stream.flush()
            self.wrote = self.wrote or bool(text)

    def close(self) -> None:
        if self.wrote:
            self.stream.write("\n")
            self.stream.flush()


def item_paths(path: str | Path, batch_size: int) -> list[Path]:
    """moshi's naming: `out.wav` for one item, `out-0.wav`, `out-1.wav`, ... for a batch."""
    path = Path(path)
    if batch_size == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{i}{path.suffix}") for i in range(batch_size)]


class WavWriter:
    """Streams each item's speech to a 16-bit PCM WAV file (the format of moshi's script) as it
    is decoded. The samples are appended first, then the header's sizes are patched, then the
    file is flushed, so at every flush the file is a valid WAV of the speech so far: a run that
    is interrupted, even killed, leaves playable files."""

    def __init__(self, path: str | Path, batch_size: int, sample_rate: int):
        self.paths = item_paths(path, batch_size)
        self.sample_rate = sample_rate
        self.closed = False
        self._files = []
        self._wavs = []
        try:
            for p in self.paths:
                f = open(p, "wb")  # noqa: SIM115 (open while the run goes; closed in close())
                self._files.append(f)
                wav = wave.open(f, "wb")  # noqa: SIM115
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(sample_rate)
                wav.writeframes(b"")  # the header, with no samples yet
                self._wavs.append(wav)
                f.flush()
        except OSError as e:
            self.close()
            raise CapttyError(f"cannot write '{p}': {e.strerror or e}") from e
        self.samples = [0] * batch_size

    def handle(self, event: Event) -> None:
        if isinstance(event, SpeechDecoded) and not self.closed:
            pcm = np.clip(np.asarray(event.pcm, dtype=np.float32), -1.0, 1.0)
            self._wavs[event.item].writeframes((pcm * 32767).astype("<i2").tobytes())
            self._files[event.item].flush()
            self.samples[event.item] += pcm.size

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for path, n in zip(self.paths, getattr(self, "samples", [])):
            log.info("wrote %s (%.1f s of speech)", path, n / self.sample_rate)
        for wav in self._wavs:
            wav.close()  # patches the header once more; the file object stays ours
        for f in self._files:
            f.close()


class GuardedSink:
    """A sink that writes files, kept from stopping the session when its disk fails (full, gone,
    read-only): the first error is said in one line and the sink is left out from then on, so the
    other sinks go on; closing says again, at the end, what could not be written."""

    def __init__(self, sink: Sink | None, name: str):
        self.sink = sink
        self.name = name
        self.failure: str | None = None
        self.handled = 0  # events written before the failure

    @classmethod
    def failed(cls, name: str, why: str) -> GuardedSink:
        """A file that could not even be opened: nothing is written, the end says so."""
        guard = cls(None, name)
        guard.failure = why
        return guard

    def handle(self, event: Event) -> None:
        if self.sink is not None and self.failure is None:
            try:
                self.sink.handle(event)
                self.handled += 1
            except OSError as e:
                self._fail(e)
                log.warning("cannot write '%s': %s; the run goes on without it", self.name,
                            self.failure)

    def close(self) -> None:
        if self.sink is not None and self.failure is None:
            try:
                self.sink.close()
            except OSError as e:
                self._fail(e)
        if self.failure is not None:
            what = "was not written" if self.sink is None else "is incomplete"
            log.warning("'%s' %s: %s", self.name, what, self.failure)

    def _fail(self, error: OSError) -> None:
        self.failure = error.strerror or str(error)
        try:  # let go of the file; what was written stays
            if self.sink is not None:
                self.sink.close()
        except OSError:
            pass


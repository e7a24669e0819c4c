"""Consumers of session events: the transcript printer and the speech WAV writer.

A sink has `handle(event)`, called for every event in order, and `close()`, called once at the
end, whether the session finished, failed or was interrupted.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Protocol, TextIO

import numpy as np

from .events import Event, SessionEnded, SpeechDecoded, TextDecoded

log = logging.getLogger(__name__)


class Sink(Protocol):
    def handle(self, event: Event) -> None: ...

    def close(self) -> None: ...


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
    """Collects each item's speech and writes it as WAV, as moshi's script does, at the end."""

    def __init__(self, path: str | Path, batch_size: int, sample_rate: int):
        self.paths = item_paths(path, batch_size)
        self.sample_rate = sample_rate
        self._chunks: list[list[np.ndarray]] = [[] for _ in range(batch_size)]
        self.closed = False

    def handle(self, event: Event) -> None:
        if isinstance(event, SpeechDecoded):
            self._chunks[event.item].append(event.pcm)

    def close(self) -> None:
        import sphn

        if self.closed:
            return
        self.closed = True
        for path, chunks in zip(self.paths, self._chunks):
            pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
            log.info("writing %s (%.1f s of speech)", path, pcm.size / self.sample_rate)
            sphn.write_wav(str(path), pcm, sample_rate=self.sample_rate)

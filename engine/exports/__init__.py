"""Transcript files written while the stream runs: .txt, .srt, .vtt, .json and .jsonl.

    sink = transcript_sink(["talk.srt", "talk.json"])  # one sink for a session

Each writer is a sink of a session's events (the engine's, with the words and turn ends that
`Session.events()` adds) and keeps its file valid at every flush: killed even with SIGKILL, a
run loses at most the word in progress (the cue in progress for captions).
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..errors import CapttyError
from ..sinks import GuardedSink
from ..turns import DEFAULT_THRESHOLD
from .captions import SrtWriter, VttWriter
from .cues import Cue, CueBuilder, CueRules
from .json_files import JsonlWriter, JsonWriter
from .text import TxtWriter
from .writer import TranscriptWriter

log = logging.getLogger(__name__)

WRITERS = {"txt": TxtWriter, "srt": SrtWriter, "vtt": VttWriter, "json": JsonWriter,
           "jsonl": JsonlWriter}
FORMATS = tuple(WRITERS)


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """The format asked for, else the one the file's extension names."""
    fmt = (fmt or Path(path).suffix.removeprefix(".")).lower()
    if fmt not in WRITERS:
        raise CapttyError(f"cannot tell the format of '{path}': use one of the extensions "
                          f"{', '.join('.' + f for f in FORMATS)} or --format")
    return fmt


def open_writer(path: str | Path, fmt: str | None = None, *, item: int = 0, timing=None,
                settings: dict | None = None, rules: CueRules | None = None) -> TranscriptWriter:
    fmt = format_of(path, fmt)
    try:
        if fmt == "json":
            return JsonWriter(path, item, timing=timing, settings=settings)
        if fmt in ("srt", "vtt"):
            return WRITERS[fmt](path, item, rules=rules)
        return WRITERS[fmt](path, item)
    except OSError as e:
        raise CapttyError(f"cannot write '{path}': {e.strerror or e}") from e


class Sinks:
    """Several sinks as one: each event to each, in order."""

    def __init__(self, sinks):
        self.sinks = list(sinks)

    def handle(self, event) -> None:
        for sink in self.sinks:
            sink.handle(event)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


def transcript_sink(paths, fmt: str | None = None, *, turn_threshold: float = DEFAULT_THRESHOLD,
                    settings: dict | None = None) -> Sinks:
    """One sink writing a session's words and turns to every file of `paths` (the timing
    they record comes from the session's `SessionStarted`). A file that cannot be written, from
    the start or later (a full disk), is said in one line and left out; the others go on."""
    settings = dict(settings or {}) | {"turn_threshold": turn_threshold}
    sinks = []
    for path in paths:
        try:
            sinks.append(GuardedSink(open_writer(path, fmt, settings=settings), str(path)))
        except CapttyError as e:
            log.warning("%s; the run goes on without it", e)
            sinks.append(GuardedSink.failed(str(path), str(e).split(": ", 1)[-1]))
    return Sinks(sinks)


__all__ = [
    "FORMATS",
    "Cue",
    "CueBuilder",
    "CueRules",
    "JsonWriter",
    "JsonlWriter",
    "Sinks",
    "SrtWriter",
    "TranscriptWriter",
    "TxtWriter",
    "VttWriter",
    "format_of",
    "open_writer",
    "transcript_sink",
]

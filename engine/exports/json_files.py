"""JSON (.json: words with times, turns, model, settings and figures) and JSON Lines (.jsonl:
the event stream, one event a line).

The .json file is replaced (write and rename) each time a word finishes, so it always parses;
`"complete": false` until the run has ended (and for good if the engine failed). The .jsonl file is appended to and flushed line by
line; speech samples are left out (their count is kept).
"""
from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path

from ..events import SessionEnded, SessionStarted, SpeechDecoded
from ..words import WordTiming
from .files import AppendFile, replace_text
from .writer import TranscriptWriter


def event_record(event) -> dict:
    """One event as a JSON-ready dict: its type under "event", then its fields."""
    record = {"event": type(event).__name__}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(event, SpeechDecoded) and f.name == "pcm":
            record["samples"] = int(value.size)
            continue
        record[f.name] = value.value if isinstance(value, enum.Enum) else value
    return record


class JsonlWriter(TranscriptWriter):
    """Every event of every item, engine and derived (words, turns), as it comes."""

    def __init__(self, path: str | Path, item: int = 0):
        super().__init__(path, item)
        self._file = AppendFile(self.path)

    def handle(self, event) -> None:
        self._file.write(json.dumps(event_record(event), ensure_ascii=False) + "\n")

    def finish(self) -> None:
        self._file.close()


def _round(x: float) -> float:
    return round(x, 3)


class JsonWriter(TranscriptWriter):
    def __init__(self, path: str | Path, item: int = 0, timing: WordTiming | None = None,
                 settings: dict | None = None):
        super().__init__(path, item)
        self.timing = timing
        self.settings = dict(settings or {})
        self.session: dict | None = None
        self.summary: dict | None = None
        self._words: list[str] = []  # each word serialised once
        self.turns: list[dict] = []
        self._write(complete=False)

    def started(self, event: SessionStarted) -> None:
        self.session = event_record(event)
        del self.session["event"]
        self._write(complete=False)

    def word(self, word) -> None:
        self._words.append(json.dumps({"text": word.text, "start": _round(word.start),
                                       "end": _round(word.end)}, ensure_ascii=False))
        self._write(complete=False)

    def turn(self, turn) -> None:
        self.turns.append({"time": _round(turn.time), "probability": round(turn.probability, 4)})

    def ended(self, event: SessionEnded) -> None:
        self.summary = event_record(event) | {"ms_per_step": event.ms_per_step,
                                              "real_time_factor": event.real_time_factor}
        del self.summary["event"]

    def _write(self, complete: bool) -> None:
        timing = None if self.timing is None else {"frame_rate": self.timing.frame_rate,
                                                   "offset_seconds": self.timing.offset}
        head = {"format": "captty-transcript", "version": 1, "item": self.item,
                "model": self.session, "settings": self.settings, "timing": timing}
        tail = {"turns": self.turns, "summary": self.summary, "complete": complete}
        text = (json.dumps(head, ensure_ascii=False, indent=1)[:-2]
                + ',\n "words": [\n  ' + ",\n  ".join(self._words) + "\n ],\n"
                + json.dumps(tail, ensure_ascii=False, indent=1)[2:] + "\n")
        replace_text(self.path, text)

    def finish(self) -> None:
        self._write(complete=self.summary is not None)  # not when the engine failed

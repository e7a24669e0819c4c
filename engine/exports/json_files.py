"""JSON (.json: words with times, turns, model, settings and figures) and JSON Lines (.jsonl:
the event stream, one event a line).

The .json file is written in place, one write a word or turn (see `JsonWriter`), so it always
parses; `"complete": false` until the run has ended (and for good if the engine failed). A
killed run (even with SIGKILL) leaves a .json that lacks at most the word or turn being written.
The .jsonl file is appended to and flushed line by line (a killed run loses at most the line
being written); speech samples are left out (their count is kept).
"""
from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path

from ..events import SessionEnded, SessionStarted, SpeechDecoded
from ..words import WordTiming
from .files import AppendFile, PatchedFile
from .writer import TranscriptWriter


def event_record(event) -> dict:
    """One event as a JSON-ready dict: its type under "event", then its fields."""
    record: dict = {"event": type(event).__name__}
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


TAIL = b"\n ]\n}\n"  # closes "words", then the document
MIN_RESERVE = 256  # bytes of spaces kept for turns, and for words


class JsonWriter(TranscriptWriter):
    """One item's transcript as one JSON document, valid at every flush, laid out as

        {"format", "version", "item", "model", "settings", "timing", "summary", "complete",
         "turns": [{"time", "probability"}, ...<reserve of spaces>],
         "words": [{"text", "start", "end"}, ...]}<reserve of spaces>

    The file keeps its size between rewrites: a word is one pwrite() of the word and the
    closing `TAIL` over the old closing and the spaces after it, a turn one pwrite() into the
    reserve inside "turns"; the document is valid before and after each, and the bytes before
    the written ones do not change. The whole document is rewritten (write and rename) when the
    file is opened, at `SessionStarted` (the model), when a word or a turn does not fit in its
    reserve, and at `finish` (the summary, `"complete": true` if the run ended, no reserves).
    Each rewrite reserves a sixteenth of the document (at least `MIN_RESERVE` bytes) for each,
    so the next one comes only once words or turns have filled most of one: a rewrite costs a
    bounded multiple (about 20) of the bytes written since the previous one, and the cost per
    word and per turn does not grow with the transcript.

    A reader sees one version or the other (a rewrite is a new file; a write in place does not
    change the file's size, so a reader's read() calls all stop at the same end), short of a
    read that copies the very bytes a write is copying at that moment (reading again then gives
    the new version).
    """

    def __init__(self, path: str | Path, item: int = 0, timing: WordTiming | None = None,
                 settings: dict | None = None):
        super().__init__(path, item)
        self.timing = timing
        self.settings = dict(settings or {})
        self.session: dict | None = None
        self.summary: dict | None = None
        # the items of each array, each serialised once with its separator, and where the next
        # one goes in the file: (byte offset, bytes of spaces left there)
        self._items = {"turns": bytearray(), "words": bytearray()}
        self._room = {"turns": (0, 0), "words": (0, 0)}
        self._file = PatchedFile(self.path)
        self._rewrite(complete=False)

    def started(self, event: SessionStarted) -> None:
        self.session = event_record(event)
        del self.session["event"]
        self.timing = WordTiming.of(event)
        self._rewrite(complete=False)

    def word(self, word) -> None:
        self._add("words", {"text": word.text, "start": _round(word.start),
                            "end": _round(word.end)})

    def turn(self, turn) -> None:
        self._add("turns", {"time": _round(turn.time), "probability": round(turn.probability, 4)})

    def _add(self, array: str, value: dict) -> None:
        items = self._items[array]
        item = (b",\n  " if items else b"\n  ") + json.dumps(value, ensure_ascii=False).encode()
        items += item
        at, room = self._room[array]
        if len(item) > room:
            self._rewrite(complete=False)
            return
        self._file.write_at(at, item + (TAIL if array == "words" else b""))
        self._room[array] = (at + len(item), room - len(item))

    def ended(self, event: SessionEnded) -> None:
        self.summary = event_record(event) | {"ms_per_step": event.ms_per_step,
                                              "real_time_factor": event.real_time_factor}
        del self.summary["event"]

    def _rewrite(self, complete: bool, reserve: bool = True) -> None:
        timing = None if self.timing is None else {"frame_rate": self.timing.frame_rate,
                                                   "offset_seconds": self.timing.offset}
        head = {"format": "captty-transcript", "version": 1, "item": self.item,
                "model": self.session, "settings": self.settings, "timing": timing,
                "summary": self.summary, "complete": complete}
        turns = (json.dumps(head, ensure_ascii=False, indent=1)[:-2].encode()
                 + b',\n "turns": [' + self._items["turns"])
        words = b'\n ],\n "words": [' + self._items["words"]
        spaces = max(MIN_RESERVE, (len(turns) + len(words) + len(TAIL)) // 16) if reserve else 0
        self._room["turns"] = (len(turns), spaces)
        self._room["words"] = (len(turns) + spaces + len(words), spaces)
        self._file.replace(b"".join([turns, b" " * spaces, words, TAIL, b" " * spaces]))

    def finish(self) -> None:
        # complete: not when the engine failed (no summary)
        self._rewrite(complete=self.summary is not None, reserve=False)
        self._file.close()

"""Plain text (.txt): the words as they finish, one line a turn, flushed word by word."""
from __future__ import annotations

from pathlib import Path

from .files import AppendFile
from .writer import TranscriptWriter


class TxtWriter(TranscriptWriter):
    def __init__(self, path: str | Path, item: int = 0):
        super().__init__(path, item)
        self._file = AppendFile(self.path)
        self._line_open = False
        self._turn_end: float | None = None

    def word(self, word) -> None:
        if self._line_open and self._turn_end is not None and word.start >= self._turn_end:
            self._file.write("\n")
            self._line_open = False
        if self._turn_end is not None and word.start >= self._turn_end:
            self._turn_end = None
        self._file.write((" " if self._line_open else "") + word.text)
        self._line_open = True

    def turn(self, turn) -> None:
        if self._turn_end is None:
            self._turn_end = turn.time

    def finish(self) -> None:
        if self._line_open:
            self._file.write("\n")
        self._file.close()

"""Plain text (.txt): the words as they finish, one line a turn, flushed word by word.

`TranscriptText` composes it; the console's saved and copied transcript is composed by the same
class, so it equals the .txt file of the same run.
"""
from __future__ import annotations

from pathlib import Path

from .files import AppendFile
from .writer import TranscriptWriter


class TranscriptText:
    """Words and turn ends in, the text to append out: words joined by spaces, a new line for
    the first word that starts after a turn ended."""

    def __init__(self) -> None:
        self._line_open = False
        self._turn_end: float | None = None

    def word(self, text: str, start: float) -> str:
        out = ""
        if self._turn_end is not None and start >= self._turn_end:
            if self._line_open:
                out = "\n"
                self._line_open = False
            self._turn_end = None
        out += (" " if self._line_open else "") + text
        self._line_open = True
        return out

    def turn(self, time: float) -> None:
        if self._turn_end is None:
            self._turn_end = time

    def finish(self) -> str:
        """The end of the text: a newline after the last line."""
        out = "\n" if self._line_open else ""
        self._line_open = False
        return out


class TxtWriter(TranscriptWriter):
    def __init__(self, path: str | Path, item: int = 0):
        super().__init__(path, item)
        self._file = AppendFile(self.path)
        self._text = TranscriptText()

    def word(self, word) -> None:
        self._file.write(self._text.word(word.text, word.start))

    def turn(self, turn) -> None:
        self._text.turn(turn.time)

    def finish(self) -> None:
        self._file.write(self._text.finish())
        self._file.close()

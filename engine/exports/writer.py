"""What every transcript writer shares: which item it writes, and the events it cares about."""
from __future__ import annotations

from pathlib import Path

from ..events import Event, SessionEnded, SessionStarted
from ..turns import TurnEnded
from ..words import WordFinished


class TranscriptWriter:
    """A sink for annotated events (`engine.annotate.Annotated`) writing one item's transcript."""

    def __init__(self, path: str | Path, item: int = 0):
        self.path = Path(path)
        self.item = item
        self.closed = False

    def handle(self, event: Event) -> None:
        if isinstance(event, WordFinished):
            if event.item == self.item:
                self.word(event)
        elif isinstance(event, TurnEnded):
            if event.item == self.item:
                self.turn(event)
        elif isinstance(event, SessionStarted):
            self.started(event)
        elif isinstance(event, SessionEnded):
            self.ended(event)

    def word(self, word: WordFinished) -> None: ...

    def turn(self, turn: TurnEnded) -> None: ...

    def started(self, event: SessionStarted) -> None: ...

    def ended(self, event: SessionEnded) -> None: ...

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.finish()

    def finish(self) -> None: ...

"""What the engine's events mean: words with their times, and turn ends.

`Annotator.handle(event)` returns the derived events (`WordStarted`, `WordFinished`,
`TurnEnded`) that one engine event decided. A `Session` runs one for its stream, so every
consumer of `Session.events()` (the console, stdout, transcript files, the server) reads the same
words; its timing comes from the stream's `SessionStarted`.
"""
from __future__ import annotations

from .events import EngineFailed, Event, SessionEnded, TurnEnded, WordFinished, WordStarted
from .turns import DEFAULT_THRESHOLD, TurnTracker
from .words import WordTracker

Derived = WordStarted | WordFinished | TurnEnded


class Annotator:
    def __init__(self, words: WordTracker, turns: TurnTracker):
        self.words = words
        self.turns = turns

    @classmethod
    def of(cls, model, turn_threshold: float = DEFAULT_THRESHOLD) -> "Annotator":
        return cls(WordTracker.of(model), TurnTracker(threshold=turn_threshold))

    def handle(self, event: Event) -> list[Derived]:
        """The words and turn ends `event` decided."""
        return [*self.turns.handle(event), *self.words.handle(event)]

    def annotate(self, event: Event) -> list[Event]:
        """`event` and what it decided, in stream order: the words still open at the end of a
        session come before its last event (`SessionEnded`, `EngineFailed`)."""
        derived = self.handle(event)
        if isinstance(event, (SessionEnded, EngineFailed)):
            return [*derived, event]
        return [event, *derived]

"""Engine events plus what they mean: words with their times and turn ends, for sinks.

    sink = Annotated([SrtWriter("talk.srt"), TxtWriter("talk.txt")], Annotator.of(model))

`Annotator.handle(event)` returns the derived events (`WordStarted`, `WordFinished`,
`TurnEnded`) that one engine event caused; `Annotated` is a sink that passes each engine event
on to its sinks, followed by the events derived from it. The TUI can use the same classes.
"""
from __future__ import annotations

from .turns import DEFAULT_THRESHOLD, TurnTracker
from .words import WordTracker


class Annotator:
    def __init__(self, words: WordTracker, turns: TurnTracker):
        self.words = words
        self.turns = turns

    @classmethod
    def of(cls, model, turn_threshold: float = DEFAULT_THRESHOLD) -> "Annotator":
        words = WordTracker.of(model)
        return cls(words, TurnTracker(words.timing, turn_threshold))

    def handle(self, event) -> list:
        return self.turns.handle(event) + self.words.handle(event)


class Annotated:
    """A sink feeding `sinks` with engine events and the words and turns derived from them."""

    def __init__(self, sinks: list, annotator: Annotator):
        self.sinks = sinks
        self.annotator = annotator

    def handle(self, event) -> None:
        for e in [event, *self.annotator.handle(event)]:
            for sink in self.sinks:
                sink.handle(e)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

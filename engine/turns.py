"""End of turn from the semantic VAD: a `TurnEnded` when the speaker has likely finished.

Models with extra heads (kyutai/stt-1b-en_fr) score each step with the probability that the
speaker has finished a turn (`TurnEndScored`). As in Kyutai's scripts, a turn ends when it goes
above a threshold (0.5); it is reported once, and re-armed by the next piece of text, so
silence before anyone spoke ends no turn. Models without the heads produce no scores and so
no turns.
"""
from __future__ import annotations

from .events import Event, SessionStarted, StreamStarted, TextDecoded, TurnEnded, TurnEndScored
from .words import WordTiming

DEFAULT_THRESHOLD = 0.5


class TurnTracker:
    """Call `handle(event)` for each engine event in order; it returns the `TurnEnded` it caused."""

    def __init__(self, timing: WordTiming | None = None, threshold: float = DEFAULT_THRESHOLD):
        if not 0.0 < threshold < 1.0:
            raise ValueError("the end-of-turn threshold is a probability between 0 and 1")
        self.timing = timing or WordTiming()
        self.threshold = threshold
        self._armed: set[int] = set()
        self.last_probability: dict[int, float] = {}  # per item, for live displays

    def handle(self, event: Event) -> list[TurnEnded]:
        if isinstance(event, SessionStarted):
            self.timing = WordTiming.of(event)
        elif isinstance(event, StreamStarted):  # a new stream in this slot
            self._armed.discard(event.item)
            self.last_probability.pop(event.item, None)
        elif isinstance(event, TextDecoded):
            self._armed.add(event.item)
        elif isinstance(event, TurnEndScored):
            self.last_probability[event.item] = event.probability
            if event.item in self._armed and event.probability > self.threshold:
                self._armed.discard(event.item)
                return [TurnEnded(event.item, event.step, self.timing.seconds(event.step),
                                  event.probability)]
        return []

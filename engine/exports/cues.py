"""Words into readable caption cues: at most two lines of 42 characters and 6 seconds a cue,
and a new cue after a turn end or a pause.

Word ends follow Kyutai's rule (a word lasts until the next word boundary), so a word followed
by silence lasts until the next word: a word longer than `pause` is taken to end a phrase, and
its cue is shown at most `pause` seconds past that word's start.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..words import Word

MIN_CUE_SECONDS = 0.08  # one frame: words clamped at 0 s may have no duration


@dataclass(frozen=True)
class CueRules:
    max_line: int = 42  # characters a line
    max_lines: int = 2
    max_duration: float = 6.0  # seconds a cue
    pause: float = 1.0  # a word lasting longer than this ends its cue


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def wrap(words: list[str], width: int) -> list[str]:
    """Greedy line filling; a word longer than a line gets a line of its own."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


@dataclass
class CueBuilder:
    """Feed it finished words (`add`) and turn ends (`turn_ended`); it returns the cues they
    close, each as soon as it is known to be complete (a word lasting longer than `pause` closes
    its own cue). `pending` is the cue being filled, `finish` closes it at the end of the stream."""

    rules: CueRules = field(default_factory=CueRules)
    words: list[Word] = field(default_factory=list)
    _turn_end: float | None = None

    def turn_ended(self, time: float) -> None:
        if self._turn_end is None:
            self._turn_end = time

    def add(self, word: Word) -> list[Cue]:
        out = []
        if self.words and self._breaks_before(word):
            out.append(self._close())
        if self._turn_end is not None and word.start >= self._turn_end:
            self._turn_end = None
        self.words.append(word)
        if word.end - word.start > self.rules.pause:
            out.append(self._close())
        return out

    def _breaks_before(self, word: Word) -> bool:
        rules = self.rules
        if self._turn_end is not None and word.start >= self._turn_end:
            return True
        if word.end - self.words[0].start > rules.max_duration:
            return True
        lines = wrap([w.text for w in self.words] + [word.text], rules.max_line)
        return len(lines) > rules.max_lines

    @property
    def pending(self) -> Cue | None:
        if not self.words:
            return None
        first, last = self.words[0], self.words[-1]
        end = min(last.end, last.start + self.rules.pause)
        return Cue(first.start, max(end, first.start + MIN_CUE_SECONDS),
                   tuple(wrap([w.text for w in self.words], self.rules.max_line)))

    def _close(self) -> Cue:
        cue = self.pending
        assert cue is not None, "a cue closes only when it holds words"
        self.words = []
        return cue

    def finish(self) -> list[Cue]:
        return [self._close()] if self.words else []

"""Word timestamps, computed as Kyutai's STT tools do, while the stream runs or from a whole stream.

The model's text stream marks where each word starts with the end-of-padding token (id 0). A
word spans from the step after one boundary to the next boundary; several words between two
boundaries share the span, each getting as many steps as it has tokens, the last one taking the
rest; the last word of the stream ends at EOS, at the end of the stream, or at most one second
after it starts. Text before the first boundary is no word. A step `p` is at
`max(0, p / frame_rate - offset)` seconds of the audio, where the offset is the silence prefix
the engine put before the audio plus the model's delay (`SessionStarted.time_offset`).

`WordTracker` does it on engine events, emitting `WordStarted` once a word's tokens close (a
step without a piece for its item, or the next word begins) and `WordFinished` once its end is
known; `words_from_tokens` does it on a whole list of text tokens. Both give the same words.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .events import (EngineFailed, EosSampled, EosTooEarly, Event, ItemState, ItemStateChanged,
                     SessionEnded, SessionStarted, StepTimed, StreamStarted, TextDecoded, Word,
                     WordBoundary, WordFinished, WordStarted)

END_OF_PADDING, PADDING = 0, 3


@dataclass(frozen=True)
class WordTiming:
    """Steps to seconds of the input audio: one step a frame, less the prefix and the delay."""

    frame_rate: float = 12.5
    offset: float = 0.0  # seconds: the silence prefix plus the model's delay
    last_word_seconds: float = 1.0  # the longest a last word may last without a boundary

    def seconds(self, position: float) -> float:
        return max(0.0, position / self.frame_rate - self.offset)

    @classmethod
    def of(cls, started: SessionStarted) -> "WordTiming":
        """The timing of a session, as it announced it."""
        return cls(started.frame_rate, started.time_offset)


def piece_text(tokenizer) -> Callable[[int], str]:
    """The text of one token as the engine shows it (`▁` is a space)."""
    return lambda token: tokenizer.id_to_piece(token).replace("▁", " ")


def token_counter(tokenizer) -> Callable[[str], int]:
    """How many tokens a word has, for words sharing a span (Kyutai: `len(tokenizer.encode(w))`)."""
    return lambda word: max(len(tokenizer.encode(word)), 1)


def _split_span(words: list[str], start: float, end: float, count: Callable[[str], int]):
    """(word, start, end) positions for the words of one span: each but the last gets as many
    steps as it has tokens, the last takes the rest (ends are kept inside the span)."""
    out = []
    for word in words[:-1]:
        stop = min(start + count(word), end)
        out.append((word, start, stop))
        start = stop
    out.append((words[-1], start, end))
    return out


def words_from_tokens(tokens: Sequence[int], piece: Callable[[int], str],
                      count: Callable[[str], int], timing: WordTiming, eos_id: int = 2) -> list[Word]:
    """The whole-stream computation: `tokens[p]` is the text token of step `p`."""
    tokens = list(tokens)
    boundaries = [p for p, t in enumerate(tokens) if t == END_OF_PADDING]
    out: list[Word] = []

    def span(start: int, end: float, text_end: int | None = None) -> None:
        text = "".join(piece(t) for t in tokens[start:text_end or int(end)]
                       if t > PADDING and t != eos_id)
        if text.split():
            out.extend(Word(w, timing.seconds(a), timing.seconds(b))
                       for w, a, b in _split_span(text.split(), start, end, count))

    for here, there in itertools.pairwise(boundaries):
        span(here + 1, there)
    if boundaries:
        start = boundaries[-1] + 1
        eos = next((p for p in range(start, len(tokens)) if tokens[p] == eos_id), None)
        # the last span's text runs to EOS or the end (Kyutai's script cuts it at the 1 s cap
        # too, which would drop the rare pieces that come later without a boundary)
        span(start, eos if eos is not None else
             min(len(tokens), start + timing.last_word_seconds * timing.frame_rate),
             eos if eos is not None else len(tokens))
    return out


@dataclass
class _Span:
    start: int  # the step after its boundary
    text: str = ""
    started: int = 0  # words of the span already announced by WordStarted
    eos: int | None = None  # the first EOS inside the span
    last_piece_step: int = -1


@dataclass
class _Item:
    span: _Span | None = None
    done: bool = False
    steps: int = 0  # its steps seen (the end of its stream so far)


class WordTracker:
    """Turns engine events into `WordStarted` / `WordFinished` for every batch item.

    Call `handle(event)` for each engine event in order; it returns the word events it caused.
    A word is started once its tokens close (a step without a piece for its item, or a piece
    that begins the next word) and finished when its span closes: at the next boundary, or at
    the end of the stream. `eos_is_token`: the model ends an item by sampling EOS (Hibiki), so
    `EOS_REACHED` marks an EOS token, which ends the last word as in Kyutai's tools. The timing
    comes from `SessionStarted`; a `StreamStarted` starts its slot afresh.
    """

    def __init__(self, count: Callable[[str], int], eos_is_token: bool = False,
                 timing: WordTiming | None = None):
        self.timing = timing or WordTiming()
        self.count = count
        self.eos_is_token = eos_is_token
        self._items: dict[int, _Item] = {}

    @classmethod
    def of(cls, model) -> "WordTracker":
        return cls(token_counter(model.tokenizer), eos_is_token=model.model_type == "hibiki")

    def _item(self, item: int) -> _Item:
        return self._items.setdefault(item, _Item())

    def handle(self, event: Event) -> list:
        if isinstance(event, TextDecoded):
            return self._piece(event)
        if isinstance(event, WordBoundary):
            state = self._item(event.item)
            if state.done:
                return []
            out = self._close(event.item, state.span, event.step, event.step)
            state.span = _Span(event.step + 1)
            return out
        if isinstance(event, StepTimed):
            out = []
            for item, state in self._items.items():  # a step without a piece closes the tokens
                step = event.step if event.slot_steps is None else event.slot_steps[item]
                if step < 0:
                    continue  # the slot sat this step out
                state.steps = max(state.steps, step + 1)
                span = state.span
                if span is not None and not state.done and span.last_piece_step < step:
                    out += self._announce(item, span, step, closed=True)
            return out
        if isinstance(event, SessionStarted):
            self.timing = WordTiming.of(event)
            return []
        if isinstance(event, StreamStarted):
            self._items[event.item] = _Item()
            return []
        if isinstance(event, (EosTooEarly, EosSampled)):
            self._eos(event.item, event.step)
            return []
        if isinstance(event, ItemStateChanged) and event.state in (ItemState.EOS_REACHED,
                                                                   ItemState.EOS_MISSING):
            if event.state == ItemState.EOS_REACHED and self.eos_is_token:
                self._eos(event.item, event.step)
            return self._end(event.item, event.step)
        if isinstance(event, (SessionEnded, EngineFailed)):
            out = []
            for item, state in list(self._items.items()):
                out += self._end(item, max(state.steps - 1, 0))
            return out
        return []

    def _eos(self, item: int, step: int) -> None:
        span = self._item(item).span
        if span is not None and span.eos is None:
            span.eos = step

    def _piece(self, event: TextDecoded) -> list:
        state = self._item(event.item)
        span = state.span
        if span is None or state.done:
            return []  # text before the first boundary is no word
        span.text += event.text
        span.last_piece_step = event.step
        return self._announce(event.item, span, event.step, closed=False)

    def _announce(self, item: int, span: _Span, step: int, closed: bool) -> list:
        """WordStarted for the words whose tokens have closed."""
        words = span.text.split()
        complete = len(words) if closed or span.text[-1:].isspace() else len(words) - 1
        if complete <= span.started:
            return []
        starts = [a for _, a, _ in _split_span([*words, ""], span.start, float("inf"), self.count)]
        out = [WordStarted(item, step, words[k], self.timing.seconds(starts[k]))
               for k in range(span.started, complete)]
        span.started = complete
        return out

    def _close(self, item: int, span: _Span | None, step: int, end: float) -> list:
        """The span ends at `end` (a boundary, EOS, or the end of the stream): its words finish."""
        if span is None or not span.text.split():
            return []
        out = self._announce(item, span, step, closed=True)
        return out + [WordFinished(item, step, w, self.timing.seconds(a), self.timing.seconds(b))
                      for w, a, b in _split_span(span.text.split(), span.start, end, self.count)]

    def _end(self, item: int, step: int) -> list:
        state = self._item(item)
        if state.done:
            return []
        state.done = True
        span = state.span
        if span is None:
            return []
        end: float
        if span.eos is not None:
            end = span.eos
        else:  # the end of the stream: `step` is its last (its StepTimed may not have come yet)
            end = min(max(state.steps, step + 1),
                      span.start + self.timing.last_word_seconds * self.timing.frame_rate)
        return self._close(item, span, step, end)

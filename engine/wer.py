"""Word error rate against a reference text, with jiwer and its standard normalisation
(`jiwer.wer_standardize`: lower case, English contractions expanded, Kaldi non-words and extra
spaces removed) plus punctuation turned into spaces (so "l'école" is two words on both sides).

`word_error_rate(reference, hypothesis)` scores a whole transcript; `LiveWer` scores one while
it grows: the reference words after the last one the transcript has reached are not counted as
deleted yet.
"""
from __future__ import annotations

from dataclasses import dataclass

import jiwer

from .words import WordFinished


NORMALISE = jiwer.Compose([
    jiwer.ToLowerCase(), jiwer.ExpandCommonEnglishContractions(), jiwer.RemoveKaldiNonWords(),
    jiwer.SubstituteRegexes({r"[^\w\s]|_": " "}), jiwer.RemoveWhiteSpace(replace_by_space=True),
    jiwer.RemoveMultipleSpaces(), jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])


def normalise(text: str) -> list[str]:
    words = NORMALISE(text)
    return [w for w in words[0] if w] if words else []


@dataclass(frozen=True)
class WerScore:
    wer: float
    errors: int  # substitutions + deletions + insertions
    reference_words: int  # reference words scored against

    def __str__(self) -> str:
        return f"WER {100 * self.wer:.1f}% ({self.errors} errors / {self.reference_words} words)"


def _score(reference: list[str], hypothesis: list[str], live: bool) -> WerScore:
    if not reference:
        return WerScore(float(bool(hypothesis)), len(hypothesis), 0)
    if not hypothesis:
        return WerScore(0.0 if live else 1.0, 0 if live else len(reference), 0 if live else len(reference))
    out = jiwer.process_words(" ".join(reference), " ".join(hypothesis))
    chunks = out.alignments[0]
    deletions = out.deletions
    covered = len(reference)
    if live and chunks and chunks[-1].type == "delete":  # not reached yet
        deletions -= chunks[-1].ref_end_idx - chunks[-1].ref_start_idx
        covered = chunks[-1].ref_start_idx
    errors = out.substitutions + deletions + out.insertions
    return WerScore(errors / max(covered, 1), errors, covered)


def word_error_rate(reference: str, hypothesis: str) -> WerScore:
    return _score(normalise(reference), normalise(hypothesis), live=False)


class LiveWer:
    """Add words as they finish (`add`, or as a sink of annotated events: `handle`); `score`
    compares them with the reference so far, `final` with the whole reference."""

    def __init__(self, reference: str, item: int = 0):
        self.reference = normalise(reference)
        self.item = item
        self.words: list[str] = []
        self._scored: tuple[int, WerScore] | None = None

    def handle(self, event) -> None:
        if isinstance(event, WordFinished) and event.item == self.item:
            self.add(event.text)

    def close(self) -> None:
        pass

    def add(self, text: str) -> None:
        self.words.extend(normalise(text))

    @property
    def score(self) -> WerScore:
        """Recomputed only when words were added since the last call."""
        if self._scored is None or self._scored[0] != len(self.words):
            self._scored = (len(self.words), _score(self.reference, self.words, live=True))
        return self._scored[1]

    @property
    def final(self) -> WerScore:
        return _score(self.reference, self.words, live=False)

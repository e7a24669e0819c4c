"""Word error rate against a reference text, with jiwer and its standard normalisation
(`jiwer.wer_standardize`: lower case, English contractions expanded, Kaldi non-words and extra
spaces removed) plus punctuation turned into spaces (so "l'école" is two words on both sides).

`word_error_rate(reference, hypothesis)` scores a whole transcript; `LiveWer` scores one while
it grows, at a bounded cost a call: the reference words after the last one the transcript has
reached are not counted as deleted yet.
"""
from __future__ import annotations

from dataclasses import dataclass

import jiwer
import numpy as np

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

    @classmethod
    def of(cls, errors: int, reference_words: int) -> WerScore:
        return cls(errors / reference_words if reference_words else float(errors > 0), errors,
                   reference_words)

    def __str__(self) -> str:
        return f"WER {100 * self.wer:.1f}% ({self.errors} errors / {self.reference_words} words)"


def _align(reference: list[str], hypothesis: list[str]) -> list:
    """jiwer's alignment of two lists of words, as chunks (`jiwer.AlignmentChunk`)."""
    if not reference and not hypothesis:
        return []
    return jiwer.process_words(" ".join(reference), " ".join(hypothesis)).alignments[0]


def _errors(chunk) -> int:
    if chunk.type == "equal":
        return 0
    return max(chunk.ref_end_idx - chunk.ref_start_idx, chunk.hyp_end_idx - chunk.hyp_start_idx)


def _score(reference: list[str], hypothesis: list[str]) -> WerScore:
    return WerScore.of(sum(map(_errors, _align(reference, hypothesis))), len(reference))


def word_error_rate(reference: str, hypothesis: str) -> WerScore:
    return _score(normalise(reference), normalise(hypothesis))


class _FreeEnd:
    """The last row of the Levenshtein table of a growing list of words (`extend`) against a
    fixed reference, computed a word at a time with numpy: `best` gives the fewest errors over
    every beginning of the reference (its end is free) and the length of that beginning (the
    longest on a tie)."""

    def __init__(self, reference: list[str]):
        self.reference = reference
        self.words = 0
        self._ids: dict[str, int] = {}
        self._ref = np.array([self._ids.setdefault(w, len(self._ids)) for w in reference],
                             dtype=np.int64)
        self._j = np.arange(len(reference) + 1)
        self._row = self._j.copy()  # no word yet: j reference words deleted

    def extend(self, words: list[str]) -> None:
        j, row = self._j, self._row
        for word in words:
            self.words += 1
            best = np.empty_like(row)
            best[0] = self.words  # every word inserted
            np.minimum(row[:-1] + (self._ref != self._ids.get(word, -1)), row[1:] + 1,
                       out=best[1:])  # the word matched or substituted, or inserted
            row = np.minimum.accumulate(best - j) + j  # then reference words deleted
        self._row = row

    def best(self) -> tuple[int, int]:
        errors = int(self._row.min())
        return errors, int(np.flatnonzero(self._row == errors)[-1])


def _cut(chunks: list, target: int, anchor: int) -> tuple[int, int, int] | None:
    """The last point of an alignment at or before hypothesis word `target` that comes after
    `anchor` matched words in a row (with `anchor=0`: the point at `target`), as (hypothesis
    words, reference words, errors) before it; None if there is none."""
    errors, found = 0, None
    for c in chunks:
        if c.hyp_start_idx >= target and c.type != "delete":
            break
        if c.type == "delete":
            errors += c.ref_end_idx - c.ref_start_idx
            found = found if anchor else (c.hyp_end_idx, c.ref_end_idx, errors)
            continue
        n = min(c.hyp_end_idx, target) - c.hyp_start_idx  # its words before `target`
        point = (c.hyp_start_idx + n, c.ref_start_idx + (0 if c.type == "insert" else n))
        if c.type == "equal":
            found = (*point, errors) if n >= anchor else found
        else:
            errors += n
            found = found if anchor else (*point, errors)
    return found


class LiveWer:
    """Add words as they finish (`add`, or as a sink of annotated events: `handle`); `score`
    compares them with the reference so far, `final` with the whole reference (one jiwer
    alignment of everything: call it once, at the end).

    `score` counts the fewest errors over every number of reference words the transcript may
    have reached (the words after them are not counted as deleted yet). Its cost does not grow
    with the transcript. The alignment of the older words is frozen (its errors counted, the
    reference position it reached kept); the words after it are scored against the reference
    from that position (the next `21 * window` words), a row of the Levenshtein table for each
    new word (`_FreeEnd`). Once more than `2 * window` words are unfrozen, jiwer aligns them,
    and the alignment is frozen up to the last run of `ANCHOR` matched words at least `window`
    words back (the rows of the words after it are computed again). Without such a run the
    unfrozen words grow, up to `10 * window` (then the cut is made `window` words back anyway),
    so that a skipped stretch of the reference is recognised once more matched words than it
    has follow it. A call costs a row for each new word, and now and then (about once every
    `window` words) one jiwer alignment and up to `10 * window` rows, usually fewer than
    `2 * window`.

    The score equals that of one whole alignment whenever the frozen cuts lie on an optimal
    alignment, as they do after a run of correct words (errors sparse enough for such runs, and
    no skipped or inserted stretch so long that the unfrozen words reach `10 * window`);
    otherwise it counts more errors, never fewer.
    """

    ANCHOR = 4

    def __init__(self, reference: str, item: int = 0, *, window: int = 100):
        self.reference = normalise(reference)
        self.item = item
        self.window = window
        self.words: list[str] = []
        self._frozen = (0, 0, 0)  # hypothesis words, reference words, errors
        self._table = self._table_from(0)
        self._scored: tuple[int, WerScore] | None = None

    def handle(self, event) -> None:
        if isinstance(event, WordFinished) and event.item == self.item:
            self.add(event.text)

    def close(self) -> None:
        pass

    def add(self, text: str) -> None:
        self.words.extend(normalise(text))

    def _table_from(self, ref: int) -> _FreeEnd:
        return _FreeEnd(self.reference[ref:ref + 21 * self.window])

    def _freeze(self, words: list[str], reached: int) -> bool:
        """Freeze the alignment of the unfrozen `words` up to a cut; False if none is found."""
        chunks, target = _align(self._table.reference[:reached], words), len(words) - self.window
        cut = _cut(chunks, target, self.ANCHOR)
        if cut is None and len(words) >= 10 * self.window:
            cut = _cut(chunks, target, 0)
        if cut is None:
            return False
        hyp, ref, errors = self._frozen
        self._frozen = (hyp + cut[0], ref + cut[1], errors + cut[2])
        self._table = self._table_from(ref + cut[1])
        return True

    def _align_unfrozen(self) -> WerScore:
        while True:
            hyp, ref, errors = self._frozen
            end = min(len(self.words), hyp + 10 * self.window)
            self._table.extend(self.words[hyp + self._table.words:end])
            tail_errors, reached = self._table.best()
            if end - hyp > 2 * self.window and self._freeze(self.words[hyp:end], reached):
                continue  # align from the new frozen point
            if end == len(self.words):
                return WerScore.of(errors + tail_errors, ref + reached)

    @property
    def score(self) -> WerScore:
        """Recomputed only when words were added since the last call."""
        if self._scored is None or self._scored[0] != len(self.words):
            self._scored = (len(self.words), self._align_unfrozen())
        return self._scored[1]

    @property
    def final(self) -> WerScore:
        return _score(self.reference, self.words)

"""Word error rate with jiwer: standard normalisation, and a live score for a growing transcript."""
import pytest

from captty.engine.wer import LiveWer, normalise, word_error_rate
from captty.engine.words import WordFinished


def test_normalisation_ignores_case_punctuation_and_contractions():
    assert normalise("Don't STOP,  me now! L'école") == ["do", "not", "stop", "me", "now", "l", "école"]
    assert word_error_rate("Hello, world! It's nice.", "hello world it is nice").wer == 0.0


def test_wer_counts_substitutions_deletions_and_insertions():
    score = word_error_rate("the quick brown fox", "the quack brown fox jumps")
    assert (score.errors, score.reference_words) == (2, 4) and score.wer == pytest.approx(0.5)
    assert word_error_rate("one two", "").wer == 1.0


def test_live_wer_does_not_count_what_the_transcript_has_not_reached():
    live = LiveWer("the quick brown fox jumps over the lazy dog")
    scores = []
    for i, word in enumerate("the quick brawn fox".split()):
        live.handle(WordFinished(0, i, word, i * 0.3, i * 0.3 + 0.2))
        live.handle(WordFinished(1, i, "noise", 0.0, 0.1))  # another item
        scores.append((live.score.errors, live.score.reference_words))
    assert scores == [(0, 1), (0, 2), (1, 3), (1, 4)]
    assert live.final.errors == 6 and live.final.wer == pytest.approx(6 / 9)

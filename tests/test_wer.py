"""Word error rate with jiwer: standard normalisation, and a live score for a growing transcript
that equals one whole alignment where errors are sparse, at a bounded cost a call."""
import random

import jiwer
import pytest

from captty.engine import wer
from captty.engine.wer import LiveWer, normalise, word_error_rate
from captty.engine.words import WordFinished


def test_normalisation_ignores_case_punctuation_and_contractions():
    assert normalise("Don't STOP,  me now! L'école") == \
        ["do", "not", "stop", "me", "now", "l", "école"]
    assert word_error_rate("Hello, world! It's nice.", "hello world it is nice").wer == 0.0


def test_wer_counts_substitutions_deletions_and_insertions():
    score = word_error_rate("the quick brown fox", "the quack brown fox jumps")
    assert (score.errors, score.reference_words) == (2, 4) and score.wer == pytest.approx(0.5)
    assert word_error_rate("one two", "").wer == 1.0


def test_live_wer_does_not_count_what_the_transcript_has_not_reached():
    live = LiveWer("the quick brown fox jumps over the lazy dog")
    scores = []
    for i, word in enumerate(["the", "quick", "brawn", "fox"]):
        live.handle(WordFinished(0, i, word, i * 0.3, i * 0.3 + 0.2))
        live.handle(WordFinished(1, i, "noise", 0.0, 0.1))  # another item
        scores.append((live.score.errors, live.score.reference_words))
    assert scores == [(0, 1), (0, 2), (1, 3), (1, 4)]
    assert live.final.errors == 6 and live.final.wer == pytest.approx(6 / 9)


VOCABULARY = ["the", "a", "of", "and", "to", "in", "is", "it", "that", "was", "for", "on", "with",
              "as", "at", "by", "this", "we", "you", "not", "but", "from", "they", "his", "her",
              "she", "he", "or", "an", "be", "are", "have", "had", "were", "one", "all", "there",
              "their", "what", "so", "up", "out", "if", "about", "who", "get", "which", "go", "me",
              "when", "make", "can", "like", "time", "no", "just", "him", "know", "take", "people",
              "into", "year", "your", "good", "some", "could", "them", "see", "other", "than",
              "then", "now", "look", "only", "come", "its", "over", "think", "also", "back",
              "after", "use", "two", "how", "our", "work", "first", "well", "way", "even", "new",
              "want", "because", "any", "these", "give", "day", "most", "us", "speech", "model",
              "stream", "word", "turn"]


def read_aloud(seed: int, words: int, errors: float, bursts: float = 0.0):
    """A reference of common words, and a transcript of it with errors at rate `errors`
    (a third each substitutions, deletions, insertions) and, at rate `bursts` a word, a skipped
    stretch of 5 to 20 words or a babble of 3 to 10 words. Returns (reference, transcript,
    checkpoints): after each checkpoint's transcript word, the reference words reached."""
    rnd = random.Random(seed)
    reference = [rnd.choice(VOCABULARY) for _ in range(words)]
    transcript, checkpoints, i, clean = [], {}, 0, 0
    while i < len(reference):
        x = rnd.random()
        if x < bursts:
            if rnd.random() < 0.5:
                i += rnd.randint(5, 20)
            else:
                transcript += rnd.choices(VOCABULARY, k=rnd.randint(3, 10))
            clean = 0
            continue
        x = rnd.random()
        if x < errors / 3:
            transcript.append(rnd.choice(VOCABULARY))
        elif x < 2 * errors / 3:
            pass
        elif x < errors:
            transcript += [reference[i], rnd.choice(VOCABULARY)]
        else:
            transcript.append(reference[i])
            clean += 1
            if clean >= 3:  # three right words in a row: the transcript is at `i + 1`
                checkpoints[len(transcript)] = i + 1
            i += 1
            continue
        clean = 0
        i += 1
    return reference, transcript + reference[-3:], checkpoints


def jiwer_errors(reference: list[str], transcript: list[str]) -> int:
    out = jiwer.process_words(" ".join(reference), " ".join(transcript))
    return out.substitutions + out.deletions + out.insertions


def scored_as_in_the_console(reference: list[str], transcript: list[str], **kwargs) -> LiveWer:
    live = LiveWer(" ".join(reference), **kwargs)
    for n, word in enumerate(transcript, 1):
        live.add(word)
        if n % 2 == 0:  # the console scores up to 4 times a second, at about 2.5 words a second
            _ = live.score
    return live


def test_live_wer_equals_one_whole_alignment_when_errors_are_sparse():
    """With one error every 25 words on average, runs of right words separate the errors. Each
    frozen cut lies after four right words in a row, and with errors this far apart no optimal
    alignment leaves such a run (a shifted alignment would cost more than the errors it could
    save), so the frozen pieces add up to jiwer's whole alignment. Checked at each point where
    the transcript is known to have reached reference word k, against jiwer on the first k
    words (errors and words)."""
    reference, transcript, checkpoints = read_aloud(seed=1, words=4000, errors=0.04)
    live = LiveWer(" ".join(reference), window=20)  # a small window: many frozen cuts
    checked = 0
    for n, word in enumerate(transcript, 1):
        live.add(word)
        if n in checkpoints and n % 7 == 0:
            k = checkpoints[n]
            assert (live.score.errors, live.score.reference_words) == \
                (jiwer_errors(reference[:k], transcript[:n]), k), n
            checked += 1
    assert checked > 80 and live._frozen[0] > len(transcript) - 40  # cut after cut, to the end
    assert live.score == live.final == word_error_rate(" ".join(reference), " ".join(transcript))
    assert live.final.errors >= 100


def test_live_wer_of_a_messy_transcript_stays_within_one_percent():
    """About 30% of the words wrong, with skipped stretches and babble: scored as the console
    does (every other word), the live count is never below jiwer's whole alignment of the
    reference words it reached, and at most 1% above it."""
    reference, transcript, _ = read_aloud(seed=2, words=3000, errors=0.2, bursts=0.01)
    score = scored_as_in_the_console(reference, transcript).score
    whole = jiwer_errors(reference[:score.reference_words], transcript)
    assert whole <= score.errors <= 1.01 * whole and whole > 600
    assert score.reference_words == len(reference)  # the transcript ends on the reference's end


def test_a_skipped_paragraph_and_a_long_digression_are_recognised():
    reference, _, _ = read_aloud(seed=3, words=3000, errors=0.0)
    skipped = scored_as_in_the_console(reference, reference[:1000] + reference[1300:2500])
    assert (skipped.score.errors, skipped.score.reference_words) == (300, 2500)
    skipped.add(" ".join(["extra"] * 5))  # wrong words: the next reference words are reached
    assert (skipped.score.errors, skipped.score.reference_words) == (305, 2505)
    aside = [f"aside{i}" for i in range(600)]
    digressed = scored_as_in_the_console(reference, reference[:1000] + aside + reference[1000:2500])
    assert (digressed.score.errors, digressed.score.reference_words) == (600, 2500)


def test_a_score_aligns_a_bounded_number_of_words(monkeypatch):
    """However long the transcript, a call aligns its new words and at most `10 * window`
    others (no timing: the words handed to jiwer and to the numpy rows are counted)."""
    aligned, rows = [], []
    align, extend = wer._align, wer._FreeEnd.extend
    monkeypatch.setattr(wer, "_align", lambda r, h: aligned.append(len(h)) or align(r, h))
    monkeypatch.setattr(wer._FreeEnd, "extend",
                        lambda self, w: rows.append(len(w)) or extend(self, w))
    reference, transcript, _ = read_aloud(seed=4, words=8000, errors=0.1, bursts=0.005)
    transcript[3000:3000] = [f"aside{i}" for i in range(1500)]  # no anchor: cuts are forced
    live = LiveWer(" ".join(reference), window=50)
    per_call = []
    for n, word in enumerate(transcript, 1):
        live.add(word)
        if n % 2 == 0:
            rows.clear()
            aligned.clear()
            _ = live.score
            per_call.append((sum(rows), max(aligned, default=0)))
    assert max(a for _, a in per_call) <= 500  # jiwer: at most 10 windows of words
    assert max(r for r, _ in per_call) <= 500 + 2  # numpy rows: the new words, and after a cut
    assert sum(r for r, _ in per_call) <= 3 * len(transcript)  # the unfrozen ones: a few a word

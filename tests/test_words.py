"""Word timestamps: Kyutai's rule on token streams built with known boundaries, delay and prefix;
streaming words equal the whole-stream computation; end to end on the tiny checkpoint."""
import numpy as np
import pytest
import sphn

from conftest import DEMO_EN, DEMO_FR
from captty.engine.events import (EosTooEarly, ItemState, ItemStateChanged, SessionEnded,
                                 SessionStarted, StepTimed, TextDecoded, WordBoundary)
from captty.engine.reference_loop import seed_loop
from captty.engine.words import (Word, WordFinished, WordStarted, WordTiming, WordTracker, piece_text,
                          token_counter, words_from_tokens)
from engine_run import run

PIECES = {4: " hello", 5: " world", 6: " a", 7: " b", 8: "c", 9: " last", 10: " early"}
piece = PIECES.__getitem__


def count(word: str) -> int:
    return len(word)  # this toy tokenizer spells each word out, one token a letter


def stream(boundaries_and_pieces: dict[int, int], length: int) -> list[int]:
    tokens = [3] * length
    for step, token in boundaries_and_pieces.items():
        tokens[step] = token
    return tokens


def events_of(tokens: list[int], item: int = 0, eos_step: int | None = None):
    """The engine events a step loop emits for these text tokens (one item, 80 ms steps), in
    its order: a step's token events, the end of the stream with its last step, its StepTimed."""
    last = len(tokens) - 1 if eos_step is None else eos_step
    for step, token in enumerate(tokens):
        if token == 0:
            yield WordBoundary(item, step, step * 0.08)
        elif token == 2:
            yield EosTooEarly(item, step)
        elif token > 3:
            yield TextDecoded(item, step, step * 0.08, token, piece(token))
        if step == last:
            yield ItemStateChanged(item, last, ItemState.EOS_REACHED)
        yield StepTimed(step, 0, 0, 0, 0, (step + 1) * 0.08)
    yield SessionEnded(len(tokens), len(tokens) * 0.08, 1.0, False)


def streamed(tokens, timing, **kwargs):
    tracker = WordTracker(count, timing=timing, **kwargs)
    out = []
    for event in events_of(tokens):
        out += tracker.handle(event)
    return out


# prefix 1.0 s + delay 0.5 s, as tiny-stt and kyutai/stt-2.6b-en's prefix; 12.5 steps a second
TIMING = WordTiming(frame_rate=12.5, offset=1.5)
# boundaries at 20, 30, 40 and 50; " a" and " b" share one span; "c" continues " world" after
# a padding step, and " b" right away
TOKENS = stream({20: 0, 21: 4, 30: 0, 31: 5, 33: 8, 40: 0, 41: 6, 42: 7, 43: 8, 50: 0, 51: 9}, 100)
EXPECTED = [  # (p / 12.5 - 1.5): a word spans from the step after its boundary to the next one
    Word("hello", 21 / 12.5 - 1.5, 30 / 12.5 - 1.5),  # 0.18 .. 0.90
    Word("worldc", 31 / 12.5 - 1.5, 40 / 12.5 - 1.5),  # 0.98 .. 1.70
    Word("a", 41 / 12.5 - 1.5, 42 / 12.5 - 1.5),  # one token for "a", the rest to "bc"
    Word("bc", 42 / 12.5 - 1.5, 50 / 12.5 - 1.5),
    Word("last", 51 / 12.5 - 1.5, 51 / 12.5 - 1.5 + 1.0),  # no boundary after it: 1 s at most
]


def close(words, expected):
    assert [w.text for w in words] == [w.text for w in expected]
    np.testing.assert_allclose([(w.start, w.end) for w in words],
                               [(w.start, w.end) for w in expected], atol=1e-9)


def test_whole_stream_times_match_the_known_boundaries_delay_and_prefix():
    close(words_from_tokens(TOKENS, piece, count, TIMING), EXPECTED)
    assert EXPECTED[0].start == pytest.approx(0.18) and EXPECTED[0].end == pytest.approx(0.90)


def test_streaming_words_equal_the_whole_stream_and_come_as_soon_as_decided():
    events = streamed(TOKENS, TIMING)
    finished = [e.word for e in events if isinstance(e, WordFinished)]
    assert finished == words_from_tokens(TOKENS, piece, count, TIMING)
    started = {e.text: e for e in events if isinstance(e, WordStarted)}
    ends = {e.text: e for e in events if isinstance(e, WordFinished)}
    assert started["hello"].step == 22  # the step after its last piece: its tokens closed
    assert ends["hello"].step == 30  # its end: the next boundary
    assert started["hello"].start == ends["hello"].start
    assert started["world"].step == 32 and "worldc" in ends  # a later piece still joins it
    assert started["a"].step == 42  # " b" begins the next word: "a" is decided
    assert ends["last"].step == 99  # the last word ends with the stream


def test_last_word_ends_at_the_end_of_the_stream_when_that_comes_first():
    tokens = stream({10: 0, 11: 9}, 18)
    expected = [Word("last", 11 / 12.5, 18 / 12.5)]
    close(words_from_tokens(tokens, piece, count, WordTiming(12.5, 0.0)), expected)
    assert [e.word for e in streamed(tokens, WordTiming(12.5, 0.0))
            if isinstance(e, WordFinished)] == words_from_tokens(tokens, piece, count,
                                                                 WordTiming(12.5, 0.0))


def test_eos_ends_the_last_word_and_early_times_clamp_at_zero():
    tokens = stream({2: 0, 3: 10, 5: 0, 6: 9, 9: 2}, 30)  # EOS 3 steps after "last" starts
    timing = WordTiming(12.5, 0.3)
    expected = [Word("early", 0.0, 5 / 12.5 - 0.3), Word("last", 6 / 12.5 - 0.3, 9 / 12.5 - 0.3)]
    close(words_from_tokens(tokens, piece, count, timing), expected)
    assert [e.word for e in streamed(tokens, timing) if isinstance(e, WordFinished)] == \
        words_from_tokens(tokens, piece, count, timing)


def test_text_before_the_first_boundary_and_empty_spans_are_no_words():
    tokens = stream({1: 4, 5: 0, 9: 0, 10: 5}, 40)
    assert [w.text for w in words_from_tokens(tokens, piece, count, TIMING)] == ["world"]
    assert [e.text for e in streamed(tokens, TIMING) if isinstance(e, WordFinished)] == ["world"]


def test_the_session_announces_the_timing_of_its_layout(tiny_stt, tiny_hibiki):
    assert tiny_stt.layout.time_offset == 1.5  # prefix 1.0 + delay 0.5 (stt_config)
    assert tiny_hibiki.layout.time_offset == 0.0
    started = run(tiny_stt, DEMO_EN).events[0]
    assert isinstance(started, SessionStarted)
    assert WordTiming.of(started) == WordTiming(12.5, 1.5)


def engine_words(model, path):
    """The words the session itself decided (`Session.events()` annotates its stream)."""
    out = run(model, path)
    return [e.word for e in out.events if isinstance(e, WordFinished)], out


@pytest.mark.parametrize("path", [DEMO_EN, DEMO_FR])
def test_tiny_stt_words_end_to_end(tiny_stt, path):
    words, _ = engine_words(tiny_stt, path)
    tokens = seed_loop(tiny_stt, path).items[0][0]  # moshi's reference loop, not captty's
    whole = words_from_tokens(tokens, piece_text(tiny_stt.tokenizer),
                              token_counter(tiny_stt.tokenizer), WordTiming(12.5, 1.5))
    assert len(words) >= 5 and words == whole
    duration = sphn.read(str(path))[0].shape[1] / 24000
    times = [t for w in words for t in (w.start, w.end)]
    assert times == sorted(times) and times[0] >= 0 and words[-1].start < duration
    # the last word may run past the audio: at most 1 s after its start (Kyutai's rule)
    assert words[-1].end <= words[-1].start + 1.0 + 1e-9
    assert all(w.end >= w.start for w in words)


def first_word_start(model, lead: float, tmp_path) -> float:
    speech = sphn.read(str(DEMO_EN))[0]
    path = tmp_path / f"lead-{lead}.wav"
    silence = np.zeros((1, round(lead * 24000)), np.float32)
    sphn.write_wav(str(path), np.concatenate([silence, speech], 1), sample_rate=24000)
    return engine_words(model, path)[0][0].start


def test_delaying_the_speech_delays_the_first_word_by_as_much(tiny_stt, tmp_path):
    """Silence before the speech, a whole number of 80 ms frames: the first word moves with it.
    (tiny-stt's boundaries follow its audio codes with no 0.5 s delay of their own, so its times
    run early and clamp at 0 when the speech starts the file: hence the leads.)"""
    early, late = (first_word_start(tiny_stt, lead, tmp_path) for lead in (0.96, 2.0))
    assert late - early == pytest.approx(1.04, abs=1e-9)
    assert early == pytest.approx(0.66, abs=1e-9)  # speech onset 0.973 s: 0.31 s early


def test_late_pieces_of_the_last_span_are_kept():
    """More than 1 s after the last boundary, with no boundary after: still words, capped in time."""
    tokens = stream({10: 0, 11: 9, 30: 10}, 40)
    timing = WordTiming(12.5, 0.0)
    expected = [Word("last", 11 / 12.5, 12 / 12.5), Word("early", 12 / 12.5, 23.5 / 12.5)]
    close(words_from_tokens(tokens, piece, lambda w: 1, timing), expected)
    tracker = WordTracker(lambda w: 1, timing=timing)
    assert [d.word for e in events_of(tokens) for d in tracker.handle(e)
            if isinstance(d, WordFinished)] == words_from_tokens(tokens, piece, lambda w: 1, timing)

"""The trained demo model (`assets/models/demo-stt`) on its held-out recordings, end to end through
the command line: real words, their start times, turn ends at real pauses, nothing in silence.

The recordings (`assets/audio/stt-*.wav`, `demo-stt.wav`) were never heard in training (held-out
speed and pitch, or held-out voices); their `.json` gives the text, the known word onsets and
where each sentence's sound ends. Greedy tokens can flip between CPUs and thread counts, so each
check has a stated margin over what `captty run` gave on the machine that built the model (x86-64,
2 cores); words are compared as words and times with a tolerance, and no check looks at how
long anything took. An untrained model (tiny-stt) or a pipeline that shifts, drops or misreads
the audio codes, the word times or the end-of-turn head fails them.
"""
import difflib
import json
import re
import statistics

import pytest

from conftest import ASSETS, captty
from reference import moshi_stt_text

MODEL = "demo-stt"
AUDIO = ASSETS / "audio"
# word errors (substitutions + deletions + insertions) per recording: (measured, allowed). The
# allowance is the measured count plus a margin of about a fifth of the words, at least two
CASES = {
    "demo-stt": (0, 2),  # 9 words, one continuous sentence (the demo's)
    "stt-isolated": (1, 4),  # 15 words said one by one, 3 sentences
    "stt-continuous": (2, 6),  # 22 words, 3 continuous sentences: the model's weak point
    "stt-unseen-voice": (2, 4),  # 11 words by en-gb-x-gbclan+f4, never heard in training
    "stt-silence": (0, 2),  # 8 isolated words, then 10 s of white noise at -50 dBFS
}
RECORDINGS = list(CASES)
# word starts of the words transcribed right, against the known onsets: measured at most 0.12 s
# off (median 0.013 to 0.031 s a recording); allowed: 0.2 s each (one 80 ms frame more than the
# worst) and a median of 0.06 s (a pipeline one frame late has a median near 0.1 s)
ONSET_TOLERANCE, ONSET_MEDIAN = 0.2, 0.06
# a turn ends when the model has heard a second of silence, which captty dates 1 s less the
# 0.5 s delay after the sound ends: measured 0.42 to 0.51 s after each pause of a second or more
# begins, and nowhere else (not between words, not in pauses of 0.6 or 0.7 s)
TURN_AFTER = (0.2, 0.8)


def known(name):
    return json.loads((AUDIO / f"{name}.json").read_text())


def reference_words(name):
    return [w for s in known(name)["sentences"] for w in s]


def wer_line(stderr):
    """captty's own WER line (--reference): (errors, reference words)."""
    last = stderr.strip().splitlines()[-1]
    match = re.search(r"WER ([\d.]+)% \((\d+) errors / (\d+) words\)", last)
    assert match, stderr
    errors, words = int(match.group(2)), int(match.group(3))
    assert abs(float(match.group(1)) - 100 * errors / words) < 0.1
    return errors, words


def matched(ref, hyp):
    """The (reference index, hypothesis index) pairs of the words that agree, in order."""
    blocks = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False).get_matching_blocks()
    return [(a + k, b + k) for a, b, n in blocks for k in range(n)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """`captty run --model demo-stt FILE -o FILE.json --reference REF` for every recording."""
    out = {}
    folder = tmp_path_factory.mktemp("demo-stt")
    for name in RECORDINGS:
        reference = folder / f"{name}.txt"
        reference.write_text(known(name)["text"] + "\n")
        export = folder / f"{name}.json"
        result = captty("run", "--model", MODEL, "--device", "cpu", AUDIO / f"{name}.wav",
                        "-o", export, "--reference", reference)
        assert result.returncode == 0, result.stderr
        out[name] = (result, json.loads(export.read_text()))
    return out


@pytest.mark.parametrize("name", RECORDINGS)
def test_word_error_on_held_out_recordings(runs, name):
    result, export = runs[name]
    ref, hyp = reference_words(name), result.stdout.split()
    _, allowed = CASES[name]
    errors, words = wer_line(result.stderr)
    assert words == len(ref)
    assert errors <= allowed, (result.stdout, known(name)["text"])
    # the same, counted here: at most `allowed` reference words missing from the transcript
    assert len(matched(ref, hyp)) >= len(ref) - allowed, (hyp, ref)
    assert len(hyp) <= len(ref) + allowed
    assert [w["text"] for w in export["words"]] == hyp  # the .json export has the printed words


def test_the_demo_recording_reads_as_the_demo_sentence(runs):
    result, _ = runs["demo-stt"]
    ref = reference_words("demo-stt")
    assert len(matched(ref, result.stdout.split())) >= len(ref) - CASES["demo-stt"][1], result.stdout


@pytest.mark.parametrize("name", RECORDINGS)
def test_word_starts_match_the_known_onsets(runs, name):
    _, export = runs[name]
    ref = reference_words(name)
    onsets = [o for s in known(name)["onsets"] for o in s]
    hyp = export["words"]
    pairs = matched(ref, [w["text"] for w in hyp])
    assert len(pairs) >= len(ref) - CASES[name][1]
    errors = [abs(hyp[b]["start"] - onsets[a]) for a, b in pairs]
    off = [(ref[a], onsets[a], hyp[b]["start"]) for a, b in pairs
           if abs(hyp[b]["start"] - onsets[a]) > ONSET_TOLERANCE]
    assert not off, off
    assert statistics.median(errors) <= ONSET_MEDIAN, errors


def long_pauses(truth):
    """(where the sound ends, where the next sentence starts) for pauses of a second or more,
    and the silence after the last sentence."""
    starts = [s[0] for s in truth["onsets"]]
    ends = truth["ends"]
    pauses = [(ends[k], starts[k + 1]) for k in range(len(starts) - 1) if starts[k + 1] - ends[k] >= 1.0]
    return [*pauses, (ends[-1], float("inf"))]


@pytest.mark.parametrize("name", RECORDINGS)
def test_turns_end_at_the_pauses_of_a_second_or_more(runs, name):
    _, export = runs[name]
    turns = [t["time"] for t in export["turns"]]
    pauses = long_pauses(known(name))
    # one turn end a long pause, soon after it begins, and none anywhere else
    assert len(turns) == len(pauses), (turns, pauses)
    for turn, (end, _) in zip(sorted(turns), pauses):
        assert end + TURN_AFTER[0] <= turn <= end + TURN_AFTER[1], (turns, pauses)
    for turn in export["turns"]:
        assert turn["probability"] > 0.5


def test_no_words_in_ten_seconds_of_low_noise(runs):
    """The issue's target is none (measured: none here, and none in the 20 files of `evaluate`)."""
    _, export = runs["stt-silence"]
    end = known("stt-silence")["ends"][-1]
    assert export["summary"]["audio_seconds"] >= end + 10.0
    assert [w for w in export["words"] if w["start"] > end + 0.5] == []


def test_a_replay_with_a_reference_shows_a_low_live_wer(tmp_path):
    reference = tmp_path / "ref.txt"
    reference.write_text(known("stt-isolated")["text"] + "\n")
    result = captty("replay", "--no-tui", "--fast", "--model", MODEL, "--device", "cpu",
                    AUDIO / "stt-isolated.wav", "--reference", reference)
    assert result.returncode == 0, result.stderr
    errors, words = wer_line(result.stderr)
    assert words == 15 and errors <= CASES["stt-isolated"][1], result.stdout  # measured: 1 (6.7%)


def test_moshi_inference_state_gives_the_same_text_as_captty_run(runs):
    from captty.engine import ModelSpec, load_model
    from captty.engine.model_thread import model_thread

    # on the CPU like the `captty run` it is compared with, even when CAPTTY_TEST_DEVICE says
    # cuda: greedy text in bf16 on a GPU may differ from fp32 on the CPU
    model = load_model(ModelSpec(model=str(ASSETS / "models" / MODEL), device="cpu"))
    assert model.model_type == "stt" and len(model.lm.extra_heads) == 4
    assert model.info.lm_gen_config == {"temp": 0.0, "temp_text": 0.0}
    printed = model_thread().call(moshi_stt_text, model, AUDIO / "stt-continuous.wav")
    result, _ = runs["stt-continuous"]
    assert printed.split() == result.stdout.split()

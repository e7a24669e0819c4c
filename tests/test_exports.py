"""Transcript files: each format parsed back by an independent parser, valid at every flush,
cut into readable cues; end to end through `captty run --output`."""
import json

import pytest
import srt
import webvtt
from conftest import DEMO_EN, TINY_STT, captty

from captty.engine import CapttyError
from captty.engine.events import SessionEnded, SessionStarted
from captty.engine.exports import CueBuilder, CueRules, format_of, open_writer
from captty.engine.exports.cues import wrap
from captty.engine.turns import TurnEnded
from captty.engine.words import Word, WordFinished

STARTED = SessionStarted("tiny", "stt", "cpu", "float32", 1, 1.0, 24000, 1920, False, 1.5)
# Twelve words, 0.3 s apart; a turn ends after "six" (at 2.0 s), and "nine" is followed by a
# 1.5 s pause (Kyutai's rule: it lasts until the next word starts)
TEXTS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve"]
STARTS = [0.1 + 0.3 * i for i in range(9)] + [4.4, 4.7, 5.0]
WORDS = [Word(t, s, STARTS[i + 1] - 0.02 if i + 1 < len(STARTS) else s + 0.25)
         for i, (t, s) in enumerate(zip(TEXTS, STARTS, strict=True))]


def events():
    yield STARTED
    for word in WORDS:
        yield WordFinished(0, 0, word.text, word.start, word.end)
        yield WordFinished(1, 0, "other", word.start, word.end)  # another batch item: not ours
        if word.text == "six":
            yield TurnEnded(0, 0, 1.9, 0.8)
    yield SessionEnded(80, 6.4, 1.0, False)


def write_all(tmp_path, check_each=None):
    paths = {fmt: tmp_path / f"talk.{fmt}" for fmt in ("txt", "srt", "vtt", "json", "jsonl")}
    writers = [open_writer(p, settings={"input": "talk.wav"}) for p in paths.values()]
    for event in events():
        for writer in writers:
            writer.handle(event)
        if check_each:
            check_each(paths)
    for writer in writers:
        writer.close()
    return paths


def test_srt_and_vtt_parse_back_with_readable_cues(tmp_path):
    paths = write_all(tmp_path)
    subs = list(srt.parse(paths["srt"].read_text()))
    vtt = webvtt.read(str(paths["vtt"]))
    assert [s.content for s in subs] == [c.text for c in vtt.captions] == [
        "one two three four five six",  # the turn ends after "six"
        "seven eight nine",  # "nine" lasts 1.38 s: a pause follows
        "ten eleven twelve"]
    assert [(s.start.total_seconds(), s.end.total_seconds()) for s in subs] == [
        (0.1, 1.88), (1.9, 3.5), (4.4, 5.25)]  # "nine" (2.5 s) shown 1 s at most
    assert [(c.start, c.end) for c in vtt.captions] == [
        ("00:00:00.100", "00:00:01.880"), ("00:00:01.900", "00:00:03.500"),
        ("00:00:04.400", "00:00:05.250")]


def test_json_txt_and_jsonl_parse_back(tmp_path):
    paths = write_all(tmp_path)
    doc = json.loads(paths["json"].read_text())
    assert [Word(w["text"], w["start"], w["end"]) for w in doc["words"]] == \
        [Word(w.text, round(w.start, 3), round(w.end, 3)) for w in WORDS]
    assert doc["complete"] and doc["model"]["model"] == "tiny" and doc["summary"]["steps"] == 80
    assert doc["settings"] == {"input": "talk.wav"} and doc["timing"]["offset_seconds"] == 1.5
    assert doc["turns"] == [{"time": 1.9, "probability": 0.8}]
    assert paths["txt"].read_text() == \
        "one two three four five six\nseven eight nine ten eleven twelve\n"
    records = [json.loads(line) for line in paths["jsonl"].read_text().splitlines()]
    assert [r["event"] for r in records].count("WordFinished") == 24  # every item's words
    assert records[0]["event"] == "SessionStarted" and records[-1]["event"] == "SessionEnded"


def test_every_flush_leaves_parseable_files(tmp_path):
    seen, captioned, before = [], [], {}

    def check(paths):
        for fmt in ("srt", "vtt"):  # captions only grow: closed cues are appended
            text = paths[fmt].read_text()
            assert text.startswith(before.get(fmt, "")), fmt
            before[fmt] = text
        subs = list(srt.parse(paths["srt"].read_text()))
        captions = webvtt.read(str(paths["vtt"])).captions
        doc = json.loads(paths["json"].read_text())
        assert not doc["complete"]
        words = [w["text"] for w in doc["words"]]
        srt_words = " ".join(s.content for s in subs).split()
        assert " ".join(c.text for c in captions).split() == srt_words
        assert srt_words == words[: len(srt_words)]  # the captions lack the cue in progress
        assert len(wrap(words[len(srt_words):], 42)) <= 2  # at most one cue's words
        assert paths["txt"].read_text().split() == words
        seen.append(len(words))
        captioned.append(len(srt_words))

    paths = write_all(tmp_path, check)
    assert seen[-1] == len(WORDS) and sorted(seen) == seen
    # after each of our words (the events of item 1 and the turn flush too): a cue is written
    # when the next word starts a new one ("seven", after the turn end) or when its last word
    # is followed by a pause ("nine"), the last one at the end
    ours = [captioned[i] for i in range(1, len(captioned)) if seen[i] > seen[i - 1]]
    assert ours == [0, 0, 0, 0, 0, 0, 6, 6, 9, 9, 9, 9]
    assert len(list(srt.parse(paths["srt"].read_text()))) == 3


def test_json_words_and_turns_are_written_in_place_and_regrow_their_reserves(tmp_path):
    """Words and turns fill reserves of spaces in place; once one is full, the document is
    rewritten once with bigger ones: every flush parses, and the rewrites stay a bounded
    multiple of the document's size (the cost per word does not grow)."""
    path = tmp_path / "long.json"
    writer = open_writer(path, settings={"input": "café.wav"})  # UTF-8 before the offsets
    writer.handle(STARTED)
    texts = ["naïve", "日本語", "word", "l'école", "x"]
    words, turns, rewritten = [], [], []
    previous, inode = path.read_bytes(), path.stat().st_ino
    for i in range(600):
        word = Word(texts[i % len(texts)], 0.3 * i, 0.3 * i + 0.25)
        writer.handle(WordFinished(0, i, word.text, word.start, word.end))
        words.append(word)
        if i % 4 == 3:  # a turn every four words: the reserves are outgrown again and again
            writer.handle(TurnEnded(0, i, word.end, 0.5 + i / 2000))
            turns.append({"time": round(word.end, 3), "probability": round(0.5 + i / 2000, 4)})
        data = path.read_bytes()
        doc = json.loads(data)
        assert [Word(w["text"], w["start"], w["end"]) for w in doc["words"]] == \
            [Word(w.text, round(w.start, 3), round(w.end, 3)) for w in words]
        assert doc["turns"] == turns and doc["model"]["model"] == "tiny"
        if path.stat().st_ino != inode:  # rewritten whole (a new file renamed over)
            inode = path.stat().st_ino
            rewritten.append(len(data))
        else:  # written in place: the file keeps its size...
            assert len(data) == len(previous)
            kept = len(previous.rstrip(b" ")) - len(b"\n ]\n}\n")  # ...and a word alone
            assert data[:kept] == previous[:kept] or i % 4 == 3  # the bytes before the closing
        previous = data
    writer.close()
    doc = json.loads(path.read_text())
    assert doc["complete"] is False and len(doc["words"]) == 600 and doc["turns"] == turns
    assert path.read_bytes().endswith(b"]\n}\n")  # closed: no reserve left
    assert len(rewritten) >= 3  # the reserves were regrown, more than once
    assert sum(rewritten) <= 25 * len(previous)  # ...at an amortised cost


def test_cues_respect_line_and_duration_limits():
    rules = CueRules(max_line=20, max_lines=2, max_duration=3.0, pause=1.0)
    builder = CueBuilder(rules)
    words = [Word(f"word{i:02d}", 0.4 * i, 0.4 * i + 0.38) for i in range(30)]
    cues = [c for w in words for c in builder.add(w)] + builder.finish()
    assert " ".join(" ".join(c.lines) for c in cues).split() == [w.text for w in words]
    assert all(len(line) <= 20 for c in cues for line in c.lines)
    assert all(len(c.lines) <= 2 and c.end - c.start <= 3.0 for c in cues)
    assert wrap(["a" * 30, "b"], 20) == ["a" * 30, "b"]  # a long word gets a line of its own


def test_the_format_comes_from_the_extension_or_is_named():
    assert format_of("a.SRT") == "srt" and format_of("a.out", "vtt") == "vtt"
    with pytest.raises(CapttyError, match="--format"):
        format_of("notes.doc")


def test_captty_run_writes_every_format_and_the_wer(tmp_path, tiny_stt):
    from engine_run import run

    reference = tmp_path / "reference.txt"
    reference.write_text("Hello and welcome to captty. This console turns live speech into text.")
    outs = [tmp_path / f"demo.{fmt}" for fmt in ("txt", "srt", "vtt", "json", "jsonl")]
    result = captty("run", DEMO_EN, "--model", TINY_STT, *[a for o in outs for a in ("-o", o)],
                    "--reference", reference)
    assert result.returncode == 0, result.stderr
    expected = [e.word for e in run(tiny_stt, DEMO_EN).events if isinstance(e, WordFinished)]
    doc = json.loads(outs[3].read_text())
    assert doc["complete"] and [w["text"] for w in doc["words"]] == [w.text for w in expected]
    assert [(w["start"], w["end"]) for w in doc["words"]] == \
        [(round(w.start, 3), round(w.end, 3)) for w in expected]
    texts = " ".join(w.text for w in expected)
    subs = list(srt.parse(outs[1].read_text()))
    assert " ".join(s.content.replace("\n", " ") for s in subs) == texts
    assert doc["turns"] and len(subs) >= 2  # tiny-stt ends a turn at the pause between sentences
    assert len(outs[0].read_text().splitlines()) >= 2  # one line a turn
    assert " ".join(c.text.replace("\n", " ") for c in webvtt.read(str(outs[2])).captions) == texts
    assert outs[0].read_text().split() == texts.split()
    events = [json.loads(line)["event"] for line in outs[4].read_text().splitlines()]
    assert events[-1] == "SessionEnded"
    wer_line = result.stderr.strip().splitlines()[-1]
    assert wer_line.startswith("captty: WER ") and "/ 12 words" in wer_line


def test_an_output_of_unknown_format_fails_before_the_model_loads(tmp_path):
    result = captty("run", DEMO_EN, "--model", TINY_STT, "-o", tmp_path / "x.doc")
    assert result.returncode == 1 and "cannot tell the format of" in result.stderr
    assert "Traceback" not in result.stderr and "loading" not in result.stderr


def test_a_json_transcript_without_the_end_of_the_run_stays_incomplete(tmp_path):
    writer = open_writer(tmp_path / "failed.json")
    for event in list(events())[:-1]:  # the engine failed: no SessionEnded
        writer.handle(event)
    writer.close()
    doc = json.loads((tmp_path / "failed.json").read_text())
    assert doc["complete"] is False and doc["summary"] is None and len(doc["words"]) == len(WORDS)

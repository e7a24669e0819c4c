"""The figures of issue 12 for a checkpoint, on the held-out sets of `heldout.held_out_sets`.

The model is loaded by captty (`engine.load_model`), as `captty run` loads it, and run with
moshi's own streaming classes the way `moshi.run_inference.InferenceState` runs an STT model
(silence prefix and `delay + 1 s` of padding, whole frames, the first frame stepped twice,
greedy `lm_gen_config`), many files in one batch. Words and their times come from captty's
`words_from_tokens`, word errors from captty's `word_error_rate`; a turn ends as captty's
`TurnTracker` ends one (head 2 above 0.5, once, re-armed by the next text).

Figures:
- WER per set, over sentences: the words a sentence gets are those that start between its
  first onset less 0.5 s and the next sentence's;
- word start errors in the sentences transcribed exactly (isolated set: every start within
  0.1 s is the target);
- words invented in the 10 s of silence or low noise after speech;
- precision and recall of turn ends against the pauses of a second or more (between sentences,
  and after the last one, which the engine's end padding prolongs): a turn end is right when
  it falls inside such a pause, a pause is found when one falls inside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..step_loop import TURN_HEAD
from ..turns import DEFAULT_THRESHOLD as TURN_THRESHOLD
from ..words import END_OF_PADDING, PADDING
from .heldout import Recording

LONG_PAUSE = 1.0


@dataclass
class Transcript:
    words: list  # engine.words.Word
    turns: list[float]  # seconds


@torch.no_grad()
def transcribe(model, audios: list[np.ndarray], batch: int = 16) -> list[Transcript]:
    from moshi.models import LMGen

    from ..words import WordTiming, piece_text, token_counter, words_from_tokens

    config = model.info.stt_config
    prefix, delay = config.get("audio_silence_prefix_seconds", 0.0), config.get("audio_delay_seconds", 0.0)
    timing = WordTiming(float(model.mimi.frame_rate), float(prefix + delay))
    piece, count = piece_text(model.tokenizer), token_counter(model.tokenizer)
    hidden = {END_OF_PADDING, PADDING, model.tokenizer.bos_id(), model.tokenizer.eos_id()}
    n = int(model.mimi.sample_rate / model.mimi.frame_rate)
    out = []
    for first in range(0, len(audios), batch):
        group = audios[first:first + batch]
        rate = model.mimi.sample_rate
        padded = [np.pad(a, (int(prefix * rate), int((delay + 1.0) * rate))) for a in group]
        frames = [len(p) // n for p in padded]
        pcm = np.zeros((len(group), max(frames) * n), np.float32)
        for k, p in enumerate(padded):
            pcm[k, : frames[k] * n] = p[: frames[k] * n]
        lm_gen = LMGen(model.lm, **model.info.lm_gen_config)
        tokens = np.zeros((len(group), max(frames)), np.int64)
        scores = np.zeros((len(group), max(frames)))
        with model.mimi.streaming(len(group)), lm_gen.streaming(len(group)):
            for step in range(max(frames)):
                codes = model.mimi.encode(torch.from_numpy(pcm[:, None, step * n:(step + 1) * n]))
                if step == 0:
                    lm_gen.step_with_extra_heads(codes)
                out_step = lm_gen.step_with_extra_heads(codes)
                assert out_step is not None  # no delays: every step gives tokens
                text, heads = out_step
                tokens[:, step] = text[:, 0, 0].numpy()
                scores[:, step] = heads[TURN_HEAD][:, 0, 0].numpy()
        for k in range(len(group)):
            words = words_from_tokens(tokens[k, : frames[k]].tolist(), piece, count, timing)
            turns, armed = [], False
            for step in range(frames[k]):
                if armed and scores[k, step] > TURN_THRESHOLD:
                    turns.append(timing.seconds(step))
                    armed = False
                if tokens[k, step] not in hidden:
                    armed = True
            out.append(Transcript(words, turns))
    return out


@dataclass
class SetScore:
    errors: int = 0
    words: int = 0
    onset_errors: list[float] = field(default_factory=list)  # seconds, exact sentences only
    exact: int = 0
    sentences: int = 0
    exact_within: int = 0  # exact sentences whose every start is within 0.1 s
    invented: int = 0  # words after the last sentence's end + 0.5 s (silence set)
    turns: int = 0
    turns_right: int = 0
    pauses: int = 0
    pauses_found: int = 0

    @property
    def wer(self) -> float:
        return self.errors / max(self.words, 1)


def score(recordings: list[Recording], transcripts: list[Transcript]) -> SetScore:
    from ..wer import normalise, word_error_rate

    s = SetScore()
    for rec, tr in zip(recordings, transcripts):
        starts = [o[0] for o in rec.onsets]
        bounds = [a - 0.5 for a in starts[1:]] + [float("inf")]
        lower = -float("inf")
        for k, words in enumerate(rec.sentences):
            hyp = [w for w in tr.words if lower <= w.start < bounds[k]]
            lower = bounds[k]
            result = word_error_rate(" ".join(words), " ".join(w.text for w in hyp))
            s.errors += result.errors
            s.words += result.reference_words
            s.sentences += 1
            if normalise(" ".join(w.text for w in hyp)) == words:
                s.exact += 1
                errs = [abs(w.start - o) for w, o in zip(hyp, rec.onsets[k])]
                s.onset_errors += errs
                s.exact_within += all(e <= 0.1 for e in errs)
        s.invented += sum(w.start > rec.ends[-1] + 0.5 for w in tr.words)
        pauses = [(rec.ends[k], starts[k + 1]) for k in range(len(starts) - 1)
                  if starts[k + 1] - rec.ends[k] >= LONG_PAUSE] + [(rec.ends[-1], float("inf"))]
        s.turns += len(tr.turns)
        s.turns_right += sum(any(a <= t <= b for a, b in pauses) for t in tr.turns)
        s.pauses += len(pauses)
        s.pauses_found += sum(any(a <= t <= b for t in tr.turns) for a, b in pauses)
    return s


def report(name: str, s: SetScore) -> list[str]:
    lines = [f"{name}: WER {100 * s.wer:.1f}% ({s.errors} errors / {s.words} words, "
             f"{s.exact}/{s.sentences} sentences exact)"]
    if s.onset_errors:
        e = np.array(s.onset_errors)
        lines.append(f"  word starts in exact sentences: median {1000 * np.median(e):.0f} ms, "
                     f"p95 {1000 * np.percentile(e, 95):.0f} ms, max {1000 * e.max():.0f} ms; "
                     f"{s.exact_within}/{s.exact} sentences with every start within 100 ms")
    lines.append(f"  turn ends: precision {s.turns_right}/{s.turns}, recall {s.pauses_found}/{s.pauses} "
                 f"(pauses of {LONG_PAUSE:.0f} s or more)")
    return lines

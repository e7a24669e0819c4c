"""Held-out recordings: sentences with their known word onsets, made as the bundled ones are.

A recording is built at eSpeak's 22 050 Hz in 16-bit samples (leading silence, sentences and
the pauses between them, a gain, optionally a noise floor) and resampled to 24 kHz by
`sox -D`. Isolated-word sentences say each word alone (`espeak-ng ... WORD`) with gaps of 0.1
to 0.6 s; continuous ones say the sentence at once. The sets of `evaluate` are drawn from a seed
in a fresh process, so they are the same at every run.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import corpus
from .speech import ESPEAK_RATE, SAMPLE_RATE, Synthesizer, Voice, to_24k, trimmed


@dataclass
class Recording:
    name: str
    sentences: list[list[str]]
    onsets: list[list[float]]  # seconds, per word of each sentence
    ends: list[float]  # where each sentence's sound ends (seconds)
    duration: float  # seconds
    voices: list[str]  # per sentence, as `espeak-ng` options
    style: str  # isolated or continuous
    audio: np.ndarray | None = field(default=None, repr=False)  # float32, 24 kHz

    @property
    def samples(self) -> np.ndarray:
        if self.audio is None:
            raise ValueError(f"recording {self.name} has no samples (read from its JSON only)")
        return self.audio

    @property
    def text(self) -> str:
        return " ".join(" ".join(s) for s in self.sentences)

    def to_json(self) -> str:
        fields = {k: v for k, v in asdict(self).items() if k != "audio"}
        fields["text"] = self.text
        fields["onsets"] = [[round(o, 4) for o in s] for s in self.onsets]
        fields["ends"] = [round(e, 4) for e in self.ends]
        fields["duration"] = round(self.duration, 4)
        return "{\n" + ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in fields.items()) + "\n}\n"

    @classmethod
    def from_json(cls, path: Path) -> "Recording":
        data = json.loads(Path(path).read_text())
        data.pop("text", None)
        return cls(**data)


def _sentence_pcm(synth: Synthesizer, words: list[str], voice: Voice, isolated: bool,
                  rng: np.random.Generator) -> tuple[np.ndarray, list[int], int]:
    """int16 at 22 050 Hz from the first onset, the onsets, the end of the sound."""
    if not isolated:
        clip = trimmed(synth.say(" ".join(words), voice))
        return clip.pcm, clip.onsets, clip.end
    parts, onsets, at = [], [], 0
    for k, w in enumerate(words):
        clip = trimmed(synth.say(w, voice))
        onsets.append(at)
        parts.append(clip.pcm)
        at += len(clip.pcm)
        if k < len(words) - 1:
            gap = int(rng.uniform(0.1, 0.6) * ESPEAK_RATE)
            parts.append(np.zeros(gap, np.int16))
            at += gap
    return np.concatenate(parts), onsets, at


def make_recording(synth: Synthesizer, rng: np.random.Generator, name: str, sentences: list[list[str]],
                   voices: list[Voice], isolated: bool, pauses: list[float], lead: float = 0.5,
                   tail: float = 0.5, gain_db: float = -3.0, noise_db: float | None = None) -> Recording:
    """Sentences one after another, `pauses[k]` seconds after sentence k; `gain_db` is the
    peak level; `noise_db` an optional white noise floor (RMS, dBFS)."""
    at = int(lead * ESPEAK_RATE)
    parts, onsets, ends = [np.zeros(at, np.float64)], [], []
    for k, (words, voice) in enumerate(zip(sentences, voices)):
        pcm, word_onsets, end = _sentence_pcm(synth, words, voice, isolated, rng)
        onsets.append([(at + o) / ESPEAK_RATE for o in word_onsets])
        ends.append((at + end) / ESPEAK_RATE)
        parts.append(pcm.astype(np.float64))
        at += len(pcm)
        gap = int((pauses[k] if k < len(pauses) else tail) * ESPEAK_RATE)
        parts.append(np.zeros(gap, np.float64))
        at += gap
    signal = np.concatenate(parts)
    signal *= 10 ** (gain_db / 20) * 32767 / max(np.abs(signal).max(), 1.0)
    if noise_db is not None:
        signal += rng.standard_normal(len(signal)) * 10 ** (noise_db / 20) * 32767
    pcm = np.clip(np.round(signal), -32768, 32767).astype(np.int16)
    audio = to_24k([pcm])[0]
    return Recording(name, [list(s) for s in sentences], onsets, ends, len(audio) / SAMPLE_RATE,
                     [" ".join(v.cli()) for v in voices], "isolated" if isolated else "continuous", audio)


def held_out_sets(seed: int = 2024, files: int = 40) -> dict[str, list[Recording]]:
    """The evaluation sets, drawn from `seed`: each file has 1 to 3 sentences separated by
    pauses of 0.3 to 3 s (so some pauses are a second or more and some are not).

    - isolated: words said one by one by training voices at the held-out speed and pitch;
    - continuous: whole sentences, training voices at the held-out speed and pitch;
    - unseen voices: en-gb-x-gbclan and en-gb-x-gbcwmd with variants, both styles;
    - silence: one sentence, then 10 s of digital silence or of low noise (-60 to -45 dBFS).
    """
    synth = Synthesizer()
    rng = np.random.default_rng(seed)
    sets: dict[str, list[Recording]] = {"isolated": [], "continuous": [], "unseen voices": [], "silence": []}
    for name in sets:
        for k in range(files if name != "silence" else files // 2):
            n = 1 if name == "silence" else int(rng.integers(1, 4))
            sentences = [corpus.sentence(rng) for _ in range(n)]
            if name == "unseen voices":
                voice = corpus.unseen_voice(rng)
                isolated = bool(k % 2)
            else:
                voice = corpus.held_out_voice(rng)
                isolated = name != "continuous"
            pauses = list(rng.uniform(0.3, 3.0, size=n - 1))
            tail = 10.0 if name == "silence" else float(rng.uniform(0.3, 1.0))
            noise = float(rng.uniform(-60, -45)) if name == "silence" and k % 2 else None
            sets[name].append(make_recording(synth, rng, f"{name}-{k}", sentences, [voice] * n, isolated,
                                             pauses, lead=float(rng.uniform(0.2, 1.0)), tail=tail,
                                             gain_db=float(rng.uniform(-12, -2)), noise_db=noise))
    return sets

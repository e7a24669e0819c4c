"""Training audio: pools of synthesised speech, and streams composed from them as a file reaches
the model (a silence prefix, speech and pauses with noise and gain, zeros after the end).

`SpeechPools.build` synthesises once: every vocabulary word said alone by many voices, and many
continuous sentences. `compose` lays them out at random, at any sample (so at every sub-frame
shift), and returns the audio with the onset and end of each word.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import corpus
from .speech import SAMPLE_RATE, Clip, Synthesizer, at_24k, phoneme_class, to_24k, trimmed

SILENCE = 0  # phoneme class of pauses and of everything that is not speech
PHONEME_CLASSES = 80  # room for eSpeak's English phonemes; any beyond share the last class


@dataclass
class Utterance:
    audio: np.ndarray  # float32, 24 kHz, starting at the first word's onset
    onsets: list[int]  # samples of `audio`
    ends: list[int]  # where each word's sound ends (continuous speech: the next onset)
    words: list[int]  # vocabulary indices
    continuous: bool
    phonemes: list[tuple[int, int]]  # (start sample, class), each lasting until the next one


@dataclass
class SpeechPools:
    word_clips: list[list[Utterance]]  # [voice][vocabulary index]: one word said alone, trimmed
    sentences: list[Utterance]
    phoneme_ids: dict[str, int]

    @classmethod
    def build(cls, rng: np.random.Generator, word_voices: int, sentences: int,
              synth: Synthesizer | None = None) -> "SpeechPools":
        synth = synth or Synthesizer()
        ids = {"_": SILENCE}
        said, texts = [], []
        for _ in range(word_voices):
            voice = corpus.training_voice(rng)
            said += [trimmed(synth.say(w, voice)) for w in corpus.VOCABULARY]
            texts += [[w] for w in corpus.VOCABULARY]
        for _ in range(sentences):
            words = corpus.sentence(rng)
            said.append(trimmed(synth.say(" ".join(words), corpus.training_voice(rng, continuous=True))))
            texts.append(words)
        audio = to_24k([c.pcm for c in said])
        utterances = [utterance(a, c, w, ids, continuous=k >= word_voices * len(corpus.VOCABULARY))
                      for k, (a, c, w) in enumerate(zip(audio, said, texts))]
        n = len(corpus.VOCABULARY)
        word_clips = [utterances[k * n:(k + 1) * n] for k in range(word_voices)]
        return cls(word_clips, utterances[word_voices * n:], ids)


def utterance(audio: np.ndarray, clip: Clip, words: list[str], ids: dict[str, int],
              continuous: bool) -> Utterance:
    onsets = [at_24k(o) for o in clip.onsets]
    end = min(at_24k(clip.end), len(audio))
    phonemes = []
    for at, mnemonic in clip.phonemes:
        name = phoneme_class(mnemonic)
        if name not in ids:
            ids[name] = min(len(ids), PHONEME_CLASSES - 1)
        phonemes.append((min(at_24k(at), end), ids[name]))
    return Utterance(audio[:end], onsets, [*onsets[1:], end], [corpus.VOCABULARY.index(w) for w in words],
                     continuous, phonemes)


def isolated_utterance(clips: list[Utterance], words: list[int], gaps: list[float]) -> Utterance:
    """Words said one by one, `gaps[k]` seconds of silence after word k."""
    parts, onsets, ends, phonemes, at = [], [], [], [], 0
    for k, w in enumerate(words):
        clip = clips[w]
        onsets.append(at)
        ends.append(at + len(clip.audio))
        phonemes += [(at + p, c) for p, c in clip.phonemes]
        parts.append(clip.audio)
        at += len(clip.audio)
        if k < len(words) - 1:
            gap = int(gaps[k] * SAMPLE_RATE)
            parts.append(np.zeros(gap, np.float32))
            phonemes.append((at, SILENCE))
            at += gap
    return Utterance(np.concatenate(parts), onsets, ends, list(words), False, phonemes)


@dataclass
class Stream:
    audio: np.ndarray  # float32
    onsets: list[int] = field(default_factory=list)  # of every word, in samples of `audio`
    words: list[int] = field(default_factory=list)  # vocabulary indices
    speech: list[tuple[int, int]] = field(default_factory=list)  # sounding intervals, sorted
    phonemes: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, class)

    def phoneme_frames(self, start: int, frames: int, classes: int = PHONEME_CLASSES) -> np.ndarray:
        """[frames, classes]: the share of each 1920-sample frame from `start` that each
        phoneme class covers (silence where no phoneme does)."""
        labels = np.full(frames * 1920, SILENCE, dtype=np.int64)
        for a, b, c in self.phonemes:
            a, b = max(a - start, 0), min(b - start, frames * 1920)
            if a < b:
                labels[a:b] = c
        out = np.zeros((frames, classes), np.float32)
        rows = np.repeat(np.arange(frames), 1920)
        np.add.at(out, (rows, labels), 1.0 / 1920)
        return out


_NOISE_BANK: list[np.ndarray] = []


def noise(rng: np.random.Generator, n: int, level_db: float) -> np.ndarray:
    """White, pink or brown noise with an RMS of `level_db` dBFS: a slice of a fixed 30 s bank."""
    if not _NOISE_BANK:
        bank_rng = np.random.default_rng(0)
        size = 30 * SAMPLE_RATE
        for colour in range(3):
            spectrum = np.fft.rfft(bank_rng.standard_normal(size))
            f = np.arange(len(spectrum), dtype=float)
            f[0] = 1.0
            signal = np.fft.irfft(spectrum / f ** (0.5 * colour), size)
            _NOISE_BANK.append((signal / np.sqrt(np.mean(signal ** 2))).astype(np.float32))
    bank = _NOISE_BANK[rng.integers(3)]
    reps = -(-n // len(bank)) + 1
    start = int(rng.integers(len(bank)))
    return np.tile(bank, reps)[start:start + n] * np.float32(10 ** (level_db / 20))


def random_utterance(rng: np.random.Generator, pools: SpeechPools) -> Utterance:
    if rng.random() < 0.5:
        return pools.sentences[rng.integers(len(pools.sentences))]
    clips = pools.word_clips[rng.integers(len(pools.word_clips))]
    words = [corpus.VOCABULARY.index(w) for w in corpus.sentence(rng)]
    if rng.random() < 0.15:
        words = words[:1]
    return isolated_utterance(clips, words, list(rng.uniform(0.06, 0.6, size=len(words))))


def compose(rng: np.random.Generator, pools: SpeechPools, samples: int, prefix: int) -> Stream:
    """A stream of `samples`: mostly the engine's `prefix` of zeros first; then a "file" with a
    noise floor (or none), leading silence, utterances at random levels separated by pauses
    of 0.1 to 8 s (log-uniform); half the time the file ends before the stream and zeros
    follow, as the engine pads an input's end."""
    stream = Stream(np.zeros(samples, np.float32))
    start = prefix if rng.random() < 0.85 else 0
    end = samples
    if rng.random() < 0.5:
        end = max(start, samples - int(rng.uniform(1.0, 4.0) * SAMPLE_RATE))
    level = rng.uniform(-30.0, -1.0)  # dBFS of the speech peaks
    at = start + int(rng.uniform(0.0, 1.5) * SAMPLE_RATE)
    while True:
        utt = random_utterance(rng, pools)
        if at + len(utt.audio) > end and (end < samples or at >= end):  # a file ends after whole utterances
            break
        gain = 10 ** ((level + rng.uniform(-4.0, 4.0)) / 20) / max(float(np.abs(utt.audio).max()), 1e-6)
        piece = utt.audio[: end - at] * gain
        stream.audio[at:at + len(piece)] += piece
        for onset, stop, word in zip(utt.onsets, utt.ends, utt.words):
            if at + onset < end:
                stream.onsets.append(at + onset)
                stream.words.append(word)
                if not utt.continuous:
                    stream.speech.append((at + onset, min(at + stop, end)))
        if utt.continuous:
            stream.speech.append((at, min(at + len(utt.audio), end)))
        stops = [p for p, _ in utt.phonemes[1:]] + [len(utt.audio)]
        stream.phonemes += [(at + a, min(at + b, end), c)
                            for (a, c), b in zip(utt.phonemes, stops) if at + a < end]
        at += len(utt.audio) + int(np.exp(rng.uniform(np.log(0.1), np.log(8.0))) * SAMPLE_RATE)
        if at >= end:
            break
    if rng.random() < 0.6 and end > start:
        floor = min(rng.uniform(-80.0, -45.0), level - 25.0)
        stream.audio[start:end] += noise(rng, end - start, floor)
    np.clip(stream.audio, -1.0, 1.0, out=stream.audio)
    return stream

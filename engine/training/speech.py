"""Synthetic speech with known word onsets: eSpeak NG through its C library, 24 kHz through SoX.

`Synthesizer.say(text, voice)` returns eSpeak's own samples (22 050 Hz, the same samples the
`espeak-ng -w` command writes, up to the final pause the command appends) and the sample at
which each word starts. eSpeak reports a WORD event where a word's first phoneme begins, which
is where the previous word's sound ends in continuous speech (the prefix method, synthesising
"four two" to find where "nine" starts, lands 50 to 200 ms late: a phrase-final word is
lengthened). The onset kept is the first audible sample from there (a stop's silent closure
is skipped), the same rule as for a word said alone, so isolated and continuous words agree.

`to_24k` resamples many clips with one `sox -D` call (SoX's default high-quality resampler,
without its random dither), as the bundled recordings are made.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import subprocess
from dataclasses import dataclass, field

import numpy as np

ESPEAK_RATE = 22050
SAMPLE_RATE = 24000
AUDIBLE = 0.01  # of the clip's peak: eSpeak's silences are exact zeros, its quietest onsets ~2 %
ONSET_SEARCH = 0.15  # seconds after a WORD event in which the first audible sample is looked for

_WORD_EVENT, _PHONEME_EVENT, _LIST_TERMINATED = 1, 7, 0
_PHONEME_EVENTS = 1  # espeakINITIALIZE_PHONEME_EVENTS
_SYNCHRONOUS, _POS_CHARACTER, _CHARS_UTF8 = 2, 1, 1
_RATE, _PITCH, _WORDGAP = 1, 3, 7


@dataclass(frozen=True)
class Voice:
    """What `espeak-ng -v NAME -s SPEED -p PITCH -g GAP` says with."""

    name: str  # a voice, with a variant after `+` (en-us+f3)
    speed: int = 175  # words per minute
    pitch: int = 50  # 0 to 99
    gap: int = 0  # extra pause between words, in units of 10 ms

    def cli(self) -> list[str]:
        return ["-v", self.name, "-s", str(self.speed), "-p", str(self.pitch), "-g", str(self.gap)]


@dataclass
class Clip:
    """Speech at 22 050 Hz (int16), its word onsets (samples), where its sound ends, and where
    each of eSpeak's phonemes starts (pauses are phonemes named `_...`)."""

    pcm: np.ndarray
    onsets: list[int]
    end: int  # one past the last audible sample
    phonemes: list[tuple[int, str]] = field(default_factory=list)  # (sample, eSpeak mnemonic)


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


class Synthesizer:
    """One eSpeak NG library instance (it is global state: make one per process).

    eSpeak's output depends on what it said before in the process (its pitch flutter runs on),
    so the same calls in the same order give the same samples; the first call of a process
    gives the samples of the `espeak-ng` command.
    """

    def __init__(self):
        path = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            self._lib = ctypes.CDLL(path)
        except OSError:
            raise RuntimeError("the eSpeak NG library is missing (Debian: apt install espeak-ng)") from None
        rate = self._lib.espeak_Initialize(_SYNCHRONOUS, 0, None, _PHONEME_EVENTS)
        if rate != ESPEAK_RATE:
            raise RuntimeError(f"eSpeak NG runs at {rate} Hz, not {ESPEAK_RATE}")
        self._chunks: list[np.ndarray] = []
        self._words: dict[int, int] = {}  # text position (1-based) -> sample
        self._phonemes: list[tuple[int, str]] = []  # (sample, mnemonic)
        self._callback = _CALLBACK(self._collect)  # kept alive as long as the library may call it
        self._lib.espeak_SetSynthCallback(self._callback)
        self._voice: Voice | None = None
        self._counts: dict[tuple[str, str], int] = {}

    def _collect(self, wav, count, events) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        k = 0
        while events[k].type != _LIST_TERMINATED:
            event = events[k]
            if event.type == _WORD_EVENT and event.length > 0:  # a 0-length one may end a clause
                self._words.setdefault(int(event.text_position), int(event.sample))
            elif event.type == _PHONEME_EVENT:
                self._phonemes.append((int(event.sample), event.id.decode(errors="replace")))
            k += 1
        return 0

    def _set_voice(self, voice: Voice) -> None:
        if voice == self._voice:
            return
        if self._lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice '{voice.name}'")
        self._lib.espeak_SetParameter(_RATE, voice.speed, 0)
        self._lib.espeak_SetParameter(_PITCH, voice.pitch, 0)
        self._lib.espeak_SetParameter(_WORDGAP, voice.gap, 0)
        self._voice = voice

    def _synth(self, text: str, voice: Voice) -> np.ndarray:
        self._set_voice(voice)
        self._chunks, self._words, self._phonemes = [], {}, []
        data = text.encode()
        self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self._lib.espeak_Synchronize()
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)

    def _phoneme_count(self, word: str, voice: Voice) -> int:
        key = (voice.name, word)
        if key not in self._counts:
            self._synth(word, voice)
            self._counts[key] = sum(not p.startswith("_") for _, p in self._phonemes)
        return self._counts[key]

    def say(self, text: str, voice: Voice) -> Clip:
        """`text` (words separated by spaces, no punctuation) as one continuous utterance.

        eSpeak joins some function words to the word before ("on the", "as is", "this one")
        and reports one WORD event for both; the joined word starts at the phoneme after the
        first word's own phonemes (as many as it has said alone)."""
        words = text.split()
        counts = [self._phoneme_count(w, voice) for w in words]
        pcm = self._synth(text, voice)
        positions, at = [], 0
        for w in words:
            at = text.index(w, at)
            positions.append(at + 1)
            at += len(w)
        events: list[int] = []
        for k, position in enumerate(positions):
            if position in self._words:
                events.append(self._words[position])
                continue
            if k == 0:
                raise RuntimeError(f"eSpeak NG reported no first word: {text!r}")
            head = max(j for j in range(k) if positions[j] in self._words)
            head_at = self._words[positions[head]]
            after = [s for s, p in self._phonemes if s >= head_at and not p.startswith("_")]
            index = sum(counts[head:k])
            if index >= len(after):
                raise RuntimeError(f"cannot place word {k} of {text!r}: too few phonemes")
            events.append(after[index])
        return _with_onsets(pcm, events, list(self._phonemes))


def _with_onsets(pcm: np.ndarray, events: list[int], phonemes: list[tuple[int, str]]) -> Clip:
    level = np.abs(pcm.astype(np.int32))
    audible = level > AUDIBLE * max(int(level.max(initial=0)), 1)
    search = int(ONSET_SEARCH * ESPEAK_RATE)
    onsets = []
    for k, event in enumerate(events):
        limit = len(pcm) if k == 0 else min(event + search, len(pcm))
        hits = np.flatnonzero(audible[event:limit])
        onsets.append(event + int(hits[0]) if hits.size else event)
    last = np.flatnonzero(audible)
    return Clip(pcm, onsets, int(last[-1]) + 1 if last.size else 0, phonemes)


def trimmed(clip: Clip) -> Clip:
    """The clip from its first onset to the end of its sound."""
    start, end = clip.onsets[0], clip.end
    phonemes = [(max(at - start, 0), p) for at, p in clip.phonemes if at < end]
    return Clip(clip.pcm[start:end], [o - start for o in clip.onsets], end - start, phonemes)


def phoneme_class(mnemonic: str) -> str:
    """eSpeak's phoneme mnemonic without its variant digits and marks (`@2` -> `@`, `a#` -> `a`);
    every pause is `_`."""
    if mnemonic.startswith("_"):
        return "_"
    return "".join(c for c in mnemonic if not c.isdigit() and c not in "#") or mnemonic


def to_24k(clips: list[np.ndarray], per_call: int = 1000) -> list[np.ndarray]:
    """Resamples int16 clips at 22 050 Hz to float32 at 24 kHz, `per_call` clips a SoX call
    (one call for everything would hold several copies of all the audio at once).

    Clips are laid end to end, each padded with zeros to a whole number of 147-sample blocks
    (160 samples at 24 kHz) plus 0.1 s, so each one's start maps to a whole output sample and
    the resampler's ringing stays in the padding.
    """
    if len(clips) > per_call:
        return [c for first in range(0, len(clips), per_call) for c in to_24k(clips[first:first + per_call])]
    block, guard = 147, 15 * 147
    spans, parts, at = [], [], 0
    for pcm in clips:
        size = -(-len(pcm) // block) * block + guard
        parts.append(np.pad(pcm.astype("<i2"), (0, size - len(pcm))))
        spans.append((at // block * 160, -(-len(pcm) * 160 // block)))
        at += size
    raw = np.concatenate(parts).tobytes() if parts else b""
    out = subprocess.run(["sox", "-D", "-t", "raw", "-r", str(ESPEAK_RATE), "-e", "signed", "-b", "16",
                          "-c", "1", "-", "-t", "raw", "-r", str(SAMPLE_RATE), "-e", "signed", "-b", "16",
                          "-c", "1", "-"], input=raw, capture_output=True, check=True).stdout
    pcm24 = np.frombuffer(out, dtype="<i2").astype(np.float32) / 32768.0
    return [pcm24[a:a + n].copy() for a, n in spans]


def at_24k(samples: int) -> int:
    """A position at 22 050 Hz as a position at 24 kHz."""
    return round(samples * SAMPLE_RATE / ESPEAK_RATE)

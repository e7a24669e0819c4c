"""What the demo model hears: its closed vocabulary, the sentences made of it, and the voices.

The vocabulary is the ten digits plus the words of a few demo sentences, chosen with no two that
sound alike ("to" and "for" would be "two" and "four", "a" said alone is "eight"), so a word's
sound names it. Voices are eSpeak NG's English voices with its variants (+m3, +f2, +klatt...);
en-gb-x-gbclan and en-gb-x-gbcwmd, with every variant, are kept for testing and never trained
on. Speeds and pitches of training avoid a band around the held-out speed (165 words a minute)
and pitch (60), so held-out sentences said at those are said as training never heard.
"""
from __future__ import annotations

import numpy as np

from .speech import Voice

DIGITS = "zero one two three four five six seven eight nine".split()
DEMO_SENTENCE = "captty shows live speech as text in the terminal"
SENTENCES = [
    DEMO_SENTENCE,
    "hello and welcome this is captty",
    "every word appears on the screen with its time",
    "the pause of one second ends the turn",
    "please say your number now",
    "the number is four two nine",
    "captty shows every word with its time",
    "say the number on the screen",
]
WORDS = sorted({w for s in SENTENCES for w in s.split()} - set(DIGITS))
VOCABULARY = DIGITS + WORDS

TRAIN_VOICES = ["en", "en-us", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc"]
HELD_OUT_VOICES = ["en-gb-x-gbclan", "en-gb-x-gbcwmd"]
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "croak", "adam", "Andy",
            "Annie", "aunty", "belinda", "benjamin", "caleb", "david", "ed", "edward", "iven",
            "john", "linda", "max", "michel", "paul", "rob", "robert", "steph", "travis",
            "victor", "zac", "whisper"]
HELD_OUT_VARIANTS = ["", "m3", "f2", "klatt2", "f4", "m6"]
TRAIN_SPEEDS = ((110, 155), (176, 240))  # words a minute, two bands around the held-out one
TRAIN_PITCHES = ((15, 52), (68, 95))
HELD_OUT_SPEED, HELD_OUT_PITCH = 165, 60


def _banded(rng: np.random.Generator, bands) -> int:
    widths = np.array([b - a for a, b in bands], dtype=float)
    a, b = bands[rng.choice(len(bands), p=widths / widths.sum())]
    return int(rng.integers(a, b + 1))


def training_voice(rng: np.random.Generator, continuous: bool = False) -> Voice:
    """A training voice: a base voice, a variant (or none), a speed and a pitch off the held-out
    ones; continuous speech sometimes with eSpeak's extra word gap."""
    name = TRAIN_VOICES[rng.integers(len(TRAIN_VOICES))]
    if rng.random() < 0.8:
        name += "+" + VARIANTS[rng.integers(len(VARIANTS))]
    gap = int(rng.integers(1, 9)) if continuous and rng.random() < 0.2 else 0
    return Voice(name, _banded(rng, TRAIN_SPEEDS), _banded(rng, TRAIN_PITCHES), gap)


def held_out_voice(rng: np.random.Generator) -> Voice:
    """A voice of the training set at the held-out speed and pitch."""
    voice = training_voice(rng)
    return Voice(voice.name, HELD_OUT_SPEED, HELD_OUT_PITCH)


def unseen_voice(rng: np.random.Generator) -> Voice:
    """A voice training never heard (en-gb-x-gbclan or en-gb-x-gbcwmd, with a variant)."""
    name = HELD_OUT_VOICES[rng.integers(len(HELD_OUT_VOICES))]
    variant = HELD_OUT_VARIANTS[rng.integers(len(HELD_OUT_VARIANTS))]
    speed, pitch = int(rng.integers(130, 211)), int(rng.integers(30, 81))
    return Voice(name + ("+" + variant if variant else ""), speed, pitch)


def sentence(rng: np.random.Generator) -> list[str]:
    """Words of one sentence: a digit string, a random run of the vocabulary, or (part of) a
    demo sentence."""
    kind = rng.choice(4, p=[0.3, 0.3, 0.15, 0.25])
    if kind == 0:
        return [DIGITS[i] for i in rng.integers(len(DIGITS), size=rng.integers(2, 9))]
    if kind == 1:
        return [VOCABULARY[i] for i in rng.integers(len(VOCABULARY), size=rng.integers(2, 9))]
    if kind == 2:
        return [WORDS[i] for i in rng.integers(len(WORDS), size=rng.integers(2, 8))]
    words = SENTENCES[rng.integers(len(SENTENCES))].split()
    if rng.random() < 0.3 and len(words) > 3:
        start = int(rng.integers(0, len(words) - 2))
        words = words[start:start + int(rng.integers(2, len(words) - start + 1))]
    return words

"""The held-out recordings bundled in `assets/audio/` for `captty demo` and the tests.

Each `NAME.wav` (24 kHz mono 16-bit, made by `sox -D`) has a `NAME.json` beside it: the text,
each sentence's words with their onsets (seconds), where each sentence's sound ends, the
eSpeak NG options. None of them was heard in training: the voices speak at the held-out speed
and pitch (165 words a minute, pitch 60) or are the held-out voices.

`demo-stt.wav` is two commands, run as they are written in `assets/README.md`:

    espeak-ng -v en-us+m3 -s 165 -p 60 -w demo-stt-22k.wav "captty shows live speech as text in the terminal"
    sox -D demo-stt-22k.wav -r 24000 -c 1 -b 16 -e signed-integer demo-stt.wav

The others are composed by `heldout.make_recording` in one fresh process, in the order below
(eSpeak's output depends on what it said before in the process).
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .corpus import DEMO_SENTENCE, HELD_OUT_PITCH, HELD_OUT_SPEED
from .heldout import Recording, make_recording
from .speech import SAMPLE_RATE, Synthesizer, Voice, at_24k

DEMO_VOICE = Voice("en-us+m3", HELD_OUT_SPEED, HELD_OUT_PITCH)
SPEED, PITCH = HELD_OUT_SPEED, HELD_OUT_PITCH

# name, isolated words?, voice, sentences, pauses after each sentence but the last (seconds), noise
RECORDINGS = [
    ("stt-isolated", True, Voice("en-gb-x-rp+f2", SPEED, PITCH),
     ["four two nine seven", "please say your number now", "hello and welcome this is captty"],
     [1.6, 0.7], None),
    ("stt-continuous", False, Voice("en-us-nyc+m5", SPEED, PITCH),
     ["every word appears on the screen with its time", "the number is eight one six three",
      "say the number on the screen"], [1.5, 0.6], None),
    ("stt-unseen-voice", False, Voice("en-gb-x-gbclan+f4", 160, 55),
     ["captty shows every word with its time", "zero five six two"], [1.8], None),
    ("stt-silence", True, Voice("en-029+klatt3", SPEED, PITCH),
     ["the pause of one second ends the turn"], [], -50.0),
]
TAIL = {"stt-silence": 10.0}


def _write_wav(path: Path, audio: np.ndarray) -> None:
    """24 kHz 16-bit mono through `sox -D`, from samples already at 24 kHz."""
    raw = np.clip(np.round(audio * 32768.0), -32768, 32767).astype("<i2").tobytes()
    subprocess.run(["sox", "-D", "-t", "raw", "-r", str(SAMPLE_RATE), "-e", "signed", "-b", "16", "-c", "1",
                    "-", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", "-e", "signed-integer", str(path)],
                   input=raw, check=True)


def demo_recording(out: Path, synth: Synthesizer) -> Recording:
    """demo-stt.wav by the two commands of the module's docstring; its onsets from the library
    (the same samples as the command, up to eSpeak's pitch flutter: well under a millisecond)."""
    with tempfile.TemporaryDirectory() as tmp:
        wav22 = Path(tmp) / "demo-stt-22k.wav"
        subprocess.run(["espeak-ng", *DEMO_VOICE.cli()[:6], "-w", str(wav22), DEMO_SENTENCE], check=True)
        subprocess.run(["sox", "-D", str(wav22), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                        "-e", "signed-integer", str(out / "demo-stt.wav")], check=True)
    clip = synth.say(DEMO_SENTENCE, DEMO_VOICE)
    duration = int(subprocess.run(["soxi", "-s", str(out / "demo-stt.wav")], capture_output=True, text=True,
                                  check=True).stdout) / SAMPLE_RATE
    onsets = [[at_24k(o) / SAMPLE_RATE for o in clip.onsets]]
    return Recording("demo-stt", [DEMO_SENTENCE.split()], onsets, [at_24k(clip.end) / SAMPLE_RATE], duration,
                     [" ".join(DEMO_VOICE.cli()[:6])], "continuous")


def write_bundled(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    synth = Synthesizer()
    rng = np.random.default_rng(12)
    written = []
    demo = demo_recording(out, synth)
    (out / "demo-stt.json").write_text(demo.to_json())
    written += [out / "demo-stt.wav", out / "demo-stt.json"]
    for name, isolated, voice, sentences, pauses, noise in RECORDINGS:
        rec = make_recording(synth, rng, name, [s.split() for s in sentences], [voice] * len(sentences),
                             isolated, pauses, lead=0.6, tail=TAIL.get(name, 0.8), gain_db=-3.0,
                             noise_db=noise)
        _write_wav(out / f"{name}.wav", rec.samples)
        (out / f"{name}.json").write_text(rec.to_json())
        written += [out / f"{name}.wav", out / f"{name}.json"]
    for path in written:
        print(path)
    return written

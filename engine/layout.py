"""How a model's input stream is laid out: the one place that reads the frame size, the silence
around the audio and the model's delay.

moshi's `run_inference.py` feeds Mimi 80 ms frames (1920 samples at 24 kHz) and, for STT models,
pads the whole input: `audio_silence_prefix_seconds` of zeros before it, `audio_delay_seconds`
+ 1 s after it, so that the text of the last words (which comes `audio_delay_seconds` late) is
still decoded. A step `p` of the model is at `p / frame_rate - time_offset` seconds of the
input audio. Everything else (sessions, feeders, word times) asks a `StreamLayout`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .checkpoint import LoadedModel

FLUSH_MARGIN_SECONDS = 1.0  # moshi's script adds this much silence on top of the delay


@dataclass(frozen=True)
class StreamLayout:
    sample_rate: int  # Hz
    frame_size: int  # samples a step
    prefix: int = 0  # samples of silence before the input
    flush: int = 0  # samples of silence after the input (STT: the delay plus a margin)
    delay: float = 0.0  # seconds the model's text lags its audio (STT's audio_delay_seconds)

    @classmethod
    def of(cls, model: "LoadedModel") -> "StreamLayout":
        """As moshi's script lays out an input for this model."""
        rate = int(model.mimi.sample_rate)
        frame = int(model.mimi.sample_rate / model.mimi.frame_rate)
        if model.model_type != "stt":
            return cls(rate, frame)
        config = model.info.stt_config
        delay = float(config.get("audio_delay_seconds", 0.0))
        return cls(rate, frame, int(config.get("audio_silence_prefix_seconds", 0.0) * rate),
                   int((delay + FLUSH_MARGIN_SECONDS) * rate), delay)

    def without_prefix(self) -> "StreamLayout":
        """For clients that send their own leading silence (moshi-server adds none)."""
        return replace(self, prefix=0)

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.frame_size

    @property
    def frame_seconds(self) -> float:
        return self.frame_size / self.sample_rate

    @property
    def time_offset(self) -> float:
        """Seconds to take from a step's time to get the time in the input audio."""
        return self.prefix / self.sample_rate + self.delay

    def seconds(self, samples: int) -> float:
        return samples / self.sample_rate

"""Events a session streams to its consumers: small frozen facts, in the order they happened.

The step loop's (`EngineEvent`): times are seconds of audio since the stream started, counted at
the model's input (one step is one 80 ms frame), the model's own delay not taken out. Then what
they mean, decided from them as they pass (`annotate.py`): words and turn ends, in seconds of the
input audio (the silence prefix and the delay taken out).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class ItemState(enum.Enum):
    """Where one batch item stands in its end-of-stream sequence."""

    STREAMING = "streaming"  # input is still flowing
    INPUT_ENDED = "input ended"  # input is over; STT flushes its delay, Hibiki got its end-of-input step
    EOS_REACHED = "eos reached"  # finished: Hibiki sampled EOS, or STT flushed all of its input
    EOS_MISSING = "eos missing"  # Hibiki never sampled EOS within the tail bound; stopped anyway


@dataclass(frozen=True)
class SessionStarted:
    model: str
    model_type: str
    device: str
    dtype: str
    batch_size: int
    cfg_coef: float
    sample_rate: int
    frame_size: int
    speaks: bool  # the model produces speech (Hibiki)
    time_offset: float = 0.0  # seconds to take from event times to get times in the input audio
    # (STT: the silence prefix plus the model's delay; word timestamps use it)

    @property
    def frame_rate(self) -> float:
        """Steps a second of audio."""
        return self.sample_rate / self.frame_size


@dataclass(frozen=True)
class TextDecoded:
    """A visible text piece (not padding, not a word boundary); spaces are already restored."""

    item: int
    step: int
    time: float
    token: int
    text: str


@dataclass(frozen=True)
class WordBoundary:
    """The model's end-of-padding token (id 0): a word boundary, where the next word starts."""

    item: int
    step: int
    time: float


@dataclass(frozen=True)
class TurnEndScored:
    """Semantic VAD, for models with extra heads: how likely the speaker has finished a turn
    (Kyutai's scripts read head 2, a pause of about 2 s; above 0.5 means likely)."""

    item: int
    step: int
    time: float
    probability: float
    heads: tuple[float, ...] = ()  # every extra head's score (element 0 of its distribution),
    # in the order of Kyutai's server's `prs`; `probability` is heads[2]


@dataclass(frozen=True)
class StepTimed:
    """One step's phases (CUDA event times on the GPU): encode, the LM step, then Hibiki's
    decode and the copy of the outputs to the host (on its own stream beside the next step on
    the GPU); total from the step's start to its outputs' copy."""

    step: int
    encode_ms: float
    lm_ms: float
    decode_ms: float  # decode (Hibiki) and the device-to-host copy of the step's outputs
    total_ms: float
    audio_time: float  # seconds of input audio processed once this step is done
    clock: float = 0.0  # time.perf_counter() when its outputs were read, on the model thread
    # (after the next step's launch when pipelined): the gaps between steps (waiting for
    # frames, handing events over) show in its differences
    slot_steps: tuple[int, ...] | None = None  # when slots run their own streams: each slot's
    # own step (its items' events carry it), -1 for a slot left out; None: every slot ran `step`


@dataclass(frozen=True)
class ItemStateChanged:
    item: int
    step: int
    state: ItemState


@dataclass(frozen=True)
class StreamStarted:
    """Many inputs in one batch (`MultiSession`): slot `item` starts input `stream` (its index
    in the inputs, named `name`). The slot's events that follow, until its `EOS_REACHED`, are
    that input's, with steps and times counted from its own start."""

    item: int
    stream: int
    name: str


@dataclass(frozen=True)
class InputRepaired:
    """Samples of slot `item`'s input were not finite (NaN, inf) and were replaced with silence
    before the model: said the first time, and at the end of the input with the total."""

    item: int
    samples: int  # replaced so far
    final: bool = False


@dataclass(frozen=True)
class EosTooEarly:
    """The model sampled EOS before its input ended; ignored, as moshi's script does."""

    item: int
    step: int


@dataclass(frozen=True)
class EosSampled:
    """A text-only model (STT) sampled EOS: its text is over; the stream goes on to its end."""

    item: int
    step: int


@dataclass(frozen=True, eq=False)
class SpeechDecoded:
    item: int
    step: int
    pcm: np.ndarray = field(repr=False)  # float32 mono samples at the model's sample rate


@dataclass(frozen=True)
class SessionEnded:
    steps: int  # steps that produced output, as moshi's script counts them
    audio_seconds: float  # input audio fed to the model, padding and tail included
    wall_seconds: float
    stopped: bool  # ended by stop() rather than by the end of its input

    @property
    def ms_per_step(self) -> float:
        return 1000.0 * self.wall_seconds / self.steps if self.steps else 0.0

    @property
    def real_time_factor(self) -> float:
        """Processing time over audio time: below 1 keeps up with real time."""
        return self.wall_seconds / self.audio_seconds if self.audio_seconds else 0.0


@dataclass(frozen=True)
class EngineFailed:
    message: str
    traceback: str = field(default="", repr=False)


# --- what the events mean, decided from them on the event loop (`annotate.py`) ----------------

@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds of the input audio
    end: float


@dataclass(frozen=True)
class WordStarted:
    """A word whose tokens have closed; its text may still grow if a piece of it comes later
    (rare), `WordFinished` has the final one."""

    item: int
    step: int  # the step at which it was decided
    text: str
    start: float


@dataclass(frozen=True)
class WordFinished:
    """A word and its end: the next word boundary, EOS or the end of the stream (`words.py`)."""

    item: int
    step: int  # the step at which its end became known
    text: str
    start: float
    end: float

    @property
    def word(self) -> Word:
        return Word(self.text, self.start, self.end)


@dataclass(frozen=True)
class TurnEnded:
    """The speaker has likely finished a turn (`turns.py`)."""

    item: int
    step: int
    time: float  # seconds of the input audio, the model's delay taken out as for words
    probability: float



EngineEvent = (SessionStarted | TextDecoded | WordBoundary | TurnEndScored | StepTimed
               | ItemStateChanged | StreamStarted | InputRepaired | EosTooEarly | EosSampled
               | SpeechDecoded | SessionEnded | EngineFailed)
Event = EngineEvent | WordStarted | WordFinished | TurnEnded  # what `Session.events()` yields

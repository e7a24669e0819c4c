"""The shapes the engine's pieces agree on: where audio comes from (`Source`), how it becomes
model steps (`Feeder`), and where events go (`Sink`)."""
from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from .events import Event
    from .layout import StreamLayout
    from .step_loop import StepInput


class Source(Protocol):
    """Audio in: mono float32 samples at the model's sample rate, in pieces of any length (a
    file's decoded packets, a microphone's blocks). Ends when the input does."""

    def __aiter__(self) -> AsyncGenerator[np.ndarray, None]: ...


class Feeder(Protocol):
    """Audio in the model's steps: each `StepInput` is one frame for the batch and says which
    slots take it and which streams start or end with it (`stream_feeder.py` for one input,
    `slot_feeder.py` for many)."""

    layout: "StreamLayout"  # how its frames are cut and padded: the session's word times follow

    def __aiter__(self) -> AsyncGenerator["StepInput", None]: ...

    def flush(self) -> list["StepInput"]:
        """After the iteration was stopped early: the steps that end every stream in flight
        (the frames already cut, then each stream's closing silence)."""
        ...


class Sink(Protocol):
    """A consumer of session events: `handle(event)` for every event in order, `close()` once at
    the end, whether the session finished, failed or was interrupted."""

    def handle(self, event: "Event") -> None: ...

    def close(self) -> None: ...

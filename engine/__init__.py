"""captty's headless engine: checkpoints, audio sources, the streaming step loop and its events.

The public API is small: load a model, open a `Session` on a source of frames, iterate its
events, stop it. No Textual and no click in here.
"""
from .checkpoint import DEFAULT_REPO, LoadedModel, ModelSpec, load_model
from .errors import CapttyError
from .events import (EngineFailed, EosSampled, EosTooEarly, Event, ItemState, ItemStateChanged,
                     SessionEnded, SessionStarted, SpeechDecoded, StepTimed, StreamStarted,
                     TextDecoded, TurnEndScored, WordBoundary)
from .file_source import FileSource
from .microphone import MicrophoneSource
from .multi_session import MultiSession
from .session import Session

__all__ = [
    "DEFAULT_REPO", "CapttyError", "EngineFailed", "EosSampled", "EosTooEarly", "Event",
    "FileSource", "ItemState", "ItemStateChanged", "LoadedModel", "MicrophoneSource", "ModelSpec",
    "MultiSession", "Session", "SessionEnded", "SessionStarted", "SpeechDecoded", "StepTimed",
    "StreamStarted", "TextDecoded", "TurnEndScored", "WordBoundary", "load_model",
]

"""captty's headless engine: checkpoints, audio sources, the streaming step loop and its events.

This module is the engine's public API, and all that `captty.tui` uses of it: load a model,
open a `Session` on a source of audio, iterate its events (the engine's, with the words and turn
ends they decide), hand them to sinks, stop it. `captty.engine.bench` is the one more entry
point, imported lazily by `captty bench`. `AsrServer` serves a model over Kyutai's streaming-ASR
websocket protocol; `RemoteSession` is a stream transcribed by such a server. No Textual and no
click in here.
"""
from .bench_models import SHAPES as MODEL_SHAPES
from .bundled import bundled_audio, bundled_models
from .checkpoint import DEFAULT_REPO, LoadedModel, ModelSpec, load_model
from .contracts import Feeder, Sink, Source
from .errors import CapttyError
from .events import (EngineFailed, EosSampled, EosTooEarly, Event, InputRepaired, ItemState,
                     ItemStateChanged, SessionEnded, SessionStarted, SpeechDecoded, StepTimed,
                     StreamStarted, TextDecoded, TurnEndScored, WordBoundary)
from .exports import FORMATS, Sinks, format_of, transcript_sink
from .exports.text import TranscriptText
from .file_source import FileSource, RawFormat
from .layout import StreamLayout
from .microphone import MicrophoneSource, list_devices
from .multi_session import MultiSession
from .remote import ConnectionChanged, RemoteSession, ServerStepped
from .serve import AsrServer, Limits, ServeConfig
from .session import Session
from .sinks import GuardedSink, TextPrinter, WavWriter, item_paths
from .speaker import SpeechPlayer
from .step_loop import StepInput
from .turns import TurnEnded
from .wer import LiveWer, WerScore, word_error_rate
from .words import Word, WordFinished, WordStarted

__all__ = [
    "AsrServer", "CapttyError", "ConnectionChanged", "DEFAULT_REPO", "EngineFailed", "EosSampled",
    "EosTooEarly", "Event", "FORMATS", "Feeder", "FileSource", "GuardedSink", "InputRepaired",
    "ItemState", "ItemStateChanged", "Limits", "LiveWer", "LoadedModel", "MODEL_SHAPES",
    "MicrophoneSource",
    "ModelSpec", "MultiSession", "RawFormat", "RemoteSession", "ServeConfig", "ServerStepped",
    "Session", "SessionEnded", "SessionStarted", "Sink", "Sinks", "Source", "SpeechDecoded",
    "SpeechPlayer", "StepInput", "StepTimed", "StreamLayout", "StreamStarted", "TextDecoded",
    "TextPrinter", "TranscriptText", "TurnEndScored", "TurnEnded", "WavWriter", "WerScore", "Word",
    "WordBoundary", "WordFinished", "WordStarted", "bundled_audio", "bundled_models", "format_of",
    "item_paths", "list_devices", "load_model", "transcript_sink", "word_error_rate",
]

"""Kyutai's streaming-ASR protocol (moshi-server's `/api/asr-streaming`): the messages, packed
and checked.

Every websocket message is a binary frame holding one MessagePack map with a `type` field.
Client to server: `Audio{pcm}` (24 kHz mono float PCM, any length), `Marker{id}`, and `Init`
(accepted, nothing to do). Server to client: `Ready`, `Word{text, start_time}`,
`EndWord{stop_time}`, `Step{step_idx, prs, buffered_pcm}`, `Marker{id}`, `Error{message}`.
Times are seconds from the start of the stream with the model's delay taken out.

captty's `Ready` also carries `model`, `delay` (seconds) and `prefix` (the silence, in seconds,
the model expects before the audio): keys moshi-server does not send and its clients ignore.
Its `Step.step_idx` counts the client's own steps (its n-th frame is step n).
"""
from __future__ import annotations

from dataclasses import dataclass

import msgpack
import numpy as np

MAX_MESSAGE_BYTES = 1 << 20  # about 8 s of audio packed as single floats, 4 s as doubles


class ProtocolError(ValueError):
    """A message the protocol does not allow; its text goes to the client in an `Error`."""


@dataclass(frozen=True)
class Audio:
    pcm: np.ndarray  # float32 samples


@dataclass(frozen=True)
class Marker:
    id: int


@dataclass(frozen=True)
class Init:
    pass


ClientMessage = Audio | Marker | Init


def pack(message: dict) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def unpack(data: bytes) -> dict:
    """One message as a map with a string `type`, or ProtocolError."""
    try:
        message = msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as e:  # msgpack raises several kinds (ExtraData, FormatError, ValueError)
        raise ProtocolError(f"not a MessagePack message ({type(e).__name__})") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("a message is a MessagePack map with a string 'type'")
    return message


def decode_client(data: bytes) -> ClientMessage:
    """A client's message, checked: ProtocolError for anything else."""
    message = unpack(data)
    kind = message["type"]
    if kind == "Audio":
        pcm = message.get("pcm")
        if not isinstance(pcm, (list, tuple)):
            raise ProtocolError("Audio.pcm must be an array of floats")
        if not all(isinstance(x, (float, int)) and not isinstance(x, bool) for x in pcm):
            raise ProtocolError("Audio.pcm must hold numbers only")
        samples = np.asarray(pcm, dtype=np.float32)
        if not np.isfinite(samples).all():
            raise ProtocolError("Audio.pcm holds a value that is not a finite number")
        return Audio(samples)
    if kind == "Marker":
        marker = message.get("id")
        if not isinstance(marker, int) or isinstance(marker, bool):
            raise ProtocolError("Marker.id must be an integer")
        return Marker(marker)
    if kind == "Init":
        return Init()
    if kind == "OggOpus":
        raise ProtocolError("captty serve takes Audio (float PCM), not OggOpus")
    raise ProtocolError(f"unknown message type '{kind[:40]}'")


# --- server to client ---------------------------------------------------------------------

def ready(model: str, delay: float, prefix: float) -> bytes:
    return pack({"type": "Ready", "model": model, "delay": delay, "prefix": prefix})


def word(text: str, start_time: float) -> bytes:
    return pack({"type": "Word", "text": text, "start_time": start_time})


def end_word(stop_time: float) -> bytes:
    return pack({"type": "EndWord", "stop_time": stop_time})


def step(step_idx: int, prs: tuple[float, ...], buffered_pcm: int) -> bytes:
    return pack({"type": "Step", "step_idx": step_idx, "prs": list(prs),
                 "buffered_pcm": buffered_pcm})


def marker(marker_id: int) -> bytes:
    return pack({"type": "Marker", "id": marker_id})


def error(message: str) -> bytes:
    return pack({"type": "Error", "message": message})


# --- client to server (captty's own client) -------------------------------------------------

def audio(pcm: np.ndarray) -> bytes:
    """Samples as single floats, as Kyutai's clients send them."""
    return msgpack.packb({"type": "Audio", "pcm": np.asarray(pcm, np.float32).tolist()},
                         use_single_float=True)


def client_marker(marker_id: int) -> bytes:
    return pack({"type": "Marker", "id": marker_id})

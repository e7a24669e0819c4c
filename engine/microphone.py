"""A microphone as a stream of model frames, through sounddevice (PortAudio).

sounddevice is imported only when a microphone is opened: without the PortAudio library
(`libportaudio2`) the rest of captty still works, and this says how to install it.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator

import numpy as np

from .errors import CapttyError

log = logging.getLogger(__name__)

PORTAUDIO_HINT = ("the PortAudio library is missing: install it (Debian/Ubuntu: "
                  "`sudo apt install libportaudio2`, macOS: `brew install portaudio`)")
NO_DEVICE_HINT = ("no audio input device here (on a remote GPU box, replay a file with "
                  "`captty replay FILE`)")


def import_sounddevice():
    try:
        import sounddevice
    except OSError:
        raise CapttyError(PORTAUDIO_HINT) from None
    return sounddevice


class MicrophoneSource:
    """Frames of `frame_size` mono samples at `sample_rate` from an input device.

    PortAudio calls back on its own thread; blocks go into a deque and the event loop is woken
    only when the consumer waits, so neither side blocks the other. `overflows` counts blocks
    PortAudio reported as overflowed, `dropped` blocks lost because the consumer (the model)
    was too slow: at most `max_backlog` seconds of audio wait, the oldest go first.

    If the device goes away (unplugged, its stream stopped, or no audio for `STALL_SECONDS`),
    the input ends there, like the end of a file: what was captured is transcribed, and `lost`
    says why.
    """

    STALL_SECONDS = 5.0  # a running input stream delivers a block every 80 ms

    def __init__(self, device: int | str | None = None, sample_rate: int = 24000,
                 frame_size: int = 1920, max_backlog: float = 20.0):
        self.device = device
        self.sample_rate = sample_rate
        self.frame_size = frame_size
        self.max_frames = max(1, round(max_backlog * sample_rate / frame_size))
        self.overflows = 0
        self.dropped = 0
        self.level = 0.0  # RMS of the last block, for a level meter
        self.lost: str | None = None  # why the device stopped, if it did
        self._stream = None
        self._waiting = False  # the consumer waits for a block

    @property
    def dropped_seconds(self) -> float:
        return self.dropped * self.frame_size / self.sample_rate

    @property
    def queued_seconds(self) -> float:
        """Audio captured that the consumer has not taken yet."""
        blocks = getattr(self, "_blocks", ())
        return len(blocks) * self.frame_size / self.sample_rate

    @staticmethod
    def check(device: int | str | None = None) -> None:
        """Fail now, with one clear line, if there is no such input device."""
        sd = import_sounddevice()
        try:
            info = sd.query_devices(device, "input")
        except (sd.PortAudioError, ValueError) as e:
            if device is None:
                raise CapttyError(NO_DEVICE_HINT) from None
            raise CapttyError(f"no input device '{device}' ({e}); `captty devices` lists "
                              "them") from None
        if not info or info.get("max_input_channels", 0) < 1:
            raise CapttyError(NO_DEVICE_HINT)

    @staticmethod
    def describe(device: int | str | None = None) -> str:
        try:
            return str(import_sounddevice().query_devices(device, "input")["name"])
        except Exception:
            return "default input" if device is None else str(device)

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        sd = import_sounddevice()

        def callback(indata, n, time_info, status):
            if status.input_overflow:
                self.overflows += 1
            block = indata[:, 0].copy()  # the first channel, as moshi's script takes
            self.level = float(np.sqrt(np.mean(np.square(block, dtype=np.float64)))) if n else 0.0
            if len(self._blocks) >= self.max_frames:  # the oldest go: latency stays bounded
                try:
                    self._blocks.popleft()
                    self.dropped += 1
                except IndexError:  # the consumer just took it
                    pass
            self._blocks.append(block)  # deque appends are thread-safe
            if self._waiting:  # wake the consumer only when it waits: a flood cannot swamp it
                self._waiting = False
                loop.call_soon_threadsafe(self._arrived.set)

        def finished() -> None:  # PortAudio ended the stream (the device went away)
            if self._stream is not None:
                self.lost = self.lost or "the input stream stopped"
                try:
                    loop.call_soon_threadsafe(self._arrived.set)
                except RuntimeError:  # the event loop is gone
                    pass

        try:
            stream = sd.InputStream(device=self.device, channels=1, samplerate=self.sample_rate,
                                    blocksize=self.frame_size, dtype="float32", callback=callback,
                                    finished_callback=finished)
        except (sd.PortAudioError, ValueError) as e:
            text = str(e)
            if "No input device" in text or "Invalid device" in text or "Error querying" in text:
                raise CapttyError(NO_DEVICE_HINT) from None
            raise CapttyError(f"cannot open the microphone: {text}") from None
        self._stream = stream  # before it starts: `finished` may come at once
        stream.start()

    async def __aiter__(self) -> AsyncGenerator[np.ndarray, None]:
        self._blocks: deque[np.ndarray] = deque()
        self._arrived = asyncio.Event()
        self._waiting = False
        self._open(asyncio.get_running_loop())
        try:
            while True:
                if self._blocks:
                    yield self._blocks.popleft()
                    continue
                if self.lost:
                    break
                self._arrived.clear()
                self._waiting = True
                if not self._blocks:  # a block may have come in just before `_waiting`
                    try:
                        await asyncio.wait_for(self._arrived.wait(), self.STALL_SECONDS)
                    except asyncio.TimeoutError:
                        self.lost = f"no audio for {self.STALL_SECONDS:g} s"
                self._waiting = False
            log.warning("the microphone stopped (%s): ending the input; what was captured is "
                        "transcribed", self.lost)
        finally:
            self.close()

    def close(self) -> None:
        stream, self._stream = self._stream, None  # first: stopping it calls `finished`
        if stream is not None:
            stream.stop()
            stream.close()


def list_devices() -> list[str]:
    """One line per audio device: id, name, input and output channels, defaults marked."""
    sd = import_sounddevice()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as e:
        raise CapttyError(f"cannot list audio devices: {e}") from None
    if not len(devices):
        return ["no audio devices (on a remote GPU box, replay a file with `captty replay FILE`)"]
    default_in, default_out = (sd.default.device if sd.default.device is not None else (-1, -1))
    lines = [" id  in out  name"]
    for i, d in enumerate(devices):
        mark = (" <- default input" if i == default_in else "") + (
            " <- default output" if i == default_out else "")
        lines.append(f"{i:3d} {d['max_input_channels']:3d} {d['max_output_channels']:3d}  "
                     f"{d['name']}{mark}")
    return lines

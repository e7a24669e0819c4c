"""Audio files and streams as samples: decoded, downmixed and resampled piece by piece.

Decoding goes through FFmpeg (PyAV) one packet at a time, so a two-hour file is never held in
memory whole, and any format FFmpeg reads (wav, flac, mp3, ogg/opus, m4a, the sound of a video)
works, from a file, a named pipe or a stream such as standard input (or raw PCM, described by a
`RawFormat`). sphn's decoder seeks for each chunk, which shifts Ogg streams and re-primes MP3 at
every chunk boundary, so it is not used for streaming. The pieces are the decoder's (a few ms to
~0.2 s each); cutting them into the model's frames is the framer's job (`framing.py`), as is
replacing samples that are not finite.

A damaged file gives what can be decoded: a packet the decoder rejects is skipped, and a file
cut short ends where it ends; either is said once, in the log.
"""
from __future__ import annotations

import logging
import os
import stat
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import CapttyError
from .pacing import Pacer

log = logging.getLogger(__name__)

RAW_FORMATS = ("s16le", "s16be", "s32le", "f32le", "f64le", "u8", "s8")


@dataclass(frozen=True)
class RawFormat:
    """Headerless PCM: FFmpeg's sample format name, the rate, the channel count."""

    format: str = "s16le"
    rate: int = 24000
    channels: int = 1

    @classmethod
    def parse(cls, text: str) -> RawFormat:
        """`s16le:24000:1` (format, rate and channels; the last two may be left out)."""
        parts = text.split(":")
        try:
            fmt = parts[0].lower()
            rate = int(parts[1]) if len(parts) > 1 else 24000
            channels = int(parts[2]) if len(parts) > 2 else 1
        except ValueError:
            raise CapttyError(f"raw format '{text}' is not FORMAT:RATE:CHANNELS, e.g. "
                              "s16le:24000:1") from None
        if fmt not in RAW_FORMATS or len(parts) > 3 or not 1000 <= rate <= 768000 \
                or not 1 <= channels <= 64:
            raise CapttyError(f"raw format '{text}': use FORMAT:RATE:CHANNELS with FORMAT one of "
                              f"{', '.join(RAW_FORMATS)}, e.g. s16le:24000:1")
        return cls(fmt, rate, channels)


def _describe(error: Exception) -> str:
    text = str(error)
    if "Invalid data" in text or "InvalidData" in type(error).__name__:
        return "not an audio file"
    if isinstance(error, PermissionError) or "Permission denied" in text:
        return "permission denied"
    return text.split(":")[0] if ":" in text else text


class FileSource:
    """Mono float32 samples at `sample_rate`, in the pieces the decoder produces.

    `source` is a path, or a binary stream (standard input) named `name`. `speed` paces the
    pieces at that multiple of real time (1.0 is live); None is as fast as the consumer takes
    them. `max_lag`: when pacing, how far behind its schedule the replay may fall (a model
    slower than real time) before the oldest audio is dropped to catch up (`dropped_seconds`
    counts it); None keeps every sample however late.
    """

    def __init__(self, source: str | Path | BinaryIO, sample_rate: int = 24000,
                 speed: float | None = 1.0, *, raw: RawFormat | None = None,
                 name: str | None = None, max_lag: float | None = None):
        import av

        self.sample_rate = sample_rate
        self.pacer = Pacer(speed)
        self.max_lag = max_lag
        self.dropped_seconds = 0.0  # audio dropped to catch up
        self.skipped_packets = 0  # packets the decoder rejected
        if isinstance(source, (str, Path)):
            self.path = Path(source)
            self.name = name or str(source)
            target: str | BinaryIO = str(self._check_path(self.path))
        else:
            self.path = Path(name or "-")
            self.name = name or "standard input"
            target = source
        options = {}
        if raw is not None:
            options = {"sample_rate": str(raw.rate), "ch_layout": f"{raw.channels}c"}
        try:
            self._container: av.container.InputContainer = av.open(  # type: ignore[assignment]
                target, format=raw.format if raw else None, options=options)
        except (av.error.FFmpegError, OSError) as e:
            raise CapttyError(f"cannot read '{self.name}': {_describe(e)}") from None
        if not self._container.streams.audio:
            self._container.close()
            raise CapttyError(f"cannot read '{self.name}': it has no audio stream")
        self._stream = self._container.streams.audio[0]
        self.source_rate = self._stream.rate
        self.source_channels = self._stream.channels
        self._packets = self._container.demux(self._stream)
        self._first = self._next_frames()  # a file that holds no audio fails here, not later
        if not self._first:
            self.close()
            raise CapttyError(f"cannot read '{self.name}': it holds no audio")

    def _check_path(self, path: Path) -> Path:
        if not path.exists():
            raise CapttyError(f"cannot read '{path}': no such file")
        if path.is_dir():
            raise CapttyError(f"cannot read '{path}': it is a folder, not an audio file")
        if not os.access(path, os.R_OK):
            raise CapttyError(f"cannot read '{path}': permission denied")
        if stat.S_ISFIFO(path.stat().st_mode):
            log.info("waiting for a writer on the named pipe %s", path)
        return path

    def _next_frames(self) -> list:
        """The audio frames of the next packets that decode to some (empty at the end)."""
        import av

        while True:
            try:
                packet = next(self._packets)
            except StopIteration:
                return []
            except av.error.FFmpegError as e:  # the container itself is cut or broken here
                self._damaged(f"{_describe(e)}")
                return []
            try:
                frames = packet.decode()  # the last, empty packet flushes the decoder
            except av.error.FFmpegError:
                self.skipped_packets += 1
                if self.skipped_packets == 1:
                    self._damaged("some of it does not decode; skipping what does not")
                continue
            if frames:
                return frames

    def _damaged(self, what: str) -> None:
        log.warning("'%s' is damaged (%s): transcribing what can be decoded", self.name, what)

    def samples(self) -> Iterator[np.ndarray]:
        """The decoded samples, downmixed and resampled to `sample_rate` (which may be changed
        until this starts), in the pieces the decoder produces."""
        import av

        # packed float at the model's rate (planar frames with more than 8 channels are beyond
        # what PyAV can read); channels are averaged here (FFmpeg's own downmix adds them at
        # -3 dB, which clips a loud stereo recording whose channels agree)
        resampler = av.AudioResampler(format="flt", rate=self.sample_rate)
        frames, self._first = self._first, []
        try:
            while frames:
                for frame in frames:
                    for out in resampler.resample(frame):
                        yield _mono(out)
                frames = self._next_frames()
            for out in resampler.resample(None):
                yield _mono(out)
        except av.error.FFmpegError as e:
            raise CapttyError(f"cannot decode '{self.name}': {_describe(e)}") from None

    async def __aiter__(self) -> AsyncGenerator[np.ndarray, None]:
        try:
            for piece in self.samples():
                seconds = piece.size / self.sample_rate
                if self.max_lag is not None and self.pacer.lag > self.max_lag:
                    self.dropped_seconds += seconds  # behind by more than allowed: catch up
                    self.pacer.skip(seconds)
                    continue
                await self.pacer.wait(seconds)
                yield piece
        finally:
            self.close()

    def close(self) -> None:
        self._container.close()


def _mono(frame) -> np.ndarray:
    """A packed float frame's samples, its channels averaged."""
    channels = len(frame.layout.channels)
    samples = frame.to_ndarray().reshape(-1, channels)
    return samples[:, 0].copy() if channels == 1 else samples.mean(axis=1, dtype=np.float32)

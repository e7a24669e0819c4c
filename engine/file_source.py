"""Audio files as a stream of model frames: decoded, downmixed and resampled piece by piece.

Decoding goes through FFmpeg (PyAV) one packet at a time, so a two-hour file is never held in
memory whole, and any format FFmpeg reads (wav, flac, mp3, ogg/opus, m4a, the sound of a video)
works. sphn's decoder seeks for each chunk, which shifts Ogg streams and re-primes MP3 at every
chunk boundary, so it is not used for streaming.
"""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Iterator

import numpy as np

from .errors import CapttyError
from .pacing import Pacer


def _describe(error: Exception) -> str:
    text = str(error)
    if "Invalid data" in text or "InvalidData" in type(error).__name__:
        return "not an audio file"
    return text.split(":")[0] if ":" in text else text


class FileSource:
    """Frames of `frame_size` samples at `sample_rate`, mono; the last frame may be shorter.

    `speed` paces the frames at that multiple of real time (1.0 is live); None is as fast as the
    consumer takes them.
    """

    def __init__(self, path: str | Path, sample_rate: int = 24000, frame_size: int = 1920,
                 speed: float | None = 1.0):
        import av

        self.path = Path(path)
        self.sample_rate = sample_rate
        self.frame_size = frame_size
        self.pacer = Pacer(frame_size / sample_rate, speed)
        if not self.path.exists():
            raise CapttyError(f"cannot read '{path}': no such file")
        if self.path.is_dir():
            raise CapttyError(f"cannot read '{path}': it is a folder, not an audio file")
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError) as e:
            raise CapttyError(f"cannot read '{path}': {_describe(e)}") from None
        if not self._container.streams.audio:
            self._container.close()
            raise CapttyError(f"cannot read '{path}': it has no audio stream")
        stream = self._container.streams.audio[0]
        self.source_rate = stream.rate
        self.source_channels = stream.channels
        self.duration = (float(stream.duration * stream.time_base) if stream.duration
                         else (self._container.duration or 0) / 1e6 or None)
        # planar float at the model's rate; channels are averaged here (FFmpeg's own downmix
        # adds them at -3 dB, which clips a loud stereo recording whose channels agree)
        self._resampler = av.AudioResampler(format="fltp", rate=sample_rate)
        self._chunks = self._decode()
        try:
            self._first = next(self._chunks)
        except StopIteration:
            self.close()
            raise CapttyError(f"cannot read '{path}': it holds no audio") from None

    def _decode(self) -> Iterator[np.ndarray]:
        import av

        stream = self._container.streams.audio[0]
        try:
            for frame in self._container.decode(stream):
                for out in self._resampler.resample(frame):
                    yield out.to_ndarray().mean(axis=0, dtype=np.float32)
            for out in self._resampler.resample(None):
                yield out.to_ndarray().mean(axis=0, dtype=np.float32)
        except av.error.FFmpegError as e:
            raise CapttyError(f"cannot decode '{self.path}': {_describe(e)}") from None

    def samples(self) -> Iterator[np.ndarray]:
        """The decoded mono samples in the pieces the decoder produces."""
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._chunks

    def frames(self) -> Iterator[np.ndarray]:
        """Frames of exactly `frame_size` samples, the last one possibly shorter."""
        pending = np.zeros(0, dtype=np.float32)
        for piece in self.samples():
            pending = np.concatenate([pending, piece]) if pending.size else piece
            whole = pending.size - pending.size % self.frame_size
            for i in range(0, whole, self.frame_size):
                yield pending[i:i + self.frame_size]
            pending = pending[whole:]
        if pending.size:
            yield pending
        self.close()

    async def __aiter__(self) -> AsyncIterator[np.ndarray]:
        try:
            for frame in self.frames():
                await self.pacer.wait()
                yield frame
        finally:
            self.close()

    def close(self) -> None:
        self._container.close()

"""Audio files as a stream of samples: decoded, downmixed and resampled piece by piece.

Decoding goes through FFmpeg (PyAV) one packet at a time, so a two-hour file is never held in
memory whole, and any format FFmpeg reads (wav, flac, mp3, ogg/opus, m4a, the sound of a video)
works. sphn's decoder seeks for each chunk, which shifts Ogg streams and re-primes MP3 at every
chunk boundary, so it is not used for streaming. The pieces are the decoder's (a few ms to
~0.2 s each); cutting them into the model's frames is the framer's job (`framing.py`).
"""
from __future__ import annotations

import itertools
from pathlib import Path
from collections.abc import AsyncGenerator, Iterator

import numpy as np

from .errors import CapttyError
from .pacing import Pacer


def _describe(error: Exception) -> str:
    text = str(error)
    if "Invalid data" in text or "InvalidData" in type(error).__name__:
        return "not an audio file"
    return text.split(":")[0] if ":" in text else text


class FileSource:
    """Mono float32 samples at `sample_rate`, in the pieces the decoder produces.

    `speed` paces the pieces at that multiple of real time (1.0 is live); None is as fast as the
    consumer takes them.
    """

    def __init__(self, path: str | Path, sample_rate: int = 24000, speed: float | None = 1.0):
        import av

        self.path = Path(path)
        self.sample_rate = sample_rate
        self.pacer = Pacer(speed)
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
        self.duration = (float(stream.duration * stream.time_base)
                         if stream.duration and stream.time_base
                         else (self._container.duration or 0) / 1e6 or None)
        self._frames = self._container.decode(stream)
        self._first: av.AudioFrame | None
        try:
            self._first = next(self._frames)  # a file that holds no audio fails here, not later
        except StopIteration:
            self.close()
            raise CapttyError(f"cannot read '{path}': it holds no audio") from None
        except av.error.FFmpegError as e:
            self.close()
            raise CapttyError(f"cannot decode '{path}': {_describe(e)}") from None

    def samples(self) -> Iterator[np.ndarray]:
        """The decoded samples, downmixed and resampled to `sample_rate` (which may be changed
        until this starts), in the pieces the decoder produces."""
        import av

        # planar float at the model's rate; channels are averaged here (FFmpeg's own downmix
        # adds them at -3 dB, which clips a loud stereo recording whose channels agree)
        resampler = av.AudioResampler(format="fltp", rate=self.sample_rate)
        first, self._first = self._first, None
        frames = self._frames if first is None else itertools.chain([first], self._frames)
        try:
            for frame in frames:
                for out in resampler.resample(frame):
                    yield out.to_ndarray().mean(axis=0, dtype=np.float32)
            for out in resampler.resample(None):
                yield out.to_ndarray().mean(axis=0, dtype=np.float32)
        except av.error.FFmpegError as e:
            raise CapttyError(f"cannot decode '{self.path}': {_describe(e)}") from None

    async def __aiter__(self) -> AsyncGenerator[np.ndarray, None]:
        try:
            for piece in self.samples():
                await self.pacer.wait(piece.size / self.sample_rate)
                yield piece
        finally:
            self.close()

    def close(self) -> None:
        self._container.close()

"""Cutting a sample stream into the model's frames, with the silence padding STT models expect.

moshi's script pads the whole input (zeros on the left and right) and keeps only whole frames;
doing the same on a stream means the padding shifts where every frame starts, so frames are cut
here from the padded stream rather than passed through from the source. Every sample reaches the
model through here, so this is also where samples that are not finite (NaN, inf: a broken
driver, a damaged file) are replaced with silence before they can poison the model's state.
"""
from __future__ import annotations

import numpy as np

from .events import InputRepaired


class Framer:
    def __init__(self, frame_size: int, pad_left: int = 0):
        self.frame_size = frame_size
        self._pending: np.ndarray = np.zeros(pad_left, dtype=np.float32)
        self.samples_in = 0  # real (unpadded) samples received
        self.replaced = 0  # samples that were not finite, replaced with 0
        self._reported = 0

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        """Whole frames now available; the remainder waits for more samples."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        finite = np.isfinite(samples)
        if not finite.all():
            self.replaced += int(samples.size - np.count_nonzero(finite))
            samples = np.where(finite, samples, np.float32(0.0))
        self.samples_in += samples.size
        if self._pending.size:
            samples = np.concatenate([self._pending, samples])
        whole = samples.size - samples.size % self.frame_size
        frames = [samples[i:i + self.frame_size] for i in range(0, whole, self.frame_size)]
        self._pending = samples[whole:]
        return frames

    def finish(self, pad_right: int = 0) -> list[np.ndarray]:
        """The last whole frames once `pad_right` zeros are added; a partial frame is dropped."""
        frames = self.push(np.zeros(pad_right, dtype=np.float32))
        self.samples_in -= pad_right
        self._pending = self._pending[:0]
        return frames

    def notices(self, item: int, final: bool = False) -> tuple[InputRepaired, ...]:
        """An `InputRepaired` for slot `item` the first time samples were replaced, and at the
        end of the input (`final`) with the total, if more were replaced since."""
        if self.replaced > self._reported and (final or not self._reported):
            self._reported = self.replaced
            return (InputRepaired(item, self.replaced, final),)
        return ()

"""Cutting a sample stream into the model's frames, with the silence padding STT models expect.

moshi's script pads the whole input (zeros on the left and right) and keeps only whole frames;
doing the same on a stream means the padding shifts where every frame starts, so frames are cut
here from the padded stream rather than passed through from the source.
"""
from __future__ import annotations

import numpy as np


class Framer:
    def __init__(self, frame_size: int, pad_left: int = 0):
        self.frame_size = frame_size
        self._pending: np.ndarray = np.zeros(pad_left, dtype=np.float32)
        self.samples_in = 0  # real (unpadded) samples received

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        """Whole frames now available; the remainder waits for more samples."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
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

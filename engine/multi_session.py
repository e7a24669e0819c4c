"""Many inputs through one batched model: a session whose batch slots take inputs in turn.

    inputs = [(path, lambda path=path: FileSource(path, speed=None)) for path in paths]
    async with MultiSession(model, inputs, batch_size=8) as session:
        async for event in session.events():
            ...  # StreamStarted tells which input a slot (`event.item`) holds from then on

Up to `batch_size` inputs run at once; a slot freed when its input ends takes the next one.
With greedy decoding, each input's events equal those of a lone run at the same batch size.
Text-only models without delays (STT) only.
"""
from __future__ import annotations

import time

import torch

from .checkpoint import LoadedModel
from .errors import CapttyError
from .events import SessionEnded
from .session import SEED, Session
from .slot_feeder import Opener, slot_frames
from .slot_loop import SlotLoop


class MultiSession(Session):
    def __init__(self, model: LoadedModel, inputs: list[tuple[str, Opener]], *,
                 batch_size: int = 1, lm_gen_overrides: dict | None = None,
                 seed: int | None = SEED, max_queued_frames: int = 16):
        if model.model_type != "stt":
            raise CapttyError(f"several inputs in one batch need an STT model; '{model.name}' "
                              f"is a {model.model_type} model")
        stt_config = model.info.stt_config
        sr = model.sample_rate
        self.pad_left = int(stt_config.get("audio_silence_prefix_seconds", 0.0) * sr)
        self.pad_right = int((stt_config.get("audio_delay_seconds", 0.0) + 1.0) * sr)
        self.delay = stt_config.get("audio_delay_seconds", 0.0)
        source = slot_frames(inputs, batch_size, model.frame_size, self.pad_left, self.pad_right)
        super().__init__(model, source, batch_size=batch_size, lm_gen_overrides=lm_gen_overrides,
                         seed=seed, max_queued_frames=max_queued_frames)

    def _steps(self) -> None:
        model = self.model
        self._warm_up()
        if self.seed is not None:
            torch.manual_seed(self.seed)
        loop = SlotLoop(model, self.batch_size, self.lm_gen_overrides)
        sr = model.sample_rate
        started = time.perf_counter()
        self._post([self._started(self.pad_left / sr + self.delay)])
        with loop.streaming():
            for item in self._inputs():
                self._post_step(loop.feed_slots(item))
        wall = time.perf_counter() - started
        self._post([SessionEnded(loop.steps_out, loop.frames_fed * model.frame_size / sr, wall,
                                 stopped=self._aborted or self._stopping)])



"""The step loop for many inputs in one batch: each slot runs its own stream.

A slot that starts an input is reset (`reset_streaming(mask)` on Mimi and the LM) and its first
frame is stepped twice, as a lone stream's is, with the LM's exec mask on that slot only for the
extra step; a slot with no input is left out by the exec masks, so its state stays as it was.
Each slot counts its own steps from its input's start, so its events read as a lone run's.
Text-only models whose streams have no delays (STT): Hibiki's delayed streams and tail are not
handled here.
"""
from __future__ import annotations

import time

import torch

from .checkpoint import LoadedModel
from .errors import CapttyError
from .events import Event, ItemState, ItemStateChanged, StepTimed, StreamStarted
from .slot_feeder import SlotFrame
from .step_loop import TURN_HEAD, StepLoop


class SlotLoop(StepLoop):
    def __init__(self, model: LoadedModel, batch_size: int, lm_gen_overrides: dict | None = None):
        if model.speaks or max(model.lm.delays) > 0:
            raise CapttyError(f"several inputs in one batch need a text-only model without "
                              f"delays (STT); '{model.name}' is a {model.model_type} model")
        super().__init__(model, batch_size, 1.0, lm_gen_overrides)
        self.states = [ItemState.EOS_REACHED] * batch_size  # no input yet
        self.slot_steps = [0] * batch_size  # each slot's steps since its input started
        self.frames_fed = 0  # input frames over all slots
        self._live: tuple[bool, ...] | None = None

    def _mask(self, slots) -> torch.Tensor:
        mask = torch.zeros(self.batch_size, dtype=torch.bool)
        mask[list(slots)] = True
        return mask.to(self.model.device)

    def feed_slots(self, frame: SlotFrame) -> list[Event]:
        events: list[Event] = []
        for b, index, name in frame.starts:
            events.append(StreamStarted(b, index, name))
            self.states[b] = ItemState.STREAMING
            self.slot_steps[b] = 0
        for b in frame.inputs_ended:
            self.states[b] = ItemState.INPUT_ENDED
            events.append(ItemStateChanged(b, max(self.slot_steps[b] - 1, 0), ItemState.INPUT_ENDED))
        start = self._clock.mark()
        started = self._mask(b for b, _, _ in frame.starts) if frame.starts else None
        if started is not None:
            self.mimi.reset_streaming(started)
            self.lm_gen.reset_streaming(started)
        live = self._mask(b for b, on in enumerate(frame.live) if on)
        if frame.live != self._live:
            self.mimi.set_exec_mask(live)
        pcm = torch.as_tensor(frame.pcm, device=self.model.device)[:, None]
        codes = self.mimi.encode(pcm)
        encoded = self._clock.mark()
        if started is not None:  # a new stream's first frame is stepped twice: once more here
            self.lm_gen.set_exec_mask(started)
            self.lm_gen.step(codes)
        if started is not None or frame.live != self._live:
            self.lm_gen.set_exec_mask(live)
        self._live = frame.live
        turn = None
        if self.scores_turns:
            tokens, heads = self.lm_gen.step_with_extra_heads(codes)
            turn = heads[TURN_HEAD]
        else:
            tokens = self.lm_gen.step(codes)
        stepped = self._clock.mark()
        text = tokens[:, 0, 0]
        if turn is not None:  # one device-to-host copy for tokens and scores together
            both = torch.cat([text.double(), turn[:, 0, 0].double()]).tolist()
            text, turn = [int(t) for t in both[: self.batch_size]], both[self.batch_size:]
        else:
            text = text.tolist()
        for b, on in enumerate(frame.live):
            if on:
                self._item_outputs(events, b, self.slot_steps[b], text[b], None,
                                   None if turn is None else turn[b])
        for b in frame.ends:
            self.states[b] = ItemState.EOS_REACHED
            events.append(ItemStateChanged(b, self.slot_steps[b], ItemState.EOS_REACHED))
        for b, on in enumerate(frame.live):
            self.slot_steps[b] += on
        self.frames_fed += sum(frame.live)
        step = self.frames_in
        self.frames_in += 1
        self.steps_out += 1
        done = self._clock.mark()
        events.append(StepTimed(step, self._clock.ms(start, encoded), self._clock.ms(encoded, stepped),
                                self._clock.ms(stepped, done), self._clock.ms(start, done),
                                (step + 1) * self.frame_seconds, time.perf_counter()))
        return events

"""The model step loop of moshi's `run_inference.py`, one frame at a time, with events out.

It reproduces the reference semantics: the first frame is stepped twice, STT gets no special
steps (the session pads its input), Hibiki gets one end-of-input step whose codes all equal the
Mimi cardinality followed by silence until every item samples EOS, an EOS sampled before the end
of the input is ignored and reported, and classifier-free guidance runs with the conditions the
reference builds. Each batch item keeps its own end-of-stream state.

Everything here runs on the session's model thread.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .checkpoint import LoadedModel
from .errors import CapttyError
from .events import (EosSampled, EosTooEarly, Event, ItemState, ItemStateChanged, SpeechDecoded, StepTimed,
                     TextDecoded, TurnEndScored, WordBoundary)

END_OF_PADDING, PADDING = 0, 3  # a word boundary, and nothing to say
HIDDEN_TOKENS = (END_OF_PADDING, PADDING)
TURN_HEAD = 2  # the extra head Kyutai's scripts read for end of turn (a ~2 s pause horizon)


def condition_tensors(model_type: str, lm, batch_size: int, cfg_coef: float) -> dict:
    """The conditions moshi's script gives: `very_good`, plus `very_bad` for the CFG half."""
    from moshi.conditioners import ConditionAttributes

    if lm.condition_provider is None or not lm.condition_provider.conditioners:
        return {}
    if model_type != "hibiki":
        raise CapttyError(f"the model expects conditioning, which captty supports only for "
                          f"hibiki models, not '{model_type}'")
    conditions = [ConditionAttributes(text={"description": "very_good"}, tensor={})
                  for _ in range(batch_size)]
    if cfg_coef != 1.0:
        conditions += [ConditionAttributes(text={"description": "very_bad"}, tensor={})
                       for _ in range(batch_size)]
    return lm.condition_provider.prepare_and_provide(conditions)


class _Clock:
    """Phase timings of one step; CUDA events on the GPU, so timing adds no synchronisation."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"

    def mark(self):
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def ms(self, a, b) -> float:
        if not self.cuda:
            return 1000.0 * (b - a)
        b.synchronize()  # the step's work before it is already synchronised: this waits for nothing
        return a.elapsed_time(b)


class StepLoop:
    """Feed frames with `feed`, call `end_input` once, then `feed_tail` until `finished`."""

    def __init__(self, model: LoadedModel, batch_size: int = 1, cfg_coef: float = 1.0,
                 lm_gen_overrides: dict | None = None):
        from moshi.models import LMGen

        if batch_size < 1:
            raise CapttyError("the batch size must be at least 1")
        if cfg_coef != 1.0 and model.lm.fuser is None:
            raise CapttyError(f"--cfg-coef needs a model with conditioning (hibiki); "
                              f"'{model.name}' has none")
        self.model = model
        self.batch_size = batch_size
        self.mimi = model.mimi
        self.eos_id = model.tokenizer.eos_id()
        self.hidden = set(HIDDEN_TOKENS) | {model.tokenizer.bos_id(), self.eos_id}
        self.frame_seconds = 1.0 / model.mimi.frame_rate
        conditions = condition_tensors(model.model_type, model.lm, batch_size, cfg_coef)
        kwargs = dict(model.info.lm_gen_config) | dict(lm_gen_overrides or {})
        self.lm_gen = LMGen(model.lm, cfg_coef=cfg_coef, condition_tensors=conditions, **kwargs)
        self.speaks = model.lm.dep_q > 0
        self.scores_turns = len(model.lm.extra_heads) > TURN_HEAD
        self.hibiki = model.model_type == "hibiki"
        self.states = [ItemState.STREAMING] * batch_size
        self.frames_in = 0  # frames fed (the index of the next one)
        self.steps_out = 0  # steps that produced tokens, as moshi's script counts them
        self._first = True
        self._clock = _Clock(model.device)
        self._pieces: dict[int, str] = {}

    def streaming(self):
        """Context for the streaming state of Mimi and the LM, held for the loop's life."""
        from contextlib import ExitStack

        stack = ExitStack()
        stack.enter_context(self.mimi.streaming(self.batch_size))
        stack.enter_context(self.lm_gen.streaming(self.batch_size))
        return stack

    @property
    def finished(self) -> bool:
        return all(s in (ItemState.EOS_REACHED, ItemState.EOS_MISSING) for s in self.states)

    def _piece(self, token: int) -> str:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self.model.tokenizer.id_to_piece(token).replace("▁", " ")
        return piece

    def feed(self, pcm: np.ndarray | torch.Tensor) -> list[Event]:
        """One frame of input audio: `[frame_size]` (copied to every item) or `[B, frame_size]`."""
        start = self._clock.mark()
        pcm = torch.as_tensor(pcm, device=self.model.device)
        if pcm.dim() == 1:
            pcm = pcm[None, None].expand(self.batch_size, 1, -1)
        elif pcm.dim() == 2:
            pcm = pcm[:, None]
        codes = self.mimi.encode(pcm)
        return self._step(codes, start)

    def end_input(self) -> list[Event]:
        """The input is over: STT items finish once their padding is fed, Hibiki gets its tail."""
        return self._set_all(ItemState.INPUT_ENDED, only_from=ItemState.STREAMING)

    def finish(self) -> list[Event]:
        """STT: the padding is through, every item is done."""
        return self._set_all(ItemState.EOS_REACHED, only_from=ItemState.INPUT_ENDED)

    def give_up(self) -> list[Event]:
        """Hibiki's tail ran out before every item sampled EOS."""
        return self._set_all(ItemState.EOS_MISSING, only_from=ItemState.INPUT_ENDED)

    def feed_tail(self, end_of_input: bool) -> list[Event]:
        """Hibiki after its input: the end-of-input codes once, then frames of silence."""
        start = self._clock.mark()
        if end_of_input:
            codes = torch.full((self.batch_size, self.mimi.num_codebooks, 1), self.mimi.cardinality,
                               device=self.model.device, dtype=torch.long)
            return self._step(codes, start)
        silence = torch.zeros((self.batch_size, self.mimi.channels, self.model.frame_size),
                              device=self.model.device)
        return self._step(self.mimi.encode(silence), start)

    def _set_all(self, state: ItemState, only_from: ItemState) -> list[Event]:
        events = []
        for b, old in enumerate(self.states):
            if old == only_from:
                self.states[b] = state
                events.append(ItemStateChanged(b, max(self.frames_in - 1, 0), state))
        return events

    def _step(self, codes: torch.Tensor, start) -> list[Event]:
        step = self.frames_in
        self.frames_in += 1
        encoded = self._clock.mark()
        if self._first:
            # The first frame is stepped twice, so the transformer sees it (moshi's script).
            self.lm_gen.step(codes)
            self._first = False
        turn = None
        if self.scores_turns:
            out = self.lm_gen.step_with_extra_heads(codes)
            tokens, turn = (None, None) if out is None else (out[0], out[1][TURN_HEAD])
        else:
            tokens = self.lm_gen.step(codes)
        stepped = self._clock.mark()
        events: list[Event] = []
        if tokens is not None:
            self.steps_out += 1
            pcm = self.mimi.decode(tokens[:, 1:]) if self.speaks else None
            text = tokens[:, 0, 0]
            if turn is not None:  # one device-to-host copy for tokens and scores together
                both = torch.cat([text.double(), turn[: self.batch_size, 0, 0].double()]).tolist()
                text, turn = [int(t) for t in both[: self.batch_size]], both[self.batch_size:]
            else:
                text = text.tolist()
            pcm = pcm[:, 0].float().cpu().numpy() if pcm is not None else None
            events = self._outputs(step, text, pcm, turn)
        done = self._clock.mark()
        events.append(StepTimed(step, self._clock.ms(start, encoded), self._clock.ms(encoded, stepped),
                                self._clock.ms(stepped, done), self._clock.ms(start, done),
                                (step + 1) * self.frame_seconds, time.perf_counter()))
        return events

    def _outputs(self, step: int, text: list[int], pcm: np.ndarray | None,
                 turn: list[float] | None) -> list[Event]:
        events: list[Event] = []
        for b, token in enumerate(text):
            self._item_outputs(events, b, step, token, None if pcm is None else pcm[b],
                               None if turn is None else turn[b])
        return events

    def _item_outputs(self, events: list[Event], b: int, step: int, token: int,
                      pcm: np.ndarray | None, turn: float | None) -> None:
        """The events of item `b`'s token at `step` (its own step: slots start streams anew)."""
        state = self.states[b]
        if state in (ItemState.EOS_REACHED, ItemState.EOS_MISSING):
            return
        when = step * self.frame_seconds
        if turn is not None:
            events.append(TurnEndScored(b, step, when, turn))
        if token == END_OF_PADDING:
            events.append(WordBoundary(b, step, when))
        if token == self.eos_id and not self.speaks:
            events.append(EosSampled(b, step))
        elif self.speaks and token == self.eos_id:
            if state == ItemState.STREAMING or not self.hibiki:
                events.append(EosTooEarly(b, step))
            else:
                self.states[b] = ItemState.EOS_REACHED
                events.append(ItemStateChanged(b, step, ItemState.EOS_REACHED))
        if token not in self.hidden:
            events.append(TextDecoded(b, step, when, token, self._piece(token)))
        if pcm is not None:
            events.append(SpeechDecoded(b, step, pcm))

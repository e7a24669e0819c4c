"""The model step loop of moshi's `run_inference.py`, one frame at a time, with events out.

One driver for every consumer: a single stream copied to every batch slot (`captty run`, the
console), many files sharing a batch, and the server's clients. Each `StepInput` says which
slots take the step (`live`: the others are left out by moshi's exec masks, their state
untouched) and which start a stream with it.

The reference semantics are kept: the first frame after a reset is stepped twice (moshi's
script does it for the whole batch; a slot that starts later gets the same from a masked reset
and an extra step of its own), STT gets no special steps (its input is padded, `layout.py`),
Hibiki gets one end-of-input step whose codes all equal the Mimi cardinality followed by
silence until every item samples EOS, an EOS sampled before the end of the input is ignored and
reported, and classifier-free guidance runs with the conditions the reference builds. Each slot
keeps its own end-of-stream state and counts its own steps, so its events read as a lone run's.
Streams that start after the first step need a text-only model without delays (STT).

Everything here runs on the model thread.
"""
from __future__ import annotations

import os
import time
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .errors import CapttyError
from .events import (EosSampled, EosTooEarly, Event, ItemState, ItemStateChanged, SpeechDecoded,
                     StepTimed, StreamStarted, TextDecoded, TurnEndScored, WordBoundary)
from .graphed_encode import GraphedEncode, switched_on

if TYPE_CHECKING:
    from .checkpoint import LoadedModel

END_OF_PADDING, PADDING = 0, 3  # a word boundary, and nothing to say
HIDDEN_TOKENS = (END_OF_PADDING, PADDING)
TURN_HEAD = 2  # the extra head Kyutai's scripts read for end of turn (a ~2 s pause horizon)
WARM_UP_STEPS = 3
_UNKNOWN = ("unknown",)  # an exec mask whose value a reset may have changed


@dataclass(frozen=True, eq=False)
class StepInput:
    """One step's audio, and what happens to the batch slots with it."""

    pcm: np.ndarray  # [frame_size]: the same frame in every slot; or [batch, frame_size]
    live: tuple[bool, ...] | None = None  # the slots that take this step; None: all of them
    starts: tuple[StreamStarted, ...] = ()  # streams that start in their slot with this frame
    inputs_ended: tuple[int, ...] = ()  # slots whose input ended before this frame (padding now)
    ends: tuple[int, ...] = ()  # slots whose stream ends with this frame
    notices: tuple[Event, ...] = ()  # facts about the input to pass on (`InputRepaired`)


@dataclass(frozen=True, eq=False)
class Launched:
    """A step launched, its outputs maybe still on their way to the host, and what its events
    need of the slots as they were at that step."""

    index: int
    slots: tuple[int, ...]  # the slots that took the step
    slot_steps: tuple[int, ...]  # each slot's own step count at this step
    states: tuple[ItemState | None, ...]  # each slot's state at this step
    ends: tuple[int, ...]
    ran: tuple[int, ...] | None
    outputs: torch.Tensor | None  # text ids, turn heads, speech: one flat float32 tensor
    copied: Any  # the CUDA event that marks the copy done, or None
    heads: int  # turn heads per slot in `outputs`
    events: list[Event]  # the events known at launch (starts, notices, input ends)
    marks: tuple[Any, Any, Any, Any, Any]  # start, encoded, stepped, decoding, done


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

    def mark(self) -> Any:
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
    """`step` each input; for a stream that runs to its end in every slot (Hibiki), then
    `end_input` once and `feed_tail` until `finished`."""

    def __init__(self, model: "LoadedModel", batch_size: int = 1, cfg_coef: float = 1.0,
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
        self.device = model.device
        self.frame_size = model.layout.frame_size
        self.frame_seconds = model.layout.frame_seconds
        self.eos_id = model.tokenizer.eos_id()
        self.hidden = set(HIDDEN_TOKENS) | {model.tokenizer.bos_id(), self.eos_id}
        conditions = condition_tensors(model.model_type, model.lm, batch_size, cfg_coef)
        kwargs = dict(model.info.lm_gen_config) | dict(lm_gen_overrides or {})
        self.lm_gen = LMGen(model.lm, cfg_coef=cfg_coef, condition_tensors=conditions, **kwargs)
        self.speaks = model.lm.dep_q > 0
        self.scores_turns = len(model.lm.extra_heads) > TURN_HEAD
        self.hibiki = model.model_type == "hibiki"
        # streams may start in a slot at any step only in text-only models without delays
        self.late_starts = not self.speaks and max(model.lm.delays) == 0 and cfg_coef == 1.0
        self._clock = _Clock(model.device)
        self.encode = GraphedEncode(self.mimi, model.device)
        # collect a step's outputs after launching the next one, when the next frame is there:
        # on the GPU by default; CAPTTY_PIPELINE=1 or 0 says otherwise (a test runs it on the CPU)
        wanted = os.environ.get("CAPTTY_PIPELINE")
        self.pipelined = self._clock.cuda if wanted is None else switched_on("CAPTTY_PIPELINE")
        # Hibiki on the GPU: Mimi's decode of a step runs on a stream of its own, beside the
        # next step's encode and LM (neither needs it); CAPTTY_ONE_STREAM=1 keeps one stream
        self._side = (torch.cuda.Stream(self.device) if self._clock.cuda and self.speaks
                      and not switched_on("CAPTTY_ONE_STREAM") else None)
        self._pieces: dict[int, str] = {}
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.states: list[ItemState | None] = [None] * self.batch_size  # None: no stream yet
        self.slot_steps = [0] * self.batch_size  # each slot's steps since its stream started
        # the slot step at which each slot's stream ended (an end given, or Hibiki's EOS)
        self.ended_at: list[int | None] = [None] * self.batch_size
        self.frames_in = 0  # steps taken (the index of the next one)
        self.steps_out = 0  # steps that produced tokens, as moshi's script counts them
        self.audio_frames = 0  # frames of input audio over all streams
        self._fresh = True  # no step since the streaming state was (re)set
        self._mimi_mask: tuple = ()  # the exec masks set: () for every slot
        self._lm_mask: tuple = ()

    def streaming(self) -> ExitStack:
        """Context for the streaming state of Mimi and the LM, held for the loop's life."""
        stack = ExitStack()
        stack.enter_context(self.mimi.streaming(self.batch_size))
        stack.enter_context(self.lm_gen.streaming(self.batch_size))
        stack.callback(self.encode.reset)  # its graph belongs to this streaming state
        return stack

    def warm_up(self, steps: int = WARM_UP_STEPS) -> None:
        """A few steps of silence on this very streaming state, then a reset: first-call costs
        (kernel choice, torch.compile, CUDA graphs, which moshi captures per streaming state)
        are paid before the first real frame, and the stream starts as a fresh one."""
        silence = np.zeros(self.frame_size, dtype=np.float32)
        for _ in range(steps):
            self.step(StepInput(silence))
        self._join_side()
        self.mimi.reset_streaming()
        self.lm_gen.reset_streaming()
        self._reset_counters()

    @property
    def finished(self) -> bool:
        return all(s in (ItemState.EOS_REACHED, ItemState.EOS_MISSING, None) for s in self.states)

    @property
    def streaming_slots(self) -> list[int]:
        return [b for b, s in enumerate(self.states) if s in (ItemState.STREAMING,
                                                              ItemState.INPUT_ENDED)]

    def _piece(self, token: int) -> str:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._pieces[token] = self.model.tokenizer.id_to_piece(token).replace("▁", " ")
        return piece

    def _set_mask(self, module, current: tuple, wanted: tuple[bool, ...] | None) -> tuple:
        """Set `module`'s exec mask to `wanted` (None: every slot) unless it is so already;
        returns the mask now set, () for every slot."""
        values = (True,) * self.batch_size if wanted is None else tuple(wanted)
        key = () if all(values) else values
        if key != current:
            self._join_side()
            module.set_exec_mask(self._to_device(torch.tensor(values, dtype=torch.bool)))
        return key

    def _slot_mask(self, slots) -> torch.Tensor:
        mask = torch.zeros(self.batch_size, dtype=torch.bool)
        mask[list(slots)] = True
        return self._to_device(mask)

    def _join_side(self) -> None:
        """Before Mimi's state changes (exec masks, resets): the decodes launched on the side
        stream, which read it, come first."""
        if self._side is not None:
            torch.cuda.current_stream(self.device).wait_stream(self._side)

    def _to_device(self, host: torch.Tensor) -> torch.Tensor:
        """A host tensor on the model's device; on the GPU through pinned memory, so that
        launching a step never waits for the GPU to finish the one before."""
        if not self._clock.cuda:
            return host
        return host.pin_memory().to(self.device, non_blocking=True)

    def step(self, frame: StepInput) -> list[Event]:
        """One frame of input audio through Mimi and the LM, and the events it gave."""
        return self.collect(self.launch(frame))

    def launch(self, frame: StepInput) -> Launched:
        """One frame of input audio through Mimi and the LM, launched (`collect` for its
        events): on the GPU the next step can be launched before this one's outputs are read."""
        start = self._clock.mark()
        events: list[Event] = []
        late = [s.item for s in frame.starts] if not self._fresh else []
        if late and not self.late_starts:
            raise CapttyError(f"a stream can start in a running batch only with a text-only "
                              f"model without delays (STT); '{self.model.name}' is not one")
        if self._fresh and not frame.starts:  # one stream, in every slot
            started = list(range(self.batch_size))
        else:
            started = [s.item for s in frame.starts]
            events.extend(frame.starts)
        events.extend(frame.notices)
        for b in started:
            self.states[b] = ItemState.STREAMING
            self.slot_steps[b] = 0
            self.ended_at[b] = None
        for b in frame.inputs_ended:
            self.states[b] = ItemState.INPUT_ENDED
            events.append(ItemStateChanged(b, max(self.slot_steps[b] - 1, 0), ItemState.INPUT_ENDED))
        if late:  # moshi's masked reset: these slots start afresh, the others keep their state
            self._join_side()
            mask = self._slot_mask(late)
            self.mimi.reset_streaming(mask)
            self.lm_gen.reset_streaming(mask)
            self._mimi_mask = self._lm_mask = _UNKNOWN
        self._mimi_mask = self._set_mask(self.mimi, self._mimi_mask, frame.live)
        pcm = self._to_device(torch.as_tensor(frame.pcm))
        pcm = pcm[None, None].expand(self.batch_size, 1, -1) if pcm.dim() == 1 else pcm[:, None]
        codes = self.encode(pcm)
        encoded = self._clock.mark()
        if self._fresh or late:  # a stream's first frame is stepped twice: once more here
            first = frame.live if self._fresh else tuple(b in late for b in range(self.batch_size))
            self._lm_mask = self._set_mask(self.lm_gen, self._lm_mask, first)
            self.lm_gen.step(codes)
        self._lm_mask = self._set_mask(self.lm_gen, self._lm_mask, frame.live)
        return self._advance(codes, start, encoded, frame.live, frame.ends, events)

    def end_input(self) -> list[Event]:
        """The input of every slot still streaming is over (Hibiki's tail follows)."""
        return self._set_all(ItemState.INPUT_ENDED, only_from=ItemState.STREAMING)

    def finish(self) -> list[Event]:
        """Models without a tail: every slot whose input ended is done."""
        return self._set_all(ItemState.EOS_REACHED, only_from=ItemState.INPUT_ENDED)

    def give_up(self) -> list[Event]:
        """Hibiki's tail ran out before every item sampled EOS."""
        return self._set_all(ItemState.EOS_MISSING, only_from=ItemState.INPUT_ENDED)

    def feed_tail(self, end_of_input: bool) -> list[Event]:
        """Hibiki after its input: the end-of-input codes once, then frames of silence."""
        start = self._clock.mark()
        if end_of_input:
            codes = torch.full((self.batch_size, self.mimi.num_codebooks, 1), self.mimi.cardinality,
                               device=self.device, dtype=torch.long)
        else:
            silence = torch.zeros((self.batch_size, self.mimi.channels, self.frame_size),
                                  device=self.device)
            codes = self.encode(silence)
        return self.collect(self._advance(codes, start, self._clock.mark(), None, (), []))

    def _set_all(self, state: ItemState, only_from: ItemState) -> list[Event]:
        events: list[Event] = []
        for b, old in enumerate(self.states):
            if old == only_from:
                self.states[b] = state
                events.append(ItemStateChanged(b, max(self.slot_steps[b] - 1, 0), state))
        return events

    def _advance(self, codes: torch.Tensor, start, encoded, live: tuple[bool, ...] | None,
                 ends: tuple[int, ...], events: list[Event]) -> Launched:
        """The LM step on `codes` and decoding, launched; the slots' bookkeeping moves on now,
        and `collect` reads the outputs and makes the step's events."""
        self._fresh = False
        heads = None
        if self.scores_turns:
            out = self.lm_gen.step_with_extra_heads(codes)
            if out is None:
                tokens = None
            else:  # element 0 of each head's distribution, as Kyutai's server sends them
                tokens, heads = out[0], torch.stack([h[: self.batch_size, 0, 0] for h in out[1]], 1)
        else:
            tokens = self.lm_gen.step(codes)
        stepped = self._clock.mark()
        decoding = stepped
        outputs, copied = None, None
        if tokens is not None:
            self.steps_out += 1
            # one device-to-host copy for the step: text tokens (exact in float32: ids < 2**24),
            # then the turn heads, then Hibiki's speech; asynchronous on the GPU
            parts = [tokens[:, 0, 0].float()]
            if heads is not None:
                parts.append(heads.float().flatten())
            packed = torch.cat(parts)
            with self._on_side(tokens, packed):
                if self._side is not None:
                    decoding = self._clock.mark()
                if self.speaks:
                    speech = self.mimi.decode(tokens[:, 1:])[:, 0].float().flatten()
                    packed = torch.cat([packed, speech])
                if self._clock.cuda:
                    outputs = packed.to("cpu", non_blocking=True)  # into pinned memory
                    copied = torch.cuda.Event(enable_timing=True)
                    copied.record()
                else:
                    outputs = packed
        slots = range(self.batch_size) if live is None else [b for b, on in enumerate(live) if on]
        launched = Launched(
            self.frames_in, tuple(slots), tuple(self.slot_steps), tuple(self.states), ends,
            None if live is None else tuple(self.slot_steps[b] if on else -1
                                            for b, on in enumerate(live)),
            outputs, copied, 0 if heads is None else heads.shape[1], events,
            (start, encoded, stepped, decoding, self._clock.mark() if copied is None else copied))
        for b in ends:
            self.states[b] = ItemState.EOS_REACHED
            self.ended_at[b] = self.slot_steps[b]
        for b in slots:
            self.slot_steps[b] += 1
        self.frames_in += 1
        self.audio_frames += len(slots) if live is not None else 1
        return launched

    def _on_side(self, *inputs: torch.Tensor):
        """The context the decode and the copy run in: the side stream, after the LM step."""
        if self._side is None:
            return nullcontext()
        self._side.wait_stream(torch.cuda.current_stream(self.device))
        for tensor in inputs:  # made on the main stream, read on the side one
            tensor.record_stream(self._side)
        return torch.cuda.stream(self._side)

    def collect(self, step: Launched) -> list[Event]:
        """The events of a launched step, once its outputs are on the host."""
        events = step.events
        if step.copied is not None:
            step.copied.synchronize()
        if step.outputs is not None:
            batch = self.batch_size
            values = step.outputs
            ids = values[:batch].long().tolist()
            scores: list[tuple[float, ...]] | None = None
            if step.heads:
                n = step.heads
                flat = values[batch:batch * (1 + n)].double().tolist()
                scores = [tuple(flat[b * n:(b + 1) * n]) for b in range(batch)]
            # speech copied out of the pinned buffer, which goes back to its pool with the step
            pcm = (values[batch * (1 + step.heads):].numpy().reshape(batch, -1).copy()
                   if self.speaks else None)
            for b in step.slots:
                state = step.states[b]
                ended = self.ended_at[b]
                if ended is not None and ended < step.slot_steps[b]:
                    state = self.states[b]  # Hibiki's EOS, read after this step was launched
                self._item_outputs(events, b, step.slot_steps[b], state, ids[b],
                                   None if pcm is None else pcm[b],
                                   None if scores is None else scores[b])
        for b in step.ends:
            events.append(ItemStateChanged(b, step.slot_steps[b], ItemState.EOS_REACHED))
        start, encoded, stepped, decoding, done = step.marks
        events.append(StepTimed(step.index, self._clock.ms(start, encoded),
                                self._clock.ms(encoded, stepped), self._clock.ms(decoding, done),
                                self._clock.ms(start, done), (step.index + 1) * self.frame_seconds,
                                time.perf_counter(), step.ran))
        return events

    def _item_outputs(self, events: list[Event], b: int, step: int, state: ItemState | None,
                      token: int, pcm: np.ndarray | None,
                      scores: tuple[float, ...] | None) -> None:
        """The events of slot `b`'s token at its own `step`, its state as it was then."""
        if state in (ItemState.EOS_REACHED, ItemState.EOS_MISSING, None):
            return
        when = step * self.frame_seconds
        if scores is not None:
            events.append(TurnEndScored(b, step, when, scores[TURN_HEAD], scores))
        if token == END_OF_PADDING:
            events.append(WordBoundary(b, step, when))
        if token == self.eos_id and not self.speaks:
            events.append(EosSampled(b, step))
        elif self.speaks and token == self.eos_id:
            if state == ItemState.STREAMING or not self.hibiki:
                events.append(EosTooEarly(b, step))
            else:
                self.states[b] = ItemState.EOS_REACHED
                self.ended_at[b] = step
                events.append(ItemStateChanged(b, step, ItemState.EOS_REACHED))
        if token not in self.hidden:
            events.append(TextDecoded(b, step, when, token, self._piece(token)))
        if pcm is not None:
            events.append(SpeechDecoded(b, step, pcm))

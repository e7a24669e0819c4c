"""The GPU's fast paths, checked on the CPU: a step's outputs read after the next step is launched
give the same events, and the graphed encode's state handling gives Mimi's own codes.
(tests/test_cuda.py checks the graphs themselves on a GPU.)"""
import asyncio

import numpy as np
import torch

from conftest import DEMO_EN
from captty.engine import (FileSource, ItemState, ItemStateChanged, Session, SessionEnded,
                           SessionStarted, SpeechDecoded, StepTimed, TextDecoded)
from captty.engine.framing import Framer
from captty.engine.graphed_encode import _state_tensors, encode_in_place
from captty.engine.model_thread import model_thread
from captty.engine.step_loop import StepInput, StepLoop


async def _run(model, batch_size, **kwargs):
    session = Session(model, FileSource(DEMO_EN, model.layout.sample_rate, speed=None),
                      batch_size=batch_size, **kwargs)
    async with session:
        events = [e async for e in session.events()]
    return events, session.overlapped_steps


def demo_frames(model, count):
    source = FileSource(DEMO_EN, model.layout.sample_rate, speed=None)
    frames = Framer(model.layout.frame_size).push(np.concatenate(list(source.samples())))
    source.close()
    return frames[:count]


def _comparable(events):
    out = []
    for e in events:
        if isinstance(e, SpeechDecoded):  # numpy arrays: compared by value
            out.append((e.item, e.step, e.pcm.tolist()))
        elif not isinstance(e, (StepTimed, SessionEnded, SessionStarted)):
            out.append(e)
    return out


def test_reading_a_step_after_launching_the_next_changes_no_event(tiny_stt, monkeypatch):
    monkeypatch.setenv("CAPTTY_PIPELINE", "0")
    plain, overlapped = asyncio.run(_run(tiny_stt, 2))
    assert overlapped == 0
    monkeypatch.setenv("CAPTTY_PIPELINE", "1")
    piped, overlapped = asyncio.run(_run(tiny_stt, 2))
    assert overlapped > 0  # a file comes faster than the steps: most were overlapped
    assert _comparable(piped) == _comparable(plain)
    assert [e.step for e in piped if isinstance(e, StepTimed)] == \
        [e.step for e in plain if isinstance(e, StepTimed)]


def test_hibiki_read_a_step_late_gives_the_same_speech_text_and_end(tiny_hibiki, monkeypatch):
    """Hibiki's outputs of a step, read after the next one is launched: its EOS still ends the
    item at the same step, and nothing after it is reported."""
    monkeypatch.setenv("CAPTTY_PIPELINE", "0")
    plain, _ = asyncio.run(_run(tiny_hibiki, 2, max_tail_seconds=4.0))
    monkeypatch.setenv("CAPTTY_PIPELINE", "1")
    piped, overlapped = asyncio.run(_run(tiny_hibiki, 2, max_tail_seconds=4.0))
    assert overlapped > 0
    assert any(isinstance(e, SpeechDecoded) for e in plain)
    assert _comparable(piped) == _comparable(plain)


@torch.no_grad()
def _codes(model, frames, in_place):
    mimi = model.mimi
    out = []
    with mimi.streaming(2):
        for i, frame in enumerate(frames):
            if i == 0 or i == 12:  # a warm-up then a full reset, then a masked reset of slot 1
                mimi.reset_streaming(None if i == 0 else torch.tensor([False, True]))
            mimi.set_exec_mask(torch.tensor([True, not 5 <= i < 9]))
            pcm = torch.from_numpy(frame)[None, None].expand(2, 1, -1)
            if not in_place:
                out.append(mimi.encode(pcm).clone())
                continue
            before = [(state, dict(tensors)) for state, tensors in _state_tensors(mimi)]
            out.append(encode_in_place(mimi, pcm).clone())
            # what a CUDA graph would read at its next replay: the very same tensors
            moved = [name for state, tensors in before for name, tensor in tensors.items()
                     if getattr(state, name) is not tensor]
            assert not moved, moved
    return torch.cat(out, -1)


def test_the_in_place_encode_gives_mimis_codes_and_keeps_its_state_tensors(tiny_stt):
    frames = demo_frames(tiny_stt, 30)
    eager = model_thread().call(_codes, tiny_stt, frames, False)
    in_place = model_thread().call(_codes, tiny_stt, frames, True)
    assert len(set(eager[0, 0].tolist())) > 5  # codes that vary, or the check proves nothing
    assert not torch.equal(eager[0], eager[1])  # the masked slot did diverge
    assert torch.equal(eager, in_place)


def test_mimi_replaces_a_state_tensor_that_the_in_place_encode_must_put_back(tiny_stt):
    """Why `encode_in_place` exists: moshi's eager encode swaps at least one state tensor for a
    new one (the downsampling convolution's `first`), which a graph replay would never see."""
    mimi = tiny_stt.mimi

    @torch.no_grad()
    def swapped():
        with mimi.streaming(1):
            before = _state_tensors(mimi)
            mimi.encode(torch.zeros(1, 1, tiny_stt.layout.frame_size))
            return [name for state, tensors in before for name, tensor in tensors.items()
                    if getattr(state, name) is not tensor]

    assert "first" in model_thread().call(swapped)


@torch.no_grad()
def _hibiki_forced_eos(model, frames, pipelined):
    """Slot 0's input ends at frame 20 and its text says EOS at steps 21 and 22 of the loop:
    its stream ends at the first, and nothing of it is reported after."""
    torch.manual_seed(0)
    loop = StepLoop(model, 2, lm_gen_overrides={"temp": 0.0, "temp_text": 0.0})
    real, calls = loop.lm_gen.step, [0]

    def step(codes, *args):
        tokens = real(codes, *args)
        if tokens is not None:
            if calls[0] in (21, 22):
                tokens[0, 0, 0] = loop.eos_id
            calls[0] += 1
        return tokens

    loop.lm_gen.step = step
    events, pending = [], None
    with loop.streaming():
        for i, frame in enumerate(frames):
            launched = loop.launch(StepInput(frame, inputs_ended=(0,) if i == 20 else ()))
            if pending is not None:
                events += loop.collect(pending)
            pending = launched if pipelined else None
            if not pipelined:
                events += loop.collect(launched)
        if pending is not None:
            events += loop.collect(pending)
        events += loop.end_input()
        for i in range(10):
            events += loop.feed_tail(end_of_input=i == 0)
            if loop.finished:
                break
        events += loop.give_up()
    return events


def test_hibiki_eos_read_a_step_late_still_ends_its_item_there(tiny_hibiki):
    frames = demo_frames(tiny_hibiki, 30)
    plain = model_thread().call(_hibiki_forced_eos, tiny_hibiki, frames, False)
    piped = model_thread().call(_hibiki_forced_eos, tiny_hibiki, frames, True)
    ends = [e for e in plain if isinstance(e, ItemStateChanged) and e.item == 0
            and e.state == ItemState.EOS_REACHED]
    assert len(ends) == 1  # the forced EOS ended it, once
    last = ends[0].step
    assert not [e for e in plain if getattr(e, "item", None) == 0 and getattr(e, "step", -1) > last
                and isinstance(e, (TextDecoded, SpeechDecoded))]
    assert _comparable(piped) == _comparable(plain)

"""The GPU's fast paths, checked on the CPU: a step's outputs read after the next step is launched
give the same events, and the graphed encode's state handling gives Mimi's own codes.
(tests/test_cuda.py checks the graphs themselves on a GPU.)"""
import asyncio

import numpy as np
import torch

from conftest import DEMO_EN
from captty.engine import (FileSource, Session, SessionEnded, SessionStarted, SpeechDecoded,
                           StepTimed)
from captty.engine.framing import Framer
from captty.engine.graphed_encode import GraphedEncode
from captty.engine.model_thread import model_thread


async def _run(model, batch_size, **kwargs):
    session = Session(model, FileSource(DEMO_EN, model.layout.sample_rate, speed=None),
                      batch_size=batch_size, **kwargs)
    async with session:
        events = [e async for e in session.events()]
    return events, session.overlapped_steps


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
        encode = GraphedEncode(mimi, model.device)
        step = encode._encode_in_place if in_place else mimi.encode
        for i, frame in enumerate(frames):
            if i == 0 or i == 12:  # a warm-up then a full reset, then a masked reset of slot 1
                mimi.reset_streaming(None if i == 0 else torch.tensor([False, True]))
            mimi.set_exec_mask(torch.tensor([True, not 5 <= i < 9]))
            out.append(step(torch.from_numpy(frame)[None, None].expand(2, 1, -1)).clone())
    return torch.cat(out, -1)


def test_the_in_place_encode_gives_mimis_codes_and_keeps_its_state_tensors(tiny_stt):
    source = FileSource(DEMO_EN, tiny_stt.layout.sample_rate, speed=None)
    frames = Framer(tiny_stt.layout.frame_size).push(np.concatenate(list(source.samples())))[:30]
    source.close()
    eager = model_thread().call(_codes, tiny_stt, frames, False)
    in_place = model_thread().call(_codes, tiny_stt, frames, True)
    assert len(set(eager[0, 0].tolist())) > 5  # codes that vary, or the check proves nothing
    assert not torch.equal(eager[0], eager[1])  # the masked slot did diverge
    assert torch.equal(eager, in_place)

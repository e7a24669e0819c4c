"""On a CUDA GPU: the graphed encode and the pipelined step give exactly what the eager path gives,
and a step launches without waiting for the GPU and copies to the host once. Skipped without CUDA
(CI has none); `CAPTTY_TEST_DEVICE=cuda` also runs the parity tests on the GPU (conftest.py)."""
import asyncio

import numpy as np
import pytest
import torch

from conftest import DEMO_EN, TINY_HIBIKI, TINY_STT
from captty.engine import (FileSource, ItemStateChanged, ModelSpec, Session, SpeechDecoded,
                           TextDecoded, TurnEndScored, load_model)
from captty.engine.framing import Framer
from captty.engine.graphed_encode import GraphedEncode
from captty.engine.model_thread import model_thread
from captty.engine.step_loop import StepInput, StepLoop

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module", params=["stt-1b", "tiny-stt"])
def model(request):
    if request.param == "tiny-stt":
        return load_model(ModelSpec(model=str(TINY_STT), device="cuda"))
    return load_model(ModelSpec(shape=request.param, device="cuda"))  # codebooks calibrated


def frames(model, seconds=6.0):
    source = FileSource(DEMO_EN, model.layout.sample_rate, speed=None)
    samples = np.concatenate(list(source.samples()))[: int(seconds * model.layout.sample_rate)]
    source.close()
    return Framer(model.layout.frame_size).push(samples)


@torch.no_grad()
def _encodes(model, pcm_frames, graphed: bool):
    """Codes of two slots: warm-up and a full reset as the step loop does, slot 1 frozen by the
    exec mask for a while, then reset alone (moshi's masked reset) and started again."""
    mimi, device = model.mimi, model.device
    out = []
    with mimi.streaming(2):
        encode = GraphedEncode(mimi, device) if graphed else mimi.encode
        silence = torch.zeros(2, 1, model.layout.frame_size, device=device)
        for _ in range(3):
            encode(silence)
        mimi.reset_streaming()
        for i, frame in enumerate(pcm_frames):
            if i == 10:
                mimi.set_exec_mask(torch.tensor([True, False], device=device))
            if i == 20:
                mimi.set_exec_mask(torch.tensor([True, True], device=device))
                mimi.reset_streaming(torch.tensor([False, True], device=device))
            pcm = torch.from_numpy(frame).to(device)[None, None].expand(2, 1, -1)
            out.append(encode(pcm).clone())
    return torch.cat(out, dim=-1)


def test_graphed_encode_gives_the_eager_codes(model):
    pcm = frames(model)
    eager = model_thread().call(_encodes, model, pcm, False)
    graphed = model_thread().call(_encodes, model, pcm, True)
    assert len(set(eager[0, 0].tolist())) > 5, "codes that never change prove nothing"
    assert torch.equal(eager, graphed)


OVERLAPPED: list[int] = []  # steps read after the next launch, per fast session


async def _events(model, batch_size=1, **kwargs):
    source = FileSource(DEMO_EN, model.layout.sample_rate, speed=None)
    session = Session(model, source, batch_size=batch_size, **kwargs)
    async with session:
        events = [e async for e in session.events()]
    OVERLAPPED.append(session.overlapped_steps)
    return events


def _eager_and_fast(model, monkeypatch, batch_size, **kwargs):
    for name in ("CAPTTY_EAGER_ENCODE", "CAPTTY_PIPELINE", "CAPTTY_ONE_STREAM"):
        monkeypatch.setenv(name, "0" if name == "CAPTTY_PIPELINE" else "1")
    eager = asyncio.run(_events(model, batch_size, **kwargs))
    for name in ("CAPTTY_EAGER_ENCODE", "CAPTTY_PIPELINE", "CAPTTY_ONE_STREAM"):
        monkeypatch.delenv(name)
    fast = asyncio.run(_events(model, batch_size, **kwargs))
    assert OVERLAPPED[-1] > 0, "the fast run never read a step after launching the next"
    return eager, fast


def _of(kind, events):
    return [e for e in events if isinstance(e, kind)]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_graphed_and_pipelined_steps_give_the_eager_tokens(model, monkeypatch, batch_size):
    eager, fast = _eager_and_fast(model, monkeypatch, batch_size)
    assert _of(TextDecoded, eager), "the model says nothing"
    assert _of(TextDecoded, eager) == _of(TextDecoded, fast)  # tokens, steps, times
    # turn-end scores: the same within 0.02. bf16 matrix products on the GPU are not bitwise
    # reproducible from one CUDA graph capture to the next (the LM's graphs are captured anew
    # for each session in both runs), so two eager runs differ by as much
    heads = [(a.step, b.step, np.abs(np.subtract(a.heads, b.heads)).max())
             for a, b in zip(_of(TurnEndScored, eager), _of(TurnEndScored, fast), strict=True)]
    assert all(a == b and diff <= 0.02 for a, b, diff in heads)


def test_hibiki_on_a_side_stream_gives_the_one_stream_tokens(monkeypatch):
    hibiki = load_model(ModelSpec(model=str(TINY_HIBIKI), device="cuda"))
    greedy = {"lm_gen_overrides": {"temp": 0.0, "temp_text": 0.0}, "max_tail_seconds": 3.0}
    eager, fast = _eager_and_fast(hibiki, monkeypatch, 2, **greedy)
    assert _of(SpeechDecoded, eager)
    assert _of(TextDecoded, eager) == _of(TextDecoded, fast)
    assert [(e.item, e.step) for e in _of(SpeechDecoded, eager)] == \
        [(e.item, e.step) for e in _of(SpeechDecoded, fast)]
    # the speech itself: the same tokens decoded on the side stream (a race there would show
    # here); within 1e-3, as two runs of the same graphs need not agree to the last bit
    for a, b in zip(_of(SpeechDecoded, eager), _of(SpeechDecoded, fast), strict=True):
        np.testing.assert_allclose(a.pcm, b.pcm, atol=1e-3)
    assert [(e.item, e.state) for e in _of(ItemStateChanged, eager)] == \
        [(e.item, e.state) for e in _of(ItemStateChanged, fast)]


@torch.no_grad()
def _launch_and_copies(model, pcm_frames):
    """Launch steps with synchronisation forbidden; count device-to-host copies per step."""
    loop = StepLoop(model, batch_size=2)
    with loop.streaming():
        loop.warm_up()
        for frame in pcm_frames[:3]:
            loop.step(StepInput(frame))
        torch.cuda.synchronize()
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            steps = pcm_frames[3:13]
            for frame in steps:
                torch.cuda.set_sync_debug_mode("error")
                try:
                    launched = loop.launch(StepInput(frame))
                finally:
                    torch.cuda.set_sync_debug_mode(0)
                loop.collect(launched)
            torch.cuda.synchronize()
    copies = [e for e in prof.events() if "Memcpy DtoH" in e.name]
    return len(steps), len(copies)


def test_a_step_launches_without_waiting_and_copies_to_the_host_once(model):
    steps, copies = model_thread().call(_launch_and_copies, model, frames(model, 2.0))
    assert copies == steps

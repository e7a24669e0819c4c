"""moshi's reference step loop, for parity tests.

`seed_loop` is `moshi.run_inference.InferenceState.run` transcribed step for step, keeping every
item's tokens and speech (the script prints only item 0 and loops forever when EOS never comes,
so the tail is bounded here as it is in captty). `moshi_stt_text` runs moshi's own
`InferenceState` and captures what it prints.
"""
from __future__ import annotations

import io
from collections import deque

import numpy as np
import sphn
import torch
from moshi.models import LMGen
from moshi.client_utils import RawPrinter
from moshi.run_inference import InferenceState, get_condition_tensors, seed_all


def load_pcm(path, batch_size: int, sample_rate: int = 24000) -> torch.Tensor:
    """As the script does: sphn.read, first channel, expanded to the batch."""
    pcm, _ = sphn.read(str(path), sample_rate=sample_rate)
    return torch.from_numpy(pcm)[None, 0:1].expand(batch_size, -1, -1)


@torch.no_grad()
def seed_loop(model, path, batch_size: int = 1, cfg_coef: float = 1.0, max_tail_steps: int = 375,
              **lm_gen_overrides):
    """Per item: (text tokens, speech pcm or None), following run_inference step for step."""
    seed_all(4242)
    info, mimi, lm = model.info, model.mimi, model.lm
    cond = get_condition_tensors(info.model_type, lm, batch_size, cfg_coef)
    lm_gen = LMGen(lm, cfg_coef=cfg_coef, condition_tensors=cond,
                   **(dict(info.lm_gen_config) | lm_gen_overrides))
    in_pcms = load_pcm(path, batch_size)
    frame_size = int(mimi.sample_rate / mimi.frame_rate)
    if info.model_type == "stt":
        pad_left = int(info.stt_config.get("audio_silence_prefix_seconds", 0.0) * 24000)
        pad_right = int((info.stt_config.get("audio_delay_seconds", 0.0) + 1.0) * 24000)
        in_pcms = torch.nn.functional.pad(in_pcms, (pad_left, pad_right), mode="constant")
    chunks = deque(c for c in in_pcms.split(frame_size, dim=2) if c.shape[-1] == frame_size)
    texts = [[] for _ in range(batch_size)]
    pcms = [[] for _ in range(batch_size)]
    eos_reached = [False] * batch_size
    need_eos_input = True
    first_frame = True
    tail = 0
    with mimi.streaming(batch_size), lm_gen.streaming(batch_size):
        while not all(eos_reached):
            if chunks:
                codes = mimi.encode(chunks.popleft())
            elif info.model_type == "hibiki":
                if need_eos_input:
                    need_eos_input = False
                    codes = torch.full((batch_size, mimi.num_codebooks, 1), mimi.cardinality,
                                       dtype=torch.long)
                else:
                    codes = mimi.encode(torch.zeros((batch_size, mimi.channels, frame_size)))
                tail += 1
                if tail > max_tail_steps:
                    break
            else:
                break
            if first_frame:
                tokens = lm_gen.step(codes)
                first_frame = False
            tokens = lm_gen.step(codes)
            if tokens is None:
                continue
            if lm.dep_q > 0:
                out_pcm = mimi.decode(tokens[:, 1:])
                for b in range(batch_size):
                    if eos_reached[b]:
                        continue
                    token = tokens[b, 0, 0].item()
                    if token == model.tokenizer.eos_id() and not need_eos_input:
                        eos_reached[b] = True
                    texts[b].append(token)
                    pcms[b].append(out_pcm[b, 0].numpy())
            else:
                for b in range(batch_size):
                    texts[b].append(tokens[b, 0, 0].item())
    return [(t, np.concatenate(p) if p else None) for t, p in zip(texts, pcms)]


def moshi_stt_text(model, path) -> str:
    """What moshi's own InferenceState prints for an STT model at batch 1.

    It leaves `model` streaming for good (`streaming_forever`): pass a model of its own.
    """
    seed_all(4242)
    in_pcms = load_pcm(path, 1)
    out = io.StringIO()
    with torch.no_grad():
        state = InferenceState(model.info, model.mimi, model.tokenizer, model.lm, 1, 1.0, "cpu",
                               **model.info.lm_gen_config)
        state.printer = RawPrinter(out, io.StringIO())
        state.run(in_pcms)
    return out.getvalue()

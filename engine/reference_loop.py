"""moshi's reference step loop, for parity tests and as the baseline of benchmarks.

`seed_loop` is `moshi.run_inference.InferenceState.run` transcribed step for step, keeping every
item's tokens and speech (the script prints only item 0, and loops forever when EOS never comes,
so the tail is bounded here as captty bounds it). It shares no code with captty's step loop.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import sphn
import torch


@dataclass
class ReferenceRun:
    items: list[tuple[list[int], np.ndarray | None]]  # per item: text tokens, speech
    steps: int  # steps that produced tokens, as the script counts them
    seconds: float  # wall time of the step loop, as the script times it


def load_pcm(path, batch_size: int, sample_rate: int = 24000) -> torch.Tensor:
    """As the script does: sphn.read at the model rate, first channel, expanded to the batch."""
    pcm, _ = sphn.read(str(path), sample_rate=sample_rate)
    return torch.from_numpy(pcm)[None, 0:1].expand(batch_size, -1, -1)


@torch.no_grad()
def seed_loop(model, path, batch_size: int = 1, cfg_coef: float = 1.0, max_tail_steps: int = 375,
              **lm_gen_overrides) -> ReferenceRun:
    from moshi.models import LMGen
    from moshi.run_inference import get_condition_tensors, seed_all

    seed_all(4242)
    info, mimi, lm, device = model.info, model.mimi, model.lm, model.device
    cond = get_condition_tensors(info.model_type, lm, batch_size, cfg_coef)
    lm_gen = LMGen(lm, cfg_coef=cfg_coef, condition_tensors=cond,
                   **(dict(info.lm_gen_config) | lm_gen_overrides))
    in_pcms = load_pcm(path, batch_size).to(device)
    frame_size = int(mimi.sample_rate / mimi.frame_rate)
    if info.model_type == "stt":
        pad_left = int(info.stt_config.get("audio_silence_prefix_seconds", 0.0) * 24000)
        pad_right = int((info.stt_config.get("audio_delay_seconds", 0.0) + 1.0) * 24000)
        in_pcms = torch.nn.functional.pad(in_pcms, (pad_left, pad_right), mode="constant")
    chunks = deque(c for c in in_pcms.split(frame_size, dim=2) if c.shape[-1] == frame_size)
    texts: list[list] = [[] for _ in range(batch_size)]
    pcms: list[list[np.ndarray]] = [[] for _ in range(batch_size)]
    eos_reached = [False] * batch_size
    need_eos_input = True
    first_frame = True
    tail = steps = 0
    with mimi.streaming(batch_size), lm_gen.streaming(batch_size):
        start = time.perf_counter()
        while not all(eos_reached):
            if chunks:
                codes = mimi.encode(chunks.popleft())
            elif info.model_type == "hibiki":
                if need_eos_input:
                    need_eos_input = False
                    codes = torch.full((batch_size, mimi.num_codebooks, 1), mimi.cardinality,
                                       dtype=torch.long, device=device)
                else:
                    codes = mimi.encode(torch.zeros((batch_size, mimi.channels, frame_size),
                                                    device=device))
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
                out_pcm = mimi.decode(tokens[:, 1:]).cpu()
                for b, (one_text, one_pcm) in enumerate(zip(tokens[:, 0].cpu(), out_pcm)):
                    if eos_reached[b]:
                        continue
                    if one_text.item() == model.tokenizer.eos_id() and not need_eos_input:
                        eos_reached[b] = True
                    texts[b].append(one_text.item())
                    pcms[b].append(one_pcm[0].numpy())
            else:
                one_text = tokens[:, 0, 0].cpu()
                for b in range(batch_size):
                    texts[b].append(one_text[b].item())
            steps += 1
        seconds = time.perf_counter() - start
    items = [(t, np.concatenate(p) if p else None) for t, p in zip(texts, pcms)]
    return ReferenceRun(items, steps, seconds)

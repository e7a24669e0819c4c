"""Training the STT language model: moshi's `LMModel` (text only, `dep_q = 0`) on the tiny
Mimi's codes, with the four extra heads of kyutai/stt-1b-en_fr trained as end-of-turn heads.

The text stream is laid out as Kyutai's STT writes it and as captty reads it back: padding (3)
on most steps, an end-of-padding token (0, a word boundary) before each word and the word's
one token right after it. A word whose onset is `o` seconds into the engine's padded input gets
its boundary at position `round((o + delay) * 12.5)` of the text stream, so that captty's word
start (the step after the boundary, less the prefix and the delay) is `o`.

Position `j` of the text stream is predicted from the initial token and the codes of frames
`0 .. j-1` with the text of positions `0 .. j-1` (the codes shifted one step behind the initial
token): this is what moshi's streaming loop computes once it has stepped the first frame twice.
`LMModel.forward` asserts when `dep_q = 0`, so the logits come from `forward_text`.

Extra head `h` says, at each position, whether the audio heard so far ends with at least
`HEAD_PAUSES[h]` seconds without speech (class 0 of 6: "the turn is over"; class 1: "not yet").
captty reads head 2 (one second) with Kyutai's threshold of 0.5, so a turn ends about a second
after the last word is heard, and a pause shorter than a second ends none.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..checkpoint_builder import BINS, CODEBOOKS
from ..words import END_OF_PADDING, PADDING
from .optim import optimise
from .speech import SAMPLE_RATE

FRAME = 1920
FRAME_RATE = 12.5
PAD, BOUNDARY = PADDING, END_OF_PADDING
HEAD_PAUSES = (0.25, 0.5, 1.0, 2.0)  # seconds of silence heard, per extra head
TURN_OVER, NOT_YET = 0, 1


def lm_kwargs(text_card: int, codebooks: int = CODEBOOKS, card: int = BINS) -> dict:
    """The LM's config (moshi's `get_moshi_lm` keyword arguments), stt-1b-en_fr's shape shrunk."""
    return {
        "dim": 128, "text_card": text_card, "existing_text_padding_id": PAD, "n_q": codebooks,
        "dep_q": 0, "card": card, "num_heads": 4, "num_layers": 4, "hidden_scale": 4.125,
        "causal": True, "layer_scale": None, "context": 250, "max_period": 10000,
        "gating": "silu", "norm": "rms_norm_f32", "positional_embedding": "rope",
        "depformer_dim": 64, "depformer_dim_feedforward": 128, "depformer_num_heads": 2,
        "depformer_num_layers": 1, "depformer_layer_scale": None, "depformer_multi_linear": True,
        "depformer_context": 1, "depformer_max_period": 10000, "depformer_gating": "silu",
        "depformer_pos_emb": "none", "depformer_weights_per_step": True,
        "delays": [0] * (codebooks + 1), "extra_heads_num_heads": len(HEAD_PAUSES),
        "extra_heads_dim": 6,
    }


def text_targets(onsets: list[int], tokens: list[int], frames: int, delay: float) -> np.ndarray:
    """The text stream [frames] for words starting at `onsets` (samples of the padded input)."""
    out = np.full(frames, PAD, dtype=np.int64)
    last = -1
    for onset, token in sorted(zip(onsets, tokens)):
        at = max(round((onset / SAMPLE_RATE + delay) * FRAME_RATE), last + 1)
        if at < frames:
            out[at] = BOUNDARY
        if at + 1 < frames:
            out[at + 1] = token
        last = at + 1
    return out


def turn_targets(speech: list[tuple[int, int]], frames: int) -> np.ndarray:
    """[heads, frames]: class TURN_OVER where the audio heard (frames 0 .. j-1) ends with at
    least HEAD_PAUSES[h] seconds without speech, else NOT_YET."""
    heard = np.arange(frames) * FRAME
    silent_since: np.ndarray = np.zeros(frames)  # where the current silence began (0: none heard yet)
    speaking = np.zeros(frames, dtype=bool)
    for start, end in sorted(speech):
        speaking |= (heard > start) & (heard < end)
        silent_since = np.where(heard >= end, np.maximum(silent_since, end), silent_since)
    silence = np.where(speaking, 0.0, (heard - silent_since) / SAMPLE_RATE)
    return np.stack([np.where(silence >= p, TURN_OVER, NOT_YET) for p in HEAD_PAUSES])


@dataclass
class Example:
    codes: np.ndarray  # [K, T] int16
    text: np.ndarray  # [T] int64
    turns: np.ndarray  # [heads, T] int64


def build_lm(text_card: int, seed: int):
    from moshi.models import loaders

    torch.manual_seed(seed)
    return loaders.get_moshi_lm(None, lm_kwargs(text_card), device="cpu", dtype=torch.float32)


def forward(lm, codes: torch.Tensor, text: torch.Tensor):
    """Text logits [B, T, V] and transformer output [B, T, D], teacher-forced."""
    B = codes.shape[0]
    stream = torch.cat([text[:, None], codes], dim=1)  # [B, 1 + K, T]
    initial = lm._get_initial_token().expand(B, -1, -1)
    inputs = torch.cat([initial, stream[:, :, :-1]], dim=2)
    out, logits = lm.forward_text(inputs)
    return logits[:, 0], out


def batches(examples: list[Example], batch: int, rng: np.random.Generator):
    """Endless batches of examples of one length."""
    by_length: dict[int, list[int]] = {}
    for k, ex in enumerate(examples):
        by_length.setdefault(ex.text.shape[0], []).append(k)
    lengths = sorted(by_length)
    weights = np.array([len(by_length[n]) * n for n in lengths], dtype=float)
    while True:
        n = lengths[rng.choice(len(lengths), p=weights / weights.sum())]
        pick = rng.choice(by_length[n], size=batch, replace=len(by_length[n]) < batch)
        yield (torch.from_numpy(np.stack([examples[k].codes for k in pick]).astype(np.int64)),
               torch.from_numpy(np.stack([examples[k].text for k in pick])),
               torch.from_numpy(np.stack([examples[k].turns for k in pick])))


def drop_codebooks(codes: torch.Tensor, rng: np.random.Generator, p: float) -> torch.Tensor:
    """Hides whole codebooks (all but the first) of some examples: code -1 embeds to zeros.
    A regulariser: the fine codebooks carry detail that lets a small LM memorise its data."""
    keep = torch.from_numpy(rng.random((codes.shape[0], codes.shape[1])) >= p)
    keep[:, 0] = True
    return torch.where(keep[:, :, None], codes, torch.full_like(codes, -1))


def train_lm(lm, examples: list[Example], rng: np.random.Generator, steps: int, batch: int = 16,
             lr: float = 1.5e-3, head_weight: float = 0.5, codebook_dropout: float = 0.2, log=print):
    lm.train()
    params = [p for p in lm.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    rest = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95))
    warmup = max(steps // 25, 1)
    def schedule(step: int) -> float:  # linear warm-up, then a cosine down to a tenth
        return min(1.0, (step + 1) / warmup) * (0.1 + 0.45 * (1 + math.cos(math.pi * min(step / steps, 1.0))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    start = time.perf_counter()
    for step, (codes, text, turns) in zip(range(steps), batches(examples, batch, rng)):
        logits, out = forward(lm, drop_codebooks(codes, rng, codebook_dropout), text)
        text_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), text.reshape(-1))
        ce = torch.nn.functional.cross_entropy
        head_loss = torch.stack([ce(head(out).reshape(-1, 6), turns[:, h].reshape(-1))
                                 for h, head in enumerate(lm.extra_heads)]).mean()
        loss = text_loss + head_weight * head_loss
        optimise(loss, opt, sched, params)
        if step % 100 == 0 or step == steps - 1:
            with torch.no_grad():
                words = text > PAD
                acc = (logits.argmax(-1)[words] == text[words]).float().mean().item() if words.any() else 0.0
            log(f"lm step {step:5d}  text {text_loss.item():.4f}  heads {head_loss.item():.4f}  "
                f"word-token acc {acc:.3f}  {time.perf_counter() - start:.0f} s")
    lm.eval()
    return lm

"""Training a tiny Mimi (tiny-stt's config with a wider encoder, built with moshi's
`loaders.get_mimi`) so that its codes describe the sound rather than its phase.

A random Mimi's codes change when the audio moves by 10 ms, so an LM on top of them memorises.
Here a linear head on the *quantized* latent predicts each 80 ms frame's log-mel spectrum
(8 frames of 48 bands at a 10 ms hop, each window ending inside the frame, so the target is
causal like the encoder), with an L1 loss on
bands scaled to unit variance. As the real Mimi distils a speech model into its
first ("semantic") codebook, a second linear head on that codebook's output alone predicts
which of eSpeak's phonemes cover the frame (a soft target: the share of the frame each one
covers), so the first code names the sound whatever the voice. The quantizer is moshi's own
split residual quantizer in training mode: k-means initialisation, EMA codebooks, dead-code
replacement, straight-through gradients, and its commitment penalty added to the loss. The
decoder is not trained (an STT never decodes). Streams come from `streams.compose`: random
gaps, gains, noise and shifts.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from ..checkpoint_builder import CODEBOOKS, mimi_config
from .speech import SAMPLE_RATE
from .streams import PHONEME_CLASSES, SpeechPools, compose
from .optim import optimise

MEL_BANDS, MEL_HOP, MEL_WINDOW = 48, 240, 600  # 10 ms hop, 25 ms window at 24 kHz


def mel_filters(bands: int = MEL_BANDS, n_fft: int = MEL_WINDOW, low: float = 60.0,
                high: float = 11000.0) -> torch.Tensor:
    """Triangular mel filters [bands, n_fft // 2 + 1]."""
    def mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(low), mel(high), bands + 2))
    freqs = np.linspace(0, SAMPLE_RATE / 2, n_fft // 2 + 1)
    out = np.zeros((bands, freqs.size))
    for b in range(bands):
        a, c, d = edges[b:b + 3]
        out[b] = np.clip(np.minimum((freqs - a) / (c - a), (d - freqs) / (d - c)), 0, None)
    return torch.tensor(out, dtype=torch.float32)


class LogMel(torch.nn.Module):
    """[B, 1, T] audio -> [B, T // 1920, 8 * 48] log-mel, each 10 ms window ending at its hop."""

    filters: torch.Tensor
    window: torch.Tensor

    def __init__(self):
        super().__init__()
        self.register_buffer("filters", mel_filters())
        self.register_buffer("window", torch.hann_window(MEL_WINDOW))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        x = torch.nn.functional.pad(audio[:, 0], (MEL_WINDOW - MEL_HOP, 0))
        spec = torch.stft(x, MEL_WINDOW, MEL_HOP, window=self.window, center=False,
                          return_complex=True).abs() ** 2  # [B, F, frames]
        logmel = torch.log10(self.filters @ spec + 1e-6)  # [B, bands, frames]
        per = 1920 // MEL_HOP
        frames = logmel.shape[-1] // per
        return logmel[..., : frames * per].reshape(logmel.shape[0], MEL_BANDS, frames, per) \
            .permute(0, 2, 3, 1).reshape(logmel.shape[0], frames, per * MEL_BANDS)


def batch_audio(rng: np.random.Generator, pools: SpeechPools, batch: int, frames: int):
    """[batch, 1, frames * 1920] windows of composed streams, most of them on a word's onset,
    and their phoneme shares [batch, frames, classes]."""
    n = frames * 1920
    audio, phonemes = [], []
    for _ in range(batch):
        stream = compose(rng, pools, 6 * SAMPLE_RATE, prefix=0)
        if stream.onsets and rng.random() < 0.8:
            start = int(stream.onsets[rng.integers(len(stream.onsets))]) - int(rng.integers(0, n))
        else:
            start = int(rng.integers(0, len(stream.audio) - n))
        start = min(max(start, 0), len(stream.audio) - n)
        audio.append(stream.audio[start:start + n])
        phonemes.append(stream.phoneme_frames(start, frames))
    return torch.from_numpy(np.stack(audio))[:, None], torch.from_numpy(np.stack(phonemes))


def demo_mimi_config(filters: int = 4, dim: int = 32) -> dict:
    """tiny-stt's Mimi config with `filters` SEANet filters and a `dim`-wide latent (the
    quantizer, its projections and the transformer follow the latent)."""
    config = mimi_config()
    config["seanet"].update(n_filters=filters, dimension=dim)
    config["quantizer"].update(input_dimension=dim, output_dimension=dim)
    config["transformer"].update(d_model=dim, input_dimension=dim, output_dimensions=[dim],
                                 dim_feedforward=2 * dim)
    return config


def train_mimi(pools: SpeechPools, rng: np.random.Generator, steps: int, batch: int = 16,
               frames: int = 8, filters: int = 4, dim: int = 32, lr: float = 3e-3,
               commitment: float = 1.0, phoneme_weight: float = 0.5, input_gain: float = 16.0,
               unquantized_steps: int = 150, log=print):
    """A trained tiny Mimi (moshi's MimiModel, eval mode) and its config.

    Two things get it off the ground: the first convolution starts `input_gain` times larger
    than its default initialisation (speech at -20 dBFS barely leaves the near-linear part of
    ELU otherwise, and nothing is learnt for hundreds of steps), and the quantizer joins after
    `unquantized_steps`, so its k-means initialisation sees latents that already mean something.
    """
    from moshi.models import loaders

    config = demo_mimi_config(filters, dim)
    mimi = loaders.get_mimi(None, config, device="cpu", num_codebooks=CODEBOOKS)
    encoder: Any = mimi.encoder
    first_conv = encoder.model[0]
    with torch.no_grad():
        first_conv.conv.conv.weight *= input_gain
    logmel = LogMel()
    width = config["quantizer"]["output_dimension"]
    mel_head = torch.nn.Linear(width, 8 * MEL_BANDS)
    phoneme_head = torch.nn.Linear(width, PHONEME_CLASSES)
    params = ([p for name, p in mimi.named_parameters() if not name.startswith("decoder")]
              + list(mel_head.parameters()) + list(phoneme_head.parameters()))
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    warmup = max(steps // 20, 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    mimi.train()
    quantizer: Any = mimi.quantizer  # moshi's SplitResidualVectorQuantizer
    with torch.no_grad():  # per-band scale of the targets, from a first large batch
        sample = logmel(batch_audio(rng, pools, 8 * batch, frames)[0])
        mean, std = sample.mean(dim=(0, 1)), sample.std(dim=(0, 1)) + 1e-3
    start = time.perf_counter()
    for step in range(steps):
        audio, phonemes = batch_audio(rng, pools, batch, frames)
        target = (logmel(audio) - mean) / std
        latent = mimi._encode_to_unquantized_latent(audio)
        if step < unquantized_steps:
            quantized = semantic_x = latent
            penalty = torch.zeros(())
        else:
            semantic = quantizer.rvq_first(latent, mimi.frame_rate)  # as SplitResidualVectorQuantizer
            acoustic = quantizer.rvq_rest(latent, mimi.frame_rate)  # does, the semantic part kept apart
            quantized, semantic_x = semantic.x + acoustic.x, semantic.x
            penalty = (semantic.penalty * quantizer.n_q_semantic
                       + acoustic.penalty * quantizer.n_q_acoustic) / quantizer.n_q
        l1 = (mel_head(quantized.transpose(1, 2)) - target).abs().mean()
        log_p = torch.log_softmax(phoneme_head(semantic_x.transpose(1, 2)), dim=-1)
        ce = -(phonemes * log_p).sum(-1).mean()
        loss = l1 + phoneme_weight * ce + commitment * penalty
        optimise(loss, opt, sched, params)
        for buffer in quantizer.buffers():  # moshi replaces dead codes with samples of the batch
            buffer.detach_()  # in place; without this each replacement keeps that step's graph alive
        if step % 50 == 0 or step == steps - 1:
            log(f"mimi step {step:4d}  mel L1 {l1.item():.3f}  phonemes {ce.item():.3f}  "
                f"commit {penalty.item():.4f}  {time.perf_counter() - start:.0f} s")
    mimi.eval()
    return mimi, config


"""Random-initialised models of Kyutai's real shapes, for benchmarks that need no download.

Shapes follow `moshi-notes.md` (stt-1b-en_fr, stt-2.6b-en, Hibiki 2B); `tiny` keeps the layout
(codebooks, delays, heads, conditioning) and shrinks the LM so a CPU runs it in milliseconds,
as `gpu_baseline.py`'s SMALL=1 does. Mimi keeps its real size: its encode is most of a step.
"""
from __future__ import annotations

from types import SimpleNamespace

import torch

from .checkpoint import LoadedModel, choose_dtype, prepare_device
from .errors import CapttyError

GREEDY = {"temp": 0.0, "temp_text": 0.0}
_LUT = {"description": {"type": "lut", "lut": {
    "n_bins": 31, "dim": 16, "tokenizer": "noop",
    "possible_values": ["very_bad", "bad", "neutral", "good", "very_good"]}}}

# name: (model_type, LM keyword arguments over moshi's defaults, stt_config, lm_gen_config)
SHAPES = {
    "stt-1b": ("stt", dict(dim=2048, num_heads=16, num_layers=16, hidden_scale=4.125, n_q=32,
                           dep_q=0, text_card=8000, card=2048, context=750, max_period=100000,
                           delays=[0] * 33, extra_heads_num_heads=4, extra_heads_dim=6),
               {"audio_delay_seconds": 0.5, "audio_silence_prefix_seconds": 0.0}, GREEDY),
    # dims of kyutai/stt-2.6b-en's config (2.6 B parameters), vocabulary and context from the notes
    "stt-2.6b": ("stt", dict(dim=2560, num_heads=20, num_layers=24, hidden_scale=4.125, n_q=32,
                             dep_q=0, text_card=4000, card=2048, context=375, max_period=100000,
                             delays=[0] * 33),
                 {"audio_delay_seconds": 2.5, "audio_silence_prefix_seconds": 1.0}, GREEDY),
    "hibiki-2b": ("hibiki", dict(dim=2560, text_card=48000, n_q=32, dep_q=16, num_heads=20,
                                 num_layers=24, context=3000, max_period=100000,
                                 depformer_context=16, delays=[0, 0] + [2] * 15 + [0] + [2] * 15,
                                 conditioners=_LUT, fuser={"sum": ["description"]}),
                  {}, {"temp": 0.8, "temp_text": 0.7}),
}
TINY = dict(dim=64, num_heads=2, num_layers=2, depformer_dim=64, depformer_num_heads=2,
            depformer_dim_feedforward=128, text_card=100)


class NumberedTokenizer:
    """Stands in for sentencepiece: ids are shown as `<id>`; bos 1, eos 2 as Kyutai's."""

    def eos_id(self) -> int:
        return 2

    def bos_id(self) -> int:
        return 1

    def id_to_piece(self, token: int) -> str:
        return f" <{token}>"

    def encode(self, text: str) -> list[int]:
        """One token a word (word timestamps split spans by token counts)."""
        return [3] * len(text.split())


@torch.no_grad()
def calibrate_codebooks(mimi, seed: int = 0, seconds: float = 2.0) -> None:
    """Spread a random Mimi's codebooks over its latents, as moshi's quantizer does in training.

    A random Mimi's codebooks are all zero, so every frame gets the same codes and a check
    that two encodes give identical codes cannot fail. Training-mode passes of the
    quantizer over the latents of noise (k-means start, then EMA updates) make the codes vary
    from frame to frame, as a trained Mimi's do (`../shared/tools/gpu_rvq_graph.py` does the same).
    """
    generator = torch.Generator().manual_seed(seed)
    frames = int(seconds * mimi.frame_rate)
    noise = torch.randn(4, mimi.channels, frames * mimi.frame_size, generator=generator) * 0.1
    latent = mimi._encode_to_unquantized_latent(noise.to(next(mimi.parameters()).device))
    mimi.quantizer.train()
    # moshi starts a residual codebook only once the one before it has started: one pass each
    for _ in range(mimi.num_codebooks + 1):
        mimi.quantizer(latent, mimi.frame_rate)
    mimi.quantizer.eval()


def random_model(shape: str, device: str = "auto", half: bool = False, tiny: bool = False,
                 seed: int = 0) -> LoadedModel:
    """Build on the calling thread (the model thread, through `model_thread().call`)."""
    from moshi.models import loaders

    if shape not in SHAPES:
        raise CapttyError(f"unknown shape '{shape}' (one of {', '.join(SHAPES)})")
    model_type, lm_kwargs, stt_config, gen_config = SHAPES[shape]
    torch_device = prepare_device(device)
    dtype = choose_dtype(torch_device, half)
    kwargs = dict(loaders._lm_kwargs) | lm_kwargs | (TINY if tiny else {})
    torch.manual_seed(seed)
    lm = loaders.get_moshi_lm(None, kwargs, device=torch_device, dtype=dtype)
    lm.eval()
    mimi = loaders.get_mimi(None, device=torch_device,
                            num_codebooks=max(lm.dep_q, lm.n_q - lm.dep_q))
    calibrate_codebooks(mimi, seed)
    info = SimpleNamespace(model_type=model_type, stt_config=stt_config,
                           lm_gen_config=gen_config, raw_config={})
    name = f"random {shape}" + (" (tiny)" if tiny else "")
    return LoadedModel(name=name, info=info, mimi=mimi, lm=lm, tokenizer=NumberedTokenizer(),
                       device=torch_device, dtype=dtype)

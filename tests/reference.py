"""moshi's own InferenceState, run for parity tests."""
from __future__ import annotations

import io

import torch
from moshi.client_utils import RawPrinter
from moshi.run_inference import InferenceState, seed_all

from captty.engine.reference_loop import load_pcm


def moshi_stt_text(model, path) -> str:
    """What moshi's own InferenceState prints for an STT model at batch 1.

    It leaves `model` streaming for good (`streaming_forever`): pass a model of its own.
    """
    seed_all(4242)
    in_pcms = load_pcm(path, 1).to(model.device)  # as moshi's script loads it
    out = io.StringIO()
    with torch.no_grad():
        state = InferenceState(model.info, model.mimi, model.tokenizer, model.lm, 1, 1.0, model.device,
                               **model.info.lm_gen_config)
        state.printer = RawPrinter(out, io.StringIO())
        state.run(in_pcms)
    return out.getvalue()

"""Mimi's streaming encode as one CUDA graph.

moshi graphs two parts of Mimi's encode, the SEANet encoder and its transformer, and runs the
rest eagerly: the downsampling convolution and the residual quantizer, a Python loop over 32
codebooks that launches a few hundred small kernels. At batch 1 the GPU finishes each of them
before the next is launched, so the step waits on Python: on an H200 that encode was 6.5 of
moshi's 9 ms stt-1b step (`moshi-notes.md`). Captured once as one graph, the whole encode is
launched with one call and its kernels run back to back.

A graph replays the kernels it captured on the memory it captured. Streaming state that a module
updates in place is therefore carried from step to step, but state it replaces with a new tensor
(moshi's streaming convolutions do `state.first = torch.where(...)`, Mimi's downsampling one
among them) would be read from the old tensor at every replay, and a reset, which writes into
the current one, would not reach the graph. `_encode_in_place` copies each replaced tensor back
into the one it replaced, so the graph reads and writes the same state tensors the eager code
and the resets use.

Off the GPU, and with `NO_CUDA_GRAPH=1` (moshi's switch) or `CAPTTY_EAGER_ENCODE=1`, the encode
is Mimi's own, unchanged. Runs on the model thread, for one streaming state (one `StepLoop`).
"""
from __future__ import annotations

import logging
import os
from typing import Any

import torch

log = logging.getLogger("captty.engine")


def graphs_wanted(device: torch.device) -> bool:
    return (device.type == "cuda" and not os.environ.get("NO_CUDA_GRAPH")
            and not os.environ.get("CAPTTY_EAGER_ENCODE"))


def _state_tensors(module: torch.nn.Module) -> list[tuple[Any, dict[str, torch.Tensor]]]:
    """Each streaming state under `module`, with the tensors it holds now."""
    found = []
    for m in module.modules():
        state = getattr(m, "_streaming_state", None)
        if state is not None:
            found.append((state, {k: v for k, v in vars(state).items()
                                  if isinstance(v, torch.Tensor)}))
    return found


class GraphedEncode:
    """`encode(pcm [B, 1, frame]) -> codes [B, K, 1]`, as `mimi.encode` gives them."""

    def __init__(self, mimi, device: torch.device):
        from moshi.utils.compile import CUDAGraphed

        self.mimi = mimi
        self.graphed = graphs_wanted(device)
        # the first call runs eagerly (kernel choice, lazy buffers); the second is captured
        self._graph = CUDAGraphed(self._encode_in_place, warmup_steps=1) if self.graphed else None

    def __call__(self, pcm: torch.Tensor) -> torch.Tensor:
        if self._graph is None:
            return self.mimi.encode(pcm)
        return self._graph(pcm)

    def _encode_in_place(self, pcm: torch.Tensor) -> torch.Tensor:
        states = _state_tensors(self.mimi)
        codes = self.mimi.encode(pcm)
        for state, before in states:
            for name, old in before.items():
                new = getattr(state, name)
                if new is not old:
                    old.copy_(new)
                    setattr(state, name, old)
        return codes

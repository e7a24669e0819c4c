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
the current one, would not reach the graph. `encode_in_place` copies each replaced tensor back
into the one it replaced, so the graph reads and writes the same state tensors the eager code
and the resets use.

Off the GPU, and with `NO_CUDA_GRAPH=1` (moshi's switch) or `CAPTTY_EAGER_ENCODE=1`, the encode
is Mimi's own, unchanged. Runs on the model thread, for one streaming state (one `StepLoop`).
"""
from __future__ import annotations

import os
from functools import partial
from typing import Any

import torch


def switched_on(name: str) -> bool:
    """An environment switch: set, and not 0, no or false."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "no", "n", "false")


def graphs_wanted(device: torch.device) -> bool:
    """On CUDA unless CAPTTY_EAGER_ENCODE or moshi's NO_CUDA_GRAPH says not (then the encode
    is Mimi's own, without the in-place copies the graph needs)."""
    from moshi.utils.compile import _is_cuda_graph_enabled

    return device.type == "cuda" and not switched_on("CAPTTY_EAGER_ENCODE") and _is_cuda_graph_enabled()


def _state_tensors(module: torch.nn.Module) -> list[tuple[Any, dict[str, torch.Tensor]]]:
    """Each streaming state under `module`, with the tensors it holds now."""
    found = []
    for m in module.modules():
        state = getattr(m, "_streaming_state", None)
        if state is not None:
            found.append((state, {k: v for k, v in vars(state).items()
                                  if isinstance(v, torch.Tensor)}))
    return found


def encode_in_place(mimi, pcm: torch.Tensor) -> torch.Tensor:
    """`mimi.encode(pcm)`, with every state tensor it replaced copied back into the old one."""
    states = _state_tensors(mimi)
    codes = mimi.encode(pcm)
    for state, before in states:
        for name, old in before.items():
            new = getattr(state, name)
            if new is not old:
                old.copy_(new)
                setattr(state, name, old)
    return codes


class GraphedEncode:
    """`encode(pcm [B, 1, frame]) -> codes [B, K, 1]`, as `mimi.encode` gives them, for one
    streaming state: `reset` when that state goes (the graph holds its memory)."""

    def __init__(self, mimi, device: torch.device):
        self.mimi = mimi
        self.graphed = graphs_wanted(device)
        self._graph: Any = None
        self.reset()

    def reset(self) -> None:
        """Forget the graph; the next streaming state captures its own."""
        from moshi.utils.compile import CUDAGraphed

        # the first call runs eagerly (kernel choice, lazy buffers); the second is captured.
        # A partial, not a bound method: no reference cycle keeps a dropped graph's pool alive
        self._graph = (CUDAGraphed(partial(encode_in_place, self.mimi), warmup_steps=1)
                       if self.graphed else None)

    def __call__(self, pcm: torch.Tensor) -> torch.Tensor:
        if self._graph is None:
            return self.mimi.encode(pcm)
        return self._graph(pcm)

"""The optimiser step both trainings take."""
from __future__ import annotations

import torch


def optimise(loss: torch.Tensor, opt: torch.optim.Optimizer, sched, params) -> None:
    """Back-propagate `loss`, clip the gradients' norm to 1, step the optimiser and schedule."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()

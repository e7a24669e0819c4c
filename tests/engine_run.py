"""Running the engine on a file and collecting what it produced, for tests."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from captty.engine import (EngineFailed, FileSource, ItemState, ItemStateChanged, Session, SessionEnded,
                    SpeechDecoded, StepTimed, TextDecoded)


@dataclass
class Outputs:
    tokens: list[list[int]]
    text: list[str]
    speech: list[np.ndarray | None]
    states: list[list[ItemState]]
    events: list = field(repr=False, default_factory=list)

    @property
    def ended(self) -> SessionEnded:
        return next(e for e in self.events if isinstance(e, SessionEnded))

    @property
    def step_times(self) -> list[StepTimed]:
        return [e for e in self.events if isinstance(e, StepTimed)]


async def collect(model, path, batch_size=1, cfg_coef=1.0, max_tail_seconds=30.0, speed=None,
                  **lm_gen_overrides) -> Outputs:
    source = FileSource(path, model.layout.sample_rate, speed=speed)
    session = Session(model, source, batch_size=batch_size, cfg_coef=cfg_coef,
                      max_tail_seconds=max_tail_seconds, lm_gen_overrides=lm_gen_overrides)
    events = []
    async with session:
        async for event in session.events():
            events.append(event)
    failures = [e for e in events if isinstance(e, EngineFailed)]
    assert not failures, failures[0].message
    return outputs(events, batch_size)


def outputs(events, batch_size) -> Outputs:
    tokens = [[] for _ in range(batch_size)]
    text = [""] * batch_size
    speech = [[] for _ in range(batch_size)]
    states = [[] for _ in range(batch_size)]
    for e in events:
        if isinstance(e, TextDecoded):
            tokens[e.item].append(e.token)
            text[e.item] += e.text
        elif isinstance(e, SpeechDecoded):
            speech[e.item].append(e.pcm)
        elif isinstance(e, ItemStateChanged):
            states[e.item].append(e.state)
    return Outputs(tokens, text, [np.concatenate(s) if s else None for s in speech], states, events)


def run(model, path, **kwargs) -> Outputs:
    return asyncio.run(collect(model, path, **kwargs))

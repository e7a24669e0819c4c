"""The session's events to the clients they belong to, as protocol messages.

A slot's events belong to the client whose `StreamStarted` came last for it (a client that has
left gets nothing; its slot's events until the next start are dropped). Per client and step:
`Word` when a word is decided (`WordStarted`), `EndWord` when its end is known (`WordFinished`),
then `Step` (models with extra heads: every head's score, and the client's audio still waiting),
then the echo of each `Marker` whose audio, and the model's delay after it, has been through.
A step's `Step` goes after its words so that a client arming its end-of-turn detection on `Word`
(as Kyutai's clients do) sees the word before the step's probabilities, as the engine does.
"""
from __future__ import annotations

import asyncio
import math

from ..events import (EngineFailed, SessionEnded, StepTimed, StreamStarted, TurnEnded,
                      TurnEndScored, WordFinished, WordStarted)
from . import protocol
from .client import Client
from .client_feeder import ClientFeeder
from .metrics import ServerMetrics

MARKER_MARGIN_STEPS = 1  # a word whose last piece is in the marker's last step closes a step later


class EventRouter:
    def __init__(self, feeder: ClientFeeder, delay: float, metrics: ServerMetrics):
        self.feeder = feeder
        self.layout = feeder.layout
        self.delay_steps = math.ceil(delay * self.layout.frame_rate - 1e-9)
        self.metrics = metrics
        self.clients: dict[int, Client] = {}  # connected, by id
        self._holder: dict[int, int] = {}  # slot -> id of the client whose stream it runs
        self._steps: dict[int, tuple] = {}  # slot -> the step's (step, heads), sent at its end
        self._step_open: StepTimed | None = None
        self.ended = asyncio.Event()
        self.failure: str | None = None

    def marker_target(self, received_samples: int) -> int:
        """The client's step count at which a marker sent after this much audio is echoed."""
        frames = math.ceil(received_samples / self.layout.frame_size)
        return frames + self.delay_steps + MARKER_MARGIN_STEPS

    def _client(self, slot: int) -> Client | None:
        client_id = self._holder.get(slot)
        return None if client_id is None else self.clients.get(client_id)

    def handle(self, event) -> None:
        if self._step_open is not None and not isinstance(event, (WordStarted, WordFinished,
                                                                   TurnEnded)):
            self.end_step()
        if isinstance(event, StreamStarted):
            self._holder[event.item] = event.stream
        elif isinstance(event, WordStarted):
            client = self._client(event.item)
            if client is not None:
                client.words += 1
                self.metrics.words.inc()
                client.send(protocol.word(event.text, event.start))
        elif isinstance(event, WordFinished):
            client = self._client(event.item)
            if client is not None:
                client.send(protocol.end_word(event.end))
        elif isinstance(event, TurnEndScored):
            self._steps[event.item] = (event.step, event.heads)
        elif isinstance(event, StepTimed):
            self._step_open = event
            self.feeder.stepped()
            self.metrics.stepped(event)
            asyncio.get_running_loop().call_soon(self.end_step)
        elif isinstance(event, (SessionEnded, EngineFailed)):
            self._finish(event)

    def end_step(self) -> None:
        """After a step's events and the words they decided: its Steps, then due markers."""
        event, self._step_open = self._step_open, None
        if event is None:
            return
        steps, self._steps = self._steps, {}
        for b, own in enumerate(event.slot_steps or ()):
            client = self._client(b) if own >= 0 else None
            if client is None:
                continue
            client.steps = own + 1
            waiting = max(client.slot.received - client.steps * self.layout.frame_size, 0)
            self.metrics.lag(b, waiting / self.layout.sample_rate)
            if b in steps:
                step, heads = steps[b]
                client.send(protocol.step(step, heads, waiting))
            for marker_id in client.due_markers():
                client.send(protocol.marker(marker_id))

    def _finish(self, event) -> None:
        """The session is over (shut down, or failed): markers echoed, clients closed."""
        if isinstance(event, EngineFailed):
            self.failure = event.message
        for client in list(self.clients.values()):
            if isinstance(event, EngineFailed):
                client.send(protocol.error(f"the server's model failed: {event.message}"))
            else:
                for marker_id in client.due_markers(all_of_them=True):
                    client.send(protocol.marker(marker_id))
            client.end("server shut down" if isinstance(event, SessionEnded) else "model failed",
                       1001)
        self.ended.set()

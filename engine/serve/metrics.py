"""The server's figures in the Prometheus text format (`/metrics`), with prometheus-client.

Each server has its own registry (several servers in one process, as in the tests, do not
mix). Step time percentiles and steps a second are over the last `WINDOW` steps, computed when
scraped; per-client lag is the client's audio received and not yet through the model, by slot
(a bounded label set: one per slot, removed when the client leaves).
"""
from __future__ import annotations

import time
from collections import deque

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest)

from ..events import StepTimed

WINDOW = 500  # steps
STEP_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64)  # seconds; 0.08 is real time


def _percentile(values, q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class ServerMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, batch_size: int):
        self.registry = registry = CollectorRegistry()
        self._ms: deque[float] = deque(maxlen=WINDOW)
        self._clocks: deque[float] = deque(maxlen=WINDOW)
        self.clients = Gauge("captty_clients", "Clients connected", registry=registry)
        self.free_slots = Gauge("captty_free_slots", "Batch slots free for a client",
                                registry=registry)
        self.free_slots.set(batch_size)
        Gauge("captty_slots", "Batch slots (--batch-size)", registry=registry).set(batch_size)
        self.connections = Counter("captty_connections", "Connection attempts by outcome",
                                   ["outcome"], registry=registry)
        self.steps = Counter("captty_steps", "Model steps", registry=registry)
        self.words = Counter("captty_words", "Words sent to clients", registry=registry)
        self.audio = Counter("captty_audio_seconds", "Seconds of client audio received",
                             registry=registry)
        self.step_seconds = Histogram("captty_step_seconds", "Time of one model step",
                                      buckets=STEP_BUCKETS, registry=registry)
        Gauge("captty_steps_per_second", f"Steps a second over the last {WINDOW} steps",
              registry=registry).set_function(self._rate)
        Gauge("captty_step_ms_p50", f"Median ms per step over the last {WINDOW} steps",
              registry=registry).set_function(lambda: _percentile(self._ms, 0.5))
        Gauge("captty_step_ms_p95", f"95th percentile ms per step over the last {WINDOW} steps",
              registry=registry).set_function(lambda: _percentile(self._ms, 0.95))
        self.client_lag = Gauge("captty_client_lag_seconds",
                                "A client's audio received and not yet through the model",
                                ["slot"], registry=registry)

    def _rate(self) -> float:
        if len(self._clocks) < 2:
            return 0.0
        span = max(self._clocks[-1] - self._clocks[0], time.perf_counter() - self._clocks[-1])
        return (len(self._clocks) - 1) / span if span > 0 else 0.0

    def stepped(self, event: StepTimed) -> None:
        self.steps.inc()
        self._ms.append(event.total_ms)
        self._clocks.append(event.clock or time.perf_counter())
        self.step_seconds.observe(event.total_ms / 1000.0)

    def lag(self, slot: int, seconds: float) -> None:
        self.client_lag.labels(str(slot)).set(seconds)

    def client_left(self, slot: int) -> None:
        try:
            self.client_lag.remove(str(slot))
        except KeyError:
            pass

    def render(self) -> bytes:
        return generate_latest(self.registry)

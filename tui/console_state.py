"""What the console shows, folded from a session's events: pure Python, so it is tested without
a screen.

The app feeds every event to `ConsoleState.handle` as it arrives and redraws from the state when
it has changed (at most a few times a second); nothing here waits or draws. The screen shows
text pieces as they are decoded (the lowest latency); what is saved and copied is built from
the finished words, by the same `TranscriptText` as the .txt export, so the two are equal.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from captty.engine import (ConnectionChanged, EngineFailed, EosTooEarly, Event, ItemState,
                           ItemStateChanged, LiveWer, ServerStepped, SessionEnded, SessionStarted,
                           StepTimed, TextDecoded, TranscriptText, TurnEnded, TurnEndScored,
                           WordFinished)

BUDGET_MS = 80.0  # one frame of audio: a step must take less to keep up with real time


def percentile(values, q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Transcript:
    """The text of one batch item: whole, plus what was added since the last redraw."""

    parts: list[str] = field(default_factory=list)
    unseen: list[str] = field(default_factory=list)
    break_pending: bool = False

    def add(self, text: str) -> None:
        if self.break_pending and text[:1].isspace():  # a new word starts a new line
            self.break_pending = False
            self.parts.append("\n")
            self.unseen.append("\n")
        if not self.parts:
            text = text.lstrip()
        if text:
            self.parts.append(text)
            self.unseen.append(text)

    def add_break(self) -> None:
        """A turn ended: the next word starts a new line (a piece of the word being decoded
        still goes on this one)."""
        if self.parts and self.parts[-1] != "\n":
            self.break_pending = True

    def take_unseen(self) -> str:
        text, self.unseen = "".join(self.unseen), []
        return text

    @property
    def text(self) -> str:
        return "".join(self.parts).replace("\n ", "\n").strip()


@dataclass
class ConsoleState:
    window: int = 120  # steps kept for the sparkline and the percentiles
    started: SessionStarted | None = None
    ended: SessionEnded | None = None
    failure: EngineFailed | None = None
    transcripts: dict[int, Transcript] = field(default_factory=dict)
    states: dict[int, ItemState] = field(default_factory=dict)
    early_eos: dict[int, int] = field(default_factory=dict)
    steps: int = 0
    audio_time: float = 0.0  # seconds of model input processed, padding included
    busy_ms: float = 0.0  # total step time
    last_ms: float = 0.0
    max_ms: float = 0.0
    turn_end: float | None = None  # item 0's latest end-of-turn probability
    recent_ms: deque = field(default_factory=deque)
    pending_latency: list[float] = field(default_factory=list)  # decode times, not yet shown
    screen_latency_ms: deque = field(default_factory=lambda: deque(maxlen=2000))
    wer: LiveWer | None = None  # with --reference (fed by the session's sinks; shown here)
    turns: int = 0
    version: int = 0  # counts the events handled: the screen is redrawn when it moves
    words: list[str] = field(default_factory=list)  # item 0's saved text, piece by piece
    remote: bool = False  # a server transcribes: the figures are the protocol's (`ServerStepped`)
    buffered_seconds: float = 0.0  # audio the server holds, not stepped yet
    connected: bool | None = None  # the connection to the server
    connection_note: str = ""  # why it dropped
    reconnects: int = 0
    outage_dropped: float = 0.0  # seconds of input dropped while disconnected
    _composer: TranscriptText = field(default_factory=TranscriptText)
    _undated: int = 0  # item 0's text pieces whose step has not reported its end yet

    def __post_init__(self) -> None:
        self.recent_ms = deque(maxlen=self.window)

    @property
    def saved_text(self) -> str:
        """Item 0's finished words, one line a turn: what `-o FILE.txt` holds at this point."""
        return "".join(self.words) + ("\n" if self.words else "")

    def handle(self, event: Event, now: float | None = None) -> None:
        self.version += 1
        if isinstance(event, WordFinished):
            if event.item == 0:
                self.words.append(self._composer.word(event.text, event.start))
        elif isinstance(event, TurnEnded):
            if event.item == 0:
                self.turns += 1
                self._composer.turn(event.time)
                self.transcript(0).add_break()
        elif isinstance(event, TextDecoded):
            self.transcript(event.item).add(event.text)
            if event.item == 0:
                self._undated += 1
        elif isinstance(event, StepTimed):
            if self._undated:  # the step that decoded them ended at `clock`, on the model thread
                clock = getattr(event, "clock", 0.0) or (time.perf_counter() if now is None
                                                         else now)
                self.pending_latency.extend([clock] * self._undated)
                self._undated = 0
            self.steps += 1
            self.audio_time = event.audio_time
            self.busy_ms += event.total_ms
            self.last_ms = event.total_ms
            self.max_ms = max(self.max_ms, event.total_ms)
            self.recent_ms.append(event.total_ms)
        elif isinstance(event, ServerStepped):
            self.remote = True
            self.steps += 1
            self.audio_time = event.audio_time
            self.buffered_seconds = event.buffered_pcm / (self.started.sample_rate
                                                          if self.started else 24000)
            if event.send_to_step_ms is not None:
                self.last_ms = event.send_to_step_ms
                self.max_ms = max(self.max_ms, event.send_to_step_ms)
                self.recent_ms.append(event.send_to_step_ms)
        elif isinstance(event, ConnectionChanged):
            self.remote = True
            self.connected = event.connected
            self.connection_note = event.reason
            self.reconnects = event.reconnects
            self.outage_dropped = event.dropped_seconds
        elif isinstance(event, TurnEndScored):
            if event.item == 0:
                self.turn_end = event.probability
        elif isinstance(event, ItemStateChanged):
            self.states[event.item] = event.state
        elif isinstance(event, EosTooEarly):
            self.early_eos[event.item] = self.early_eos.get(event.item, 0) + 1
        elif isinstance(event, SessionStarted):
            self.started = event
            self.states = {b: ItemState.STREAMING for b in range(event.batch_size)}
        elif isinstance(event, SessionEnded):
            self.ended = event
        elif isinstance(event, EngineFailed):
            self.failure = event

    def transcript(self, item: int = 0) -> Transcript:
        if item not in self.transcripts:
            self.transcripts[item] = Transcript()
        return self.transcripts[item]

    def shown(self, now: float | None = None) -> None:
        """The pending text is on screen now: record how long it took from its decode."""
        now = time.perf_counter() if now is None else now
        self.screen_latency_ms.extend(1000.0 * (now - t) for t in self.pending_latency)
        self.pending_latency.clear()

    @property
    def p50_ms(self) -> float:
        return percentile(self.recent_ms, 0.5)

    @property
    def p95_ms(self) -> float:
        return percentile(self.recent_ms, 0.95)

    @property
    def real_time_factor(self) -> float:
        """Step time over audio time: below 1 keeps up."""
        return self.busy_ms / (1000.0 * self.audio_time) if self.audio_time else 0.0

    @property
    def screen_latency_p95_ms(self) -> float:
        return percentile(self.screen_latency_ms, 0.95)

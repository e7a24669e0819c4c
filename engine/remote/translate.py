"""A server's protocol messages as the engine's events, so the console, the transcript files and
the WER read a remote stream as they read a local one (item 0).

`Word` gives `TextDecoded` (for the screen) and `WordStarted`; `EndWord` the `WordFinished` of
the oldest word not ended yet; `Step` (models with extra heads) `TurnEndScored`, and `TurnEnded`
when its probability at Kyutai's head 2 goes above the threshold after a word (as Kyutai's
clients do; the engine arms on text pieces, which the protocol does not carry), and a
`ServerStepped` with the delay from sending the step's audio to its `Step`.

Times: the server's are seconds of the stream it received, the model's delay taken out. A
stream starts with `prefix` seconds of silence the client sent, and at `origin` seconds of the
input (0 for the first connection; after a reconnect, where the new stream's audio begins).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..events import Event, TextDecoded, TurnEndScored
from ..step_loop import TURN_HEAD
from ..turns import TurnEnded
from ..words import WordFinished, WordStarted, WordTiming

LAST_WORD_SECONDS = WordTiming.last_word_seconds  # a word without an end lasts at most this


@dataclass(frozen=True)
class ServerStepped:
    """The server stepped the model on this stream's audio (one `Step` message)."""

    step: int  # this stream's step
    audio_time: float  # seconds of the stream's audio through the model
    send_to_step_ms: float | None  # from sending the step's last sample to its Step arriving
    buffered_pcm: int  # samples the server holds for this stream, not yet stepped


@dataclass(frozen=True)
class ConnectionChanged:
    """The connection to the server came up or went down."""

    connected: bool
    url: str
    reason: str = ""
    reconnects: int = 0  # connections made after the first
    dropped_seconds: float = 0.0  # input audio dropped while disconnected, in all


class MessageTranslator:
    """One connection's messages as events; `step` numbers run on across connections."""

    def __init__(self, origin: float, prefix: float, delay: float, frame_rate: float = 12.5,
                 threshold: float = 0.5, first_step: int = 0):
        self.origin = origin
        self.prefix = prefix
        self.delay = delay
        self.frame_rate = frame_rate
        self.threshold = threshold
        self.first_step = first_step
        self.steps = 0  # Step messages received: the stream's steps done
        self.open: deque[WordStarted] = deque()  # words without their EndWord yet
        self._armed = False

    @property
    def step(self) -> int:
        return self.first_step + self.steps

    def time(self, server_time: float) -> float:
        """A server time as seconds of the input."""
        return self.origin + max(0.0, server_time - self.prefix)

    def step_time(self, steps: float) -> float:
        """A position of the stream, in steps, as seconds of the input (the engine's rule)."""
        return self.origin + max(0.0, steps / self.frame_rate - (self.prefix + self.delay))

    def handle(self, message: dict, sent_at=None, now: float = 0.0) -> list[Event]:
        """`sent_at(samples)`: when the stream's first `samples` had all been sent."""
        kind = message.get("type")
        if kind == "Word":
            text = str(message.get("text", ""))
            started = WordStarted(0, self.step, text, self.time(float(message["start_time"])))
            self.open.append(started)
            self._armed = True
            return [TextDecoded(0, self.step, self.steps / self.frame_rate, -1, " " + text),
                    started]
        if kind == "EndWord" and self.open:
            word = self.open.popleft()
            end = max(self.time(float(message["stop_time"])), word.start)
            return [WordFinished(0, self.step, word.text, word.start, end)]
        if kind == "Step":
            return self._stepped(message, sent_at, now)
        return []

    def _stepped(self, message: dict, sent_at, now: float) -> list[Event]:
        n, step = self.steps, self.step
        self.steps += 1
        prs = tuple(float(p) for p in message.get("prs") or ())
        frame = 1.0 / self.frame_rate
        delay_ms = None
        if sent_at is not None:
            at = sent_at(self.steps)
            delay_ms = None if at is None else 1000.0 * (now - at)
        events: list = [ServerStepped(step, self.steps * frame, delay_ms,
                                             int(message.get("buffered_pcm", 0)))]
        if len(prs) > TURN_HEAD:
            probability = prs[TURN_HEAD]
            events.append(TurnEndScored(0, step, step * frame, probability, prs))
            if self._armed and probability > self.threshold:
                self._armed = False
                events.append(TurnEnded(0, step, self.step_time(n), probability))
        return events

    def close(self) -> list[Event]:
        """The stream is over (or lost): its words without an end end as the engine ends them,
        at most a second after they start, at the latest at the stream's last step."""
        events: list[Event] = []
        last = self.step_time(self.steps) if self.steps else None
        while self.open:
            word = self.open.popleft()
            end = word.start + LAST_WORD_SECONDS
            if last is not None:
                end = max(min(end, last), word.start)
            events.append(WordFinished(0, self.step, word.text, word.start, end))
        return events

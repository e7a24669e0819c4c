"""The live console: a Textual app that shows a feed of session events as it happens.

Events arrive on the app's own event loop (the engine hands each step's events over with one
thread-safe call); the app folds them into a `ConsoleState` and redraws from it when it has
changed, at most `refresh_hz` times a second, so a burst of tokens costs one redraw, a paused or
finished console costs nothing, and nothing here ever waits on the model.
"""
from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer, Static

from captty.engine import LiveWer
from captty.tui.console_state import ConsoleState
from captty.tui.feeds import Feed
from captty.tui.outputs import Outputs
from captty.tui.widgets.end_of_stream import EndOfStreamPanel
from captty.tui.widgets.latency import LatencyPanel
from captty.tui.widgets.status import StatusPanel
from captty.tui.widgets.status_line import StatusLine
from captty.tui.widgets.transcript import TranscriptView

HELP = """\
[b]captty[/b]: speech becoming text, live.

  [b]space[/b]   pause / resume (file replay)
  [b]s[/b]       save the transcript to a file
  [b]c[/b]       copy the transcript (OSC 52: works over SSH)
  [b]q[/b]       quit (the transcript is saved first)
  [b]?[/b]       this help

[dim]step latency: time per 80 ms frame; over 80 ms the model falls behind.
rtf: step time over audio time (below 1 keeps up). backlog: audio
received but not yet processed.[/dim]

Press any key to close."""
QUIT_GRACE = 3.0  # seconds q waits for the model to finish what is in flight
FIGURES_SECONDS = 0.25  # the numbers change every step; a few updates a second read best


def transcripts_folder() -> Path:
    """Where the console saves transcripts by default: the user's data folder, not the
    working folder (`$XDG_DATA_HOME/captty/transcripts`, else ~/.local/share/...)."""
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "captty" / "transcripts"


def default_save_path() -> Path:
    return transcripts_folder() / time.strftime("captty-%Y%m%d-%H%M%S.txt")


@dataclass(frozen=True)
class ConsoleView:
    """How a console is shown; the same for the CLI, the tests and the benchmarks."""

    title: str
    save_path: Path | None = None  # where s and q save; None: `default_save_path()`
    exit_when_done: bool = False  # quit by itself at the end of the stream
    refresh_hz: float | None = None  # redraws a second at most (None: 20, 5 for a fast replay)


class HelpScreen(ModalScreen):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: auto; max-width: 72; border: round $accent; padding: 1 2;
                          background: $panel; }
    """

    def compose(self) -> ComposeResult:
        yield Static(HELP)

    def on_key(self, event) -> None:
        event.stop()  # the key closes the help, and does nothing else
        event.prevent_default()
        self.dismiss()


@dataclass
class ConsoleResult:
    transcript: str
    saved_to: Path | None
    failure: str | None
    finished: bool  # the stream reached its end (not quit early)
    save_error: str | None = None
    signal: int = 0  # the signal that stopped it (SIGHUP, SIGTERM), if one did


class CapttyApp(App[ConsoleResult]):
    # below 80 columns (a tmux split, a phone's SSH client) the transcript takes the width
    # and the figures fold into one status line
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-wide")]
    CSS = """
    #top { height: 1; background: $primary; color: $text; padding: 0 1; }
    #body { height: 1fr; }
    #transcript-box { width: 1fr; border: round $accent; }
    #side { width: 36; }
    StatusLine { display: none; }
    Screen.-narrow #side { display: none; }
    Screen.-narrow StatusLine { display: block; }
    """
    BINDINGS = [
        Binding("space", "toggle_pause", "Pause"),
        Binding("s", "save", "Save"),
        Binding("c", "copy", "Copy"),
        Binding("q", "quit_saving", "Quit"),
        Binding("ctrl+c", "quit_saving", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(self, feed: Feed, view: ConsoleView, wer: LiveWer | None = None):
        super().__init__()
        self.feed = feed
        self.heading = view.title
        self.save_path = view.save_path
        self.exit_when_done = view.exit_when_done
        # 20 redraws a second keep captions within ~50 ms of their decode; a replay as fast as
        # the model goes is for throughput (5 a second), and redraws take the GIL from the steps
        self.refresh_hz = view.refresh_hz or (5.0 if feed.fast else 20.0)
        self.state = ConsoleState(wer=wer)
        self.saved_to: Path | None = None
        self.redraws = 0
        self._drawn_version = self._figures_version = -1
        self._figures_at = 0.0
        self._last_redraw = 0.0
        self._redraw_timer: Timer | None = None
        self._redraw_at = 0.0
        self._shown_heading: Text | None = None
        self._quitting = False
        self._finished = False
        self.save_error: str | None = None
        self.signal = 0
        self.outputs: Outputs | None = None  # the run's files: said at the end if not written

    def compose(self) -> ComposeResult:
        yield Static(self.heading, id="top", markup=False)
        with Horizontal(id="body"):
            with Vertical(id="transcript-box"):
                yield TranscriptView(id="transcript")
            with Vertical(id="side"):
                yield LatencyPanel(id="latency")
                yield StatusPanel(id="status")
                yield EndOfStreamPanel(id="eos")
        yield StatusLine(id="statusline")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#transcript-box").border_title = "transcript"
        # held, not queried at each redraw: queries look at the active screen (help, maybe)
        self.views = (self.query_one(TranscriptView), self.query_one(LatencyPanel),
                      self.query_one(StatusPanel), self.query_one(EndOfStreamPanel),
                      self.query_one("#top", Static), self.query_one(StatusLine))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):  # a closed terminal, a dropped SSH link
            try:
                loop.add_signal_handler(sig, self._stopped_by, sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        self.run_worker(self._consume(), name="engine events", exit_on_error=False)
        self.redraw(everything=True)

    async def _consume(self) -> None:
        try:
            async for event in self.feed.events():
                self.state.handle(event)
                self._schedule_redraw()
        except Exception as e:  # the feed failed: say so on screen, keep the transcript
            from captty.engine import EngineFailed

            self.state.handle(EngineFailed(f"{type(e).__name__}: {e}"))
        self.redraw(everything=True)
        if self.state.failure is not None:
            self.notify(self.state.failure.message, title="engine stopped", severity="error",
                        timeout=30)
        if self._quitting:  # the input was ended by q: what was in flight is in, now go
            self._finish(False)
        elif self.exit_when_done:
            self.call_after_refresh(self._finish, True)

    # --- drawing ------------------------------------------------------------------------------

    def _schedule_redraw(self, at: float | None = None) -> None:
        """The state changed: redraw once the refresh interval since the last one has passed
        (or at `at`, on the monotonic clock), unless a redraw is due sooner already."""
        if at is None:
            at = self._last_redraw + 1 / self.refresh_hz
        if self._redraw_timer is not None:
            if self._redraw_at <= at:
                return
            self._redraw_timer.stop()
        self._redraw_at = at
        # (Textual divides by the delay: never 0)
        self._redraw_timer = self.set_timer(max(at - time.monotonic(), 0.001), self._due_redraw)

    def _due_redraw(self) -> None:
        self._redraw_timer = None
        try:
            self.redraw()
        except NoMatches:  # a timer that fired while the app closes: its widgets are gone
            if self.is_running and not self._exit:
                raise

    def redraw(self, everything: bool = False) -> None:
        """Draw what changed since the last redraw; nothing at all when nothing did."""
        state = self.state
        stale_text = state.version != self._drawn_version
        stale_figures = state.version != self._figures_version
        if not (everything or stale_text or stale_figures):
            return
        transcript, latency, status, eos, top, line = self.views
        now = time.monotonic()
        self.redraws += 1
        self._last_redraw = now
        self._drawn_version = state.version
        figures = everything or (stale_figures and (now - self._figures_at >= FIGURES_SECONDS
                                                    or state.ended is not None))
        if figures:
            self._figures_at = now
            self._figures_version = state.version
        elif stale_figures:  # the numbers follow a little later
            self._schedule_redraw(self._figures_at + FIGURES_SECONDS)
        with self.batch_update():
            added = state.transcript(0).take_unseen()
            if added:
                transcript.append(added)
                self.call_after_refresh(state.shown, None)
            if figures:
                latency.show(state, getattr(self.feed, "rtt_ms", None))
                status.show(state, self.feed.backlog_seconds, self.feed.dropped,
                            self.feed.overflows, self.feed.level, self.feed.lost)
                eos.show(state)
                line.show(state, self.feed.backlog_seconds)
            heading = self._heading()
            if heading != self._shown_heading:
                self._shown_heading = heading
                top.update(heading)

    def _heading(self) -> Text:  # Text compares equal by content and style
        text = Text()  # the state first: a long heading is cut at the right on narrow screens
        if self.state.failure is not None:
            text.append("[failed] ", style="bold red")
        elif self.state.ended is not None:
            text.append("[finished] ", style="bold green")
        elif self._quitting:
            text.append("[finishing] ", style="bold yellow")
        elif self.feed.paused:
            text.append("[paused] ", style="bold yellow")
        text.append(self.heading)
        return text

    # --- keys ---------------------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        if not self.feed.can_pause:
            self.notify("only a replay can pause", severity="warning")
        elif self.feed.paused:
            self.feed.resume()
        else:
            self.feed.pause()
        self.redraw(everything=True)

    @property
    def transcript(self) -> str:
        """What s saves and c copies: the finished words, one line a turn (as `-o FILE.txt`)."""
        return self.state.saved_text

    def save(self) -> Path | None:
        if not self.transcript:
            return None
        path = self.save_path or default_save_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.transcript, encoding="utf-8")
        self.saved_to = self.save_path = path  # later saves update the same file
        return path

    def action_save(self) -> None:
        try:
            path = self.save()
        except OSError as e:
            self.notify(f"cannot save: {e}", severity="error")
            return
        self.notify(f"saved to {path}" if path else "nothing to save yet")

    def action_copy(self) -> None:
        self.copy_to_clipboard(self.transcript)
        self.notify(f"copied {len(self.transcript)} characters")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_quit_saving(self) -> None:
        """End the input and quit once what is in flight is transcribed (the model's delay);
        pressed again, or after `QUIT_GRACE` seconds, quit at once."""
        if self.state.ended is not None or self.state.failure is not None or self._quitting:
            self._finish(self.state.ended is not None)
            return
        self._quitting = True
        self.feed.stop()
        self.set_timer(QUIT_GRACE, lambda: self._finish(False))
        self.redraw(everything=True)

    def _stopped_by(self, signum: int) -> None:
        """SIGHUP or SIGTERM: save and quit at once; the exit code will say which."""
        self.signal = self.signal or signum
        self._finish(False)

    def _finish(self, finished: bool) -> None:
        if self._finished:
            return  # already on the way out
        self._finished = True
        try:
            self.save()
        except OSError as e:
            self.save_error = f"cannot save the transcript to {self.save_path}: {e.strerror or e}"
        self.feed.abort()
        failure = self.state.failure.message if self.state.failure else None
        self.exit(ConsoleResult(self.transcript, self.saved_to, failure, finished,
                                self.save_error, self.signal))

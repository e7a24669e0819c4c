"""Real-time status: audio processed, real-time factor, backlog, input health, level, end of turn."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from captty.tui.console_state import ConsoleState


def meter(level: float, width: int = 10) -> str:
    """An input level meter on a dB scale (-60 dBFS empty, 0 dBFS full)."""
    import math

    db = 20 * math.log10(max(level, 1e-6))
    filled = round(max(0.0, min(1.0, (db + 60) / 60)) * width)
    return "█" * filled + "░" * (width - filled)


class StatusPanel(Static):
    DEFAULT_CSS = """
    StatusPanel { height: auto; border: round $primary; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.border_title = "real time"

    def show(self, state: ConsoleState, backlog: float, dropped: float | None,
             overflows: int | None, level: float | None, lost: str | None = None) -> None:
        text = Text()
        text.append(f"audio    {state.audio_time:7.1f} s\n")
        if state.remote:
            self._remote(text, state)
        rtf = state.real_time_factor
        if not state.remote:
            text.append("rtf      ")
            text.append(f"{rtf:7.3f}", style="red" if rtf > 1 else "green")
            text.append(f"  ({1 / rtf:.0f}x)\n" if rtf else "\n")
        text.append("backlog  ")
        text.append(f"{backlog:7.2f} s", style="red" if backlog > 1.0 else "")
        if dropped is not None:
            text.append("\ndropped  ")
            text.append(f"{dropped:7.1f} s", style="red" if dropped else "")
            if overflows is not None:
                text.append(f"   overflow {overflows}")
        if lost:
            text.append(f"\ninput lost: {lost}", style="bold red")
        if level is not None:
            text.append(f"\nlevel    {meter(level)}")
        if state.turn_end is not None:
            text.append(f"\nend of turn {state.turn_end:4.2f}   turns {state.turns}")
        if state.wer is not None:
            score = state.wer.score
            text.append(f"\nWER {100 * score.wer:5.1f}% of {score.reference_words} words")
        self.update(text)

    @staticmethod
    def _remote(text: Text, state: ConsoleState) -> None:
        """The connection to the server: up or down, reconnections, audio lost meanwhile."""
        text.append("server   ")
        if state.connected is False:
            text.append("reconnecting", style="bold red")
            if state.connection_note:
                text.append(f" ({state.connection_note[:40]})", style="dim")
        else:
            text.append("connected", style="green")
        if state.reconnects or state.outage_dropped:
            text.append(f"\nretried  {state.reconnects:7d}   lost {state.outage_dropped:.1f} s",
                        style="yellow")
        text.append("\n")

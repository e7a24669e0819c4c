"""Real-time status: audio processed, real-time factor, backlog, input health, level, end of turn."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from captty.tui.console_state import ConsoleState


def meter(level: float, width: int = 10) -> str:
    """An input level meter on a dB scale (-60 dBFS empty, 0 dBFS full)."""
    import math

    db = 20 * math.log10(max(level, 1e-6))
    filled = int(round(max(0.0, min(1.0, (db + 60) / 60)) * width))
    return "█" * filled + "░" * (width - filled)


class StatusPanel(Static):
    DEFAULT_CSS = """
    StatusPanel { height: auto; border: round $primary; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.border_title = "real time"

    def show(self, state: ConsoleState, backlog: float, dropped: int | None,
             overflows: int | None, level: float | None) -> None:
        text = Text()
        text.append(f"audio    {state.audio_time:7.1f} s\n")
        rtf = state.real_time_factor
        text.append("rtf      ")
        text.append(f"{rtf:7.3f}", style="red" if rtf > 1 else "green")
        text.append(f"  ({1 / rtf:.0f}x)\n" if rtf else "\n")
        text.append("backlog  ")
        text.append(f"{backlog:7.2f} s", style="red" if backlog > 1.0 else "")
        if dropped is not None:
            text.append(f"\ndropped  {dropped:7d}   overflow {overflows or 0}")
        if level is not None:
            text.append(f"\nlevel    {meter(level)}")
        if state.turn_end is not None:
            text.append(f"\nend of turn {state.turn_end:4.2f}   turns {state.turns}")
        if state.wer is not None:
            score = state.wer.score
            text.append(f"\nWER {100 * score.wer:5.1f}% of {score.reference_words} words")
        self.update(text)

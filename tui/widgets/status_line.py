"""The figures folded into one line, for terminals too narrow for the side panels."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from captty.tui.console_state import BUDGET_MS, ConsoleState


class StatusLine(Static):
    DEFAULT_CSS = "StatusLine { height: 1; padding: 0 1; background: $panel; }"

    def show(self, state: ConsoleState, backlog: float) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"p95 {state.p95_ms:.0f} ms", style="red" if state.p95_ms > BUDGET_MS else "")
        rtf = state.real_time_factor
        text.append(f" · rtf {rtf:.2f}", style="red" if rtf > 1 else "")
        text.append(f" · backlog {backlog:.1f} s", style="red" if backlog > 1.0 else "")
        if state.turn_end is not None:
            text.append(f" · turn {state.turn_end:.2f}")
        if state.wer is not None:
            text.append(f" · WER {100 * state.wer.score.wer:.0f}%")
        if state.states:
            text.append(f" · {state.states[min(state.states)].value}")
        self.update(text)

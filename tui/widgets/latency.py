"""Step latency: a sparkline of recent steps against the 80 ms budget, and last/p50/p95/max.

On a remote server (`--server`), the protocol carries no step time: the panel shows what it
carries, the delay from sending a frame to its `Step` (the sparkline), the websocket round trip
and the audio the server holds."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from captty.tui.console_state import BUDGET_MS, ConsoleState

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values, width: int, budget: float = BUDGET_MS) -> Text:
    """Bars scaled so the budget sits at three quarters of the height; over budget is red."""
    values = list(values)[-width:]
    top = max([budget / 0.75, *values]) if values else budget / 0.75
    text = Text()
    for v in values:
        level = min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5))
        text.append(BARS[level], style="red" if v > budget else "green")
    return text


class LatencyPanel(Static):
    DEFAULT_CSS = """
    LatencyPanel { height: auto; border: round $primary; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.border_title = "step latency"

    def show(self, state: ConsoleState, rtt_ms: float | None = None) -> None:
        if state.remote:
            self.show_remote(state, rtt_ms)
            return
        width = max(self.content_region.width, 10)
        text = Text()
        text.append_text(sparkline(state.recent_ms, width))
        text.append("\n")
        text.append(f"last {state.last_ms:5.1f}  p50 {state.p50_ms:5.1f} ms\n")
        text.append(f"p95  {state.p95_ms:5.1f}  max {state.max_ms:5.1f} ms\n")
        over = sum(1 for v in state.recent_ms if v > BUDGET_MS)
        text.append(f"budget {BUDGET_MS:.0f} ms: ", style="dim")
        text.append(f"{over} over" if over else "all under", style="red" if over else "green")
        self.update(text)

    def show_remote(self, state: ConsoleState, rtt_ms: float | None) -> None:
        self.border_title = "server latency"
        width = max(self.content_region.width, 10)
        text = Text()
        text.append_text(sparkline(state.recent_ms, width))
        text.append("\n")
        text.append(f"send→step {state.last_ms:5.0f}  p95 {state.p95_ms:5.0f} ms\n")
        text.append("round trip " + (f"{rtt_ms:5.1f} ms" if rtt_ms is not None else "    -") + "\n")
        text.append(f"buffered  {state.buffered_seconds:6.2f} s on the server",
                    style="red" if state.buffered_seconds > 1.0 else "")
        self.update(text)

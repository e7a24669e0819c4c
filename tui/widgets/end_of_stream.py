"""Per batch item: input flowing, end of input sent, EOS reached, or EOS sampled too early."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from captty.engine import ItemState
from captty.tui.console_state import ConsoleState

STYLES = {ItemState.STREAMING: "cyan", ItemState.INPUT_ENDED: "yellow",
          ItemState.EOS_REACHED: "green", ItemState.EOS_MISSING: "red"}


class EndOfStreamPanel(Static):
    DEFAULT_CSS = """
    EndOfStreamPanel { height: auto; max-height: 10; border: round $primary; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.border_title = "end of stream"

    def show(self, state: ConsoleState) -> None:
        text = Text()
        if not state.states:
            text.append("waiting for the model", style="dim")
        shown = sorted(state.states.items())[:8]
        for i, (item, item_state) in enumerate(shown):
            if i:
                text.append("\n")
            text.append(f"item {item}: ")
            text.append(item_state.value, style=STYLES[item_state])
            if state.early_eos.get(item):
                text.append(f"  early EOS x{state.early_eos[item]}", style="red")
        if len(state.states) > len(shown):
            text.append(f"\n... {len(state.states) - len(shown)} more items", style="dim")
        self.update(text)

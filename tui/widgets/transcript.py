"""The scrolling transcript: finished lines in a bounded log, the line being decoded below it."""
from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import RichLog


def split_line(text: str, width: int) -> tuple[str, str, str]:
    """(a finished line of at most `width` characters, the rest, what joined them: " " when cut
    at a space, "" inside a word too long for a line); ("", text, "") if it still fits."""
    if len(text) <= width:
        return "", text, ""
    cut = text.rfind(" ", 0, width + 1)
    if cut <= 0:
        return text[:width], text[width:], ""
    return text[:cut].rstrip(), text[cut:].lstrip(), " "


class LiveLine(Widget):
    """The line being decoded: one row (lines are cut at the panel's width), so an update
    repaints the row without a new layout."""

    DEFAULT_CSS = "LiveLine { height: 1; text-style: bold; }"
    text = reactive("", layout=False)

    def render(self) -> Text:
        return Text(self.text, no_wrap=True, overflow="ellipsis")


TURN_MARK = " ⏎"


class TranscriptView(Vertical):
    """Text appears piece by piece on the live line; full lines move up into the history, which
    keeps its last `max_lines` and follows the end unless the user has scrolled back. A newline
    in the text is a turn end: the line ends there, marked."""

    DEFAULT_CSS = """
    TranscriptView { height: 1fr; }
    TranscriptView > RichLog { height: auto; max-height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(self, max_lines: int = 5000, **kwargs):
        super().__init__(**kwargs)
        self.max_lines = max_lines
        # (line, what followed it: "\n" a turn end, " " a space, "" the rest of a long word)
        self.lines: deque[tuple[str, str]] = deque(maxlen=max_lines)
        self.live = ""

    def compose(self) -> ComposeResult:
        yield RichLog(id="history", wrap=True, max_lines=self.max_lines, min_width=10,
                      auto_scroll=False)
        yield LiveLine(id="live")

    @property
    def history(self) -> RichLog:
        return self.query_one("#history", RichLog)

    def _width(self) -> int:
        return max(self.history.scrollable_content_region.width - 1, 10)

    def append(self, text: str) -> None:
        if not text:
            return
        width = self._width()
        for i, chunk in enumerate(text.split("\n")):
            if i and self.live:
                self._write(self.live, "\n")
                self.live = ""
            self.live += chunk if self.live else chunk.lstrip()
            finished, self.live, joiner = split_line(self.live, width)
            while finished:
                self._write(finished, joiner)
                finished, self.live, joiner = split_line(self.live, width)
        self.query_one(LiveLine).text = self.live

    def _write(self, line: str, then: str) -> None:
        history = self.history
        following = history.scroll_y >= history.max_scroll_y - 1
        self.lines.append((line, then))
        shown = Text(line)
        if then == "\n":
            shown.append(TURN_MARK, style="dim")
        history.write(shown, scroll_end=following)

    def on_resize(self) -> None:
        """Lines were cut for the old width: cut them again for the new one, losing nothing (the
        line being decoded too: it may no longer fit)."""
        text = self.text
        if not text:
            return
        self.lines.clear()
        self.history.clear()
        self.live = ""
        self.append(text)

    @property
    def text(self) -> str:
        """What the panel holds: lines of a turn joined by spaces, turns by newlines."""
        return ("".join(line + then for line, then in self.lines) + self.live).rstrip(" ")

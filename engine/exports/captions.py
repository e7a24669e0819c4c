"""SubRip (.srt) and WebVTT (.vtt) captions, composed with the `srt` and `webvtt-py` libraries.

The file is replaced (write and rename) each time a word finishes, with the closed cues and the
cue being filled: a killed run leaves valid captions that lack at most the word in progress.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from .cues import Cue, CueBuilder, CueRules
from .files import replace_text
from .writer import TranscriptWriter


class CaptionWriter(TranscriptWriter):
    header = ""

    def __init__(self, path: str | Path, item: int = 0, rules: CueRules | None = None):
        super().__init__(path, item)
        self.cues = CueBuilder(rules or CueRules())
        self._closed_text = ""  # the closed cues, composed once
        self._count = 0
        self._write()

    def compose(self, index: int, cue: Cue) -> str:
        raise NotImplementedError

    def _write(self) -> None:
        pending = self.cues.pending
        tail = self.compose(self._count + 1, pending) if pending else ""
        replace_text(self.path, self.header + self._closed_text + tail)

    def _keep(self, cues: list[Cue]) -> None:
        for cue in cues:
            self._count += 1
            self._closed_text += self.compose(self._count, cue)

    def word(self, word) -> None:
        self._keep(self.cues.add(word.word))
        self._write()

    def turn(self, turn) -> None:
        self.cues.turn_ended(turn.time)

    def finish(self) -> None:
        self._keep(self.cues.finish())
        self._write()


class SrtWriter(CaptionWriter):
    def compose(self, index: int, cue: Cue) -> str:
        import srt

        return srt.Subtitle(index, timedelta(seconds=cue.start), timedelta(seconds=cue.end),
                            cue.text).to_srt()


def vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


class VttWriter(CaptionWriter):
    header = "WEBVTT\n\n"

    def compose(self, index: int, cue: Cue) -> str:
        from webvtt import Caption, WebVTT

        content = WebVTT(captions=[Caption(vtt_time(cue.start), vtt_time(cue.end),
                                           list(cue.lines))]).content
        return content.removeprefix("WEBVTT").lstrip("\n").rstrip("\n") + "\n\n"

"""SubRip (.srt) and WebVTT (.vtt) captions, composed with the `srt` and `webvtt-py` libraries.

The file only grows: each cue is appended (and flushed) once it closes, the header when the file
is opened, the cue being filled at `finish`. Writing a word costs the same at any length of the
transcript. A killed run (even with SIGKILL) leaves valid captions that lack at most the cue in
progress: up to `CueRules.max_lines` lines and `max_duration` seconds of words.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from .cues import Cue, CueBuilder, CueRules
from .files import AppendFile
from .writer import TranscriptWriter


class CaptionWriter(TranscriptWriter):
    header = ""

    def __init__(self, path: str | Path, item: int = 0, rules: CueRules | None = None):
        super().__init__(path, item)
        self.cues = CueBuilder(rules or CueRules())
        self._count = 0
        self._file = AppendFile(self.path)
        if self.header:
            self._file.write(self.header)

    def compose(self, index: int, cue: Cue) -> str:
        raise NotImplementedError

    def _append(self, cues: list[Cue]) -> None:
        for cue in cues:
            self._count += 1
            self._file.write(self.compose(self._count, cue))

    def word(self, word) -> None:
        self._append(self.cues.add(word.word))

    def turn(self, turn) -> None:
        self.cues.turn_ended(turn.time)

    def finish(self) -> None:
        self._append(self.cues.finish())
        self._file.close()


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

"""Where a command's audio comes from: a file, a named pipe, or standard input (`-`).

With `-`, the audio is read from the descriptor standard input had, and descriptor 0 is then
reopened on the terminal (`/dev/tty`) when there is one, so the console still reads its keys
from the keyboard: `arecord ... | ssh gpu-box captty replay -` shows the console over SSH.
"""
from __future__ import annotations

import os
from typing import BinaryIO

from captty.engine import CapttyError, FileSource, RawFormat

STDIN = "-"


def stdin_audio() -> BinaryIO:
    """Standard input's stream for the audio, with descriptor 0 moved to the terminal."""
    if os.isatty(0):
        raise CapttyError("standard input is a terminal, not audio: pipe a file or a stream into "
                          "it (e.g. `ffmpeg -i ... -f wav - | captty run -`)")
    audio = os.fdopen(os.dup(0), "rb")
    try:
        tty = os.open("/dev/tty", os.O_RDONLY)
    except OSError:  # no terminal at all (a pipeline, a service): the printer is used
        return audio
    os.dup2(tty, 0)  # sys.stdin, and Textual's driver, read descriptor 0: now the keyboard
    os.close(tty)
    return audio


def open_input(path: str, *, speed: float | None = None, raw: str | None = None,
               max_lag: float | None = None) -> FileSource:
    """The input, opened once (a pipe or standard input cannot be opened twice)."""
    raw_format = RawFormat.parse(raw) if raw else None
    if path == STDIN:
        return FileSource(stdin_audio(), speed=speed, raw=raw_format, name="standard input",
                          max_lag=max_lag)
    return FileSource(path, speed=speed, raw=raw_format, max_lag=max_lag)

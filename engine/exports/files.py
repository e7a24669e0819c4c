"""Files that stay readable whatever happens to the process writing them.

`replace_text` writes a whole new version beside the file and renames it over the old one: a
reader (or a process killed with SIGKILL) always finds one complete version. `AppendFile`
appends lines and flushes each one, for formats that need no closing (a killed process loses
at most the line it was writing).
"""
from __future__ import annotations

import os
from pathlib import Path


def replace_text(path: Path, text: str) -> None:
    """Atomically replace `path` with `text` (write a hidden sibling, then rename it over)."""
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(partial, path)


class AppendFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = open(self.path, "w", encoding="utf-8")

    def write(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

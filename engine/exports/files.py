"""Files that stay readable whatever happens to the process writing them.

`AppendFile` appends text and flushes each piece in one write() call, for formats that need no
closing (a killed process loses at most the piece it was writing). `PatchedFile` is replaced
whole now and then (a new version written beside the file and renamed over it: a reader, or a
process killed with SIGKILL, always finds one complete version) and, in between, patched with
positioned writes (`write_at`), for formats whose closing the writer rewrites in place (.json).

A write() of a few hundred bytes reaches the file whole or not at all when the process is
killed, except in one case the kernel allows: a write that straddles a page boundary (4 KiB)
may stop at that boundary if SIGKILL lands during the copy of its first part.
"""
from __future__ import annotations

import os
from pathlib import Path


class AppendFile:
    """A text file written from its start, each `write` appended and flushed at once."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (open until close())

    def write(self, text: str) -> None:
        self._file.write(text)
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:  # one pwrite() unless the kernel writes less than asked (interrupted)
        done = os.pwrite(fd, view, offset)
        view, offset = view[done:], offset + done


class PatchedFile:
    """A file of bytes: `replace` puts a whole new version in place atomically (write a hidden
    sibling, rename it over), `write_at` overwrites or extends it at a byte offset with one
    unbuffered pwrite() call."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None

    def replace(self, data: bytes) -> None:
        partial = self.path.with_name(f".{self.path.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            _write_all(fd, data, 0)
            os.replace(partial, self.path)
        except BaseException:
            os.close(fd)
            raise
        self.close()
        self._fd = fd  # the renamed file: later patches go to the version readers see

    def write_at(self, offset: int, data: bytes) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        _write_all(self._fd, data, offset)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

"""`captty` in a real pseudo-terminal that is its controlling terminal, as a person runs it."""
from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from dataclasses import dataclass, field

from conftest import ROOT


@dataclass
class Terminal:
    proc: subprocess.Popen
    main: int
    screen: bytearray = field(default_factory=bytearray)

    @classmethod
    def start(cls, args, stdin=None, size=(24, 80)) -> Terminal:
        main, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))

        def controlling_terminal():
            os.setsid()
            fcntl.ioctl(child, termios.TIOCSCTTY, 0)

        proc = subprocess.Popen([sys.executable, "-m", "captty.tui.cli", *map(str, args)],
                                stdin=stdin if stdin is not None else child, stdout=child,
                                stderr=child, cwd=ROOT, preexec_fn=controlling_terminal,
                                env=dict(os.environ, TERM="xterm-256color"))
        os.close(child)
        terminal = cls(proc, main)
        threading.Thread(target=terminal._drain, daemon=True).start()
        return terminal

    def _drain(self) -> None:  # a terminal nobody reads would block the app
        while True:
            try:
                data = os.read(self.main, 65536)
            except OSError:
                return
            if not data:
                return
            self.screen.extend(data)

    def wait_for(self, text: bytes, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            assert self.proc.poll() is None, bytes(self.screen[-2000:])
            assert time.monotonic() < deadline, bytes(self.screen[-2000:])
            time.sleep(0.1)

    def type(self, keys: bytes) -> None:
        os.write(self.main, keys)

"""`captty run FILE FILE...`: many files through one batched model, transcripts on stdout.

Each file's transcript is printed whole, under a `==> FILE <==` header (as `head` and `tail`
do for several files), in the order the files were given, as soon as it and the files before
it are done; the end-of-run figures go to stderr as for one file.
"""
from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TextIO

from captty.engine import CapttyError, FileSource, ItemState, ItemStateChanged, TextDecoded
from captty.engine.events import StreamStarted
from captty.engine.multi_session import MultiSession
from captty.tui.headless import RunResult, run_session

log = logging.getLogger("captty")


def wants_many(spec, paths: list[str]) -> bool:
    """Two paths are INFILE OUTFILE, unless the model is text-only (no OUTFILE to write) and the
    second is an existing file; three or more are all inputs."""
    if len(paths) > 2:
        return True
    if len(paths) < 2 or not Path(paths[1]).is_file():
        return False
    from captty.engine.checkpoint import resolve_checkpoint

    return resolve_checkpoint(spec).model_type == "stt"


class TranscriptsInOrder:
    """Collects each input's text; prints finished ones in input order."""

    def __init__(self, names: list[str], stream: TextIO | None = None):
        self.names = names
        self.stream = stream or sys.stdout
        self.texts = [""] * len(names)
        self.done = [False] * len(names)
        self.printed = 0
        self.holder: dict[int, int] = {}  # slot -> input index

    def handle(self, event) -> None:
        if isinstance(event, StreamStarted):
            self.holder[event.item] = event.stream
        elif isinstance(event, TextDecoded) and event.item in self.holder:
            self.texts[self.holder[event.item]] += event.text
        elif (isinstance(event, ItemStateChanged) and event.state == ItemState.EOS_REACHED
              and event.item in self.holder):
            self.done[self.holder.pop(event.item)] = True
            self._print_ready()

    def _print_ready(self) -> None:
        while self.printed < len(self.names) and self.done[self.printed]:
            i = self.printed
            self.stream.write(f"{'' if i == 0 else chr(10)}==> {self.names[i]} <==\n"
                              f"{self.texts[i].strip()}\n")
            self.stream.flush()
            self.texts[i] = ""
            self.printed += 1

    def close(self) -> None:
        pass


async def run_many(model, paths: list[str], batch_size: int, sinks: list) -> RunResult:
    """The files through one `MultiSession` into `sinks`; Ctrl-C stops after the current step."""
    inputs = [(path, lambda path=path: FileSource(path, model.sample_rate, model.frame_size,
                                                  speed=None)) for path in paths]
    return await run_session(MultiSession(model, inputs, batch_size=batch_size), sinks)


def transcribe_files(spec, paths: list[str], batch_size: int | None, outputs=(),
                     reference=None) -> RunResult:
    from captty.engine import load_model
    from captty.tui.headless import report

    if outputs or reference:
        raise CapttyError("--output and --reference take one input file; give one file per run")
    for path in paths:  # a bad input fails before the model is loaded
        FileSource(path).close()
    model = load_model(spec)
    batch_size = batch_size or min(len(paths), 8)
    log.info("running %s (%s, %s) on %d files with batch size %d", model.name, model.model_type,
             model.device, len(paths), batch_size)
    result = asyncio.run(run_many(model, paths, batch_size, [TranscriptsInOrder(paths)]))
    if result.failure is not None:
        raise CapttyError(result.failure.message)
    report(result)
    if result.interrupted:
        raise KeyboardInterrupt
    return result

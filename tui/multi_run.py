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

from captty.engine import (CapttyError, FileSource, ItemState, ItemStateChanged, LoadedModel,
                           MultiSession, StreamStarted, TextDecoded)
from captty.tui.headless import RunResult, raise_if_interrupted, report, run_session
from captty.tui.options import StreamOptions

log = logging.getLogger("captty")


def many_inputs(model: LoadedModel, paths: list[str]) -> bool:
    """Three or more paths are all inputs; two are INFILE OUTFILE, unless the model is STT (it
    writes no OUTFILE) and the second is an existing file."""
    if len(paths) > 2:
        return True
    return len(paths) == 2 and model.model_type == "stt" and Path(paths[1]).is_file()


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


def many_files_session(model: LoadedModel, paths: list[str], batch_size: int) -> MultiSession:
    rate = model.layout.sample_rate
    inputs = [(path, lambda path=path: FileSource(path, rate, speed=None)) for path in paths]
    return MultiSession(model, inputs, batch_size=batch_size)


def transcribe_files(model: LoadedModel, paths: list[str], options: StreamOptions) -> RunResult:
    if options.outputs or options.reference:
        raise CapttyError("--output and --reference take one input file; give one file per run")
    batch_size = options.slots(len(paths))
    log.info("running %s (%s, %s) on %d files with batch size %d", model.name, model.model_type,
             model.device, len(paths), batch_size)
    session = many_files_session(model, paths, batch_size)
    result = asyncio.run(run_session(session, [TranscriptsInOrder(paths)]))
    if result.failure is not None:
        raise CapttyError(result.failure.message)
    report(result)
    raise_if_interrupted(result)
    return result

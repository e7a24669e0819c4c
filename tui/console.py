"""Building and running the console: one factory for the CLI, the tests and the benchmarks.

    app = console_app(model, FileSource("talk.wav", speed=1.0), StreamOptions(), "replay talk.wav")
    result = app.run()
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from captty.engine import CapttyError, LoadedModel, Source
from captty.tui.app import CapttyApp, ConsoleResult, ConsoleView, transcripts_folder
from captty.tui.feeds import EngineFeed
from captty.tui.headless import Interrupted, session_for
from captty.tui.options import StreamOptions
from captty.tui.outputs import outputs_for


def title(model: LoadedModel, what: str, batch_size: int) -> str:
    dtype = str(model.dtype).removeprefix("torch.")
    name = Path(model.name).name if Path(model.name).is_dir() else model.name
    return (f"captty · {name} · {model.model_type} · {model.device} · {dtype} · "
            f"batch {batch_size} · {what}")


def console_app(model: LoadedModel, source: Source, options: StreamOptions, what: str, *,
                exit_when_done: bool = False, refresh_hz: float | None = None) -> CapttyApp:
    """The console on `source`, with the run's outputs (files, WER, speech) fed as it goes."""
    batch_size = options.slots()
    outputs = outputs_for(model, options, what, batch_size)
    feed = EngineFeed(session_for(model, source, options), outputs.sinks)
    view = ConsoleView(title(model, what, batch_size), options.save_path, exit_when_done,
                       refresh_hz)
    app = CapttyApp(feed, view, wer=outputs.wer)
    app.outputs = outputs
    return app


def run_console(app: CapttyApp) -> ConsoleResult:
    """Until the user quits; the transcript is saved on the way out, and rescued if it cannot be."""
    result = app.run()
    if result is None or result.save_error:  # the console broke, or could not save: rescue it
        rescued = rescue(app.transcript, result.save_error if result else None)
        if result is None:
            raise CapttyError("the console stopped on an error"
                              + (f"; the transcript is in {rescued}" if rescued else ""))
        result.saved_to = rescued
    if result.saved_to:
        print(f"captty: transcript saved to {result.saved_to}", file=sys.stderr)
    if app.state.wer is not None:
        print(f"captty: {app.state.wer.final}", file=sys.stderr)
    if result.failure:
        raise CapttyError(result.failure)
    if result.signal:
        raise Interrupted(result.signal)
    if app.outputs is not None:
        app.outputs.check_written()
    return result


def rescue(transcript: str, why: str | None) -> Path | None:
    """Save a transcript the console could not save where it was asked to."""
    if why:
        print(f"captty: {why}", file=sys.stderr)
    if not transcript:
        return None
    for folder in (transcripts_folder(), Path(tempfile.gettempdir())):
        path = folder / time.strftime("captty-rescued-%Y%m%d-%H%M%S.txt")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(transcript, encoding="utf-8")
            return path
        except OSError:
            continue
    return None

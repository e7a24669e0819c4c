"""The console and the printer on a remote server (`--server ws://HOST:PORT`): the same screens,
files and WER as with a local model, fed by a `RemoteSession`.

The session's events are the engine's (words from the server's `Word`/`EndWord`, turns from its
`Step` probabilities), plus `ServerStepped` and `ConnectionChanged`, which the console shows in
place of the step times the protocol does not carry: the network round trip (pings), the
server's buffered audio, and the delay from sending a frame to its `Step`.
"""
from __future__ import annotations

import sys

from captty.engine import CapttyError, RemoteSession, Source
from captty.tui.feeds import EngineFeed
from captty.tui.options import StreamOptions
from captty.tui.outputs import Outputs, transcript_outputs

FILE_RETRIES = 10  # a file gives up after this many failed reconnections; a microphone never


class RemoteFeed(EngineFeed):
    """An `EngineFeed` whose session is a `RemoteSession`."""

    @property
    def rtt_ms(self) -> float | None:
        """The last websocket ping's round trip."""
        connection = getattr(self.session, "connection", None)
        return connection.rtt_ms if connection is not None else None


def remote_session(source: Source, options: StreamOptions, live: bool) -> RemoteSession:
    if not options.server:
        raise CapttyError("no --server given")
    return RemoteSession(options.server, source, api_key=options.api_key, live=live,
                         turn_threshold=options.turn_threshold,
                         max_retries=None if live else FILE_RETRIES)


def remote_outputs(options: StreamOptions, what: str) -> Outputs:
    """Transcript files (--output) and the WER (--reference), as `outputs_for` gives them."""
    return transcript_outputs(options, {"input": what, "server": options.server})


def stream_remote(source: Source, what: str, options: StreamOptions, *, live: bool,
                  graceful: bool, tui: bool) -> None:
    """The console, or the printer without a terminal, on the server's transcription."""
    outputs = remote_outputs(options, what)
    sinks, wer = outputs.sinks, outputs.wer
    session = remote_session(source, options, live)
    if tui:
        from captty.tui.app import CapttyApp, ConsoleView
        from captty.tui.console import run_console

        title = f"captty · {options.server} · {what}"
        view = ConsoleView(title, options.save_path)
        app = CapttyApp(RemoteFeed(session, sinks), view, wer=wer)
        app.outputs = outputs
        run_console(app)
        return
    from captty.tui.headless import print_run, raise_if_interrupted

    result = print_run(session, sinks, graceful=graceful)
    print(file=sys.stdout)
    if result.ended is not None:
        print(f"captty: {result.ended.steps} steps on {options.server} in "
              f"{result.ended.wall_seconds:.1f}s", file=sys.stderr)
    if wer is not None:
        print(f"captty: {wer.final}", file=sys.stderr)
    raise_if_interrupted(result, graceful)
    outputs.check_written()

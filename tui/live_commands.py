"""`captty replay`, `captty live`, `captty devices` and `captty demo`: the console commands.

Each runs the Textual console when stdout is a terminal, and falls back to the headless printer
when it is not (output piped, no TTY) or with --no-tui.
"""
from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

import click

from captty.engine import (CapttyError, LoadedModel, MicrophoneSource, ModelSpec,
                           Source, bundled_audio, list_devices, load_model)
from captty.tui.options import (StreamOptions, backlog_options, export_options, input_options,
                                model_options, server_options, spec_from, stream_options)

DEMO_MODEL = "demo-stt"  # the bundled model trained for the demo (assets/README.md)
DEMO_AUDIO = "demo-stt.wav"  # a bundled recording it never heard; its text is in demo-stt.json
SERVE_HINT = ("; or run `captty serve` where the model is and `captty live --server "
              "ws://HOST:PORT` where the microphone is (README: `captty serve`)")

log = logging.getLogger("captty")


def console_options(f):
    for option in reversed([
        click.option("--no-tui", is_flag=True, help="Print the transcript instead of the console."),
        click.option("--save", "save_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Where s and q save the transcript (default: a new file in "
                          "$XDG_DATA_HOME/captty/transcripts, ~/.local/share/... without it)."),
        click.option("--speech-out", type=click.Path(dir_okay=False, path_type=str),
                     help="Models that speak (Hibiki): write the speech to this WAV as it comes."),
        click.option("--play", is_flag=True,
                     help="Models that speak (Hibiki): play the speech on the output device."),
    ]):
        f = option(f)
    return f


def use_tui(options: StreamOptions) -> bool:
    return not options.no_tui and sys.stdout.isatty() and sys.stdin.isatty()


def stream(model: LoadedModel, source: Source, what: str, options: StreamOptions,
           graceful: bool) -> None:
    """The console, or the printer without a terminal; --output files either way."""
    if use_tui(options):
        from captty.tui.console import console_app, run_console

        run_console(console_app(model, source, options, what))
    else:
        run_headless(model, source, what, options, graceful)


def run_headless(model: LoadedModel, source: Source, what: str, options: StreamOptions,
                 graceful: bool) -> None:
    from captty.tui.headless import print_run, raise_if_interrupted, report, session_for
    from captty.tui.outputs import outputs_for

    outputs = outputs_for(model, options, what, options.slots())
    result = print_run(session_for(model, source, options), outputs.sinks, graceful=graceful)
    for sink in outputs.sinks:  # let the speech being played finish
        if hasattr(sink, "wait_closed") and not result.interrupted:
            sink.wait_closed()
    report(result)
    if outputs.wer is not None:
        print(f"captty: {outputs.wer.final}", file=sys.stderr)
    raise_if_interrupted(result, graceful)
    outputs.check_written()


def replay_file(spec: ModelSpec, path: str, speed: float | None, options: StreamOptions) -> None:
    from captty.tui.inputs import open_input

    options.check()
    # opened once: a bad file fails before the model loads, and a pipe is not opened twice
    source = open_input(path, speed=speed, raw=options.raw_format,
                        max_lag=None if speed is None else options.backlog_bound(live=False))
    pace = "fast" if speed is None else f"{speed:g}x"
    what = f"replay {Path(path).name} at {pace}"
    if options.server:
        from captty.tui.remote_feed import stream_remote

        stream_remote(source, what, options, live=False, graceful=False, tui=use_tui(options))
        return
    model = load_model(spec)
    source.sample_rate = model.layout.sample_rate
    stream(model, source, what, options, graceful=False)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@model_options
@stream_options
@console_options
@export_options
@server_options
@input_options
@backlog_options
@click.option("--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Replay at this multiple of real time.")
@click.option("--fast", is_flag=True, help="As fast as the model goes.")
def replay(file: str, speed: float, fast: bool, **kwargs) -> None:
    """Replay FILE (a file, a named pipe, or `-` for standard input) through the model at
    real-time pace, in the console."""
    spec = spec_from(kwargs)
    replay_file(spec, file, None if fast else speed, StreamOptions.take(kwargs))


@click.command()
@model_options
@stream_options
@console_options
@export_options
@server_options
@backlog_options
@click.option("--input-device", help="Input device id or name (see `captty devices`).")
def live(input_device: str | None, **kwargs) -> None:
    """Transcribe the microphone live, in the console (on a server with --server)."""
    device = int(input_device) if input_device and input_device.isdigit() else input_device
    try:
        MicrophoneSource.check(device)  # no audio device: say so before loading a model
    except CapttyError as e:
        raise CapttyError(f"{e}{SERVE_HINT}" if "no audio input device" in str(e) else str(e)) \
            from None
    spec = spec_from(kwargs)
    options = StreamOptions.take(kwargs)
    options.check()
    if options.server:
        from captty.tui.remote_feed import stream_remote

        source = MicrophoneSource(device)
        stream_remote(source, f"live: {MicrophoneSource.describe(device)}", options, live=True,
                      graceful=True, tui=use_tui(options))
        return
    model = load_model(spec)
    source = MicrophoneSource(device, model.layout.sample_rate, model.layout.frame_size,
                              max_backlog=options.backlog_bound(live=True))
    stream(model, source, f"live: {MicrophoneSource.describe(device)}", options, graceful=True)


@click.command()
def devices() -> None:
    """List audio input and output devices with their ids."""
    for line in list_devices():
        click.echo(line)


@click.command()
@click.option("--no-tui", is_flag=True, help="Print the transcript instead of the console.")
@click.option("--fast", is_flag=True, help="As fast as the model goes.")
def demo(no_tui: bool, fast: bool) -> None:
    """Replay the bundled recording with the bundled demo model (no network needed)."""
    audio = bundled_audio(DEMO_AUDIO)
    said = json.loads(bundled_audio(Path(DEMO_AUDIO).with_suffix(".json").name).read_text())["text"]
    click.echo("captty demo: demo-stt, a 6.6 MB model trained for this demo, transcribes\n"
               f'  eSpeak NG saying "{said}".\n'
               "  It knows 42 words (the digits and a few demo sentences) said by eSpeak\n"
               "  voices, nothing else; the WER compares its words with that text.", err=True)
    spec = ModelSpec(model=DEMO_MODEL, device="cpu")
    with tempfile.TemporaryDirectory(prefix="captty-demo-") as folder:
        reference = Path(folder) / "demo-stt.txt"
        reference.write_text(said + "\n", encoding="utf-8")
        replay_file(spec, str(audio), None if fast else 1.0,
                    StreamOptions(no_tui=no_tui, reference=str(reference)))
    click.echo("captty demo: for real speech (downloads a Kyutai model; a GPU helps):\n"
               f"  captty replay --hf-repo kyutai/stt-1b-en_fr {audio}\n"
               "  captty live --hf-repo kyutai/stt-1b-en_fr", err=True)

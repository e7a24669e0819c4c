"""`captty replay`, `captty live`, `captty devices` and `captty demo`: the console commands.

Each runs the Textual console when stdout is a terminal, and falls back to the headless printer
when it is not (output piped, no TTY) or with --no-tui.
"""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click

from captty.tui.options import check_exports, export_options, export_sinks, model_options, spec_from

DEMO_MODEL = "tiny-stt"  # a bundled model (engine.bundled)
DEMO_AUDIO = "demo-en.wav"

log = logging.getLogger("captty")


def console_options(f):
    for option in reversed([
        click.option("--no-tui", is_flag=True, help="Print the transcript instead of the console."),
        click.option("--save", "save_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Where s and q save the transcript (default captty-DATE-TIME.txt)."),
        click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True),
        click.option("--cfg-coef", type=float, default=1.0, show_default=True,
                     help="Classifier-free guidance coefficient (Hibiki)."),
        click.option("--max-tail", type=click.FloatRange(min=0.0), default=30.0,
                     show_default=True, help="Hibiki: seconds to wait for EOS after the input."),
        click.option("--speech-out", type=click.Path(dir_okay=False, path_type=str),
                     help="Models that speak (Hibiki): write the speech to this WAV as it comes."),
        click.option("--play", is_flag=True,
                     help="Models that speak (Hibiki): play the speech on the output device."),
    ]):
        f = option(f)
    return f


def use_tui(no_tui: bool) -> bool:
    return not no_tui and sys.stdout.isatty() and sys.stdin.isatty()


def title(model, what: str, batch_size: int) -> str:
    dtype = str(model.dtype).removeprefix("torch.")
    name = Path(model.name).name if Path(model.name).is_dir() else model.name
    return (f"captty · {name} · {model.model_type} · {model.device} · {dtype} · "
            f"batch {batch_size} · {what}")


def run_console(model, source, what: str, *, batch_size: int, cfg_coef: float, max_tail: float,
                save_path: Path | None, sinks=(), turn_threshold: float = 0.5, wer=None):
    """The Textual console on a source until the user quits; the transcript is saved on quit."""
    from captty.engine import CapttyError
    from captty.engine.annotate import Annotator
    from captty.tui.app import CapttyApp
    from captty.tui.feeds import EngineFeed

    feed = EngineFeed(model, source, batch_size=batch_size, cfg_coef=cfg_coef,
                      max_tail_seconds=max_tail, sinks=sinks)
    app = CapttyApp(feed, title=title(model, what, batch_size), save_path=save_path,
                    annotator=Annotator.of(model, turn_threshold), wer=wer)
    result = app.run()
    if result is None or result.save_error:  # the console broke, or could not save: rescue it
        rescued = rescue(app.transcript, result.save_error if result else None)
        if result is None:
            raise CapttyError("the console stopped on an error"
                              + (f"; the transcript is in {rescued}" if rescued else ""))
        result.saved_to = rescued
    if result.saved_to:
        print(f"captty: transcript saved to {result.saved_to}", file=sys.stderr)
    if wer is not None:
        print(f"captty: {wer.final}", file=sys.stderr)
    if result.failure:
        raise CapttyError(result.failure)
    return result


def rescue(transcript: str, why: str | None) -> Path | None:
    """Save a transcript the console could not save where it was asked to."""
    import tempfile

    if why:
        print(f"captty: {why}", file=sys.stderr)
    if not transcript:
        return None
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        path = folder / time.strftime("captty-rescued-%Y%m%d-%H%M%S.txt")
        try:
            path.write_text(transcript + "\n")
            return path
        except OSError:
            continue
    return None


def run_headless(model, source, *, batch_size: int, cfg_coef: float, max_tail: float,
                 sinks=(), wer=None, graceful: bool = False) -> None:
    from captty.tui.headless import print_run, report

    result = print_run(model, source, sinks, batch_size=batch_size, cfg_coef=cfg_coef,
                       max_tail_seconds=max_tail, graceful=graceful)
    for sink in sinks:  # let the speech being played finish
        if hasattr(sink, "wait_closed") and not result.interrupted:
            sink.wait_closed()
    report(result)
    if wer is not None:
        print(f"captty: {wer.final}", file=sys.stderr)
    if result.interrupted and not graceful:
        raise KeyboardInterrupt


def stream(model, source, what: str, opts: dict, graceful: bool) -> None:
    """The console, or the printer without a terminal; --output files either way."""
    outputs, fmt = opts.pop("outputs", ()), opts.pop("fmt", None)
    wer = opts.pop("wer", None)
    settings = {"input": what, "batch_size": opts["batch_size"], "cfg_coef": opts["cfg_coef"]}
    tui = use_tui(opts.pop("no_tui"))
    # the console counts the live WER from its own word tracking; the printer needs the sinks'
    sinks = export_sinks(model, outputs, fmt, opts["turn_threshold"], None if tui else wer,
                         settings) + speech_sinks(model, opts.pop("speech_out", None),
                                                  opts.pop("play", False), opts["batch_size"])
    if tui:
        run_console(model, source, what, sinks=sinks, wer=wer, **opts)
    else:
        opts.pop("save_path")
        opts.pop("turn_threshold")
        run_headless(model, source, sinks=sinks, wer=wer, graceful=graceful, **opts)


def speech_sinks(model, speech_out: str | None, play: bool, batch_size: int) -> list:
    """Hibiki's speech: a WAV written as it comes (`-0`, `-1`... per item), played (item 0)."""
    from captty.engine.sinks import WavWriter
    from captty.engine.speaker import SpeechPlayer

    if not (speech_out or play):
        return []
    if not model.speaks:
        log.warning("'%s' produces no speech: --speech-out and --play do nothing", model.name)
        return []
    sinks = [WavWriter(speech_out, batch_size, model.sample_rate)] if speech_out else []
    if play:
        sinks.append(SpeechPlayer(model.sample_rate))
    return sinks


def replay_file(spec, path: str, speed: float | None, opts: dict) -> None:
    from captty.engine import FileSource, load_model

    FileSource(path).close()  # a bad file fails before the model loads
    opts["wer"] = check_exports(opts.get("outputs", ()), opts.get("fmt"),
                                opts.pop("reference", None))
    model = load_model(spec)
    source = FileSource(path, model.sample_rate, model.frame_size, speed=speed)
    pace = "fast" if speed is None else f"{speed:g}x"
    stream(model, source, f"replay {Path(path).name} at {pace}", opts, graceful=False)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@model_options
@console_options
@export_options
@click.option("--speed", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Replay at this multiple of real time.")
@click.option("--fast", is_flag=True, help="As fast as the model goes.")
def replay(file: str, speed: float, fast: bool, **kwargs) -> None:
    """Replay FILE through the model at real-time pace, in the console."""
    spec = spec_from(kwargs)
    replay_file(spec, file, None if fast else speed, kwargs)


@click.command()
@model_options
@console_options
@export_options
@click.option("--input-device", help="Input device id or name (see `captty devices`).")
def live(input_device: str | None, **kwargs) -> None:
    """Transcribe the microphone live, in the console."""
    from captty.engine import MicrophoneSource, load_model

    device = int(input_device) if input_device and input_device.isdigit() else input_device
    MicrophoneSource.check(device)  # no audio device: say so before loading a model
    spec = spec_from(kwargs)
    kwargs["wer"] = check_exports(kwargs["outputs"], kwargs["fmt"], kwargs.pop("reference"))
    model = load_model(spec)
    source = MicrophoneSource(device, model.sample_rate, model.frame_size)
    stream(model, source, f"live: {MicrophoneSource.describe(device)}", kwargs, graceful=True)


@click.command()
def devices() -> None:
    """List audio input and output devices with their ids."""
    from captty.engine.microphone import list_devices

    for line in list_devices():
        click.echo(line)


@click.command()
@click.option("--no-tui", is_flag=True, help="Print the transcript instead of the console.")
@click.option("--fast", is_flag=True, help="As fast as the model goes.")
def demo(no_tui: bool, fast: bool) -> None:
    """Replay the bundled recording with the bundled tiny model (no network needed)."""
    from captty.engine import ModelSpec
    from captty.engine.bundled import bundled_audio

    audio = bundled_audio(DEMO_AUDIO)
    click.echo("captty demo: the bundled model is tiny and untrained (random weights), so its "
               "text is noise. It shows the pipeline at work, not a transcription.", err=True)
    spec = ModelSpec(model=DEMO_MODEL, device="cpu")
    opts = dict(no_tui=no_tui, save_path=None, batch_size=1, cfg_coef=1.0, max_tail=30.0,
                turn_threshold=0.5)
    replay_file(spec, str(audio), None if fast else 1.0, opts)
    click.echo("captty demo: to transcribe for real (downloads a Kyutai model, a GPU helps):\n"
               f"  captty replay --hf-repo kyutai/stt-1b-en_fr {audio}\n"
               "  captty live --hf-repo kyutai/stt-1b-en_fr", err=True)

"""The `captty` command line."""
from __future__ import annotations

import logging
import sys

import click

from captty.engine import CapttyError
from captty.tui.options import (StreamOptions, export_options, input_options, model_options,
                                server_options,
                                spec_from, stream_options)

log = logging.getLogger("captty")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
def cli(debug: bool, quiet: bool) -> None:
    """captty: live speech transcription and translation with Kyutai's streaming models."""
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="captty: %(message)s", stream=sys.stderr)
    if not debug:  # torch.compile's notice that this machine has no CUDA runtime
        logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)


@cli.command()
@click.argument("infile", type=click.Path(dir_okay=False, path_type=str))
@click.argument("outfile", required=False, type=click.Path(dir_okay=False, path_type=str))
@click.argument("more", nargs=-1, type=click.Path(dir_okay=False, path_type=str))
@model_options
@stream_options
@export_options
@server_options
@input_options
def run(infile: str, outfile: str | None, more: tuple[str, ...], **kwargs) -> None:
    """Transcribe (or translate) INFILE; text on stdout, speech to OUTFILE (WAV) for Hibiki.

    INFILE is any audio file FFmpeg reads, a named pipe, or `-` for standard input. With an STT
    model, `run FILE FILE...` transcribes the files in one batch, --batch-size at a time, each
    under a `==> FILE <==` header. With --server, a server transcribes INFILE (its words on
    stdout, one space apart)."""
    from captty.engine import FileSource, load_model
    from captty.tui.inputs import STDIN, open_input
    from captty.tui.multi_run import many_inputs, transcribe_files

    spec = spec_from(kwargs)
    options = StreamOptions.take(kwargs)
    options.check()
    if options.server:
        from captty.tui.remote_feed import stream_remote

        if outfile or more:
            raise CapttyError("with --server, run takes one input file")
        stream_remote(open_input(infile, raw=options.raw_format), infile, options, live=False,
                      graceful=False, tui=False)
        return
    paths = [infile, *([outfile] if outfile else []), *more]
    if len(paths) > 2:  # all inputs: a bad one fails before the model is loaded
        if options.outputs or options.reference or STDIN in paths or options.raw_format:
            raise CapttyError("--output, --reference, --raw-format and `-` take one input file; "
                              "give one file per run")
        for path in paths:
            FileSource(path).close()
    else:
        # opened once, before the model loads (a pipe or standard input cannot be reopened)
        source = open_input(infile, raw=options.raw_format)
    model = load_model(spec)
    if many_inputs(model, paths):
        if len(paths) == 2:
            source.close()
            FileSource(paths[1]).close()  # the second is an input too: check it before the run
        transcribe_files(model, paths, options)
        return
    source.sample_rate = model.layout.sample_rate
    transcribe_file(model, source, infile, outfile, options)


def transcribe_file(model, source, infile: str, outfile: str | None, options: StreamOptions):
    from captty.tui.headless import print_run, raise_if_interrupted, report, session_for
    from captty.tui.outputs import outputs_for

    batch_size = options.slots()
    log.info("running %s (%s, %s, %s) on %s with batch size %d", model.name, model.model_type,
             model.device, str(model.dtype).removeprefix("torch."), infile, batch_size)
    outputs = outputs_for(model, options, infile, batch_size, speech_file=outfile)
    result = print_run(session_for(model, source, options), outputs.sinks)
    report(result)
    if outputs.wer is not None:
        print(f"captty: {outputs.wer.final} against {options.reference}", file=sys.stderr)
    raise_if_interrupted(result)
    outputs.check_written()


from captty.tui.live_commands import demo, devices, live, replay  # noqa: E402

for command in (replay, live, devices, demo):
    cli.add_command(command)

from captty.tui.bench_command import bench  # noqa: E402
from captty.tui.serve_command import serve  # noqa: E402

cli.add_command(bench)
cli.add_command(serve)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one clear line and a non-zero exit for errors; tracebacks with --debug."""
    from captty.tui.headless import Interrupted

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="captty", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except (KeyboardInterrupt, click.Abort):
        print("captty: interrupted", file=sys.stderr)
        sys.exit(130)
    except Interrupted as e:  # the outputs are complete up to the last word
        print(f"captty: stopped by {e} (what was transcribed is kept)", file=sys.stderr)
        sys.exit(128 + e.signum)
    except CapttyError as e:
        if debug:
            raise
        print(f"captty: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:
        if debug:
            raise
        print(f"captty: internal error: {type(e).__name__}: {e} (run with --debug for details)",
              file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()

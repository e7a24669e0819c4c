"""The `captty` command line."""
from __future__ import annotations

import logging
import sys

import click

from captty.tui.options import check_exports, export_options, export_sinks, model_options, spec_from

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
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Batch size (moshi's default: 8 for models that speak, 1 for text-only ones).")
@click.option("--cfg-coef", type=float, default=1.0, show_default=True,
              help="Classifier-free guidance coefficient (Hibiki).")
@click.option("--max-tail", type=click.FloatRange(min=0.0), default=30.0, show_default=True,
              help="Hibiki: seconds of silence to wait for EOS after the input ends.")
@export_options
def run(infile: str, outfile: str | None, more: tuple[str, ...], batch_size: int | None,
        cfg_coef: float, max_tail: float, outputs: tuple[str, ...], fmt: str | None,
        turn_threshold: float, reference: str | None, **kwargs) -> None:
    """Transcribe (or translate) INFILE; text on stdout, speech to OUTFILE (WAV) for Hibiki.

    With an STT model, `run FILE FILE...` transcribes the files in one batch, --batch-size at a
    time (default: up to 8), each under a `==> FILE <==` header."""
    from captty.tui.multi_run import transcribe_files, wants_many

    spec = spec_from(kwargs)
    files = [infile, *([outfile] if outfile else []), *more]
    if wants_many(spec, files):
        transcribe_files(spec, files, batch_size, outputs, reference)
        return
    _run(spec, infile, outfile, batch_size, cfg_coef, max_tail, outputs=outputs,
         fmt=fmt, turn_threshold=turn_threshold, reference=reference)


def _run(spec, infile, outfile, batch_size, cfg_coef, max_tail, outputs=(), fmt=None,
         turn_threshold=0.5, reference=None):
    from captty.engine import FileSource, load_model
    from captty.tui.headless import report, transcribe_file

    FileSource(infile).close()  # a bad input file fails before the model is loaded
    wer = check_exports(outputs, fmt, reference)
    model = load_model(spec)
    if batch_size is None:
        batch_size = 8 if model.speaks else 1
    log.info("running %s (%s, %s, %s) on %s with batch size %d", model.name, model.model_type,
             model.device, str(model.dtype).removeprefix("torch."), infile, batch_size)
    settings = {"input": infile, "batch_size": batch_size, "cfg_coef": cfg_coef}
    also = tuple(export_sinks(model, outputs, fmt, turn_threshold, wer, settings))
    result = transcribe_file(model, infile, outfile, batch_size=batch_size, cfg_coef=cfg_coef,
                             max_tail_seconds=max_tail, also=also)
    report(result)
    if wer is not None:
        print(f"captty: {wer.final} against {reference}", file=sys.stderr)
    if result.interrupted:
        raise KeyboardInterrupt


from captty.tui.live_commands import demo, devices, live, replay  # noqa: E402

for command in (replay, live, devices, demo):
    cli.add_command(command)

from captty.tui.bench_command import bench  # noqa: E402

cli.add_command(bench)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one clear line and a non-zero exit for errors; tracebacks with --debug."""
    from captty.engine import CapttyError

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

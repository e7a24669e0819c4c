"""Command-line options shared by the commands that load a model."""
from __future__ import annotations

import click


def model_options(f):
    """The model options of moshi's run_inference.py, plus --model."""
    from captty.engine.checkpoint import DEFAULT_REPO

    options = [
        click.option("--model", "model", metavar="PATH_OR_REPO",
                     help="A local checkpoint folder (laid out like a hub repository) or a hub "
                          "repository; overrides --hf-repo."),
        click.option("--hf-repo", default=DEFAULT_REPO, show_default=True,
                     help="Hub repository to take the model from."),
        click.option("--moshi-weight", help="Local file (or hf://repo/file) of the LM weights."),
        click.option("--mimi-weight", help="Local file (or hf://repo/file) of the Mimi weights."),
        click.option("--tokenizer", help="Local file (or hf://repo/file) of the text tokenizer."),
        click.option("--config", "--lm-config", "config", help="The model config as a json file."),
        click.option("--device", default="auto", show_default=True,
                     help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N."),
        click.option("--half", is_flag=True, help="float16 instead of bfloat16 (older GPUs)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def spec_from(kwargs: dict):
    """The ModelSpec of the model options, taken out of a command's keyword arguments."""
    from captty.engine import ModelSpec

    return ModelSpec(model=kwargs.pop("model"), hf_repo=kwargs.pop("hf_repo"),
                     moshi_weight=kwargs.pop("moshi_weight"), mimi_weight=kwargs.pop("mimi_weight"),
                     tokenizer=kwargs.pop("tokenizer"), config=kwargs.pop("config"),
                     device=kwargs.pop("device"), half=kwargs.pop("half"))




def export_options(f):
    """Transcript files written as the stream runs, end of turn, and a reference for the WER."""
    options = [
        click.option("-o", "--output", "outputs", multiple=True, metavar="FILE",
                     type=click.Path(dir_okay=False, path_type=str),
                     help="Write the transcript to FILE as the run goes (repeatable): .txt, .srt, "
                          ".vtt, .json (words with times) or .jsonl (every event), from the "
                          "extension."),
        click.option("--format", "fmt", type=click.Choice(["txt", "srt", "vtt", "json", "jsonl"]),
                     help="The format of every --output, whatever its extension."),
        click.option("--turn-threshold", default=0.5, show_default=True,
                     type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
                     help="End-of-turn probability above which a turn ends (models with "
                          "semantic VAD)."),
        click.option("--reference", metavar="TEXT_FILE",
                     type=click.Path(dir_okay=False, path_type=str),
                     help="A reference transcript: the word error rate against it, live and at "
                          "the end."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def check_exports(outputs, fmt, reference):
    """Before loading a model: the output formats are known and the reference reads. Returns
    the live WER counter (or None)."""
    from pathlib import Path

    from captty.engine import CapttyError
    from captty.engine.exports import format_of
    from captty.engine.wer import LiveWer

    for path in outputs:
        format_of(path, fmt)
    if not reference:
        return None
    try:
        return LiveWer(Path(reference).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise CapttyError(f"cannot read the reference '{reference}': "
                          f"{getattr(e, 'strerror', None) or e}") from None


def export_sinks(model, outputs, fmt, turn_threshold, wer, settings: dict) -> list:
    """The sinks that write --output files (and feed the end-of-run WER) for a loaded model."""
    from captty.engine.exports import transcript_sink

    if not outputs and wer is None:
        return []
    return [transcript_sink(model, outputs, fmt, turn_threshold=turn_threshold,
                            settings=settings, also=[wer] if wer else [])]

"""Command-line options shared by the commands that load a model."""
from __future__ import annotations

import click


def model_options(f):
    """The model options of moshi's run_inference.py, plus --model."""
    from engine.checkpoint import DEFAULT_REPO

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
    from engine import ModelSpec

    return ModelSpec(model=kwargs.pop("model"), hf_repo=kwargs.pop("hf_repo"),
                     moshi_weight=kwargs.pop("moshi_weight"), mimi_weight=kwargs.pop("mimi_weight"),
                     tokenizer=kwargs.pop("tokenizer"), config=kwargs.pop("config"),
                     device=kwargs.pop("device"), half=kwargs.pop("half"))



"""What is wrong with a checkpoint, said in one line that names the file at fault.

moshi's loaders fill keys missing from `config.json` with the defaults of its 7B Moshi and then
fail deep inside PyTorch (`Error(s) in loading state_dict ...`, an unexpected keyword, a
protobuf parse error). These helpers check the config first and turn those failures into one
line: which file, and what does not fit.
"""
from __future__ import annotations

import re
from pathlib import Path

# keys that set the shape of the LM's weights: without them moshi silently uses its 7B's
SHAPE_KEYS = ("dim", "num_heads", "num_layers", "card", "text_card", "n_q", "dep_q")
_PARAM = re.compile(r'"([^"]+)"')
_SIZE = re.compile(r"size mismatch for ([\w.]+): copying a param with shape torch\.Size\((\[[^]]*\])\) "
                   r"from checkpoint, the shape in current model is torch\.Size\((\[[^]]*\])\)")


def check_config(config: dict, path: Path | str) -> str | None:
    """What `config.json` lacks, or None."""
    missing = [key for key in SHAPE_KEYS if key not in config]
    if missing:
        keys = ", ".join(f"'{k}'" for k in missing)
        return f"'{path}' lacks {keys}, which the model's weights need"
    wrong = [k for k in SHAPE_KEYS if not isinstance(config[k], int) or isinstance(config[k], bool)]
    if wrong:
        key = wrong[0]
        return f"'{path}' gives '{key}' as {config[key]!r}: a whole number is needed"
    return None


def lm_error(error: Exception, weights: Path | str, config: Path | str) -> str:
    """The LM could not be built from `config` or loaded from `weights`."""
    text = str(error)
    if "Error(s) in loading state_dict" in text:
        return f"'{weights}' does not match '{config}': {state_dict_mismatch(text)}"
    keyword = re.search(r"unexpected keyword argument '(\w+)'", text)
    if keyword:
        return f"'{config}' has a key the model does not know: '{keyword.group(1)}'"
    return f"cannot build the model of '{config}': {_first_line(text)}"


def state_dict_mismatch(text: str) -> str:
    """`load_state_dict`'s error in a few words: counts and the first of each kind."""
    parts = []
    for kind, label in (("Missing key(s)", "missing"), ("Unexpected key(s)", "not in the model")):
        section = re.search(re.escape(kind) + r" in state_dict: ([^\n]*)", text)
        if section:
            names = _PARAM.findall(section.group(1))
            parts.append(f"{len(names)} weights {label} (e.g. {names[0]})" if names else label)
    sizes = _SIZE.findall(text)
    if sizes:
        name, theirs, ours = sizes[0]
        parts.append(f"{len(sizes)} of another shape (e.g. {name}: {theirs} in the weights, "
                     f"{ours} by the config)")
    return "; ".join(parts) or _first_line(text)


def mimi_error(error: Exception, weights: Path | str, config: Path | str | None) -> str:
    text = str(error)
    against = f"'{config}'" if config else "the standard Mimi"
    if "Error(s) in loading state_dict" in text:
        return f"'{weights}' does not match {against}: {state_dict_mismatch(text)}"
    return f"cannot load Mimi from '{weights}': {_first_line(text)}"


def tokenizer_error(error: Exception, path: Path | str) -> str:
    return f"'{path}' is not a sentencepiece tokenizer model ({_first_line(str(error))})"


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else "unknown error"

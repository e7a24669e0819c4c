"""The checkpoints and recordings bundled with captty (`captty.assets`), found where they are
installed: the source tree's `assets/` folder, or the same files inside a wheel."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import CapttyError


def assets() -> Path:
    return Path(str(resources.files("captty.assets")))


def bundled_models() -> list[str]:
    """The names `--model` accepts for a bundled checkpoint (`tiny-stt`, ...)."""
    folder = assets() / "models"
    return sorted(p.name for p in folder.iterdir() if (p / "config.json").is_file())


def bundled_model(name: str) -> Path | None:
    """The folder of the bundled checkpoint called `name`, or None."""
    folder = assets() / "models" / name
    return folder if name and "/" not in name and (folder / "config.json").is_file() else None


def bundled_audio(name: str) -> Path:
    path = assets() / "audio" / name
    if not path.is_file():
        raise CapttyError(f"the bundled recording '{name}' is missing from this installation")
    return path

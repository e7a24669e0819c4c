"""Finding, fetching and loading a checkpoint through moshi's own loaders.

A model is named by a hub repository (`kyutai/stt-1b-en_fr`) or a local folder laid out like
one (`config.json` naming its files); any file can be overridden explicitly, as in moshi's
`run_inference.py`.
"""
from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlparse

import torch

from .bundled import bundled_model, bundled_models
from .checkpoint_errors import check_config, lm_error, mimi_error, tokenizer_error
from .errors import CapttyError
from .layout import StreamLayout

if TYPE_CHECKING:
    from moshi.models import LMModel, MimiModel

log = logging.getLogger(__name__)

DEFAULT_REPO = "kyutai/stt-1b-en_fr"
OFFLINE_HINT = ("it is not in the local cache and the hub cannot be reached (offline?); "
                "check the network, or use a local checkpoint folder with --model PATH")


@dataclass(frozen=True)
class ModelSpec:
    """What the user asked for; every field mirrors a command-line option."""

    model: str | None = None  # local folder, hub repository or bundled model; wins over hf_repo
    hf_repo: str = DEFAULT_REPO
    moshi_weight: str | None = None
    mimi_weight: str | None = None
    tokenizer: str | None = None
    config: str | None = None
    device: str = "auto"
    half: bool = False
    shape: str | None = None  # a random-initialised model of a real shape (bench_models.py)
    tiny: bool = False  # with `shape`: the LM shrunk so a CPU runs it quickly


class ModelInfo(Protocol):
    """What captty reads of moshi's `CheckpointInfo`."""

    model_type: str  # "stt", "hibiki", ...
    stt_config: dict
    lm_gen_config: dict
    raw_config: dict


class Tokenizer(Protocol):
    """What captty uses of a `sentencepiece.SentencePieceProcessor`."""

    def eos_id(self) -> int: ...

    def bos_id(self) -> int: ...

    def id_to_piece(self, id: int) -> str: ...

    def encode(self, text: str) -> list[int]: ...


@dataclass
class LoadedModel:
    name: str
    info: ModelInfo
    mimi: "MimiModel"
    lm: "LMModel"
    tokenizer: Tokenizer
    device: torch.device
    dtype: torch.dtype

    @property
    def model_type(self) -> str:
        return self.info.model_type

    @property
    def speaks(self) -> bool:
        return self.lm.dep_q > 0

    @cached_property
    def layout(self) -> StreamLayout:
        """Frame size, silence around the input and delay: as moshi's script lays them out."""
        return StreamLayout.of(self)


def resolve_device(name: str) -> torch.device:
    """`auto` is CUDA when there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise CapttyError(f"unknown device '{name}' (use auto, cpu, cuda or cuda:N)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise CapttyError(f"device '{name}' asked for, but no CUDA GPU is available here "
                              "(use --device cpu or --device auto)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise CapttyError(f"device '{name}' asked for, but this machine has "
                              f"{torch.cuda.device_count()} CUDA device(s)")
    elif device.type != "cpu":
        raise CapttyError(f"unsupported device '{name}' (use auto, cpu, cuda or cuda:N)")
    return device


def choose_dtype(device: torch.device, half: bool) -> torch.dtype:
    """bf16 on CUDA, fp32 on the CPU; `half` asks for fp16 (older GPUs)."""
    if half:
        return torch.float16
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def _local_files(folder: Path) -> dict:
    """The explicit file arguments for a local folder, so the loader never reaches the hub."""
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise CapttyError(f"'{folder}' has no config.json: not a checkpoint folder")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as e:
        raise CapttyError(f"cannot read '{config_path}': {e}") from None
    from moshi.models import loaders

    files = {
        "config_path": config_path,
        "moshi_weights": folder / config.get("moshi_name", loaders.MOSHI_NAME),
        "mimi_weights": folder / config.get("mimi_name", loaders.MIMI_NAME),
        "tokenizer": folder / config.get("tokenizer_name", loaders.TEXT_TOKENIZER_NAME),
    }
    if config.get("mimi_config_name"):
        files["mimi_config_path"] = folder / config["mimi_config_name"]
    if config.get("lora_name"):
        files["lora_weights"] = folder / config["lora_name"]
    return files


def _use_cache_if_hub_unreachable() -> None:
    """Without a route to the hub, go offline at once instead of retrying for half a minute."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or any(os.environ.get(v) for v in
                                       ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=5).close()
    except OSError:
        log.debug("%s cannot be reached: using the local cache only", url.hostname)
        constants.HF_HUB_OFFLINE = True


def _fetch_config(repo: str) -> Path | None:
    """The repository's config.json (None for a legacy repository without one)."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo, "config.json"))
    except LocalEntryNotFoundError:
        raise  # not in the cache and no network: a subclass of the one below, so first
    except EntryNotFoundError:
        return None


def _check_exists(path, what: str) -> None:
    if path is not None and not str(path).startswith("hf://") and not Path(path).is_file():
        raise CapttyError(f"{what} '{path}' does not exist")


def _folder_of(name: str) -> Path | None:
    """The local checkpoint folder `name` names (a path, or a bundled model), if any."""
    folder = Path(name).expanduser()
    if not folder.is_dir():
        folder = bundled_model(name) or folder
    return folder if folder.is_dir() else None


def _config_file(spec: ModelSpec) -> str:
    """Where the config was read, for messages."""
    name = spec.model or spec.hf_repo
    folder = _folder_of(name)
    return spec.config or (str(folder / "config.json") if folder else f"{name}:config.json")


def resolve_checkpoint(spec: ModelSpec):
    """The `CheckpointInfo` for a spec, fetching from the hub when it names a repository."""
    from huggingface_hub.errors import (EntryNotFoundError, GatedRepoError, LocalEntryNotFoundError,
                                        RepositoryNotFoundError)
    from moshi.models import loaders

    name = spec.model or spec.hf_repo
    overrides = {"moshi_weights": spec.moshi_weight, "mimi_weights": spec.mimi_weight,
                 "tokenizer": spec.tokenizer, "config_path": spec.config}
    for key, what in (("moshi_weights", "--moshi-weight"), ("mimi_weights", "--mimi-weight"),
                      ("tokenizer", "--tokenizer"), ("config_path", "--config")):
        _check_exists(overrides[key], what)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    folder = _folder_of(name)
    if folder is not None:
        files = _local_files(folder) | overrides
        for key in ("moshi_weights", "mimi_weights", "tokenizer", "mimi_config_path"):
            _check_exists(files.get(key), f"checkpoint file ({key})")
        repo = None
    elif name.count("/") == 1 and not name.startswith((".", "/", "~")):
        files, repo = dict(overrides), name
    else:
        raise CapttyError(f"model '{name}' is not a checkpoint folder, a bundled model "
                          f"({', '.join(bundled_models())}) or a hub repository name like "
                          "kyutai/stt-1b-en_fr")
    try:
        if repo is not None:
            _use_cache_if_hub_unreachable()
            if "config_path" not in files:
                files["config_path"] = _fetch_config(repo)
        # a local folder names every file, and moshi then needs no repository (None)
        return loaders.CheckpointInfo.from_hf_repo(repo, **files)  # type: ignore[arg-type]
    except LocalEntryNotFoundError:
        raise CapttyError(f"cannot fetch '{name}': {OFFLINE_HINT}") from None
    except (RepositoryNotFoundError, GatedRepoError):
        raise CapttyError(f"model '{name}' is not a repository on the hub (or it is private "
                          "or gated: log in with `hf auth login`)") from None
    except EntryNotFoundError as e:
        raise CapttyError(f"model '{name}' lacks a file it needs: {e}") from None
    except (ValueError, KeyError, OSError) as e:
        raise CapttyError(f"cannot read the checkpoint '{name}': {e}") from None


def load_model(spec: ModelSpec) -> LoadedModel:
    """Resolve, then build Mimi, the LM and the tokenizer on the chosen device and dtype.

    The work runs on the model thread, like everything else that touches the model.
    """
    from .model_thread import model_thread

    if spec.shape:
        from .bench_models import random_model

        given = [option for option, value in (
            ("--model", spec.model), ("--moshi-weight", spec.moshi_weight),
            ("--mimi-weight", spec.mimi_weight), ("--tokenizer", spec.tokenizer),
            ("--config", spec.config), ("--hf-repo", spec.hf_repo != DEFAULT_REPO)) if value]
        if given:
            raise CapttyError(f"--shape builds a random model: it does not go with "
                              f"{', '.join(given)}")

        return model_thread().call(random_model, spec.shape, spec.device, spec.half, spec.tiny)
    if spec.tiny:
        raise CapttyError("--tiny goes with --shape")
    return model_thread().call(_load, spec)


def cpu_threads() -> int:
    """PyTorch threads for the model on the CPU: all cores but one, which stays free for the
    event loop (decoding, the console). With every core in the step, OpenMP's spinning workers
    and a busy event loop slowed a tiny model's step from 4 to 150 ms on two cores.
    OMP_NUM_THREADS, when set, wins."""
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    return max(1, (os.cpu_count() or 1) - 1)


_NO_COMPILE: list = []  # the entered context, kept: dropping it would switch compiling back on


def _compile_off_for_good() -> None:
    from moshi.utils.compile import no_compile

    if not _NO_COMPILE:
        context = no_compile()
        context.__enter__()
        _NO_COMPILE.append(context)


def prepare_device(name: str) -> torch.device:
    """The device `name` names, made ready on the calling thread (the model thread)."""
    device = resolve_device(name)
    if device.type == "cpu":
        torch.set_num_threads(cpu_threads())  # on the model thread, where the steps run
        if not os.environ.get("CAPTTY_CPU_COMPILE"):
            # moshi torch.compiles a few small functions; on the CPU that took 10 s at the first
            # step and made the tiny model's steps slower (4.8 against 3.7 ms), so it is off
            # there for the process (reference loops in the same process run the same way)
            _compile_off_for_good()
    elif device.index is not None:  # CUDA graphs and timing events use the current device
        torch.cuda.set_device(device)
    return device


def _load(spec: ModelSpec) -> LoadedModel:
    device = prepare_device(spec.device)
    dtype = choose_dtype(device, spec.half)
    info = resolve_checkpoint(spec)
    name = spec.model or spec.hf_repo
    log.info("loading %s (%s) on %s, %s", name, info.model_type, device, dtype)
    config_file = _config_file(spec)
    problem = check_config(info.raw_config, config_file) if info.raw_config else None
    if problem:
        raise CapttyError(problem)
    stage = "mimi"
    failures = (RuntimeError, ValueError, KeyError, OSError, TypeError, AttributeError)
    try:
        mimi = info.get_mimi(device=device)
        stage = "tokenizer"
        tokenizer = info.get_text_tokenizer()
        stage = "lm"
        lm = info.get_moshi(device=device, dtype=dtype)
    except torch.cuda.OutOfMemoryError:
        raise CapttyError(f"not enough GPU memory to load '{name}' (try --half, or the CPU)") from None
    except failures as e:
        if stage == "mimi":
            named = (info.raw_config or {}).get("mimi_config_name")
            message = mimi_error(e, info.mimi_weights,
                                 Path(config_file).with_name(named) if named else None)
        elif stage == "tokenizer":
            message = tokenizer_error(e, info.tokenizer)
        else:
            message = lm_error(e, info.moshi_weights, config_file)
        raise CapttyError(message) from None
    if lm.text_card != tokenizer.vocab_size():
        log.warning("the LM's text vocabulary (%d) differs from the tokenizer's (%d)",
                    lm.text_card, tokenizer.vocab_size())
    return LoadedModel(name=name, info=info, mimi=mimi, lm=lm, tokenizer=tokenizer,
                       device=device, dtype=dtype)

"""Command-line options shared by the commands that load a model, and the one frozen object
they become (`StreamOptions`), which the console, the printer and the tests all take."""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import click

from captty.engine import DEFAULT_REPO, MODEL_SHAPES, CapttyError, ModelSpec, format_of

BACKLOG_BOUNDS = {"catch-up": 2.0, "keep": 20.0}  # seconds of audio waiting, at most
MAX_DEFAULT_SLOTS = 8  # many files at once: at most this many slots unless --batch-size says
BATCH_HELP = ("Batch slots: how many streams run at once. Default: one per input file, at most "
              f"{MAX_DEFAULT_SLOTS} (so 1 for one file or a microphone). With one input, each "
              "slot runs it: more slots give more samples of a model that samples (Hibiki).")


@dataclass(frozen=True)
class StreamOptions:
    """What a command asks of a stream, besides the model."""

    batch_size: int | None = None  # None: one slot per input, at most MAX_DEFAULT_SLOTS
    cfg_coef: float = 1.0
    max_tail: float = 30.0  # Hibiki: seconds to wait for EOS after the input
    outputs: tuple[str, ...] = ()  # transcript files
    fmt: str | None = None
    turn_threshold: float = 0.5
    reference: str | None = None  # a reference transcript file, for the WER
    speech_out: str | None = None  # Hibiki: the speech as WAV
    play: bool = False  # Hibiki: play the speech
    save_path: Path | None = None  # where the console saves the transcript
    no_tui: bool = False
    server: str | None = None  # ws://HOST:PORT: a server transcribes, not a local model
    api_key: str | None = None  # the server's key
    raw_format: str | None = None  # headerless PCM input: FORMAT:RATE:CHANNELS
    backlog: str | None = None  # "catch-up" or "keep" (None: catch up live, keep in a replay)
    max_backlog: float | None = None  # seconds (None: the policy's own bound)

    @classmethod
    def take(cls, kwargs: dict) -> "StreamOptions":
        """The options out of a command's keyword arguments (those it has)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: kwargs.pop(k) for k in list(kwargs) if k in names})

    def slots(self, inputs: int = 1) -> int:
        return self.batch_size or min(max(inputs, 1), MAX_DEFAULT_SLOTS)

    def backlog_bound(self, live: bool) -> float:
        """Seconds of audio that may wait for a model slower than real time before the oldest
        goes: catching up keeps the captions current, keeping lets the latency grow."""
        policy = self.backlog or ("catch-up" if live else "keep")
        return self.max_backlog or BACKLOG_BOUNDS[policy]

    def reference_text(self) -> str | None:
        """The reference transcript, read now (before a model loads) so a bad path fails early."""
        if not self.reference:
            return None
        try:
            return Path(self.reference).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise CapttyError(f"cannot read the reference '{self.reference}': "
                              f"{getattr(e, 'strerror', None) or e}") from None

    def check(self) -> None:
        """Before loading a model: the output formats are known and the reference reads."""
        for path in self.outputs:
            format_of(path, self.fmt)
        self.reference_text()


def model_options(f):
    """The model options of moshi's run_inference.py, plus --model."""
    options = [
        click.option("--model", "model", metavar="PATH_OR_REPO",
                     help="A local checkpoint folder (laid out like a hub repository), a bundled "
                          "model (tiny-stt, ...) or a hub repository; overrides --hf-repo."),
        click.option("--hf-repo", default=DEFAULT_REPO, show_default=True,
                     help="Hub repository to take the model from."),
        click.option("--moshi-weight", help="Local file (or hf://repo/file) of the LM weights."),
        click.option("--mimi-weight", help="Local file (or hf://repo/file) of the Mimi weights."),
        click.option("--tokenizer", help="Local file (or hf://repo/file) of the text tokenizer."),
        click.option("--config", "--lm-config", "config", help="The model config as a json file."),
        click.option("--device", default="auto", show_default=True,
                     help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N."),
        click.option("--half", is_flag=True, help="float16 instead of bfloat16 (older GPUs)."),
        click.option("--shape", type=click.Choice(list(MODEL_SHAPES)),
                     help="A random-initialised model of this real shape instead of a checkpoint "
                          "(no download): smoke-tests a GPU box; its words are noise."),
        click.option("--tiny", is_flag=True,
                     help="With --shape: shrink the LM (dim 64, 2 layers) so a CPU runs it "
                          "quickly."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def spec_from(kwargs: dict) -> ModelSpec:
    """The ModelSpec of the model options, taken out of a command's keyword arguments."""
    return ModelSpec(model=kwargs.pop("model"), hf_repo=kwargs.pop("hf_repo"),
                     moshi_weight=kwargs.pop("moshi_weight"), mimi_weight=kwargs.pop("mimi_weight"),
                     tokenizer=kwargs.pop("tokenizer"), config=kwargs.pop("config"),
                     device=kwargs.pop("device"), half=kwargs.pop("half"),
                     shape=kwargs.pop("shape"), tiny=kwargs.pop("tiny"))


def stream_options(f):
    """Batch, guidance and Hibiki's tail."""
    options = [
        click.option("--batch-size", type=click.IntRange(min=1), default=None, help=BATCH_HELP),
        click.option("--cfg-coef", type=float, default=1.0, show_default=True,
                     help="Classifier-free guidance coefficient (Hibiki)."),
        click.option("--max-tail", type=click.FloatRange(min=0.0), default=30.0,
                     show_default=True, help="Hibiki: seconds of silence to wait for EOS after "
                                             "the input ends."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def server_options(f):
    """A remote server instead of a local model (`captty serve`, or Kyutai's moshi-server)."""
    options = [
        click.option("--server", metavar="ws://HOST:PORT",
                     help="Transcribe on this server (captty serve, or Kyutai's moshi-server) "
                          "instead of a local model; the model options are then unused."),
        click.option("--api-key", envvar="CAPTTY_API_KEY", metavar="KEY",
                     help="The server's API key (also from CAPTTY_API_KEY)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


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


def input_options(f):
    """How to read the input: `-` is standard input; raw PCM has no header to say its format."""
    return click.option("--raw-format", metavar="FORMAT:RATE:CHANNELS",
                        help="The input is headerless PCM, e.g. s16le:24000:1 (formats: s16le, "
                             "s16be, s32le, f32le, f64le, u8, s8).")(f)


def backlog_options(f):
    """What to do when the model falls behind real time (a slow CPU, a big model)."""
    options = [
        click.option("--backlog", type=click.Choice(["catch-up", "keep"]),
                     help="catch-up (live's default): drop the oldest audio to stay current, at "
                          f"most {BACKLOG_BOUNDS['catch-up']:g} s behind; keep (a replay's "
                          "default): every frame, the latency growing up to "
                          f"{BACKLOG_BOUNDS['keep']:g} s, beyond which the oldest goes all the "
                          "same."),
        click.option("--max-backlog", type=click.FloatRange(min=0.1), metavar="SECONDS",
                     help="The bound of --backlog, in seconds of audio."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


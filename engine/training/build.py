"""The seeded build of `assets/models/demo-stt/`: speech, then Mimi, then codes, then the LM.

Every random choice comes from one seed; torch runs on a fixed number of threads (float sums
depend on it), so a rebuild on the same machine repeats the same figures. The checkpoint is
written in the Kyutai layout and loads like any other: `config.json` (greedy `lm_gen_config`,
`stt_config`), `model.safetensors`, `mimi.safetensors`, `mimi_config.json`, `tokenizer.model`.
"""
from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..checkpoint_builder import FILES
from . import corpus
from .lm import Example, build_lm, lm_kwargs, text_targets, train_lm, turn_targets
from .mimi import train_mimi
from .speech import SAMPLE_RATE
from .streams import SpeechPools, compose

ASSETS = Path(__file__).resolve().parent.parent.parent / "assets"
MODEL_DIR = ASSETS / "models" / "demo-stt"
PREFIX_SECONDS = 1.0  # the engine's silence before a file (`stt_config`), as Kyutai's STT models
THREADS = 1  # with two, a busy neighbour stalls every OpenMP barrier (steps 20x slower under load)


@dataclass(frozen=True)
class Recipe:
    """How much of everything; `quick()` is a smoke-test size."""

    seed: int = 12
    # seconds the text lags the audio (`stt_config`): 0.5 s, as tiny-stt and kyutai/stt-1b-en_fr,
    # means the model has heard most of a word (and 0.1 to 0.4 s of what follows) when it writes it
    delay: float = 0.5
    word_voices: int = 500  # voices that say every vocabulary word alone
    sentences: int = 16000  # continuous sentences
    mimi_steps: int = 2500
    mimi_batch: int = 16
    mimi_frames: int = 8
    mimi_filters: int = 8  # SEANet's first width (it doubles at each of the 4 downsamplings)
    mimi_dim: int = 64  # the latent the quantizer and the transformer work on
    short_streams: int = 20000  # 8 s streams (100 frames)
    long_streams: int = 3000  # 16 s streams (200 frames), with room for long silences
    lm_steps: int = 6000
    lm_batch: int = 16

    @classmethod
    def quick(cls) -> "Recipe":
        return cls(word_voices=12, sentences=150, mimi_steps=160, short_streams=200, long_streams=40,
                   lm_steps=60)


def train_tokenizer() -> bytes:
    """A sentencepiece word model: one token a vocabulary word, Kyutai's special ids
    (unk 0, which is also the end-of-padding token, bos 1, eos 2, pad 3)."""
    import sentencepiece as spm

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([" ".join(corpus.VOCABULARY)] * 4), model_writer=out, model_type="word",
        vocab_size=len(corpus.VOCABULARY) + 4, character_coverage=1.0, num_threads=1,
        normalization_rule_name="identity", unk_id=0, bos_id=1, eos_id=2, pad_id=3, minloglevel=2)
    return out.getvalue()


def word_tokens(tokenizer: bytes) -> list[int]:
    """The token of each vocabulary word, in `corpus.VOCABULARY` order."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_proto=tokenizer)
    tokens = [sp.piece_to_id("▁" + w) for w in corpus.VOCABULARY]
    assert all(t > 3 for t in tokens) and len(set(tokens)) == len(tokens)
    return tokens


_SHARED: dict = {}  # what forked workers of `make_examples` read


def _examples(task: tuple[int, int, int, int]) -> list[Example]:
    """Streams `first .. first + count - 1` of a kind, each from its own seed, so the result
    does not depend on how the work is split between processes."""
    seed, kind, first, count = task
    pools, mimi, tokens, frames, delay = (_SHARED[k] for k in ("pools", "mimi", "tokens", "frames", "delay"))
    prefix = int(PREFIX_SECONDS * SAMPLE_RATE)
    torch.set_num_threads(1)
    out = []
    with torch.no_grad():
        for k in range(first, first + count):
            stream = compose(np.random.default_rng([seed, kind, k]), pools, frames * 1920, prefix)
            codes = mimi.encode(torch.from_numpy(stream.audio)[None, None])[0].numpy().astype(np.int16)
            text = text_targets(stream.onsets, [tokens[w] for w in stream.words], frames, delay)
            out.append(Example(codes, text, turn_targets(stream.speech, frames)))
    return out


def make_examples(pools: SpeechPools, mimi, seed: int, tokens: list[int], count: int, frames: int,
                  delay: float, processes: int = 2) -> list[Example]:
    """Streams as the engine feeds them, encoded one at a time (Mimi's small convolutions run
    several times faster on one stream than on a batch that leaves the cache), in `processes`
    forked workers."""
    import multiprocessing

    _SHARED.update(pools=pools, mimi=mimi, tokens=tokens, frames=frames, delay=delay)
    chunk = 100
    tasks = [(seed, frames, first, min(chunk, count - first)) for first in range(0, count, chunk)]
    try:  # the workers set their own thread count, which the parent keeps
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            parts = pool.map(_examples, tasks)
    finally:
        _SHARED.clear()
    return [ex for part in parts for ex in part]


def save(folder: Path, lm, mimi, mimi_config: dict, tokenizer: bytes, text_card: int, delay: float) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in lm.state_dict().items()}, folder / FILES["moshi_name"])
    save_file({k: v.contiguous() for k, v in mimi.state_dict().items()}, folder / FILES["mimi_name"])
    (folder / FILES["tokenizer_name"]).write_bytes(tokenizer)
    (folder / FILES["mimi_config_name"]).write_text(json.dumps(mimi_config, indent=2) + "\n")
    stt_config = {"audio_silence_prefix_seconds": PREFIX_SECONDS, "audio_delay_seconds": delay}
    config = lm_kwargs(text_card) | FILES | {
        "model_type": "stt", "lm_gen_config": {"temp": 0.0, "temp_text": 0.0}, "stt_config": stt_config}
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def build(folder: Path = MODEL_DIR, recipe: Recipe = Recipe(), log=print) -> float:
    """Builds the model into `folder`; returns the seconds it took."""
    from moshi.utils.compile import no_compile

    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        with no_compile():  # moshi compiles a few small functions; on the CPU that is slower
            _build(folder, recipe, log, start)
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - start
    log(f"built {folder} in {seconds:.0f} s")
    return seconds


def _build(folder: Path, recipe: Recipe, log, start: float) -> None:
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    tokenizer = train_tokenizer()
    tokens = word_tokens(tokenizer)
    pools = SpeechPools.build(rng, recipe.word_voices, recipe.sentences)
    log(f"speech: {recipe.word_voices} voices x {len(corpus.VOCABULARY)} words, "
        f"{recipe.sentences} sentences, {time.perf_counter() - start:.0f} s")
    mimi, mimi_config = train_mimi(pools, rng, recipe.mimi_steps, recipe.mimi_batch, recipe.mimi_frames,
                                   recipe.mimi_filters, recipe.mimi_dim, log=log)
    examples = (make_examples(pools, mimi, recipe.seed, tokens, recipe.short_streams, 100, recipe.delay)
                + make_examples(pools, mimi, recipe.seed, tokens, recipe.long_streams, 200, recipe.delay))
    log(f"codes: {len(examples)} streams, {time.perf_counter() - start:.0f} s")
    del pools
    lm = build_lm(len(corpus.VOCABULARY) + 4, recipe.seed)
    train_lm(lm, examples, rng, recipe.lm_steps, recipe.lm_batch, log=log)
    save(folder, lm, mimi, mimi_config, tokenizer, len(corpus.VOCABULARY) + 4, recipe.delay)

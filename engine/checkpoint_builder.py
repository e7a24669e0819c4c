"""Tiny, deterministic, random-initialised checkpoints laid out like Kyutai's hub repositories.

`build_stt` makes a model shaped like kyutai/stt-1b-en_fr (text only, semantic-VAD extra heads)
and `build_hibiki` one shaped like Hibiki (speech out, depformer, LUT conditioner for
classifier-free guidance). Both are built with moshi's own classes, so
`moshi.models.loaders.CheckpointInfo.from_hf_repo(None, moshi_weights=..., mimi_weights=...,
tokenizer=..., config_path=..., mimi_config_path=...)` loads them. The weights are untrained:
the text they produce is noise, but every code path (delays, CFG, extra heads, EOS) runs;
tiny-hibiki is hand-wired to sample EOS right after the end-of-input step (see
`wire_end_of_input_eos`), so a translation ends as a real one does, and tiny-stt is hand-wired
to write its text stream the way a real STT does (padding, then an end-of-padding token before
each word, silence transcribed to nothing; see `wire_word_stream`), so words and their
timestamps exist end to end.

Mimi's codebooks are calibrated with the quantizer's own k-means initialisation on the latents
of real recordings, so that different audio gives different codes. The same inputs always give
byte-identical files.

    python -m captty.engine.checkpoint_builder [OUTDIR] [--audio WAV ...]

With no arguments it rebuilds assets/models from the bundled assets/audio recordings.
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import time
from pathlib import Path

import torch

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_AUDIO = [ASSETS / "audio" / "demo-en.wav", ASSETS / "audio" / "demo-fr.wav"]
FILES = {"moshi_name": "model.safetensors", "mimi_name": "mimi.safetensors",
         "tokenizer_name": "tokenizer.model", "mimi_config_name": "mimi_config.json"}
VOCAB_SIZE = 320
CODEBOOKS = 8
BINS = 256

CORPUS = """\
Hello and welcome to captty, a console for live speech transcription.
This console turns live speech into text as you speak.
The quick brown fox jumps over the lazy dog near the river bank.
Could you please repeat the last sentence a little more slowly?
We are going to the market tomorrow morning to buy fresh bread and cheese.
The weather today is sunny with a light breeze coming from the west.
Streaming models read audio one frame at a time and answer with very little delay.
My phone number is five five five, one two three, four five six seven.
She said that the meeting would start at nine thirty sharp.
Thank you very much for listening, and have a wonderful evening.
Machine translation keeps the voice of the speaker while changing the language.
Speech recognition works best with a good microphone and a quiet room.
In nineteen sixty nine, the first people walked on the moon.
How many languages do you speak, and which one did you learn first?
The children were playing football in the park after school.
Please turn off your computer before you leave the office tonight.
I think the train to London leaves from platform number four.
Good morning everyone, let us begin with a short summary of last week.
The library opens at ten on weekdays and closes early on Sunday.
Turn left at the second traffic light, then keep going straight ahead.
Our team finished the project two days before the deadline.
Can you hear me clearly, or should I move closer to the microphone?
Seven hundred and fifty people attended the concert last Friday night.
Bonjour, ceci est une démonstration de traduction en direct avec Hibiki.
Je voudrais un café et un croissant, s'il vous plaît.
La réunion commencera à neuf heures et demie précises.
Nous allons au marché demain matin pour acheter du pain frais.
Il fait beau aujourd'hui, avec un léger vent qui vient de l'ouest.
Pouvez-vous répéter la dernière phrase un peu plus lentement ?
Les enfants jouaient au football dans le parc après l'école.
Merci beaucoup de votre attention et bonne soirée à tous.
La traduction automatique garde la voix de la personne qui parle.
La reconnaissance de la parole fonctionne mieux dans une pièce calme.
Où se trouve la gare la plus proche, s'il vous plaît ?
Elle a dit que le train pour Paris partirait du quai numéro quatre.
Mon numéro de téléphone est le zéro six, douze, trente-quatre, cinquante-six.
Les modèles en continu lisent le son trame par trame, avec très peu de retard.
J'aime beaucoup lire des romans policiers pendant les vacances d'été.
Le chat dort sur le canapé pendant que le chien garde la maison.
Quelle heure est-il ? Il est déjà midi, nous sommes en retard.
Bienvenue à tous, commençons par un court résumé de la semaine dernière.
La bibliothèque ouvre à dix heures en semaine et ferme tôt le dimanche.
Tournez à gauche au deuxième feu, puis continuez tout droit.
Notre équipe a terminé le projet deux jours avant la date limite.
M'entendez-vous bien, ou dois-je me rapprocher du micro ?
Sept cent cinquante personnes ont assisté au concert vendredi soir.
"""


def train_tokenizer(vocab_size: int = VOCAB_SIZE) -> bytes:
    """A sentencepiece unigram model with Kyutai's ids (unk 0, bos 1, eos 2, pad 3)."""
    import sentencepiece as spm

    spm.set_random_generator_seed(1234)
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS.splitlines()), model_writer=out, model_type="unigram",
        vocab_size=vocab_size, character_coverage=1.0, num_threads=1,
        normalization_rule_name="identity",  # no 240 KB NFKC table in the file
        unk_id=0, bos_id=1, eos_id=2, pad_id=3, minloglevel=2)
    return out.getvalue()


def mimi_config() -> dict:
    """A tiny Mimi: the real 24 kHz / 12.5 Hz framing (1920 samples), small everything else."""
    dim = 32
    return {
        "sample_rate": 24000, "channels": 1, "frame_rate": 12.5,
        "seanet": {"channels": 1, "dimension": dim, "causal": True, "n_filters": 4,
                   "n_residual_layers": 1, "activation": "ELU", "compress": 2, "dilation_base": 2,
                   "disable_norm_outer_blocks": 0, "kernel_size": 7, "residual_kernel_size": 3,
                   "last_kernel_size": 3, "norm": "none", "pad_mode": "constant",
                   "ratios": [8, 6, 5, 4], "true_skip": True},
        "quantizer": {"dimension": 16, "n_q": CODEBOOKS, "bins": BINS,
                      "input_dimension": dim, "output_dimension": dim},
        "transformer": {"d_model": dim, "num_heads": 2, "num_layers": 1, "causal": True,
                        "layer_scale": 0.01, "context": 250, "conv_layout": True,
                        "max_period": 10000, "gating": "none", "norm": "layer_norm",
                        "positional_embedding": "rope", "dim_feedforward": 64,
                        "input_dimension": dim, "output_dimensions": [dim]},
    }


def _load_audio(paths: list[Path], sample_rate: int) -> list[torch.Tensor]:
    import sphn

    out = []
    for path in paths:
        pcm, _ = sphn.read(str(path), sample_rate=sample_rate)
        out.append(torch.from_numpy(pcm[:1]).float()[None])  # [1, 1, T], first channel
    return out


@torch.no_grad()
def calibrate_mimi(mimi, audio: list[torch.Tensor], rounds: int = 12) -> None:
    """Fills the empty codebooks with the quantizer's k-means init on latents of `audio`.

    Each residual level initialises one call after the previous one, so `rounds` must exceed
    the number of codebooks. Time shifts and gains multiply the number of latent frames.
    """
    pieces = []
    for pcm in audio:
        for shift in range(0, mimi.frame_size, 160):
            for gain in (1.0, 0.5):
                pieces.append(mimi._encode_to_unquantized_latent(gain * pcm[..., shift:]))
    latents = torch.cat(pieces, dim=-1)
    mimi.quantizer.train()
    for _ in range(rounds):
        mimi.quantizer(latents, mimi.frame_rate)
    mimi.quantizer.eval()
    codes = mimi.quantizer.encode(latents)
    assert all(codes[0, k].unique().numel() > 1 for k in range(codes.shape[1])), "calibration failed"


@torch.no_grad()
def wire_end_of_input_eos(lm, eos_id: int = 2, dim: int = 0, big: float = 1000.0) -> None:
    """Makes a random Hibiki sample EOS right after the end-of-input step, and never earlier.

    Untrained weights never sample EOS by themselves, so a run would not end. Residual
    dimension `dim` is wired as a trigger: only the first input codebook's `card` code
    (end of input) writes to it, cancelled on step 0 (where that code is the initial token)
    by the text initial token; every other writer is zeroed and the EOS logit reads only it.
    """
    for emb in [*lm.emb, lm.text_emb]:
        emb.weight[:, dim] = 0
    for layer in lm.transformer.layers:
        for proj in layer.self_attn.out_projs:
            proj.weight[dim] = 0
        layer.gating.linear_out.weight[dim] = 0
    for cond in lm.condition_provider.conditioners.values():
        cond.output_proj.weight[dim] = 0
        cond.learnt_padding[..., dim] = 0
    lm.emb[lm.dep_q].weight[lm.card, dim] = big
    lm.text_emb.weight[lm.text_card, dim] = -big
    lm.text_linear.weight[eos_id] = 0
    lm.text_linear.weight[eos_id, dim] = 10.0


# tiny-stt's text stream: the logits of padding (3) and end of padding (0) read two residual
# dimensions that only the embeddings write: one row per previous text token, plus one per
# code of the first audio codebook. Every decision has a margin of at least 0.5 (tens of logits),
# far above the random logits of word pieces (a few units), which win only when both control
# scores are below -0.5. So where words start depends on the audio and the previous token only.
PAD_DIM, BOUNDARY_DIM, ONE_DIM, SILENCE_DIM = 0, 1, 2, 3
TURN_HEAD, TURN_GAIN = 2, 60.0  # the extra head Kyutai's scripts read for end of turn
CONTROL_SCALE, CONTROL_GAIN = 0.1, 100.0  # small in the residual, large in the logits
# (padding score, boundary score) added by the previous text token...
AFTER_BOUNDARY, AFTER_PIECE, AFTER_PADDING = (-2.0, -3.0), (1.0, -3.0), (2.2, 0.0)
# ... and by the audio frame: silence, and three kinds of speech codes (with their shares)
SILENT, HOLD, TRIGGER, CONTINUE = (1.0, -1.0), (0.5, -1.0), (-0.5, 2.5), (-1.7, -1.0)
SPEECH_KINDS = ((TRIGGER, 0.3), (CONTINUE, 0.2), (HOLD, 0.5))


@torch.no_grad()
def silent_codes(mimi, audio: list[torch.Tensor]) -> set[int]:
    """First-codebook codes of all-zero frames: 1 s before each recording, 2 s after, and any
    digital silence inside, encoded frame by frame as the engine feeds them."""
    n, codes = mimi.frame_size, set()
    for pcm in audio:
        pcm = pcm[..., : pcm.shape[-1] // n * n]
        padded = torch.cat([torch.zeros(1, 1, 24000 // n * n), pcm, torch.zeros(1, 1, 48000 // n * n)], -1)
        with mimi.streaming(1):
            for frame in padded.split(n, dim=-1):
                code = int(mimi.encode(frame)[0, 0, 0])
                if not frame.any():
                    codes.add(code)
    return codes


@torch.no_grad()
def wire_word_stream(lm, silent: set[int], seed: int = 5) -> None:
    """Makes a random STT write its text as a real one does: padding on most steps, an
    end-of-padding token when a speech frame of the "trigger" kind comes while padding, always a
    word piece right after it, sometimes a second piece, never BOS or EOS, and silence only
    padding. Its end-of-turn head (semantic VAD) says "the turn is over" on silent frames and
    not on speech (a real one waits for a pause of about 2 s: this one has no memory).
    Deterministic: the kinds of the speech codes are drawn from `seed`."""
    dims = (PAD_DIM, BOUNDARY_DIM, ONE_DIM, SILENCE_DIM)
    for layer in lm.transformer.layers:  # nothing but the embeddings writes the control dims
        for proj in layer.self_attn.out_projs:
            proj.weight[list(dims)] = 0
        layer.gating.linear_out.weight[list(dims)] = 0
    for emb in lm.emb:
        emb.weight[:, list(dims)] = 0
    text = lm.text_emb.weight
    text[:, SILENCE_DIM] = 0
    text[:, ONE_DIM] = CONTROL_SCALE
    text[:, [PAD_DIM, BOUNDARY_DIM]] = CONTROL_SCALE * torch.tensor(AFTER_PIECE)
    for token in (1, 2, 3, lm.text_card):  # bos, eos, padding, the initial token
        text[token, [PAD_DIM, BOUNDARY_DIM]] = CONTROL_SCALE * torch.tensor(AFTER_PADDING)
    text[0, [PAD_DIM, BOUNDARY_DIM]] = CONTROL_SCALE * torch.tensor(AFTER_BOUNDARY)
    audio = lm.emb[0].weight
    draws = torch.rand(audio.shape[0], generator=torch.Generator().manual_seed(seed))
    for code in range(audio.shape[0]):
        if code in silent or code >= lm.card:  # silence, and the initial token
            kind = SILENT
        else:
            edge = 0.0
            for kind, share in SPEECH_KINDS:  # noqa: B007 (the kind drawn is the one kept)
                edge += share
                if draws[code] < edge:
                    break
        audio[code, [PAD_DIM, BOUNDARY_DIM]] = CONTROL_SCALE * torch.tensor(kind)
        audio[code, SILENCE_DIM] = CONTROL_SCALE * (1.0 if kind == SILENT else -1.0)
    out = lm.text_linear.weight
    out[:, list(dims)] = 0
    out[[0, 1, 2, 3]] = 0
    out[3, PAD_DIM] = CONTROL_GAIN
    out[0, BOUNDARY_DIM] = CONTROL_GAIN
    out[[1, 2], ONE_DIM] = -CONTROL_GAIN  # bos and eos: never
    turn = lm.extra_heads[TURN_HEAD].weight  # softmax over 6; element 0 is "turn over"
    turn[:] = 0
    turn[0, SILENCE_DIM] = TURN_GAIN


def _build(outdir: Path, name: str, lm_kwargs: dict, extra: dict, audio: list[Path],
           seed: int, tokenizer: bytes) -> None:
    from moshi.models import loaders
    from safetensors.torch import save_file

    folder = outdir / name
    folder.mkdir(parents=True, exist_ok=True)
    config = copy.deepcopy(lm_kwargs) | FILES | extra  # get_conditioner mutates its input
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # float reductions (k-means) depend on the thread count
    try:
        torch.manual_seed(seed)
        lm = loaders.get_moshi_lm(None, lm_kwargs, device="cpu", dtype=torch.float32)
        if extra["model_type"] == "hibiki":
            wire_end_of_input_eos(lm)
        mconf = mimi_config()
        mimi = loaders.get_mimi(None, mconf, device="cpu", num_codebooks=CODEBOOKS)
        pcms = _load_audio(audio, mimi.sample_rate)
        calibrate_mimi(mimi, pcms)
        if extra["model_type"] == "stt":
            wire_word_stream(lm, silent_codes(mimi, pcms))
    finally:
        torch.set_num_threads(threads)
    save_file({k: v.contiguous() for k, v in lm.state_dict().items()}, folder / FILES["moshi_name"])
    save_file({k: v.contiguous() for k, v in mimi.state_dict().items()}, folder / FILES["mimi_name"])
    (folder / FILES["tokenizer_name"]).write_bytes(tokenizer)
    (folder / FILES["mimi_config_name"]).write_text(json.dumps(mconf, indent=2) + "\n")
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def _lm_base(vocab: int, n_q: int, dep_q: int) -> dict:
    from moshi.models import loaders

    kwargs = dict(loaders._lm_kwargs)
    kwargs.update(dim=64, num_heads=2, num_layers=2, hidden_scale=2, text_card=vocab, card=BINS,
                  n_q=n_q, dep_q=dep_q, context=250, max_period=100000, depformer_dim=64,
                  depformer_num_heads=2, depformer_num_layers=1, depformer_dim_feedforward=128,
                  depformer_context=max(dep_q, 1))
    return kwargs


def build_stt(outdir: Path, calibration_audio: list[Path], tokenizer: bytes | None = None) -> None:
    """tiny-stt: shaped like kyutai/stt-1b-en_fr (dep_q 0, 4 extra heads of 6, greedy)."""
    tokenizer = tokenizer or train_tokenizer()
    kwargs = _lm_base(VOCAB_SIZE, n_q=8, dep_q=0)
    kwargs.update(delays=[0] * 9, extra_heads_num_heads=4, extra_heads_dim=6)
    extra = {"model_type": "stt", "lm_gen_config": {"temp": 0.0, "temp_text": 0.0},
             # 1.0 s is 12.5 frames: not a whole number of frames, on purpose.
             "stt_config": {"audio_silence_prefix_seconds": 1.0, "audio_delay_seconds": 0.5}}
    _build(outdir, "tiny-stt", kwargs, extra, calibration_audio, seed=1, tokenizer=tokenizer)


def build_hibiki(outdir: Path, calibration_audio: list[Path], tokenizer: bytes | None = None) -> None:
    """tiny-hibiki: shaped like Hibiki (dep_q 4 of n_q 8, delays 0/2, LUT condition, sampling)."""
    tokenizer = tokenizer or train_tokenizer()
    kwargs = _lm_base(VOCAB_SIZE, n_q=8, dep_q=4)
    kwargs.update(
        delays=[0, 0] + [2] * 3 + [0] + [2] * 3,
        conditioners={"description": {"type": "lut", "lut": {
            "n_bins": 31, "dim": 16, "tokenizer": "noop",
            "possible_values": ["very_bad", "bad", "neutral", "good", "very_good"]}}},
        fuser={"sum": ["description"]})
    extra = {"model_type": "hibiki",
             "lm_gen_config": {"temp": 0.8, "temp_text": 0.8, "top_k": 250, "top_k_text": 50}}
    _build(outdir, "tiny-hibiki", kwargs, extra, calibration_audio, seed=2, tokenizer=tokenizer)


def build_all(outdir: Path, calibration_audio: list[Path]) -> None:
    """Both models, sharing one tokenizer, in `outdir`/tiny-stt and `outdir`/tiny-hibiki."""
    tokenizer = train_tokenizer()
    build_stt(outdir, calibration_audio, tokenizer)
    build_hibiki(outdir, calibration_audio, tokenizer)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m captty.engine.checkpoint_builder",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?", type=Path, default=ASSETS / "models",
                        help="where tiny-stt/ and tiny-hibiki/ go (default: assets/models)")
    parser.add_argument("--audio", action="append", type=Path,
                        help="calibration recording (repeatable; default: assets/audio/demo-*.wav)")
    args = parser.parse_args(argv)
    audio = args.audio or DEFAULT_AUDIO
    start = time.perf_counter()
    build_all(args.outdir, audio)
    print(f"built {args.outdir}/tiny-stt and tiny-hibiki in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

"""python -m captty.engine.training build | evaluate | recordings

- `build`: trains `assets/models/demo-stt/` from nothing (seeded, PyTorch on one thread; 55
  minutes on two cores that two other builds shared), then runs `evaluate` on it in a fresh
  process;
- `evaluate`: prints the issue's figures for a checkpoint next to its training time;
- `recordings`: writes the bundled held-out recordings and their JSON to `assets/audio/`.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from .build import MODEL_DIR, THREADS, Recipe, build

TRAINING_FILE = "training.json"


def _evaluate(folder: Path, files: int) -> None:
    import torch
    from moshi.utils.compile import no_compile

    from .. import ModelSpec, load_model
    from .evaluate import report, score, transcribe
    from .heldout import held_out_sets

    start = time.perf_counter()
    sets = held_out_sets(files=files)  # first, in a fresh process: eSpeak's output depends on its past
    model = load_model(ModelSpec(model=str(folder), device="cpu"))
    torch.set_num_threads(THREADS)
    lines = []
    with no_compile():
        for name, recordings in sets.items():
            transcripts = transcribe(model, [r.samples for r in recordings])
            s = score(recordings, transcripts)
            lines += report(name, s)
            if name == "silence":
                lines.append(f"  words invented in 10 s of silence or low noise after speech: {s.invented} "
                             f"(in {len(recordings)} files)")
    info = folder / TRAINING_FILE
    trained = json.loads(info.read_text()) if info.is_file() else {}
    print(f"model {folder}: trained in {trained.get('seconds', float('nan')) / 60:.1f} min "
          f"({trained.get('threads', '?')} threads, seed {trained.get('seed', '?')}); "
          f"checkpoint {sum(p.stat().st_size for p in folder.iterdir()) / 1e6:.2f} MB")
    print("\n".join(lines))
    print(f"(evaluated in {time.perf_counter() - start:.0f} s)")


def _recordings(out: Path) -> None:
    from .bundled_audio import write_bundled

    write_bundled(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m captty.engine.training",
                                     description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="train assets/models/demo-stt (seeded), then evaluate it")
    b.add_argument("--out", type=Path, default=MODEL_DIR)
    b.add_argument("--quick", action="store_true", help="a tiny recipe, to try the pipeline")
    b.add_argument("--no-evaluate", action="store_true")
    e = sub.add_parser("evaluate", help="print the issue's figures for a checkpoint")
    e.add_argument("--model", type=Path, default=MODEL_DIR)
    e.add_argument("--files", type=int, default=40, help="files per held-out set")
    r = sub.add_parser("recordings", help="write the bundled held-out recordings")
    r.add_argument("--out", type=Path, default=MODEL_DIR.parent.parent / "audio")
    args = parser.parse_args(argv)
    if args.command == "build":
        recipe = Recipe.quick() if args.quick else Recipe()
        seconds = build(args.out, recipe)
        (args.out / TRAINING_FILE).write_text(json.dumps(
            {"seconds": round(seconds), "threads": THREADS, "seed": recipe.seed,
             "command": "python -m captty.engine.training build"}, indent=1) + "\n")
        if not args.no_evaluate:
            subprocess.run([sys.executable, "-m", "captty.engine.training", "evaluate",
                            "--model", str(args.out)], check=True)
    elif args.command == "evaluate":
        _evaluate(args.model, args.files)
    else:
        _recordings(args.out)


if __name__ == "__main__":
    main()

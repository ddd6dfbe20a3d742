"""Copy a trained model folder into resources/models/ as a bundled model, with its music note.

Copies the weights, ``config.json`` and the latent PCA (not the resume checkpoint), replaces the
build machine's absolute paths by repository-relative ones, and writes ``SOURCES.md``: the music
it learnt from, its authors and licences (from ``bench-out/real_music/SOURCES.md``), and the
command that trained it. ``--classifier`` instead tidies the paths of a classifier trained into
``resources/models/NAME/classifier``.

Example::

    python scripts/bundle_model.py bench-out/models/celcodec4-real celcodec4-real \\
        --sources bench-out/real_music/SOURCES.md
    python scripts/bundle_model.py --classifier celcodec4-real
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.atomic import atomic_write_text  # noqa: E402

MODELS = ROOT / "resources" / "models"
FILES = ("model.safetensors", "latent_pca.safetensors", "latent_pca.json")


def _relative(path: str) -> str:
    p = Path(path)
    return str(p.resolve().relative_to(ROOT)) if p.is_absolute() and p.resolve().is_relative_to(
        ROOT) else path


def training_command(meta: dict, data: str) -> str:
    t = meta.get("summary", {}).get("training", {})
    parts = [f"celae train {data} --arch {t.get('arch')}", f"--crop {t.get('crop')}",
             f"--batch-size {t.get('batch_size')}", f"--lr {t.get('lr')}"]
    if t.get("grad_clip"):
        parts.append(f"--grad-clip {t['grad_clip']:g}")
    if t.get("ema"):
        parts.append(f"--ema {t['ema']:g}")
    if t.get("max_minutes"):
        parts.append(f"--minutes {t['max_minutes']:g}")
    if t.get("threads"):
        parts.append(f"--threads {t['threads']}")
    if t.get("loss") not in (None, "auto"):
        parts.append(f"--loss {t['loss']}")
    parts.append(f"--valid-fraction {t.get('valid_fraction')}")
    return " ".join(parts) + " --out MODEL_DIR"


def bundle(src: Path, name: str, sources: Path, data: str) -> Path:
    dest = MODELS / name
    if dest.resolve() == src.resolve():
        raise SystemExit(f"{src}: already the bundled folder")
    dest.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        if (src / f).is_file():
            shutil.copyfile(src / f, dest / f)
    meta = json.loads((src / "config.json").read_text(encoding="utf-8"))
    training = meta.get("summary", {}).get("training", {})
    training["out_dir"] = f"resources/models/{name}"
    summary = meta.get("summary", {})
    atomic_write_text(dest / "config.json", json.dumps(meta, indent=2))
    note = sources.read_text(encoding="utf-8")
    note += (f"\nTrained by `{training_command(meta, data)}` ({summary.get('train_minutes')} "
             f"minutes, {summary.get('steps')} optimiser steps, {summary.get('epochs_run')} "
             f"epochs; best validation epoch {summary.get('best_epoch')}).\n")
    atomic_write_text(dest / "SOURCES.md", note)
    return dest


def tidy_classifier(name: str) -> Path:
    folder = MODELS / name / "classifier"
    meta = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    meta["autoencoder"]["path"] = f"resources/models/{name}"
    meta["autoencoder"]["relative_path"] = ".."
    extra = meta.get("extra", {})
    if "dataset" in extra:
        extra["dataset"] = _relative(extra["dataset"])
    atomic_write_text(folder / "config.json", json.dumps(meta, indent=2))
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", nargs="?", help="trained model folder")
    ap.add_argument("name", nargs="?", help="bundled model name (folder under resources/models/)")
    ap.add_argument("--sources", default=str(ROOT / "bench-out" / "real_music" / "SOURCES.md"))
    ap.add_argument("--data", default="bench-out/real_music/train",
                    help="the training data, as the note's command names it")
    ap.add_argument("--classifier", metavar="NAME",
                    help="tidy resources/models/NAME/classifier instead")
    args = ap.parse_args(argv)
    if args.classifier:
        print(f"tidied {tidy_classifier(args.classifier)}")
        return 0
    if not (args.src and args.name):
        ap.error("SRC and NAME are needed unless --classifier")
    print(f"bundled {bundle(Path(args.src), args.name, Path(args.sources), args.data)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

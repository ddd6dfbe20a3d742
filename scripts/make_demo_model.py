"""`make demo-model`: rebuild the bundled demo songs and demo model, reproducibly.

1. ``resources/demo/``: four short synthesised songs in contrasting genres (MP3), seed 0.
2. A demo dataset (10 genres x ``--songs`` songs x 30 s, seed 0) in a temporary folder.
3. ``resources/models/<name>/``: a small CELAutoencoderSiLU (the report's best 1/2 design, with
   half its channels so it decodes in a few ms) trained on it
   on the CPU with a fixed seed, then evaluated on the validation split beside the baseline; the
   figures go into the model's ``config.json``. ``resources/models/DEFAULT`` names it.

The same command on the same machine type gives the same weights (training is deterministic on
the CPU for a seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from core.analysis.evaluate import evaluate_model
    from core.atomic import atomic_write_text
    from core.cli.progress import ProgressBar
    from core.data.demo import write_demo_dataset, write_demo_songs
    from core.training.trainer import TrainConfig, train

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", default="celae-silu-demo")
    parser.add_argument("--arch", default="CELAutoencoderSiLU")
    parser.add_argument("--songs", type=int, default=6, help="songs per genre")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--channels", type=int, nargs=2, default=(4, 8),
                        help="conv channels; the report's are 8 16, halved here so a 5 s clip "
                             "decodes in a few ms and live edits keep up with the sliders")
    parser.add_argument("--kernel-size", type=int, default=5)
    parser.add_argument("--crop", type=int, default=22050,
                        help="train on random 1 s windows (the model is fully convolutional), "
                             "five times cheaper than whole clips; 0 trains on whole clips")
    parser.add_argument("--no-default", dest="default", action="store_false",
                        help="don't name it in resources/models/DEFAULT")
    parser.add_argument("--pca-only", action="store_true",
                        help="keep the weights; only (re)fit the latent PCA stored beside them")
    args = parser.parse_args()

    resources = ROOT / "resources"
    songs = write_demo_songs(resources / "demo", n=4, seconds=15.0, fmt="mp3", seed=0)
    print("demo songs:", ", ".join(p.name for p in songs))
    with tempfile.TemporaryDirectory(prefix="celae-demo-data-") as tmp:
        data = Path(tmp) / "demo-data"
        write_demo_dataset(data, songs_per_genre=args.songs, seconds=30.0, seed=0,
                           on_progress=ProgressBar("synthesising "))
        out = resources / "models" / args.name
        if args.pca_only:
            return _refit_pca(out, data)
        # Channel and kernel settings are the report family's; other families use their presets.
        overrides = ({"channels": tuple(args.channels), "kernel_size": args.kernel_size}
                     if args.arch.startswith("CELAutoencoder") else {})
        config = TrainConfig(arch=args.arch, model=overrides,
                             epochs=args.epochs, batch_size=16, lr=2e-3,
                             seed=0, device="cpu", out_dir=str(out), patience=None,
                             crop=args.crop or None)
        train(config, data, on_progress=ProgressBar("training "))
        report = evaluate_model(out, data, seed=0)
        print(report.text())
    meta_path = out / "config.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["metrics"] = {**(meta.get("metrics") or {}), "valid": report.model,
                       "baseline_same_latent": report.baseline, "valid_clips": report.clips}
    # The build machine's absolute path means nothing in an installed copy.
    meta.get("summary", {}).get("training", {})["out_dir"] = f"resources/models/{args.name}"
    atomic_write_text(meta_path, json.dumps(meta, indent=2))
    # Keep only the model itself: the resume checkpoint is of no use to users of the bundle.
    ckpt = out / "checkpoint"
    if ckpt.is_dir():
        for f in ckpt.iterdir():
            f.unlink()
        ckpt.rmdir()
    if args.default:
        atomic_write_text(resources / "models" / "DEFAULT", args.name + "\n")
    return 0


def _refit_pca(out: Path, data: Path) -> int:
    """Fit the latent PCA of the model in ``out`` on the same training clips training uses."""
    import numpy as np

    from core.data import load_clips, scan_dataset, split_by_song
    from core.latent.pca import fit_latent_pca, save_latent_pca
    from core.models.io import load_model
    from core.training.pca_step import PCA_CLIPS

    loaded = load_model(out)
    clips = load_clips(scan_dataset(data))
    train = np.asarray(split_by_song(clips, 0.2, 0).train)
    if len(train) > PCA_CLIPS:
        train = train[np.linspace(0, len(train) - 1, PCA_CLIPS).round().astype(int)]
    pca = fit_latent_pca(loaded.model, clips.float_batch(np.sort(train)))
    save_latent_pca(pca, out)
    print(f"latent PCA saved beside {out.name}: components for 80/90/95/99 %: {pca.thresholds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

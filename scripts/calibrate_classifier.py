"""Calibrate an existing genre classifier and label what it was trained on.

Fits the temperature on the validation side of the classifier's own split of DATA (the seed
stored in its ``config.json``, so the clips are the ones it was validated on when trained) and
writes ``"trained_on"`` and ``"calibration"`` into its ``config.json``; the head's weights are
not touched. ``celae classify train`` does both by itself; this is for classifiers trained
before it did (the bundled demo ones).

Example::

    python scripts/calibrate_classifier.py resources/models/celae-silu-demo/classifier \\
        bench-out/demo-data --trained-on "synthesised demo genres"
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.analysis.classify import calibrate_on  # noqa: E402
from core.analysis.data import load_analysis_data  # noqa: E402
from core.atomic import atomic_write_text  # noqa: E402
from core.genre.files import CONFIG_NAME, load_classifier  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("classifier", help="classifier folder")
    ap.add_argument("data", help="the labelled dataset it was trained on")
    ap.add_argument("--trained-on", required=True, help="label shown with the genre bars")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    lc = load_classifier(args.classifier)
    extra = lc.meta.get("extra", {})
    ad = load_analysis_data(args.data, lc.autoencoder.model.clip_samples,
                            seed=int(extra.get("seed", 0)), max_clips=extra.get("max_clips"),
                            clips_per_song=extra.get("clips_per_song"))
    if ad.genres != lc.genres:
        raise SystemExit(f"{args.data}: genres {ad.genres} are not the classifier's {lc.genres}")
    cal = calibrate_on(lc.classifier, ad.side("valid"))
    meta = json.loads((lc.path / CONFIG_NAME).read_text(encoding="utf-8"))
    meta["trained_on"] = args.trained_on
    meta["calibration"] = cal.as_dict()
    atomic_write_text(lc.path / CONFIG_NAME, json.dumps(meta, indent=2))
    print(f"{lc.path}: trained on {args.trained_on!r}; temperature {cal.temperature:.3g}, "
          f"ECE {cal.ece_before:.3f} -> {cal.ece_after:.3f} on {cal.n_clips} validation clips")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

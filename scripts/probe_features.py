"""What a style probe on a codec can reach, and why its latent stops short of MFCC statistics.

The same split and the same MLP as ``celae classify train`` (the train tracks of
``bench-out/real_music/``, ``make music``, split by song, ``--clips-per-song`` clips each), with
different features of the clips:

- MFCC statistics of the audio (the baseline the issue names), and of the audio cut to the band
  the codec's MDCT bypass keeps (resampled down to twice that band and back): the latent of a
  bypass codec holds that band exactly and little else, so this row is about what any feature of
  the latent can know;
- the probe's own features of the latent (pooled statistics, multi-scale statistics);
- the latent's multi-scale statistics beside the pooled band statistics of an encoder layer that
  still sees the whole band (the stem, at the full rate; the first stage, at a quarter of it).

Each row is fitted with ``--seeds`` seeds (the MLP's initial weights and shuffles); it prints the
mean test accuracy and the range. A benchmark, not a test: about three minutes on two cores.

Example::

    python scripts/probe_features.py
    python scripts/probe_features.py --model resources/models/celcodec64-real --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _float(clips: np.ndarray) -> np.ndarray:
    return clips.astype(np.float32) / 32768.0 if clips.dtype == np.int16 else clips


def band_limited(clips: np.ndarray, band_hz: float, sample_rate: int) -> np.ndarray:
    """``clips`` with everything above ``band_hz`` removed (soxr down to ``2 * band_hz``, back)."""
    import soxr

    x = _float(clips)
    low = int(round(2 * band_hz))
    down = soxr.resample(x.T, sample_rate, low).T
    up = soxr.resample(np.ascontiguousarray(down.T), low, sample_rate).T
    return np.ascontiguousarray(up[:, :x.shape[1]], dtype=np.float32)


def encoder_features(model, clips: np.ndarray, batch: int = 16) -> dict[str, np.ndarray]:
    """Per clip: the latent's pooled and multi-scale statistics, and the pooled band
    statistics of the stem's and the first stage's activations (a CELCodec's encoder)."""
    import torch

    from core.audio.features import latent_stats_torch
    from core.genre.encoder_stats import STAGE_FRAME, encoder_taps
    from core.genre.multiscale import multiscale_stats

    out: dict[str, list] = {}
    with torch.no_grad():
        for start in range(0, len(clips), batch):
            x = torch.from_numpy(_float(clips[start:start + batch]))[:, None, :]
            taps = encoder_taps(model, x)
            rows = {"latent stats": latent_stats_torch(taps["latent"]),
                    "latent multiscale": multiscale_stats(taps["latent"]),
                    "stem bands": latent_stats_torch(taps["stem"], 16, 1024),
                    "stage-1 bands": latent_stats_torch(taps["stage"], 16, STAGE_FRAME)}
            for key, value in rows.items():
                out.setdefault(key, []).append(value.numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(ROOT / "bench-out" / "real_music" / "train"))
    parser.add_argument("--model", default=None, help="a CELCodec model (default: the bundled one)")
    parser.add_argument("--clips-per-song", type=int, default=12)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    from core.analysis.data import load_analysis_data
    from core.audio.features import mfcc_stats
    from core.genre.fit import FitConfig
    from core.genre.model import FeatureHead
    from core.genre.probe import _fit_net, evaluate
    from core.models.codec import CELCodec
    from core.models.io import load_model

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    loaded = load_model(args.model)
    model = loaded.model.eval()
    if not isinstance(model, CELCodec):
        raise SystemExit(f"{loaded.name} is a {loaded.arch}: this benchmark reads a CELCodec's "
                         "encoder layers")
    ad = load_analysis_data(args.data, model.clip_samples, seed=0,
                            clips_per_song=args.clips_per_song)
    sides = [ad.side(s) for s in ("train", "valid", "test")]
    cfg = model.config
    band_hz = model.sample_rate / 2 * cfg.latent_channels / cfg.hop
    print(f"{loaded.name}: {len(sides[0])} train, {len(sides[1])} validation, "
          f"{len(sides[2])} test clips, {len(ad.genres)} styles; the bypass band ends at "
          f"{band_hz:.0f} Hz", flush=True)
    features = {"MFCC statistics (the baseline)": [mfcc_stats(s.clips) for s in sides]}
    if model.analysis is not None:
        features[f"MFCC statistics of the audio below {band_hz:.0f} Hz"] = [
            mfcc_stats(band_limited(s.clips, band_hz, model.sample_rate)) for s in sides]
    enc = [encoder_features(model, s.clips) for s in sides]
    for combo in (("latent stats",), ("latent multiscale",), ("stem bands",),
                  ("latent multiscale", "stage-1 bands"), ("latent multiscale", "stem bands")):
        features[" + ".join(combo)] = [np.concatenate([e[k] for k in combo], 1) for e in enc]

    print("\n| features | test accuracy, mean | range | per song, mean |\n|---|---|---|---|")
    for name, (f_tr, f_va, f_te) in features.items():
        accs, songs = [], []
        for seed in args.seeds:
            x_tr, x_va = (torch.from_numpy(np.ascontiguousarray(f, np.float32))
                          for f in (f_tr, f_va))
            torch.manual_seed(seed)
            net = FeatureHead(x_tr.shape[1], (256, 64), len(ad.genres), 0.3)
            _fit_net(net, x_tr, sides[0].labels, x_va, sides[1].labels, FitConfig(seed=seed),
                     "cpu", name, None, lambda *_: None, None, None)
            m = evaluate(net, sides[2], ad.genres, name=name,
                         features=np.ascontiguousarray(f_te, np.float32))
            accs.append(100 * m.accuracy)
            songs.append(100 * m.song_accuracy if m.song_accuracy is not None else float("nan"))
        print(f"| {name} | {np.mean(accs):.1f} % | {min(accs):.1f}-{max(accs):.1f} | "
              f"{np.mean(songs):.1f} % |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s, seeds {args.seeds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

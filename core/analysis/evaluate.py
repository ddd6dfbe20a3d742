"""Quality of a model over a dataset's validation split, beside the no-learning baseline.

The baseline keeps the same number of values per clip as the model's latent (average-pool, then
linear interpolation back; :func:`core.audio.baseline.pool_interp`), so the comparison is at equal
"bit budget" in floats. The report had no such baseline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from core.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress

FIGURES = ("mse", "snr", "si_sdr", "log_mel_l1", "mr_stft")

VISQOL_CLIPS = 12
"""ViSQOL costs about 5 s per clip, so it is scored on at most this many validation clips."""


@dataclass
class EvalReport:
    """Mean figures of a model and of the baseline over the validation clips.

    ``model`` and ``baseline`` map figure names (:data:`FIGURES`) to means; ``clips`` and
    ``songs`` count what was scored; ``split`` names how the split was made.
    """

    model_name: str
    arch: str
    latent_shape: tuple[int, int]
    ratio: float
    clips: int
    songs: int
    split: str
    model: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    visqol_clips: int = 0

    def as_dict(self) -> dict:
        return {"visqol_clips": self.visqol_clips, "model_name": self.model_name, "arch": self.arch,
                "latent_shape": list(self.latent_shape), "ratio": self.ratio,
                "clips": self.clips, "songs": self.songs, "split": self.split,
                "model": self.model, "baseline": self.baseline, "seconds": self.seconds}

    def text(self) -> str:
        rows = [f"{self.model_name} ({self.arch}, latent {self.latent_shape[0]} x "
                f"{self.latent_shape[1]}, ratio 1/{self.ratio:g}) on {self.clips} validation "
                f"clips of {self.songs} songs ({self.split} split)",
                f"{'':12}{'model':>12}{'baseline':>12}"]
        for k in FIGURES:
            rows.append(f"{k:12}{self.model[k]:12.4f}{self.baseline[k]:12.4f}")
        if "visqol" in self.model:
            rows.append(f"{'visqol':12}{self.model['visqol']:12.4f}"
                        f"{self.baseline['visqol']:12.4f}  (on {self.visqol_clips} of "
                        f"{self.clips} clips, evenly spread)")
        return "\n".join(rows)


def score_batches(ref: np.ndarray, est: np.ndarray) -> dict[str, np.ndarray]:
    """Per-clip figures of ``est`` against ``ref`` (both ``[N, T]``), as arrays of length N."""
    from core.audio.metrics import DB_CAP, log_mel_l1, mr_stft_distance, si_sdr, snr

    return {"mse": np.mean((ref.astype(np.float64) - est) ** 2, axis=-1),
            "snr": np.clip(np.atleast_1d(snr(ref, est)), -DB_CAP, DB_CAP),
            "si_sdr": np.clip(np.atleast_1d(si_sdr(ref, est)), -DB_CAP, DB_CAP),
            "log_mel_l1": np.atleast_1d(log_mel_l1(ref, est)),
            "mr_stft": np.atleast_1d(mr_stft_distance(ref, est))}


def evaluate_model(model: str | os.PathLike | None, data: str | os.PathLike, *,
                   max_clips: int | None = None, seed: int = 0, valid_fraction: float = 0.2,
                   batch_size: int = 16, visqol: bool = False,
                   on_progress: ProgressFn | None = None,
                   should_stop: StopFn | None = None) -> EvalReport:
    """Score ``model`` and the same-length baseline on the validation split of ``data``.

    Parameters
    ----------
    model : path, name or None
        A model folder or a name known to :func:`core.models.io.resolve_model`.
    data : path
        A dataset folder (GTZAN layout or plain audio).
    max_clips : int or None
        Score at most this many validation clips (evenly spread), for quick runs.
    seed, valid_fraction : split settings, the same as training's defaults.
    visqol : bool
        Also score ViSQOL (model and baseline) on up to :data:`VISQOL_CLIPS` of the clips.

    Returns
    -------
    EvalReport
    """
    import time

    from core.audio.baseline import pool_interp
    from core.data import load_clips, scan_dataset, split_by_song
    from core.data.limit import limit_clips
    from core.models.inference import reconstruct
    from core.models.io import load_model

    on_progress = on_progress or no_progress
    should_stop = should_stop or never_stop
    started = time.perf_counter()
    loaded = load_model(model)
    net = loaded.model
    clip = net.clip_samples
    c, l = net.latent_shape()
    ratio = clip / (c * l)
    index = scan_dataset(data)
    clips = load_clips(index, clip_samples=clip,
                       on_progress=lambda f, m: on_progress(0.3 * f, m), should_stop=should_stop)
    split = split_by_song(clips, valid_fraction=valid_fraction, seed=seed)
    valid = split.valid if len(split.valid) else split.train
    valid = limit_clips(clips, valid, max_clips, seed)
    scores: dict[str, dict[str, list]] = {"model": {}, "baseline": {}}
    for start in range(0, len(valid), batch_size):
        if should_stop():
            raise Cancelled()
        x = clips.float_batch(valid[start:start + batch_size])
        for name, est in (("model", reconstruct(net, x)), ("baseline", pool_interp(x, ratio))):
            for k, v in score_batches(x, est).items():
                scores[name].setdefault(k, []).append(v)
        done = min(start + batch_size, len(valid))
        share = 0.5 if visqol else 0.7
        on_progress(0.3 + share * done / len(valid), f"{done}/{len(valid)} clips")
    means = {name: {k: float(np.mean(np.concatenate(v))) for k, v in per.items()}
             for name, per in scores.items()}
    scored = 0
    if visqol:
        scored = _add_visqol(means, net, clips, valid, ratio, on_progress, should_stop)
    songs = len({int(clips.song_of_clip[i]) for i in valid})
    return EvalReport(model_name=loaded.name, arch=loaded.arch, latent_shape=(c, l),
                      ratio=round(ratio, 4), clips=len(valid), songs=songs, split=split.method,
                      model=means["model"], baseline=means["baseline"],
                      seconds=time.perf_counter() - started, visqol_clips=scored)


def _add_visqol(means: dict, net, clips, valid: np.ndarray, ratio: float,
                on_progress: ProgressFn, should_stop: StopFn) -> int:
    """Mean ViSQOL of model and baseline on evenly spread clips, into ``means``; the count."""
    from core.audio.baseline import pool_interp
    from core.audio.visqol import visqol_clips
    from core.models.inference import reconstruct

    pick = valid[np.unique(np.linspace(0, len(valid) - 1, min(VISQOL_CLIPS, len(valid)))
                           .round().astype(int))]
    x = clips.float_batch(pick)
    for i, (name, est) in enumerate((("model", reconstruct(net, x)),
                                     ("baseline", pool_interp(x, ratio)))):
        def progress(f, m, i=i):
            on_progress(0.8 + 0.1 * (i + f), m)
        values = visqol_clips(x, est, net.sample_rate, on_progress=progress,
                              should_stop=should_stop)
        kept = values[np.isfinite(values)]
        means[name]["visqol"] = float(kept.mean()) if len(kept) else float("nan")
    return len(pick)

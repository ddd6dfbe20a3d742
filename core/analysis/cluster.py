"""The clustering command as a plain function: ``celae cluster``. The latent sweeps always come
with the MFCC-statistics baseline sweep."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field

from core.analysis.classify import (
    load_autoencoder,
    sub_progress,
)
from core.analysis.clustering import ClusterReport, cluster_sweep
from core.analysis.data import AnalysisData, ClipRef, load_analysis_data
from core.audio.features import LATENT_FEATURES, mfcc_stats
from core.genre.probe import encode_latents
from core.progress import ProgressFn, StopFn, no_progress

# ---------------------------------------------------------------- clustering

@dataclass
class ClusterResult:
    """``celae cluster``: one sweep per feature set (latent flatten/stats, MFCC baseline)."""

    dataset: str
    autoencoder: str
    reports: list[ClusterReport]
    seconds: float
    clips: list[ClipRef] = field(default_factory=list)
    """Where each point of every report comes from (same order as ``coords``)."""

    def as_dict(self, *, points: bool = False) -> dict:
        """JSON-ready dict (``points=True`` adds per-clip PCA coordinates)."""
        out = {"dataset": self.dataset, "autoencoder": self.autoencoder,
               "reports": [r.as_dict(points=points) for r in self.reports],
               "seconds": round(self.seconds, 3)}
        if points:
            out["clips"] = [asdict(c) for c in self.clips]
        return out

    def text(self) -> str:
        """The report's Table 4, one line per feature set."""

        def f(v):
            return "  –  " if v is None else f"{v:.3f}"

        lines = [f"{'features':<24} {'k':>3} {'homog':>6} {'compl':>6} {'V':>6} {'ARI':>6} "
                 f"{'AMI':>6} {'bal':>6} {'sil':>6}  PCA var"]
        for r in self.reports:
            c = r.chosen
            ev = " / ".join(f"{100 * v:.1f} %" for v in r.explained_variance)
            lines.append(f"{r.name:<24} {r.chosen_k:>3} {f(c.homogeneity):>6} "
                         f"{f(c.completeness):>6} {f(c.v_measure):>6} {f(c.ari):>6} "
                         f"{f(c.ami):>6} {f(c.balance):>6} {f(c.silhouette):>6}  {ev}")
        return "\n".join(lines)


def sweeps(loaded, ad: AnalysisData, *, features: tuple[str, ...], baseline: bool,
            k_range: range, pca_dims: int, seed: int, on_progress: ProgressFn,
            should_stop: StopFn | None) -> list[ClusterReport]:
    part = ad.side("all")
    labels = part.labels if ad.labelled else None
    started = time.perf_counter()
    z = encode_latents(loaded.model, part.clips, on_progress=sub_progress(on_progress, 0, 0.3),
                       should_stop=should_stop).numpy()
    encoding = time.perf_counter() - started  # charged to every latent row, as MFCCs are
    sets = []  # (name, features, standardize, seconds spent making the features)
    for kind in features:
        if kind not in LATENT_FEATURES:
            raise ValueError(f"unknown latent feature {kind!r} (known: "
                             f"{', '.join(LATENT_FEATURES)})")
        started = time.perf_counter()
        x = LATENT_FEATURES[kind](z)
        # The report clustered the raw flattened latent; pooled statistics mix scales.
        sets.append((f"latent ({kind})", x, kind != "flatten",
                     encoding + time.perf_counter() - started))
    del z
    if baseline:
        started = time.perf_counter()
        x = mfcc_stats(part.clips)
        sets.append(("MFCC stats baseline", x, True, time.perf_counter() - started))
    reports = []
    for i, (name, x, standardize, prep) in enumerate(sets):
        lo = 0.3 + 0.7 * i / len(sets)
        rep = cluster_sweep(x, labels, k_range=k_range, pca_dims=pca_dims,
                            standardize=standardize, seed=seed, name=name,
                            label_names=ad.genres,
                            on_progress=sub_progress(on_progress, lo, lo + 0.7 / len(sets)),
                            should_stop=should_stop)
        rep.seconds += prep
        reports.append(rep)
    return reports


def run_cluster(data: str | os.PathLike, model: str | os.PathLike | None = None, *,
                k_min: int = 2, k_max: int = 20, pca_dims: int = 2, seed: int = 0,
                max_clips: int | None = None, device: str = "auto",
                features: tuple[str, ...] = ("flatten", "stats"), baseline: bool = True,
                on_progress: ProgressFn | None = None, should_stop: StopFn | None = None
                ) -> ClusterResult:
    """PCA + KMeans sweeps of a dataset's latents (flattened as in the report, and pooled
    statistics) and of MFCC statistics, over every clip (labels used for scores only)."""
    on_progress = on_progress or no_progress
    started = time.perf_counter()
    loaded = load_autoencoder(model, device)
    ad = load_analysis_data(data, loaded.model.clip_samples, seed=seed, max_clips=max_clips,
                            need_labels=False, on_progress=sub_progress(on_progress, 0, 0.1),
                            should_stop=should_stop)
    reports = sweeps(loaded, ad, features=tuple(features), baseline=baseline,
                      k_range=range(k_min, k_max + 1), pca_dims=pca_dims, seed=seed,
                      on_progress=sub_progress(on_progress, 0.1, 1.0), should_stop=should_stop)
    return ClusterResult(str(data), str(loaded.path), reports, time.perf_counter() - started,
                         ad.clip_refs("all"))

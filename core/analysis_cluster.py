"""The clustering and report commands as plain functions: ``celae cluster`` and
``celae report``. The latent sweeps always come with the MFCC-statistics baseline sweep."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field

from core.analysis_classify import (
    BASELINES,
    DEFAULT_HEAD,
    load_autoencoder,
    metrics_line,
    run_classify_eval,
    sub_progress,
    train_and_evaluate,
)
from core.analysis_data import AnalysisData, ClipRef, load_analysis_data
from core.classifier_fit import FitConfig
from core.classify import ClassificationMetrics, encode_latents
from core.cluster import ClusterReport, cluster_sweep
from core.features import LATENT_FEATURES, mfcc_stats
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


def _sweeps(loaded, ad: AnalysisData, *, features: tuple[str, ...], baseline: bool,
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
    reports = _sweeps(loaded, ad, features=tuple(features), baseline=baseline,
                      k_range=range(k_min, k_max + 1), pca_dims=pca_dims, seed=seed,
                      on_progress=sub_progress(on_progress, 0.1, 1.0), should_stop=should_stop)
    return ClusterResult(str(data), str(loaded.path), reports, time.perf_counter() - started,
                         ad.clip_refs("all"))


# ---------------------------------------------------------------- report

@dataclass
class ReportResult:
    """``celae report``: the HTML file and the results it shows."""

    path: str
    classification: list[ClassificationMetrics]
    clustering: list[ClusterReport]

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return {"report": self.path,
                "classification": [m.as_dict() for m in self.classification],
                "clustering": [r.as_dict() for r in self.clustering]}

    def text(self) -> str:
        """Human summary."""
        return "\n".join([f"wrote {self.path}"]
                         + [metrics_line(m) for m in self.classification])


def run_report(data: str | os.PathLike, model: str | os.PathLike | None = None,
               out: str | os.PathLike = "report", *, clf: str | os.PathLike | None = None,
               epochs: int = 30, head: str = DEFAULT_HEAD, seed: int = 0,
               max_clips: int | None = None, device: str = "auto", k_min: int = 2,
               k_max: int = 20, pca_dims: int = 2, on_progress: ProgressFn | None = None,
               should_stop: StopFn | None = None) -> ReportResult:
    """Classification (probe + baselines) and clustering of a dataset, as an HTML report.

    With ``clf`` the saved classifier is evaluated on the held-out side and its stored
    baseline metrics are shown; without it a probe and the baselines are trained now (not
    saved). An unlabelled dataset gets the clustering part only.
    """
    from core.report_html import write_report

    on_progress = on_progress or no_progress
    loaded = load_autoencoder(model, device)
    ad = load_analysis_data(data, loaded.model.clip_samples, seed=seed, max_clips=max_clips,
                            need_labels=False, on_progress=sub_progress(on_progress, 0, 0.1),
                            should_stop=should_stop)
    classification: list[ClassificationMetrics] = []
    notes = [f"split: {ad.split_info()}"]
    if ad.labelled and len(ad.genres) >= 2:
        if clf is not None:
            ev = run_classify_eval(clf, data, device=device, should_stop=should_stop)
            classification = [ev.metrics] + [ClassificationMetrics.from_dict(b)
                                             for b in ev.stored.get("baselines", [])]
            notes.append(f"classifier: {ev.classifier}")
        else:
            _, _, probe, base = train_and_evaluate(
                loaded, ad, head=head, fit_config=FitConfig(epochs=epochs, seed=seed),
                baselines=BASELINES, checkpoint_dir=None,
                on_progress=sub_progress(on_progress, 0.1, 0.6), should_stop=should_stop,
                on_epoch=None)
            classification = [probe, *base]
    else:
        notes.append("the dataset has no genres: classification is left out")
    clustering = _sweeps(loaded, ad, features=("flatten", "stats"), baseline=True,
                         k_range=range(k_min, k_max + 1), pca_dims=pca_dims, seed=seed,
                         on_progress=sub_progress(on_progress, 0.6, 0.98), should_stop=should_stop)
    path = write_report(out, dataset=str(data), model=str(loaded.path),
                        classification=classification, clustering=clustering, notes=notes)
    on_progress(1.0, "report written")
    return ReportResult(str(path), classification, clustering)

"""The report command as a plain function: ``celae report``, classification and clustering of a
dataset in one self-contained HTML file."""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.analysis.classify import (
    BASELINES,
    DEFAULT_HEAD,
    load_autoencoder,
    metrics_line,
    run_classify_eval,
    sub_progress,
    train_and_evaluate,
)
from core.analysis.cluster import sweeps
from core.analysis.clustering import ClusterReport
from core.analysis.data import load_analysis_data
from core.genre.fit import FitConfig
from core.genre.probe import ClassificationMetrics
from core.progress import ProgressFn, StopFn, no_progress


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
    from core.analysis.report_html import write_report

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
    clustering = sweeps(loaded, ad, features=("flatten", "stats"), baseline=True,
                         k_range=range(k_min, k_max + 1), pca_dims=pca_dims, seed=seed,
                         on_progress=sub_progress(on_progress, 0.6, 0.98), should_stop=should_stop)
    path = write_report(out, dataset=str(data), model=str(loaded.path),
                        classification=classification, clustering=clustering, notes=notes)
    on_progress(1.0, "report written")
    return ReportResult(str(path), classification, clustering)

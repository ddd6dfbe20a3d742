"""The self-contained HTML analysis report: classification tables (the report's Tables 1-3)
beside their baselines, the clustering table (Table 4) beside the MFCC baseline, and figures
(confusion matrices, elbow and metric-vs-k curves, 2-D PCA scatter by cluster and by genre).

Figures are inline SVG (``core.analysis.report_svg``): one HTML file, no external asset, no plotting
library. The file is written atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from core.analysis import report_svg
from core.analysis.clustering import ClusterReport
from core.atomic import atomic_write_text
from core.genre.probe import ClassificationMetrics, ClassScore

REPORT_NAME = "report.html"
LABEL_METRICS = ("homogeneity", "completeness", "v_measure", "ari", "ami", "balance")

_CSS = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.avg td{font-weight:bold;background:#f4f4f4}
.figs{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.note{color:#555;font-size:.9em}
"""


def _num(v: float | None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.{digits}f}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, cls: str = "",
           row_classes: Sequence[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        rc = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{rc}>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>")
    return f'<table class="{cls}"><tr>{head}</tr>{"".join(body)}</table>'


def classification_summary(results: Sequence[ClassificationMetrics]) -> str:
    """HTML table: one row per classifier (accuracy, per-song accuracy, F1, time)."""
    rows = [[r.name, _pct(r.accuracy), _pct(r.song_accuracy), _num(r.macro.f1),
             _num(r.weighted.f1), _num(r.loss), str(r.n_clips), r.evaluated_on,
             f"{r.seconds:.1f} s"] for r in results]
    return _table(["classifier", "accuracy", "song accuracy", "macro F1", "weighted F1",
                   "log loss", "clips", "evaluated on", "time"], rows, cls="summary")


def per_class_table(result: ClassificationMetrics) -> str:
    """HTML table of precision/recall/F1/support per genre, then macro and weighted averages."""

    def row(s: ClassScore) -> list[str]:
        return [s.genre, _num(s.precision, 2), _num(s.recall, 2), _num(s.f1, 2), str(s.support)]

    rows = [row(s) for s in result.per_class] + [row(result.macro), row(result.weighted)]
    classes = [""] * len(result.per_class) + ["avg", "avg"]
    return _table(["genre", "precision", "recall", "F1", "support"], rows, cls="per-class",
                  row_classes=classes)


def cluster_summary(reports: Sequence[ClusterReport]) -> str:
    """HTML table: the report's Table 4, one row per feature set at its chosen k."""
    rows = []
    for rep in reports:
        c = rep.chosen
        ev = rep.explained_variance + [math.nan] * (2 - len(rep.explained_variance))
        rows.append([rep.name, str(rep.chosen_k), _num(c.homogeneity), _num(c.completeness),
                     _num(c.v_measure), _num(c.ari), _num(c.ami), _num(c.balance),
                     _num(c.silhouette), f"{_pct(ev[0])} / {_pct(ev[1])}", str(rep.pca_dims),
                     f"{rep.seconds:.1f} s"])
    return _table(["features", "chosen k (elbow)", "homogeneity", "completeness", "V-measure",
                   "ARI", "AMI", "balance", "silhouette", "PCA var. PC1 / PC2", "PCA dims",
                   "time"], rows, cls="cluster-summary")


def sweep_table(rep: ClusterReport) -> str:
    """HTML table of every k of one sweep."""
    rows = [[str(r.k), f"{r.inertia:.4g}", _num(r.silhouette)]
            + [_num(getattr(r, m)) for m in LABEL_METRICS] for r in rep.rows]
    return _table(["k", "inertia", "silhouette", "homogeneity", "completeness", "V-measure",
                   "ARI", "AMI", "balance"], rows, cls="sweep")


def _classification_section(r: ClassificationMetrics) -> str:
    fig = report_svg.heatmap(r.confusion, r.genres, title=f"Confusion matrix: {r.name}")
    return (f"<h3>{escape(r.name)}</h3><p>accuracy {_pct(r.accuracy)} on {r.n_clips} clips "
            f"({escape(r.evaluated_on)})</p><div class='figs'>{fig}{per_class_table(r)}</div>")


def _cluster_section(rep: ClusterReport) -> str:
    ks = [r.k for r in rep.rows]
    elbow = report_svg.line_chart(
        ks, {"inertia": [r.inertia for r in rep.rows]}, title=f"Elbow: {rep.name}",
        y_label="inertia", marker_x=rep.elbow_k, marker_label=f"elbow k = {rep.elbow_k}")
    series = {"silhouette": [r.silhouette for r in rep.rows]}
    if rep.labels is not None:
        series = {m: [getattr(r, m) for r in rep.rows] for m in LABEL_METRICS} | series
    curves = report_svg.line_chart(ks, series, title=f"Scores against k: {rep.name}",
                                   y_label="score", marker_x=rep.chosen_k,
                                   marker_label=f"k = {rep.chosen_k}")
    by_cluster = report_svg.scatter(
        rep.coords, rep.assignments, [f"cluster {i}" for i in range(rep.chosen_k)],
        title=f"PCA, coloured by cluster (k = {rep.chosen_k}): {rep.name}")
    figs = [elbow, curves, by_cluster]
    if rep.labels is not None:
        names = rep.label_names or [str(i) for i in range(int(rep.labels.max()) + 1)]
        figs.append(report_svg.scatter(rep.coords, rep.labels, names,
                                       title=f"PCA, coloured by genre: {rep.name}"))
    return (f"<h3>{escape(rep.name)}</h3><div class='figs'>{''.join(figs)}</div>"
            f"<details><summary>every k</summary>{sweep_table(rep)}</details>")


def render_report(*, title: str = "CELAE analysis report", dataset: str = "",
                  model: str = "", classification: Sequence[ClassificationMetrics] = (),
                  clustering: Sequence[ClusterReport] = (), notes: Sequence[str] = ()) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{escape(title)}</h1><p class='note'>dataset: {escape(dataset or '–')}; "
             f"autoencoder: {escape(model or '–')}; written "
             f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}</p>"]
    parts += [f"<p class='note'>{escape(n)}</p>" for n in notes]
    if classification:
        parts.append("<h2>Genre classification</h2>")
        parts.append(classification_summary(classification))
        parts += [_classification_section(r) for r in classification]
    if clustering:
        parts.append("<h2>Clustering</h2>")
        parts.append(cluster_summary(clustering))
        parts += [_cluster_section(rep) for rep in clustering]
    if not classification and not clustering:
        parts.append("<p>No results to show.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(out_dir: str | os.PathLike, *, title: str = "CELAE analysis report",
                 dataset: str = "", model: str = "",
                 classification: Sequence[ClassificationMetrics] = (),
                 clustering: Sequence[ClusterReport] = (), notes: Sequence[str] = ()) -> Path:
    """Write the self-contained HTML report to ``out_dir/report.html`` atomically.

    Parameters
    ----------
    out_dir : path-like
        Created if needed.
    title, dataset, model : str
        Heading and provenance lines.
    classification : sequence of ClassificationMetrics
        Latent probe(s) and baselines, shown side by side, each with its confusion matrix and
        per-class table.
    clustering : sequence of ClusterReport
        Latent and baseline sweeps, each with elbow and score curves and PCA scatter plots.
    notes : sequence of str
        Free text lines (timings, split used...).

    Returns
    -------
    Path
        The HTML file.
    """
    path = Path(out_dir) / REPORT_NAME
    atomic_write_text(path, render_report(title=title, dataset=dataset, model=model,
                                          classification=classification,
                                          clustering=clustering, notes=notes))
    return path

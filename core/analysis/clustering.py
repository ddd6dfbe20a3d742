"""Unsupervised clustering of clip features: PCA -> KMeans for a range of k (the report's
section 5.2 and Table 4), with the elbow of the inertia curve found automatically.

Works on plain arrays, so the same sweep runs on encoder latents and on the MFCC baseline.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn import metrics
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from core.errors import DatasetError
from core.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress

SILHOUETTE_SAMPLES = 2000
"""Silhouette is quadratic in the number of points: past this many it is estimated on a sample."""


@dataclass(frozen=True)
class ClusterRow:
    """Scores of one KMeans run with ``k`` clusters (label scores are None without labels)."""

    k: int
    inertia: float
    silhouette: float
    homogeneity: float | None = None
    completeness: float | None = None
    v_measure: float | None = None
    ari: float | None = None
    ami: float | None = None
    balance: float | None = None


@dataclass
class ClusterReport:
    """A k sweep on one feature set.

    Attributes
    ----------
    name : str
        What was clustered (e.g. ``"latent (stats)"``, ``"MFCC baseline"``).
    rows : list[ClusterRow]
        One per k, in increasing k.
    elbow_k : int
        The knee of the inertia curve (kneedle).
    chosen_k : int
        The k the report's table uses (the elbow).
    explained_variance : list[float]
        Explained-variance ratio of the first two principal components.
    pca_dims : int
        Components KMeans ran on.
    coords : ndarray[N, 2]
        The first two principal components, for scatter plots.
    assignments : ndarray[N]
        Cluster of each point at ``chosen_k``.
    labels : ndarray[N] or None
        Genre index of each point, when known.
    label_names : list[str]
        Genre names.
    seconds : float
        Wall time of the sweep.
    """

    name: str
    rows: list[ClusterRow]
    elbow_k: int
    chosen_k: int
    explained_variance: list[float]
    pca_dims: int
    coords: np.ndarray
    assignments: np.ndarray
    labels: np.ndarray | None = None
    label_names: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def chosen(self) -> ClusterRow:
        """The row at ``chosen_k``."""
        return next(r for r in self.rows if r.k == self.chosen_k)

    def as_dict(self, *, points: bool = False) -> dict:
        """JSON-ready dict; ``points=True`` adds the per-clip coordinates and assignments."""
        out = {"name": self.name, "elbow_k": self.elbow_k, "chosen_k": self.chosen_k,
               "explained_variance": self.explained_variance, "pca_dims": self.pca_dims,
               "seconds": round(self.seconds, 3), "chosen": _row_dict(self.chosen),
               "rows": [_row_dict(r) for r in self.rows], "label_names": self.label_names}
        if points:
            out["coords"] = self.coords.tolist()
            out["assignments"] = self.assignments.tolist()
            out["labels"] = None if self.labels is None else self.labels.tolist()
        return out


def _row_dict(row: ClusterRow) -> dict:
    # NaN (silhouette of a single cluster) is not valid JSON: None instead.
    return {k: None if isinstance(v, float) and not np.isfinite(v) else v
            for k, v in asdict(row).items()}


def find_elbow(ks: list[int] | np.ndarray, values: list[float] | np.ndarray) -> int:
    """The knee of a decreasing convex curve such as KMeans inertia against k (kneedle).

    Both axes are scaled to [0, 1]; the knee is the point farthest above the straight line
    from the first point to the last, i.e. where adding clusters stops paying off.

    Parameters
    ----------
    ks : sequence of int
        Increasing x values.
    values : sequence of float
        Curve values at ``ks``.

    Returns
    -------
    int
        The k at the knee (the first k when the curve is flat or has fewer than 3 points).
    """
    x = np.asarray(ks, dtype=float)
    y = np.asarray(values, dtype=float)
    if len(x) < 3 or np.ptp(y) == 0 or np.ptp(x) == 0:
        return int(x[0])
    x_n = (x - x.min()) / np.ptp(x)
    y_n = (y - y.min()) / np.ptp(y)
    # For a decreasing curve the chord runs 1 -> 0; distance below it marks the bend.
    diff = (1.0 - x_n) - y_n
    return int(x[int(np.argmax(diff))])


def _label_scores(labels: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    h, c, v = metrics.homogeneity_completeness_v_measure(labels, pred)
    return {"homogeneity": float(h), "completeness": float(c), "v_measure": float(v),
            "ari": float(metrics.adjusted_rand_score(labels, pred)),
            "ami": float(metrics.adjusted_mutual_info_score(labels, pred)),
            "balance": float((h + c) / 2.0)}


def cluster_sweep(features: np.ndarray, labels: np.ndarray | None = None, *,
                  k_range: range = range(2, 21), pca_dims: int = 2, standardize: bool = True,
                  seed: int = 0, name: str = "", label_names: list[str] | None = None,
                  on_progress: ProgressFn | None = None,
                  should_stop: StopFn | None = None) -> ClusterReport:
    """PCA then KMeans for every k in ``k_range``: the report's Table 4 for one feature set.

    Parameters
    ----------
    features : ndarray[N, D]
        One feature vector per clip.
    labels : ndarray[N] of int, optional
        Genre per clip; without it only inertia and silhouette are computed.
    k_range : range
        Cluster counts to try (the report: 2..20). Values of k >= N are skipped.
    pca_dims : int
        Principal components KMeans sees (the report used 2).
    standardize : bool
        Scale each feature to unit variance before PCA, so no single feature dominates.
    seed : int
        Seed of PCA's randomised solver and of KMeans.
    name, label_names
        Carried into the report.
    on_progress, should_stop
        Progress and cancel callbacks (``core.progress``).

    Returns
    -------
    ClusterReport
    """
    on_progress = on_progress or no_progress
    should_stop = should_stop or never_stop
    started = time.perf_counter()
    # float32 halves the memory of a flattened GTZAN latent (6000 x 55 125).
    x = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    n = len(x)
    ks = [k for k in k_range if 2 <= k < n]
    if not ks:
        raise DatasetError(f"{name or 'features'}: {n} clips are too few to cluster "
                           f"with k in {k_range.start}..{k_range.stop - 1}")
    if not np.all(np.isfinite(x)):
        raise DatasetError(f"{name or 'features'}: features contain NaN or infinity")
    if standardize:
        x = StandardScaler().fit_transform(x)
    dims = max(2, min(pca_dims, n, x.shape[1]))
    pca = PCA(n_components=dims, random_state=seed)
    reduced = pca.fit_transform(x)
    coords = reduced[:, :2] if reduced.shape[1] >= 2 else np.pad(reduced, ((0, 0), (0, 1)))
    rows, preds = [], {}
    for i, k in enumerate(ks):
        if should_stop():
            raise Cancelled()
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(reduced)
        pred = km.labels_
        preds[k] = pred
        sil = float("nan")
        if len(np.unique(pred)) > 1:
            sil = float(metrics.silhouette_score(
                reduced, pred, sample_size=min(n, SILHOUETTE_SAMPLES), random_state=seed))
        scores = _label_scores(np.asarray(labels), pred) if labels is not None else {}
        rows.append(ClusterRow(k=k, inertia=float(km.inertia_), silhouette=sil, **scores))
        on_progress((i + 1) / len(ks), f"{name or 'features'}: k = {k}")
    elbow = find_elbow(ks, [r.inertia for r in rows])
    ratio = list(map(float, pca.explained_variance_ratio_[:2]))
    return ClusterReport(
        name=name, rows=rows, elbow_k=elbow, chosen_k=elbow, explained_variance=ratio,
        pca_dims=dims, coords=coords.astype(np.float32), assignments=preds[elbow],
        labels=None if labels is None else np.asarray(labels),
        label_names=list(label_names or []), seconds=time.perf_counter() - started)

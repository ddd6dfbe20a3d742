"""The k sweep (report's Table 4) and the automatic elbow."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from core.analysis.clustering import cluster_sweep, find_elbow
from core.errors import DatasetError
from core.progress import Cancelled


def _blobs(n_per: int = 30, centers: int = 4, dim: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((centers, dim)) * 10
    x = np.concatenate([m + rng.standard_normal((n_per, dim)) for m in means])
    return x.astype(np.float32), np.repeat(np.arange(centers), n_per)


def test_find_elbow_finds_an_obvious_elbow():
    ks = list(range(2, 11))
    inertia = [400, 100, 80, 70, 62, 56, 51, 47, 44]
    assert find_elbow(ks, inertia) == 3


def test_find_elbow_of_a_flat_or_short_curve_is_the_first_k():
    assert find_elbow([2, 3, 4], [5.0, 5.0, 5.0]) == 2
    assert find_elbow([2, 3], [9.0, 1.0]) == 2


def test_sweep_recovers_well_separated_genres():
    x, labels = _blobs()
    rep = cluster_sweep(x, labels, k_range=range(2, 9), pca_dims=4, name="blobs",
                        label_names=["a", "b", "c", "d"])
    assert [r.k for r in rep.rows] == list(range(2, 9))
    assert rep.chosen_k == rep.elbow_k == 4
    assert rep.chosen.homogeneity > 0.95 and rep.chosen.ari > 0.95
    assert rep.coords.shape == (len(x), 2)
    assert len(rep.explained_variance) == 2 and sum(rep.explained_variance) <= 1.0 + 1e-6
    inertias = [r.inertia for r in rep.rows]
    assert inertias[0] > inertias[2] > 0


def test_label_scores_match_sklearn_on_the_chosen_clustering():
    x, labels = _blobs(n_per=15, centers=3, seed=1)
    labels = labels.copy()
    labels[::7] = (labels[::7] + 1) % 3  # some noise, so the scores are not all 1
    rep = cluster_sweep(x, labels, k_range=range(2, 7), seed=3)
    row, pred = rep.chosen, rep.assignments
    assert row.homogeneity == pytest.approx(metrics.homogeneity_score(labels, pred))
    assert row.completeness == pytest.approx(metrics.completeness_score(labels, pred))
    assert row.v_measure == pytest.approx(metrics.v_measure_score(labels, pred))
    assert row.ari == pytest.approx(metrics.adjusted_rand_score(labels, pred))
    assert row.ami == pytest.approx(metrics.adjusted_mutual_info_score(labels, pred))
    assert row.balance == pytest.approx((row.homogeneity + row.completeness) / 2)
    d = rep.as_dict(points=True)
    assert d["chosen_k"] == rep.chosen_k and len(d["coords"]) == len(x)


def test_sweep_without_labels_scores_inertia_and_silhouette_only():
    x, _ = _blobs(n_per=10, centers=3)
    rep = cluster_sweep(x, None, k_range=range(2, 6))
    assert rep.chosen.homogeneity is None and rep.labels is None
    assert -1 <= rep.chosen.silhouette <= 1


def test_too_few_clips_or_bad_values_are_user_errors():
    with pytest.raises(DatasetError, match="too few"):
        cluster_sweep(np.zeros((2, 3)), None, k_range=range(2, 5))
    bad = np.ones((10, 3))
    bad[0, 0] = np.nan
    with pytest.raises(DatasetError, match="NaN"):
        cluster_sweep(bad, None)


def test_sweep_can_be_cancelled():
    x, labels = _blobs(n_per=10)
    with pytest.raises(Cancelled):
        cluster_sweep(x, labels, should_stop=lambda: True)

"""The self-contained HTML report: tables and inline figures from plain results."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from core.analysis.clustering import cluster_sweep
from core.analysis.report_html import REPORT_NAME, write_report
from core.genre.probe import ClassificationMetrics, classification_metrics

GENRES = ["blues", "classical", "metal"]


@pytest.fixture(scope="module")
def results():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 10)
    proba = np.eye(3)[np.where(rng.random(30) < 0.7, y, (y + 1) % 3)]
    probe = classification_metrics(y, proba, GENRES, name="latent probe (stats)",
                                   evaluated_on="test", seconds=12.5)
    mel = classification_metrics(y, np.eye(3)[y], GENRES, name="mel CNN baseline",
                                 evaluated_on="test", seconds=30.0)
    centers = rng.standard_normal((3, 4)) * 8
    x = np.concatenate([c + rng.standard_normal((10, 4)) for c in centers])
    sweep = cluster_sweep(x, y, k_range=range(2, 8), name="latent (stats)", label_names=GENRES)
    return [probe, mel], [sweep]


def test_report_is_one_file_with_every_table_and_figure(tmp_path, results):
    classification, clustering = results
    path = write_report(tmp_path / "out", dataset="demo", model="tiny-ae",
                        classification=classification, clustering=clustering,
                        notes=["split: seeded"])
    assert path == tmp_path / "out" / REPORT_NAME
    assert [p.name for p in path.parent.iterdir()] == [REPORT_NAME]  # no temp, no assets
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    # Summary tables, per-class tables (one per classifier) and the Table 4 summary.
    assert 'class="summary"' in html and 'class="cluster-summary"' in html
    assert html.count('class="per-class"') == 2
    assert "macro avg" in html and "weighted avg" in html
    assert f"{100 * classification[0].accuracy:.1f} %" in html
    # Figures: 2 confusion matrices, elbow, score curves, scatter by cluster and by genre.
    assert html.count("<svg") == 2 + 4
    assert html.count('class="cell"') == 2 * 9
    assert f"elbow k = {clustering[0].elbow_k}" in html
    assert "coloured by genre" in html and "coloured by cluster" in html
    assert html.count('class="pt"') == 2 * 30
    for genre in GENRES:
        assert genre in html
    # Self-contained: nothing is fetched from elsewhere.
    assert not re.search(r'(src|href)="(http|//)', html)
    assert "<script" not in html


def test_confusion_counts_are_written_in_the_cells(tmp_path, results):
    classification, _ = results
    perfect: ClassificationMetrics = classification[1]
    html = write_report(tmp_path, classification=[perfect]).read_text(encoding="utf-8")
    cells = re.findall(r'class="cell"[^>]*/><text[^>]*>(\d+)</text>', html)
    assert [int(c) for c in cells] == perfect.confusion.ravel().tolist()
    assert perfect.confusion.trace() == 30


def test_names_are_escaped_and_empty_results_still_render(tmp_path, results):
    _, clustering = results
    odd = dataclasses.replace(clustering[0], name="<b>latent</b> & co")
    html = write_report(tmp_path, clustering=[odd]).read_text(encoding="utf-8")
    assert "<b>latent</b>" not in html and "&lt;b&gt;latent&lt;/b&gt; &amp; co" in html
    empty = write_report(tmp_path / "e").read_text(encoding="utf-8")
    assert "No results" in empty

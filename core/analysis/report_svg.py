"""Small inline-SVG figures for the HTML report: line charts, a heat map, a scatter plot.

Hand-drawn so the report needs no plotting library and no external asset; each function returns
an ``<svg>`` element as a string.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
           "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5")
"""Categorical colours (tab20 order, dark shades first) for clusters, genres and curves."""

MAX_SCATTER_POINTS = 5000
_FONT = 'font-family="sans-serif" font-size="11"'


def color(i: int) -> str:
    """Colour of category ``i`` (cycles past 20)."""
    return PALETTE[i % len(PALETTE)]


def _fmt(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-2:
        return f"{v:.2g}"
    return f"{v:.3g}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step + 1e-9) + 1)]


def line_chart(xs: list[float], series: dict[str, list[float]], *, title: str,
               x_label: str = "k", y_label: str = "", marker_x: float | None = None,
               marker_label: str = "", width: int = 520, height: int = 300) -> str:
    """Curves of ``series`` (name -> y values at ``xs``) with axes, a legend and an optional
    vertical marker (e.g. the elbow). Non-finite values leave gaps."""
    left, right, top, bottom = 56, 130, 28, 40
    pw, ph = width - left - right, height - top - bottom
    ys = [v for vals in series.values() for v in vals if v is not None and math.isfinite(v)]
    y_lo, y_hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if y_hi == y_lo:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    x_lo, x_hi = min(xs), max(xs)
    x_span = (x_hi - x_lo) or 1.0

    def px(x: float) -> float:
        return left + (x - x_lo) / x_span * pw

    def py(y: float) -> float:
        return top + (1 - (y - y_lo) / (y_hi - y_lo)) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'role="img" aria-label="{escape(title)}" {_FONT}>',
           f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">'
           f'{escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    for t in _ticks(y_lo, y_hi):
        out.append(f'<line x1="{left - 4}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
                   f'stroke="#eee"/><text x="{left - 6}" y="{py(t) + 4:.1f}" '
                   f'text-anchor="end">{_fmt(t)}</text>')
    for t in _ticks(x_lo, x_hi, 10):
        out.append(f'<text x="{px(t):.1f}" y="{top + ph + 14}" text-anchor="middle">'
                   f'{_fmt(t)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">'
               f'{escape(x_label)}</text>')
    if y_label:
        out.append(f'<text x="12" y="{top + ph / 2}" text-anchor="middle" '
                   f'transform="rotate(-90 12 {top + ph / 2})">{escape(y_label)}</text>')
    if marker_x is not None:
        out.append(f'<line class="marker" x1="{px(marker_x):.1f}" x2="{px(marker_x):.1f}" '
                   f'y1="{top}" y2="{top + ph}" stroke="#000" stroke-dasharray="4 3"/>'
                   f'<text x="{px(marker_x) + 4:.1f}" y="{top + 12}">{escape(marker_label)}</text>')
    for i, (name, vals) in enumerate(series.items()):
        segs, cur = [], []
        for x, y in zip(xs, vals, strict=True):
            if y is None or not math.isfinite(y):
                segs, cur = segs + [cur] if cur else segs, []
                continue
            cur.append(f"{px(x):.1f},{py(y):.1f}")
        segs = segs + [cur] if cur else segs
        for seg in segs:
            out.append(f'<polyline class="curve" points="{" ".join(seg)}" fill="none" '
                       f'stroke="{color(i)}" stroke-width="2"/>')
        ly = top + 12 + 16 * i
        out.append(f'<line x1="{left + pw + 10}" x2="{left + pw + 26}" y1="{ly - 4}" '
                   f'y2="{ly - 4}" stroke="{color(i)}" stroke-width="3"/>'
                   f'<text x="{left + pw + 30}" y="{ly}">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def heatmap(matrix: np.ndarray, labels: list[str], *, title: str,
            row_label: str = "true", col_label: str = "predicted", cell: int = 34) -> str:
    """A confusion-matrix heat map: rows normalised for colour, raw counts written in cells."""
    m = np.asarray(matrix, dtype=float)
    n = len(labels)
    left, top = 90, 100
    # Wide enough for the title too: a 2-genre matrix is narrower than its caption.
    width, height = max(left + n * cell + 20, 7 * len(title) + 20), top + n * cell + 30
    rows = m.sum(1, keepdims=True)
    frac = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'role="img" aria-label="{escape(title)}" {_FONT}>',
           f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">'
           f'{escape(title)}</text>',
           f'<text x="{left + n * cell / 2}" y="32" text-anchor="middle">'
           f'{escape(col_label)}</text>',
           f'<text x="12" y="{top + n * cell / 2}" text-anchor="middle" '
           f'transform="rotate(-90 12 {top + n * cell / 2})">{escape(row_label)}</text>']
    for j, name in enumerate(labels):
        x = left + j * cell + cell / 2
        out.append(f'<text x="{x}" y="{top - 6}" transform="rotate(-55 {x} {top - 6})">'
                   f'{escape(name)}</text>')
    for i, name in enumerate(labels):
        y = top + i * cell
        out.append(f'<text x="{left - 4}" y="{y + cell / 2 + 4}" text-anchor="end">'
                   f'{escape(name)}</text>')
        for j in range(n):
            f = frac[i, j]
            shade = int(255 - 200 * f)
            fill = f"rgb({shade},{shade},255)"
            ink = "#fff" if f > 0.55 else "#000"
            out.append(f'<rect class="cell" x="{left + j * cell}" y="{y}" width="{cell}" '
                       f'height="{cell}" fill="{fill}" stroke="#fff"/>'
                       f'<text x="{left + j * cell + cell / 2}" y="{y + cell / 2 + 4}" '
                       f'text-anchor="middle" fill="{ink}">{int(m[i, j])}</text>')
    out.append("</svg>")
    return "".join(out)


def scatter(coords: np.ndarray, groups: np.ndarray, group_names: list[str], *, title: str,
            width: int = 520, height: int = 420, seed: int = 0) -> str:
    """2-D points coloured by group, with a legend (past :data:`MAX_SCATTER_POINTS` a random
    subset is drawn, and the title says so)."""
    xy = np.asarray(coords, dtype=float)[:, :2]
    groups = np.asarray(groups)
    if len(xy) > MAX_SCATTER_POINTS:
        pick = np.random.default_rng(seed).choice(len(xy), MAX_SCATTER_POINTS, replace=False)
        xy, groups = xy[pick], groups[pick]
        title += f" ({MAX_SCATTER_POINTS} random points shown)"
    left, right, top, bottom = 40, 130, 28, 30
    pw, ph = width - left - right, height - top - bottom
    lo, hi = xy.min(0), xy.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    p = (xy - lo) / span
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'role="img" aria-label="{escape(title)}" {_FONT}>',
           f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13">'
           f'{escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
           f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">PC 1</text>',
           f'<text x="14" y="{top + ph / 2}" transform="rotate(-90 14 {top + ph / 2})" '
           f'text-anchor="middle">PC 2</text>']
    for (x, y), g in zip(p, groups, strict=True):
        out.append(f'<circle class="pt" cx="{left + 4 + x * (pw - 8):.1f}" '
                   f'cy="{top + 4 + (1 - y) * (ph - 8):.1f}" r="2.5" fill="{color(int(g))}" '
                   f'fill-opacity="0.75"/>')
    for i, name in enumerate(group_names[:30]):
        ly = top + 10 + 14 * i
        out.append(f'<circle cx="{left + pw + 14}" cy="{ly - 4}" r="4" fill="{color(i)}"/>'
                   f'<text x="{left + pw + 22}" y="{ly}">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)

"""Temperature scaling of a classifier's probabilities, and the calibration error it fixes.

A classifier trained to low cross-entropy on a small set is usually over-confident: it says
"95 %" where it is right 60 % of the time. Dividing its logits by one temperature ``T`` fitted on
the validation side (Guo et al., 2017) keeps every decision (the arg-max does not move) and makes
the bars mean what they show. The expected calibration error (ECE) says how far they were off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

ECE_BINS = 15
"""Equal-width confidence bins of :func:`expected_calibration_error` (the usual choice)."""


@dataclass(frozen=True)
class Calibration:
    """A fitted temperature and the ECE on the validation side before and after it.

    Stored as ``"calibration"`` in a classifier's ``config.json``.
    """

    temperature: float
    ece_before: float
    ece_after: float
    n_clips: int

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature`` (``[N, K]``), computed stably."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def expected_calibration_error(proba: np.ndarray, labels: np.ndarray,
                               bins: int = ECE_BINS) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins.

    Parameters
    ----------
    proba : np.ndarray[N, K]
        Probabilities (rows sum to 1).
    labels : np.ndarray[N]
        True class indices.

    Returns
    -------
    float
        In [0, 1]; 0 is perfectly calibrated.
    """
    proba = np.asarray(proba, dtype=np.float64)
    labels = np.asarray(labels)
    conf = proba.max(axis=1)
    right = proba.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        mine = which == b
        if mine.any():
            ece += mine.mean() * abs(conf[mine].mean() - right[mine].mean())
    return float(ece)


def _nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    p = softmax(logits, temperature)[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(p, 1e-12, None)).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of ``labels``.

    A grid over log T, then a finer grid around the best point: deterministic, and one
    parameter needs nothing more elaborate.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    grid = np.linspace(np.log(0.05), np.log(20.0), 121)
    best = min(grid, key=lambda g: _nll(logits, labels, float(np.exp(g))))
    step = grid[1] - grid[0]
    fine = np.linspace(best - step, best + step, 41)
    best = min(fine, key=lambda g: _nll(logits, labels, float(np.exp(g))))
    return float(np.exp(best))


def calibrate(logits: np.ndarray, labels: np.ndarray) -> Calibration:
    """Fit the temperature on validation ``logits`` ``[N, K]`` and ``labels`` ``[N]``."""
    t = fit_temperature(logits, labels)
    return Calibration(temperature=round(t, 4),
                       ece_before=round(expected_calibration_error(softmax(logits), labels), 4),
                       ece_after=round(expected_calibration_error(softmax(logits, t), labels), 4),
                       n_clips=int(len(labels)))

"""Does an exported graph reproduce the torch model? Figures on a clip and on an odd length.

An export is only useful if a host hears what the app plays. The check feeds the same test
signal (two clips per batch) to eager torch and to the exported encoder, and the torch latent to
both decoders, at two lengths: a whole clip (5 s for the bundled models) and an odd length that
is neither a multiple of the hop nor of the clip, where a graph with a frozen length breaks.
Each output passes if its SI-SDR against torch is at least :data:`MIN_SI_SDR_DB` or its largest
absolute difference is at most :data:`MAX_ABS_DIFF`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from core.models.base import Autoencoder

MIN_SI_SDR_DB = 60.0
MAX_ABS_DIFF = 1e-4
ODD_LENGTH = 36_751

EncodeFn = Callable[[np.ndarray], np.ndarray]
"""``audio: np.ndarray[B, 1, T] float32 -> latent np.ndarray[B, C, L]``."""
DecodeFn = Callable[[np.ndarray, int], np.ndarray]
"""``(latent np.ndarray[B, C, L], length) -> audio np.ndarray[B, 1, length]``."""


@dataclass(frozen=True)
class ParityFigure:
    """One compared output.

    Attributes
    ----------
    part : str
        ``"encoder"`` or ``"decoder"``.
    samples : int
        Length of the test audio.
    si_sdr_db : float
        SI-SDR of the exported output against torch's, in dB (``inf`` when identical).
    max_abs_diff : float
        Largest absolute difference.
    error : str or None
        Why the exported graph gave no comparable output (it refused the input, or answered
        with another shape); the figures are then -inf dB and inf.
    """

    part: str
    samples: int
    si_sdr_db: float
    max_abs_diff: float
    error: str | None = None

    @property
    def passed(self) -> bool:
        """Whether either bound holds."""
        if self.error is not None:
            return False
        return self.si_sdr_db >= MIN_SI_SDR_DB or self.max_abs_diff <= MAX_ABS_DIFF

    def describe(self) -> str:
        """``"decoder, 36751 samples: SI-SDR 123.4 dB, max abs diff 2.1e-07"``."""
        if self.error is not None:
            return f"{self.part}, {self.samples} samples: {self.error}"
        return (f"{self.part}, {self.samples} samples: SI-SDR {self.si_sdr_db:.1f} dB, "
                f"max abs diff {self.max_abs_diff:.2g}")

    def as_dict(self) -> dict:
        sdr = self.si_sdr_db if math.isfinite(self.si_sdr_db) else None
        return {"part": self.part, "samples": self.samples, "si_sdr_db": sdr,
                "max_abs_diff": self.max_abs_diff if math.isfinite(self.max_abs_diff) else None,
                "passed": self.passed, "error": self.error}


@dataclass(frozen=True)
class ParityReport:
    """Every compared output of one exported format."""

    format: str
    figures: tuple[ParityFigure, ...]

    @property
    def passed(self) -> bool:
        return all(f.passed for f in self.figures)

    @property
    def failures(self) -> tuple[ParityFigure, ...]:
        return tuple(f for f in self.figures if not f.passed)

    @property
    def worst_si_sdr_db(self) -> float:
        return min(f.si_sdr_db for f in self.figures)

    @property
    def worst_max_abs_diff(self) -> float:
        return max(f.max_abs_diff for f in self.figures)

    def as_dict(self) -> dict:
        return {"format": self.format, "passed": self.passed,
                "bounds": {"min_si_sdr_db": MIN_SI_SDR_DB, "max_abs_diff": MAX_ABS_DIFF},
                "figures": [f.as_dict() for f in self.figures]}


def si_sdr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant SDR of ``estimate`` against ``reference`` (any equal shapes), in dB."""
    ref = np.asarray(reference, dtype=np.float64).ravel()
    est = np.asarray(estimate, dtype=np.float64).ravel()
    power = float(ref @ ref)
    if power == 0.0:
        return math.inf if not np.any(est) else -math.inf
    target = (est @ ref) / power * ref
    noise = float(((est - target) ** 2).sum())
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(float(target @ target) / noise)


def probe_signal(samples: int, sample_rate: int, seed: int = 0) -> np.ndarray:
    """A music-like test clip ``np.ndarray[1, 1, samples]``: a few notes with harmonics and noise.

    Deterministic for a seed, peak 0.8, so both sides see the same well-scaled input.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / sample_rate
    x = np.zeros(samples)
    for f0 in rng.uniform(80.0, 800.0, size=4):
        for h in range(1, 6):
            x += np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 2 * np.pi)) / h
    x *= 0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * t) ** 2
    x += 0.05 * rng.standard_normal(samples)
    x *= 0.8 / np.abs(x).max()
    return x.astype(np.float32)[None, None]


def parity_lengths(model: Autoencoder) -> tuple[int, ...]:
    """The whole clip and :data:`ODD_LENGTH` (or an odd third of a short clip)."""
    odd = ODD_LENGTH if model.clip_samples > ODD_LENGTH else (model.clip_samples // 3) | 1
    return (model.clip_samples, odd)


def check_parity(model: Autoencoder, fmt: str, encode: EncodeFn, decode: DecodeFn,
                 lengths: tuple[int, ...] | None = None) -> ParityReport:
    """Compare an exported encoder and decoder with ``model`` in eager torch.

    Parameters
    ----------
    model : Autoencoder
        The torch model (run on CPU in eval mode; its mode is restored).
    fmt : str
        Name of the format, for the report (``"onnx"``, ``"torchscript"``).
    encode, decode : callables
        The exported graphs (see :data:`EncodeFn`, :data:`DecodeFn`).
    lengths : tuple[int, ...], optional
        Test lengths in samples; default :func:`parity_lengths`.

    Returns
    -------
    ParityReport
        One encoder and one decoder figure per length.
    """
    figures = []
    was_training = model.training
    model.eval()
    try:
        for i, T in enumerate(lengths or parity_lengths(model)):
            # Two different clips in one batch: the batch axis is dynamic too.
            x = np.concatenate([probe_signal(T, model.sample_rate, seed=2 * i),
                                probe_signal(T, model.sample_rate, seed=2 * i + 1)])
            with torch.inference_mode():
                xt = torch.from_numpy(x).to(next(model.parameters()).device)
                z = model.encode(xt)
                y = model.decode(z, length=T).float().cpu().numpy()
                z = z.float().cpu().numpy()
            figures.append(_figure("encoder", T, z, encode, x))
            figures.append(_figure("decoder", T, y, decode, z, T))
    finally:
        model.train(was_training)
    return ParityReport(fmt, tuple(figures))


def _figure(part: str, T: int, reference: np.ndarray, run: Callable[..., np.ndarray],
            *args) -> ParityFigure:
    try:
        estimate = np.asarray(run(*args), dtype=np.float32)
    except Exception as err:  # a runtime's own error types: the graph refused this input
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        return ParityFigure(part, T, -math.inf, math.inf, f"the graph refused it ({first[:200]})")
    if estimate.shape != reference.shape:
        # A graph that froze a length at export time answers with the wrong shape.
        return ParityFigure(part, T, -math.inf, math.inf,
                            f"shape {list(estimate.shape)}, torch gives {list(reference.shape)}")
    diff = float(np.abs(estimate.astype(np.float64) - reference).max())
    return ParityFigure(part, T, si_sdr_db(reference, estimate), diff)

"""Quality figures for a reconstruction: SNR, SI-SDR, log-mel distance, multi-resolution STFT.

The report used MSE only; these are the measures the workbench reports beside it. Every function
takes ``ref`` and ``est`` as ``[T]`` (returns a float) or ``[N, T]`` (returns ``np.ndarray[N]``,
one value per clip).

Silent references: SNR and SI-SDR are undefined when ``ref`` is all zeros. They return ``+inf``
when ``est`` is silent too (perfect) and ``-inf`` otherwise, never NaN. :func:`quality` leaves
silent-reference clips out of its averages and caps the dB figures.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torchaudio

from core.constants import SAMPLE_RATE

MEL_FLOOR = 1e-5
MEL_FFT = 1024
STFT_SIZES = (512, 1024, 2048)
_EPS = 1e-12


def _pair(ref: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    r = np.asarray(ref, dtype=np.float64)
    e = np.asarray(est, dtype=np.float64)
    if r.shape != e.shape:
        raise ValueError(f"reference and estimate differ in shape: {r.shape} vs {e.shape}")
    if r.ndim not in (1, 2) or r.shape[-1] == 0:
        raise ValueError(f"expected audio of shape [T] or [N, T], got {r.shape}")
    single = r.ndim == 1
    return np.atleast_2d(r), np.atleast_2d(e), single


def _out(values: np.ndarray, single: bool) -> float | np.ndarray:
    return float(values[0]) if single else values


def _ratio_db(signal: np.ndarray, noise: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        db = 10 * np.log10(signal / noise)
    db = np.where(noise == 0, np.inf, db)
    return np.where(signal == 0, np.where(noise == 0, np.inf, -np.inf), db)


def snr(ref: np.ndarray, est: np.ndarray) -> float | np.ndarray:
    """Signal-to-noise ratio ``10 log10(|ref|^2 / |ref - est|^2)`` in dB.

    Parameters
    ----------
    ref, est : np.ndarray[T] or np.ndarray[N, T]

    Returns
    -------
    float or np.ndarray[N]
        dB; ``inf`` for an exact match, see the module notes for a silent ``ref``.
    """
    r, e, single = _pair(ref, est)
    return _out(_ratio_db(np.sum(r * r, -1), np.sum((r - e) ** 2, -1)), single)


def si_sdr(ref: np.ndarray, est: np.ndarray) -> float | np.ndarray:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., 2019).

    ``est`` is projected on ``ref``; the ratio of that projection's energy to the rest is
    returned, so a gain error alone costs nothing.

    Parameters
    ----------
    ref, est : np.ndarray[T] or np.ndarray[N, T]

    Returns
    -------
    float or np.ndarray[N]
        dB; see the module notes for a silent ``ref``.
    """
    r, e, single = _pair(ref, est)
    energy = np.sum(r * r, -1)
    alpha = np.where(energy > 0, np.sum(e * r, -1) / np.where(energy > 0, energy, 1), 0.0)
    target = alpha[:, None] * r
    residual = e - target
    values = _ratio_db(np.sum(target * target, -1), np.sum(residual * residual, -1))
    # Silent ref and silent est: perfect. Exactly one of them silent: nothing of ref survives.
    ref_silent, est_silent = energy == 0, np.sum(e * e, -1) == 0
    values = np.where(ref_silent | est_silent,
                      np.where(ref_silent & est_silent, np.inf, -np.inf), values)
    return _out(values, single)


@functools.lru_cache(maxsize=8)
def _mel_transform(sample_rate: int) -> torchaudio.transforms.MelSpectrogram:
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=MEL_FFT, hop_length=MEL_FFT // 4, n_mels=64, power=1.0)


def log_mel_l1(ref: np.ndarray, est: np.ndarray,
               sample_rate: int = SAMPLE_RATE) -> float | np.ndarray:
    """Mean absolute difference of log10 mel magnitudes (64 bands, 1024-point FFT).

    Magnitudes below ``MEL_FLOOR`` are clipped to it, so silence compares as equal whatever
    its exact level. 0 means identical spectra; about 0.1 is hard to hear on music.

    Parameters
    ----------
    ref, est : np.ndarray[T] or np.ndarray[N, T]
    sample_rate : int

    Returns
    -------
    float or np.ndarray[N]
    """
    r, e, single = _pair(ref, est)
    mel = _mel_transform(int(sample_rate))
    with torch.inference_mode():
        both = torch.from_numpy(np.concatenate([r, e]).astype(np.float32))
        if both.shape[-1] <= MEL_FFT:
            # Reflect padding inside the transform needs more samples than half an FFT.
            both = torch.nn.functional.pad(both, (0, MEL_FFT + 1 - both.shape[-1]))
        spec = torch.log10(torch.clamp(mel(both), min=MEL_FLOOR))
        n = r.shape[0]
        values = (spec[:n] - spec[n:]).abs().mean(dim=(-2, -1)).double().numpy()
    return _out(values, single)


@functools.lru_cache(maxsize=8)
def _hann(n_fft: int) -> torch.Tensor:
    return torch.hann_window(n_fft)


def mr_stft_distance(ref: np.ndarray, est: np.ndarray) -> float | np.ndarray:
    """Multi-resolution STFT distance: spectral convergence + log-magnitude L1, averaged over
    FFT sizes 512, 1024 and 2048 (hop a quarter, Hann window).

    Parameters
    ----------
    ref, est : np.ndarray[T] or np.ndarray[N, T]

    Returns
    -------
    float or np.ndarray[N]
        0 for identical signals; larger is worse.
    """
    r, e, single = _pair(ref, est)
    both = torch.from_numpy(np.concatenate([r, e]).astype(np.float32))
    n = r.shape[0]
    total = np.zeros(n, dtype=np.float64)
    # float32 throughout (float64 magnitudes cost ~5x for no audible digit); the sums are
    # pairwise, so their relative error stays near float32 rounding.
    with torch.inference_mode():
        for n_fft in STFT_SIZES:
            x = both
            if x.shape[-1] <= n_fft:
                x = torch.nn.functional.pad(x, (0, n_fft + 1 - x.shape[-1]))
            mag = torch.stft(x, n_fft, hop_length=n_fft // 4, window=_hann(n_fft),
                             return_complex=True).abs().flatten(1)
            mr, me = mag[:n], mag[n:]
            nr, ne = torch.linalg.vector_norm(mr, dim=1), torch.linalg.vector_norm(me, dim=1)
            # A silent (or one-sample) reference has no spectrum to converge to: measuring
            # against the estimate's own norm keeps the figure near 1 instead of 1e11.
            denom = torch.where(nr > 1e-3 * ne, nr, ne).clamp(min=_EPS)
            sc = torch.linalg.vector_norm(mr - me, dim=1) / denom
            # |log a - log b| as one log of the ratio: half the transcendental calls.
            logmag = torch.log(mr.clamp(min=1e-7) / me.clamp(min=1e-7)).abs_().mean(dim=1)
            total += (sc + logmag).double().numpy()
    return _out(total / len(STFT_SIZES), single)


@dataclass(frozen=True)
class Quality:
    """The four quality figures of a reconstruction (averages over clips for ``[N, T]``).

    Attributes
    ----------
    snr : float
        dB, higher is better.
    si_sdr : float
        dB, higher is better.
    log_mel_l1 : float
        Lower is better.
    mr_stft : float
        Lower is better.
    """

    snr: float
    si_sdr: float
    log_mel_l1: float
    mr_stft: float

    def as_dict(self) -> dict[str, float]:
        """The figures as a plain dict (for JSON and tables)."""
        return asdict(self)


DB_CAP = 100.0
"""Bound on SNR/SI-SDR inside :func:`quality` averages, so one exact clip cannot make them inf."""


def _mean(values: float | np.ndarray, keep: np.ndarray, cap: float | None = None) -> float:
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if cap is not None:
        arr = np.clip(arr, -cap, cap)
    kept = arr[keep] if keep.any() else arr
    return float(kept.mean())


def quality(ref: np.ndarray, est: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Quality:
    """All four figures for ``est`` against ``ref``.

    Parameters
    ----------
    ref, est : np.ndarray[T] or np.ndarray[N, T]
    sample_rate : int

    Returns
    -------
    Quality
        For ``[N, T]`` each figure is the mean over clips. Clips with a silent reference are left
        out (unless all are silent), and SNR/SI-SDR are clipped to +-``DB_CAP`` dB first, so an
        exact reconstruction counts as 100 dB instead of making the mean infinite.
    """
    r = np.atleast_2d(np.asarray(ref, dtype=np.float64))
    keep = np.any(r != 0, axis=-1)
    return Quality(
        snr=_mean(snr(ref, est), keep, DB_CAP),
        si_sdr=_mean(si_sdr(ref, est), keep, DB_CAP),
        log_mel_l1=_mean(log_mel_l1(ref, est, sample_rate), keep),
        mr_stft=_mean(mr_stft_distance(ref, est), keep),
    )

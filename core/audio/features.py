"""Hand-made features for the baselines and for clustering: log-mel, MFCC statistics, latent
statistics.

The baselines beside every latent-probe number are computed from the same clips with these
functions (a mel CNN and MFCC statistics + MLP). Latent features come in two kinds: the report's
flattened latent and pooled statistics over time, which do not grow with clip length.
"""

from __future__ import annotations

import functools
import threading

import numpy as np
import torch
import torchaudio
from torch import Tensor, nn

from core.constants import SAMPLE_RATE

N_FFT = 1024
HOP = 512
N_MELS = 64
N_MFCC = 20
LOG_EPS = 1e-6
_BATCH = 64


class LogMel(nn.Module):
    """Audio ``Tensor[B, T]`` (or ``[B, 1, T]``) -> log-mel ``Tensor[B, n_mels, F]``.

    A module so that the mel CNN carries its own front end and runs it on whatever device the
    network is on.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, n_mels: int = N_MELS,
                 n_fft: int = N_FFT, hop: int = HOP):
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels, power=2.0)

    def forward(self, audio: Tensor) -> Tensor:
        if audio.dim() == 3:
            audio = audio[:, 0]
        return torch.log(self.mel(audio) + LOG_EPS)


def _as_float_tensor(clips: np.ndarray | Tensor) -> Tensor:
    x = clips if isinstance(clips, Tensor) else torch.from_numpy(np.asarray(clips))
    if x.dtype == torch.int16:
        x = x.float() / 32768.0
    x = x.float()
    if x.dim() == 1:
        x = x[None]
    if x.dim() != 2:
        raise ValueError(f"clips must be [N, T], got shape {tuple(x.shape)}")
    return x


_FRONT_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8)
def _cached_front(sample_rate: int, n_mels: int, device: str) -> LogMel:
    return LogMel(sample_rate, n_mels).to(device).eval()


def _log_mel_front(sample_rate: int, n_mels: int, device: str) -> LogMel:
    # Building the mel filter bank costs more than transforming a 5 s clip; the module is
    # stateless in forward, so threads may share one. The lock keeps lru_cache from building
    # two at once.
    with _FRONT_LOCK:
        return _cached_front(sample_rate, n_mels, device)


def log_mel(clips: np.ndarray | Tensor, *, sample_rate: int = SAMPLE_RATE,
            n_mels: int = N_MELS, device: str | torch.device = "cpu") -> np.ndarray:
    """Log-mel spectrograms of clips.

    Parameters
    ----------
    clips : ndarray[N, T]
        float32 in [-1, 1] or int16 audio.
    sample_rate : int
        Rate of ``clips`` in Hz.
    n_mels : int
        Mel bands.
    device : str or torch.device
        Where the transform runs.

    Returns
    -------
    ndarray[N, n_mels, F]
        float32 natural-log power, ``F = T // 512 + 1`` frames.
    """
    x = _as_float_tensor(clips)
    front = _log_mel_front(int(sample_rate), int(n_mels), str(torch.device(device)))
    out = []
    with torch.no_grad():
        for start in range(0, len(x), _BATCH):
            out.append(front(x[start:start + _BATCH].to(device)).cpu())
    return torch.cat(out).numpy().astype(np.float32)


def mfcc_stats(clips: np.ndarray | Tensor, *, sample_rate: int = SAMPLE_RATE,
               n_mfcc: int = N_MFCC, device: str | torch.device = "cpu") -> np.ndarray:
    """MFCC statistics per clip: mean and standard deviation over time of each coefficient and
    of its first difference (the classic genre-recognition feature vector).

    Parameters
    ----------
    clips : ndarray[N, T]
        float32 in [-1, 1] or int16 audio.
    sample_rate : int
        Rate of ``clips`` in Hz.
    n_mfcc : int
        Cepstral coefficients kept.
    device : str or torch.device
        Where the transform runs.

    Returns
    -------
    ndarray[N, 4 * n_mfcc]
        float32 ``[mean(c), std(c), mean(dc), std(dc)]``.
    """
    x = _as_float_tensor(clips)
    mfcc = torchaudio.transforms.MFCC(
        sample_rate=sample_rate, n_mfcc=n_mfcc, log_mels=True,
        melkwargs={"n_fft": N_FFT, "hop_length": HOP, "n_mels": N_MELS}).to(device)
    out = []
    with torch.no_grad():
        for start in range(0, len(x), _BATCH):
            c = mfcc(x[start:start + _BATCH].to(device))
            d = torch.diff(c, dim=-1) if c.shape[-1] > 1 else torch.zeros_like(c)
            out.append(torch.cat([c.mean(-1), c.std(-1, unbiased=False),
                                  d.mean(-1), d.std(-1, unbiased=False)], dim=1).cpu())
    return torch.cat(out).numpy().astype(np.float32)


def latent_flat(z: np.ndarray) -> np.ndarray:
    """The report's latent feature: the latent flattened, ``[N, C, L] -> [N, C * L]``."""
    z = np.asarray(z, dtype=np.float32)
    return z.reshape(len(z), -1)


LATENT_STATS_VERSION = 1
"""Bumped whenever :func:`latent_stats_torch` changes, so heads trained on the old features
are refused instead of silently misclassifying."""


def latent_stats_dim(channels: int, n_bands: int = 16) -> int:
    """Length of one :func:`latent_stats_torch` vector for a latent of ``channels`` channels."""
    return channels * (3 + 2 * n_bands)


def latent_stats_torch(z: Tensor, n_bands: int = 16, frame: int = 256) -> Tensor:
    """Pooled statistics over time of a latent, differentiable and on ``z``'s device.

    Per channel: the mean, standard deviation and maximum of |z| over time, and the mean and
    standard deviation over frames of the log energy in ``n_bands`` log-spaced frequency bands
    of the channel (the report's latents have one channel that behaves like a decimated
    waveform, so its spectrum carries what a mel spectrogram would). Latents shorter than a
    frame get zero band statistics.

    Parameters
    ----------
    z : Tensor[B, C, L]
        Latents.
    n_bands : int
        Frequency bands per channel.
    frame : int
        Frame length in latent samples (hop is half of it).

    Returns
    -------
    Tensor[B, C * (3 + 2 * n_bands)]
    """
    b, c, length = z.shape
    pooled = [z.mean(-1), z.std(-1, unbiased=False), z.abs().amax(-1)]
    frame = min(frame, length)
    if frame >= 16:
        frames = z.reshape(b * c, length).unfold(-1, frame, max(1, frame // 2))
        window = torch.hann_window(frame, device=z.device, dtype=z.dtype)
        power = torch.fft.rfft(frames * window, dim=-1).abs().pow(2)  # [BC, F, frame//2+1]
        bins = power.shape[-1]
        # Log-spaced, but at least one bin wide: plain geomspace rounding merges the low bands.
        edges = np.maximum(np.round(np.geomspace(1, bins, n_bands + 1)).astype(int),
                           np.arange(1, n_bands + 2))
        edges = np.unique(np.minimum(edges, bins))
        bands = [power[..., lo:max(hi, lo + 1)].mean(-1) for lo, hi in zip(edges[:-1],
                                                                         edges[1:], strict=True)]
        log_e = torch.log(torch.stack(bands, -1) + LOG_EPS)  # [BC, F, <=n_bands]
        log_e = nn.functional.pad(log_e, (0, n_bands - log_e.shape[-1]))
        band_mean = log_e.mean(1).reshape(b, c * n_bands)
        band_std = log_e.std(1, unbiased=False).reshape(b, c * n_bands)
    else:
        band_mean = z.new_zeros(b, c * n_bands)
        band_std = z.new_zeros(b, c * n_bands)
    return torch.cat(pooled + [band_mean, band_std], dim=1)


def latent_stats(z: np.ndarray, n_bands: int = 16, frame: int = 256) -> np.ndarray:
    """Pooled latent statistics (see :func:`latent_stats_torch`).

    Parameters
    ----------
    z : ndarray[N, C, L]
        Latents.

    Returns
    -------
    ndarray[N, C * (3 + 2 * n_bands)]
        float32 features.
    """
    z_t = torch.from_numpy(np.asarray(z, dtype=np.float32))
    out = []
    with torch.no_grad():
        for start in range(0, len(z_t), _BATCH):
            out.append(latent_stats_torch(z_t[start:start + _BATCH], n_bands, frame))
    return torch.cat(out).numpy()


LATENT_FEATURES = {"flatten": latent_flat, "stats": latent_stats}
"""Latent feature kinds by name, for clustering: the report's and the pooled one."""


def mel_band_position(hz: float | np.ndarray, *, sample_rate: int = SAMPLE_RATE,
                      n_mels: int = N_MELS) -> np.ndarray:
    """Where frequency ``hz`` falls on the band axis of :func:`log_mel` (band ``i`` spans
    ``[i, i + 1)``), for drawing a frequency axis beside a log-mel image.

    torchaudio's mel filters (HTK scale, 0 Hz to Nyquist) peak at ``n_mels + 2`` equally spaced
    mel points minus the two ends; band ``i`` peaks at point ``i + 1``.
    """
    def mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    step = mel(sample_rate / 2) / (n_mels + 1)
    return mel(hz) / step - 1.0 + 0.5

"""Multi-scale pooled statistics of a latent: what a style probe needs beyond per-channel means.

A codec's latent has several channels at a few hundred to a few thousand steps a second. The
plain pooled statistics (:func:`core.audio.features.latent_stats_torch`) keep each channel's
level and spectrum but lose how the channels move together and how the signal changes over
time, which is what MFCC covariances and deltas carry for the MFCC baseline. These add, per
scale (the latent average-pooled over 1, 4, 16 and 64 steps): the standard deviation and the mean
absolute first difference of each channel, and once the correlation between channels.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.audio.features import latent_stats_dim, latent_stats_torch

SCALES = (1, 4, 16, 64)
"""Average-pooling widths, in latent steps, of the multi-scale statistics."""


def multiscale_dim(channels: int, n_bands: int = 16) -> int:
    """Length of :func:`multiscale_stats` for a latent of ``channels`` channels."""
    pairs = channels * (channels - 1) // 2
    return latent_stats_dim(channels, n_bands) + 2 * channels * len(SCALES) + pairs


def multiscale_stats(z: Tensor, n_bands: int = 16, frame: int = 256) -> Tensor:
    """Pooled statistics of ``z`` over several time scales, and its channel correlations.

    Parameters
    ----------
    z : Tensor[B, C, L]
        Latents.

    Returns
    -------
    Tensor[B, multiscale_dim(C, n_bands)]
    """
    b, c, length = z.shape
    parts = [latent_stats_torch(z, n_bands, frame)]
    for s in SCALES:
        pooled = z if s == 1 else nn.functional.avg_pool1d(z, min(s, length), min(s, length))
        parts.append(pooled.std(-1, unbiased=False))
        diff = pooled.diff(dim=-1) if pooled.shape[-1] > 1 else torch.zeros_like(pooled)
        parts.append(diff.abs().mean(-1))
    centred = z - z.mean(-1, keepdim=True)
    cov = centred @ centred.transpose(1, 2) / max(length, 1)
    scale = torch.sqrt(torch.diagonal(cov, dim1=1, dim2=2).clamp_min(1e-12))
    corr = cov / (scale[:, :, None] * scale[:, None, :])
    rows, cols = torch.triu_indices(c, c, offset=1)
    parts.append(corr[:, rows, cols])
    return torch.cat(parts, dim=1)

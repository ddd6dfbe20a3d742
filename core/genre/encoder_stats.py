"""Features of the ``encoder`` head: the latent's multi-scale statistics and the pooled band
statistics of the encoder's first stage.

A codec with an MDCT bypass keeps the band below ``sample_rate / 2 * C / hop`` in its latent
exactly and little else (the deep encoder's share of the latent is small), so any feature of the
latent knows about as much as MFCC statistics of the audio cut to that band: on the real music
style split 53.8 % against 63.1 % for the full band (``scripts/probe_features.py``). The
encoder's first stage still sees the whole band; its activations' band statistics beside the
latent's statistics reach 66.1 % on the same split (three seeds: 63.0-69.7 %).

The features need the audio, not only the latent: a classifier with this head scores audio
(what the app does for A, B and C alike), and refuses a bare latent.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.audio.features import latent_stats_dim, latent_stats_torch
from core.genre.multiscale import multiscale_dim, multiscale_stats

STAGE_FRAME = 256
"""Frame length, in steps of the first stage, of its band statistics."""


def _stage_bounds(encoder: nn.Sequential) -> int:
    """How many of ``encoder``'s layers make its first stage (stem conv, activation, the first
    strided conv and its residual units, up to the activation before the next strided conv)."""
    convs = [i for i, m in enumerate(encoder) if isinstance(m, nn.Conv1d)]
    if len(convs) < 3:
        raise ValueError("the encoder head needs an encoder of at least two strided stages")
    return convs[2] - 1


def supports(autoencoder: nn.Module) -> bool:
    """Whether ``autoencoder`` has the layout the head reads (a CELCodec's encoder)."""
    encoder = getattr(autoencoder, "encoder", None)
    if not isinstance(encoder, nn.Sequential) or not hasattr(autoencoder, "config"):
        return False
    try:
        _stage_bounds(encoder)
    except ValueError:
        return False
    return hasattr(autoencoder.config, "hop")


def stage_channels(autoencoder: nn.Module) -> int:
    """Channels of the first stage's output."""
    encoder = autoencoder.encoder
    convs = [m for m in encoder[:_stage_bounds(encoder)] if isinstance(m, nn.Conv1d)]
    return int(convs[-1].out_channels)


def encoder_stats_dim(latent_channels: int, stage_channels: int, n_bands: int = 16) -> int:
    """Length of :func:`encoder_stats`."""
    return multiscale_dim(latent_channels, n_bands) + latent_stats_dim(stage_channels, n_bands)


def encoder_taps(autoencoder: nn.Module, audio: Tensor) -> dict[str, Tensor]:
    """Run the encoder once on audio ``Tensor[B, 1, T]`` and keep, on the way, the stem's output
    (``"stem"``, after its activation, at the full rate) and the first stage's (``"stage"``);
    ``"latent"`` is what ``autoencoder.encode`` gives (the test suite checks that)."""
    if not supports(autoencoder):
        raise ValueError(f"the encoder head reads a CELCodec's encoder layers, not a "
                         f"{type(autoencoder).__name__}'s")
    encoder = autoencoder.encoder
    hop = autoencoder.config.hop
    length = -(-audio.shape[-1] // hop)
    x = nn.functional.pad(audio, (0, length * hop - audio.shape[-1]))
    stem_end = next(i for i, m in enumerate(encoder) if isinstance(m, nn.Conv1d)) + 2
    cut = _stage_bounds(encoder)
    stem = encoder[:stem_end](x)
    stage = encoder[stem_end:cut](stem)
    z = encoder[cut:](stage)
    if getattr(autoencoder, "analysis", None) is not None:
        z = z + autoencoder.analysis(x)
    return {"stem": stem, "stage": stage, "latent": z}


def encoder_stats(autoencoder: nn.Module, audio: Tensor, n_bands: int = 16,
                  frame: int = 256) -> Tensor:
    """The head's features of audio ``Tensor[B, 1, T]``: ``Tensor[B, encoder_stats_dim]``."""
    taps = encoder_taps(autoencoder, audio)
    return torch.cat([multiscale_stats(taps["latent"], n_bands, frame),
                      latent_stats_torch(taps["stage"], n_bands, STAGE_FRAME)], dim=1)

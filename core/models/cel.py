"""The report's family: CELAutoencoder, a small 1-D convolutional autoencoder with BatchNorm.

Decoder as the report describes it (section 3): conv ``C -> 8``, BatchNorm, activation,
conv ``8 -> 16``, BatchNorm, activation, Upsample to the input length, conv ``16 -> 1``, Tanh.
The encoder mirrors it: conv ``1 -> 16``, BatchNorm, activation, average-pool down to
``L = ceil(T / latent_ratio)``, conv ``16 -> 8``, BatchNorm, activation, conv ``8 -> C``.

The report's Upsample went to a fixed 110 250 samples and its pooling halved the length. Here
both go to a computed size (adaptive average pooling to ``L``; interpolation to ``T``), which
gives the same layers for the report's ratios (2, 4, 10) and also lets any ratio > 1 (3.5...)
and any input length work. Convolutions keep length ("same" padding, odd kernel).

Presets: ``CELAutoencoderLeakyReLU`` and ``CELAutoencoderSiLU`` (latent 1 x 55 125 for a
110 250-sample clip), ``CELAutoencoder2`` (1 x 27 563) and ``CELAutoencoder3`` (1 x 11 025).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch.nn.functional as F
from torch import Tensor, nn

from core.constants import CLIP_SAMPLES, SAMPLE_RATE
from core.models.base import Autoencoder
from core.models.bounds import (
    MAX_CHANNELS,
    MAX_CLIP_SAMPLES,
    MAX_KERNEL_SIZE,
    MAX_SAMPLE_RATE,
    MIN_CLIP_SAMPLES,
    MIN_SAMPLE_RATE,
    check_activation,
    check_int,
)
from core.models.registry import register

ACTIVATIONS = {
    "silu": nn.SiLU,
    "leakyrelu": nn.LeakyReLU,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
}
UPSAMPLE_MODES = ("linear", "nearest")


@dataclass(frozen=True)
class CELConfig:
    """Hyper-parameters of a CELAutoencoder.

    Parameters
    ----------
    activation : str
        One of ``"silu"``, ``"leakyrelu"``, ``"relu"``, ``"gelu"``, ``"tanh"``.
    latent_ratio : float
        Input samples per latent step, > 1 (2 halves the length, 10 keeps a tenth).
    clip_samples : int
        Clip length the model is trained on (``L = ceil(clip_samples / latent_ratio)``).
    sample_rate : int
        Sample rate of the audio, in Hz.
    kernel_size : int
        Odd kernel width of every convolution.
    channels : tuple[int, int]
        Hidden widths of the decoder (8, 16 in the report); the encoder uses them reversed.
    latent_channels : int
        Channels ``C`` of the latent (1 in the report).
    upsample_mode : str
        ``"linear"`` or ``"nearest"`` interpolation in the decoder's Upsample.
    """

    # ``choices`` metadata lets a settings form offer exactly the values the config accepts.
    activation: str = field(default="silu", metadata={"choices": tuple(ACTIVATIONS)})
    latent_ratio: float = 2.0
    clip_samples: int = CLIP_SAMPLES
    sample_rate: int = SAMPLE_RATE
    kernel_size: int = 9
    channels: tuple[int, int] = (8, 16)
    latent_channels: int = 1
    upsample_mode: str = field(default="linear", metadata={"choices": UPSAMPLE_MODES})

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, "
                             f"not {self.activation!r}")
        ratio = self.latent_ratio
        if (isinstance(ratio, bool) or not isinstance(ratio, int | float)
                or not math.isfinite(ratio) or ratio <= 1):
            raise ValueError(f"latent_ratio must be a finite number > 1, not {ratio!r}")
        check_int("clip_samples", self.clip_samples, MIN_CLIP_SAMPLES, MAX_CLIP_SAMPLES)
        check_int("sample_rate", self.sample_rate, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)
        check_int("kernel_size", self.kernel_size, 1, MAX_KERNEL_SIZE)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, not {self.kernel_size}")
        if not isinstance(self.channels, tuple) or len(self.channels) != 2:
            raise ValueError(f"channels must be a pair of widths, not {self.channels!r}")
        for width in self.channels:
            check_int("each channel width", width, 1, MAX_CHANNELS)
        check_int("latent_channels", self.latent_channels, 1, MAX_CHANNELS)
        check_activation("channels", self.clip_samples * max(*self.channels,
                                                              self.latent_channels))
        if self.upsample_mode not in UPSAMPLE_MODES:
            raise ValueError(f"upsample_mode must be one of {', '.join(UPSAMPLE_MODES)}, "
                             f"not {self.upsample_mode!r}")
        if math.ceil(self.clip_samples / ratio) < 1:
            raise ValueError("clip_samples is too short for this latent_ratio")


def _conv(c_in: int, c_out: int, k: int) -> nn.Conv1d:
    return nn.Conv1d(c_in, c_out, k, padding=k // 2)


class CELAutoencoder(Autoencoder):
    """The report's convolutional autoencoder (see the module docstring for the layers).

    Parameters
    ----------
    config : CELConfig
        Hyper-parameters.
    """

    def __init__(self, config: CELConfig):
        super().__init__(config)
        k = config.kernel_size
        narrow, wide = config.channels
        c = config.latent_channels
        act = ACTIVATIONS[config.activation]
        self.enc_in = nn.Sequential(_conv(1, wide, k), nn.BatchNorm1d(wide), act())
        self.enc_out = nn.Sequential(_conv(wide, narrow, k), nn.BatchNorm1d(narrow), act(),
                                     _conv(narrow, c, k))
        self.dec_in = nn.Sequential(_conv(c, narrow, k), nn.BatchNorm1d(narrow), act(),
                                    _conv(narrow, wide, k), nn.BatchNorm1d(wide), act())
        self.dec_out = nn.Sequential(_conv(wide, 1, k), nn.Tanh())

    def encode(self, x: Tensor) -> Tensor:
        """Encode ``Tensor[B, 1, T]`` to ``Tensor[B, C, ceil(T / latent_ratio)]``."""
        if x.dim() != 3 or x.shape[1] != 1:
            raise ValueError(f"expected audio of shape [B, 1, T], got {tuple(x.shape)}")
        h = self.enc_in(x)
        h = F.adaptive_avg_pool1d(h, self.latent_shape(x.shape[-1])[1])
        return self.enc_out(h)

    def decode(self, z: Tensor, length: int | None = None) -> Tensor:
        """Decode ``Tensor[B, C, L]`` to ``Tensor[B, 1, length]``.

        ``length`` defaults to :meth:`Autoencoder.output_length` of ``L``.
        """
        if z.dim() != 3 or z.shape[1] != self.config.latent_channels:
            raise ValueError(f"expected a latent of shape [B, {self.config.latent_channels}, L],"
                             f" got {tuple(z.shape)}")
        T = self.output_length(z.shape[-1]) if length is None else int(length)
        h = self.dec_in(z)
        if self.config.upsample_mode == "linear":
            h = F.interpolate(h, size=T, mode="linear", align_corners=False)
        else:
            h = F.interpolate(h, size=T, mode="nearest")
        return self.dec_out(h)


register("CELAutoencoderLeakyReLU", CELAutoencoder, CELConfig,
         activation="leakyrelu", latent_ratio=2.0)
register("CELAutoencoderSiLU", CELAutoencoder, CELConfig, activation="silu", latent_ratio=2.0)
register("CELAutoencoder2", CELAutoencoder, CELConfig, activation="silu", latent_ratio=4.0)
register("CELAutoencoder3", CELAutoencoder, CELConfig, activation="silu", latent_ratio=10.0)

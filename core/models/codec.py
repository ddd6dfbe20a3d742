"""CELCodec: a strided convolutional autoencoder with residual dilated units.

The layout the well-known neural audio codecs share (SEANet, EnCodec, DAC), sized for a laptop
CPU. Encoder: a stem conv ``1 -> stem_channels``, then one stage per stride ``s``: activation, a
conv of kernel ``2 s`` and stride ``s`` that widens to that stage's channel count, and residual
units (dilations 1, 3, 9) at the reduced rate; a last conv projects to ``latent_channels``. The
decoder mirrors it with transposed convolutions and ends in a soft clip that is the identity
below 0.9 in magnitude.

Linear bypass (``bypass=True``, the default). Beside the deep path, a strided linear conv
(kernel ``2 H``, stride ``H``) adds to the latent and a transposed one adds to the output. They
start as the sine-windowed MDCT keeping the lowest ``latent_channels`` of its ``H`` bins, and the
deep path's last layers start at zero: an untrained model is a clean low-pass codec (already
better than pooling and interpolation), and training, which updates both paths, only has to
learn what the transform misses. Without it a few CPU minutes do not get a deep codec past the
no-learning baseline at the mild ratios.

Band guard (``band_guard=True``). The MDCT is an orthogonal lapped transform, so synthesis after
analysis is the projection onto the band the bypass keeps. With the guard the bypass stays the
MDCT and the deep decoder's output passes through ``I - synthesis(analysis(.))`` before the sum:
the deep path can only add the bands above the kept ones. Trained without it, a 1/4 model's band
below 2.76 kHz lost 0.5 dB of SI-SDR against the untrained transform while the spectral terms
taught it the highs (held-out real music: 18.5-18.6 dB in the band against 19.1 for the MDCT
alone).

Sizes. The hop is ``H = prod(strides)`` input samples per latent frame, so an input of ``T``
samples gives a latent ``[latent_channels, ceil(T / H)]`` and keeps ``latent_channels / H`` of the
samples (the *compression*: ``T / (C * L)``, e.g. 8 / 512 = 1/64).

Padding rule. ``encode`` zero-pads the input on the right up to ``L * H`` samples; ``decode``
produces ``L * H`` samples and cuts them to ``length`` (default: ``clip_samples`` for the latent
of a whole clip, else ``L * H``). So a 110 250-sample clip comes back as 110 250 samples, and any
crop or song length works: the model is fully convolutional.

Presets ``CELCodec2`` ... ``CELCodec256`` keep 1/2 ... 1/256 of the samples. They train with the
composite loss named by ``loss`` (see :mod:`core.models.spectral_loss`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm as _weight_norm

import core.models.spectral_loss  # noqa: F401  (registers the losses the presets name)
from core.constants import CLIP_SAMPLES, SAMPLE_RATE
from core.models.base import Autoencoder
from core.models.bounds import (
    MAX_CHANNELS,
    MAX_CLIP_SAMPLES,
    MAX_KERNEL_SIZE,
    MAX_SAMPLE_RATE,
    MAX_STAGES,
    MAX_STRIDE,
    MIN_CLIP_SAMPLES,
    MIN_SAMPLE_RATE,
    check_activation,
    check_int,
)
from core.models.losses import losses
from core.models.registry import register

ACTIVATIONS = {"elu": nn.ELU, "silu": nn.SiLU, "gelu": nn.GELU, "leakyrelu": nn.LeakyReLU}
DILATIONS = (1, 3, 9)
SOFT_CLIP_KNEE = 0.9


@dataclass(frozen=True)
class CodecConfig:
    """Hyper-parameters of a CELCodec.

    Parameters
    ----------
    strides : tuple[int, ...]
        Downsampling factor of each encoder stage; their product is the hop ``H``.
    channels : tuple[int, ...]
        Width after each stage (same length as ``strides``).
    stem_channels : int
        Width of the full-rate stem.
    latent_channels : int
        Channels ``C`` of the latent.
    res_units : int
        Residual units per stage (1 to 3; dilations 1, 3, 9 in that order).
    kernel_size : int
        Odd kernel width of the stem, the residual units and the output conv.
    activation : str
        ``"elu"``, ``"silu"``, ``"gelu"`` or ``"leakyrelu"``.
    weight_norm : bool
        Wrap every convolution in weight normalisation.
    bypass : bool
        Add the linear MDCT-initialised path (see the module docstring).
    band_guard : bool
        With the bypass: keep the bypass fixed at the MDCT and project the deep decoder's output
        off the band the bypass carries, so training adds only what the bypass lacks (the bands
        above it) and cannot blur the waveform it keeps (see the module docstring). Without
        the bypass there is no band to guard and it changes nothing.
    loss : str
        Trainer loss this model is meant to train with (a :func:`core.models.losses.losses` name).
    clip_samples : int
        Clip length the model is trained and scored on.
    sample_rate : int
        Sample rate of the audio, in Hz.
    """

    strides: tuple[int, ...] = (8, 4, 4, 4)
    channels: tuple[int, ...] = (16, 32, 64, 128)
    stem_channels: int = 8
    latent_channels: int = 8
    res_units: int = 2
    kernel_size: int = 7
    activation: str = field(default="elu", metadata={"choices": tuple(ACTIVATIONS)})
    weight_norm: bool = False
    bypass: bool = True
    # Files saved before the guard existed were trained without it, whatever the preset says.
    band_guard: bool = field(default=False, metadata={"absent": False})
    loss: str = field(default="spectral", metadata={"choices": tuple(losses())})
    clip_samples: int = CLIP_SAMPLES
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self) -> None:
        if not isinstance(self.strides, tuple) or not 1 <= len(self.strides) <= MAX_STAGES:
            raise ValueError(f"strides must be a tuple of 1 to {MAX_STAGES} factors, "
                             f"not {self.strides!r}")
        if not isinstance(self.channels, tuple) or len(self.channels) != len(self.strides):
            raise ValueError(f"channels {self.channels!r} must give one width per stride "
                             f"({len(self.strides)})")
        for s in self.strides:
            check_int("each stride", s, 1, MAX_STRIDE)
        for c in self.channels:
            check_int("each channel width", c, 1, MAX_CHANNELS)
        check_int("stem_channels", self.stem_channels, 1, MAX_CHANNELS)
        check_int("latent_channels", self.latent_channels, 1, MAX_CHANNELS)
        check_int("res_units", self.res_units, 0, len(DILATIONS))
        check_int("kernel_size", self.kernel_size, 1, MAX_KERNEL_SIZE)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, not {self.kernel_size}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, "
                             f"not {self.activation!r}")
        if self.loss not in losses():
            raise ValueError(f"loss must be one of {', '.join(losses())}, not {self.loss!r}")
        check_int("clip_samples", self.clip_samples, MIN_CLIP_SAMPLES, MAX_CLIP_SAMPLES)
        check_int("sample_rate", self.sample_rate, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)
        widest, rate = self.stem_channels * self.clip_samples, self.clip_samples
        for stride, width in zip(self.strides, self.channels, strict=True):
            rate = -(-rate // stride)
            widest = max(widest, width * rate)
        check_activation("channels", widest)
        if self.bypass and self.hop % 2:
            raise ValueError(f"the MDCT bypass needs an even hop (product of strides), "
                             f"not {self.hop}")

    @property
    def hop(self) -> int:
        """Input samples per latent frame, ``prod(strides)``."""
        return math.prod(self.strides)

    @property
    def latent_ratio(self) -> float:
        """Input samples per latent step (the base class's ``T / L``): the hop."""
        return float(self.hop)

    @property
    def compression(self) -> float:
        """Input samples per latent value, ``hop / latent_channels`` (64 for 1/64)."""
        return self.hop / self.latent_channels


class _ResUnit(nn.Module):
    """``x + conv1(act(conv_k,dilated(act(x))))``: keeps ``Tensor[B, ch, N]``'s shape."""

    def __init__(self, ch: int, kernel: int, dilation: int, act: type[nn.Module], wn):
        super().__init__()
        self.body = nn.Sequential(
            act(), wn(nn.Conv1d(ch, ch, kernel, dilation=dilation,
                                padding=dilation * (kernel // 2))),
            act(), wn(nn.Conv1d(ch, ch, 1)))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def mdct_basis(hop: int, bins: int) -> Tensor:
    """Sine-windowed MDCT basis ``Tensor[bins, 2 * hop]``, the lowest ``bins`` of ``hop``.

    With all ``hop`` bins, analysis (a conv of stride ``hop``) followed by synthesis (the
    transposed conv with the same weights) reconstructs the input exactly (TDAC); fewer bins
    give a low-pass at ``bins / hop`` of the Nyquist frequency. Bins beyond ``hop`` (more latent
    channels than samples per frame) are left at zero.
    """
    n = torch.arange(2 * hop, dtype=torch.float64)
    k = torch.arange(min(bins, hop), dtype=torch.float64)
    window = torch.sin(math.pi * (n + 0.5) / (2 * hop))
    cos = torch.cos(math.pi / hop * (n[None] + 0.5 + hop / 2) * (k[:, None] + 0.5))
    basis = torch.zeros(bins, 2 * hop, dtype=torch.float64)
    basis[: len(k)] = math.sqrt(2.0 / hop) * window * cos
    return basis.float()


def _identity(module: nn.Module) -> nn.Module:
    return module


def soft_clip(x: Tensor, knee: float = SOFT_CLIP_KNEE) -> Tensor:
    """Identity for ``|x| <= knee``, then a tanh curve to +-1 with a continuous slope."""
    over = (x.abs() - knee).clamp(min=0.0)
    bent = knee + (1.0 - knee) * torch.tanh(over / (1.0 - knee))
    return torch.where(x.abs() <= knee, x, torch.sign(x) * bent)


def _zero(conv: nn.Module) -> None:
    """Zero a conv's weights (through weight norm's magnitude when it has one) and bias."""
    param = getattr(getattr(conv, "parametrizations", None), "weight", None)
    (param.original0 if param is not None else conv.weight).zero_()
    if conv.bias is not None:
        conv.bias.zero_()


class CELCodec(Autoencoder):
    """Strided-conv encoder, transposed-conv decoder, residual dilated units.

    Parameters
    ----------
    config : CodecConfig
        Hyper-parameters (see the module docstring for the layout and the padding rule).
    """

    def __init__(self, config: CodecConfig):
        super().__init__(config)
        act = ACTIVATIONS[config.activation]
        wn = _weight_norm if config.weight_norm else _identity
        k = config.kernel_size
        units = DILATIONS[:config.res_units]

        # Residual units run after each downsampling, never at the full rate, where they would
        # cost the most per sample for the least gain (the bypass already carries the band).
        enc: list[nn.Module] = [wn(nn.Conv1d(1, config.stem_channels, k, padding=k // 2))]
        width = config.stem_channels
        for s, out in zip(config.strides, config.channels, strict=True):
            enc += [act(), wn(nn.Conv1d(width, out, 2 * s, stride=s, padding=(s + 1) // 2))]
            enc += [_ResUnit(out, k, d, act, wn) for d in units]
            width = out
        enc += [act(), wn(nn.Conv1d(width, config.latent_channels, 3, padding=1))]
        self.encoder = nn.Sequential(*enc)

        dec: list[nn.Module] = [wn(nn.Conv1d(config.latent_channels, width, k, padding=k // 2))]
        widths = (config.stem_channels, *config.channels[:-1])
        for s, out in zip(reversed(config.strides), reversed(widths), strict=True):
            dec += [_ResUnit(width, k, d, act, wn) for d in units]
            dec += [act(), wn(nn.ConvTranspose1d(width, out, 2 * s, stride=s,
                                                 padding=(s + 1) // 2, output_padding=s % 2))]
            width = out
        dec += [act(), wn(nn.Conv1d(width, 1, k, padding=k // 2))]
        self.decoder = nn.Sequential(*dec)

        self.analysis = self.synthesis = None
        if config.bypass:
            H, C = config.hop, config.latent_channels
            # Padding H/2 centres frame m on samples [m H, (m + 1) H): L frames for L * H samples.
            self.analysis = nn.Conv1d(1, C, 2 * H, stride=H, padding=H // 2, bias=False)
            self.synthesis = nn.ConvTranspose1d(C, 1, 2 * H, stride=H, padding=H // 2,
                                                bias=False)
            with torch.no_grad():
                basis = mdct_basis(H, C)
                self.analysis.weight.copy_(basis[:, None, :])
                self.synthesis.weight.copy_(basis[:, None, :])
                for last in (self.encoder[-1], self.decoder[-1]):
                    _zero(last)
            if config.band_guard:  # the projection below holds for the MDCT only
                self.analysis.requires_grad_(False)
                self.synthesis.requires_grad_(False)

    def encode(self, x: Tensor) -> Tensor:
        """Encode ``Tensor[B, 1, T]`` to ``Tensor[B, C, ceil(T / hop)]`` (right zero-padding)."""
        if x.dim() != 3 or x.shape[1] != 1:
            raise ValueError(f"expected audio of shape [B, 1, T], got {tuple(x.shape)}")
        T = x.shape[-1]
        L = self.latent_shape(T)[1]
        x = F.pad(x, (0, L * self.config.hop - T))
        z = self.encoder(x)
        if self.analysis is not None:
            z = z + self.analysis(x)
        return z

    def decode(self, z: Tensor, length: int | None = None) -> Tensor:
        """Decode ``Tensor[B, C, L]`` to ``Tensor[B, 1, length]``.

        ``length`` defaults to :meth:`Autoencoder.output_length` of ``L``; it must be at most
        ``L * hop`` (the decoder's natural output, which is cut, never stretched).
        """
        C = self.config.latent_channels
        if z.dim() != 3 or z.shape[1] != C:
            raise ValueError(f"expected a latent of shape [B, {C}, L], got {tuple(z.shape)}")
        natural = z.shape[-1] * self.config.hop
        T = self.output_length(z.shape[-1]) if length is None else int(length)
        if not 0 < T <= natural:
            raise ValueError(f"length {T} is not in 1..{natural} for a latent of "
                             f"{z.shape[-1]} frames")
        return soft_clip(self.synthesize(z)[..., :T])

    def synthesize(self, z: Tensor) -> Tensor:
        """The decoder's natural output ``Tensor[B, 1, L * hop]`` of a latent, before the cut
        and the soft clip: the deep path (projected off the bypass's band with the guard) plus
        the bypass's synthesis. The export graphs trace this very method."""
        y = self.decoder(z)
        if self.synthesis is None:
            return y
        if self.config.band_guard:
            y = y - self.synthesis(self.analysis(y))
        return y + self.synthesis(z)

    def output_length(self, L: int) -> int:
        """Samples decoded from ``L`` frames: ``clip_samples`` for a whole clip, else ``L*hop``."""
        if self.latent_shape()[1] == L:
            return self.clip_samples
        return L * self.config.hop


PRESETS = {
    # name: (strides, channels, latent_channels, loss); compression = prod(strides) / C.
    # The mild ratios keep enough of the signal to keep its phase, so their loss prices SNR
    # (see core.models.spectral_loss: +0.9 dB SI-SDR at 1/10 over "spectral_wave" in bench_rd).
    "CELCodec2": ((4, 8), (16, 32), 16, "spectral_snr"),
    "CELCodec4": ((4, 8), (16, 32), 8, "spectral_snr"),
    "CELCodec10": ((5, 4, 4), (16, 32, 64), 8, "spectral_snr2_lite"),
    "CELCodec32": ((8, 4, 8), (16, 32, 64), 8, "spectral"),
    # 1/64 as CELCodec32's layout with half the latent channels rather than a fourth stage: 258k
    # parameters against 902k, and a lower log-mel L1 after 20 minutes (scripts/bench_rd.py,
    # held-out real music: 0.301-0.333 in three runs against 0.336; synthetic: 0.415-0.435
    # against 0.452).
    "CELCodec64": ((8, 4, 8), (16, 32, 64), 4, "spectral"),
    "CELCodec128": ((8, 4, 4, 8), (16, 32, 64, 128), 8, "spectral"),
    "CELCodec256": ((8, 4, 4, 8), (16, 32, 64, 128), 4, "spectral"),
}
"""Registered presets, from 1/2 to 1/256 of the samples kept."""

GUARDED = frozenset({"CELCodec4"})
"""Presets trained with the band guard: the mild ratio, where SI-SDR is what the bypass keeps."""

for _name, (_strides, _channels, _c, _loss) in PRESETS.items():
    register(_name, CELCodec, CodecConfig, strides=_strides, channels=_channels,
             latent_channels=_c, loss=_loss, band_guard=_name in GUARDED)

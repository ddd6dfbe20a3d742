"""Encoder and decoder modules that trace to length-generic graphs.

A tracer records the operations a model runs on one example input, with every Python integer it
meets frozen to that example's value. The families compute their latent length and output
length with Python arithmetic (``math.ceil``, ``F.pad`` amounts, ``interpolate(size=T)``), so a
plain trace would only accept the example's length. These wrappers run the same layers with
the lengths kept as tensors: a ``[B, 1, T]`` input of any ``T`` then gives the same latent as
``model.encode``, and a latent plus a wanted ``length`` the same audio as ``model.decode``.

Only the size-dependent steps are rewritten (adaptive average pooling, linear or nearest
interpolation, right padding, cutting), with the index arithmetic PyTorch's CPU kernels use, so
the graphs agree with eager torch to float rounding.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from core.models.base import Autoencoder
from core.models.cel import CELAutoencoder
from core.models.codec import CELCodec, soft_clip


def _length(x: Tensor) -> Tensor:
    """The last dimension of ``x`` as an int64 scalar tensor the tracer keeps symbolic."""
    return torch._shape_as_tensor(x)[-1]


def adaptive_avg_pool(h: Tensor, L: Tensor, max_window: int) -> Tensor:
    """``F.adaptive_avg_pool1d(h, L)`` with ``L`` a tensor.

    Parameters
    ----------
    h : Tensor[B, C, T]
    L : Tensor[] (int64)
        Output length.
    max_window : int
        Largest window, at least ``ceil(T / L) + 1`` (windows overlap by one sample at most).
    """
    T = _length(h)
    i = torch.arange(L)
    start = torch.div(i * T, L, rounding_mode="floor")
    end = torch.div((i + 1) * T + L - 1, L, rounding_mode="floor")
    k = torch.arange(max_window)
    idx = torch.clamp(start[:, None] + k[None, :], max=T - 1)
    mask = (k[None, :] < (end - start)[:, None]).to(h.dtype)
    g = torch.index_select(h, 2, idx.reshape(-1))
    g = g.reshape(h.shape[0], h.shape[1], -1, max_window)
    return (g * mask).sum(-1) / (end - start).to(h.dtype)


def interpolate(h: Tensor, T: Tensor, mode: str) -> Tensor:
    """``F.interpolate(h, size=T, mode=mode)`` (``align_corners=False``) with ``T`` a tensor.

    Parameters
    ----------
    h : Tensor[B, C, L]
    T : Tensor[] (int64)
    mode : str
        ``"linear"`` or ``"nearest"``.
    """
    L = _length(h)
    scale = L.to(torch.float32) / T.to(torch.float32)
    j = torch.arange(T).to(torch.float32)
    if mode == "nearest":
        idx = torch.clamp(torch.floor(j * scale).to(torch.int64), max=L - 1)
        return torch.index_select(h, 2, idx)
    src = torch.clamp((j + 0.5) * scale - 0.5, min=0.0)
    i0 = src.to(torch.int64)
    lam1 = torch.clamp(src - i0.to(torch.float32), 0.0, 1.0)
    i1 = torch.clamp(i0 + 1, max=L - 1)
    return (torch.index_select(h, 2, i0) * (1.0 - lam1)
            + torch.index_select(h, 2, i1) * lam1)


class _CELEncoder(nn.Module):
    def __init__(self, model: CELAutoencoder):
        super().__init__()
        self.enc_in, self.enc_out = model.enc_in, model.enc_out
        self.ratio = float(model.config.latent_ratio)
        self.max_window = math.ceil(self.ratio) + 1

    def forward(self, audio: Tensor) -> Tensor:
        h = self.enc_in(audio)
        L = torch.ceil(_length(audio).to(torch.float64) / self.ratio).to(torch.int64)
        return self.enc_out(adaptive_avg_pool(h, L, self.max_window))


class _CELDecoder(nn.Module):
    def __init__(self, model: CELAutoencoder):
        super().__init__()
        self.dec_in, self.dec_out = model.dec_in, model.dec_out
        self.mode = model.config.upsample_mode

    def forward(self, latent: Tensor, length: Tensor) -> Tensor:
        return self.dec_out(interpolate(self.dec_in(latent), length, self.mode))


class _CodecEncoder(nn.Module):
    def __init__(self, model: CELCodec):
        super().__init__()
        self.encoder, self.analysis = model.encoder, model.analysis
        self.hop = int(model.config.hop)

    def forward(self, audio: Tensor) -> Tensor:
        # Right-pad to a whole number of frames: pad by the most ever needed, then keep L * hop.
        T = _length(audio)
        L = torch.div(T + self.hop - 1, self.hop, rounding_mode="floor")
        x = torch.nn.functional.pad(audio, (0, self.hop - 1))
        x = torch.index_select(x, 2, torch.arange(L * self.hop))
        z = self.encoder(x)
        if self.analysis is not None:
            z = z + self.analysis(x)
        return z


class _CodecDecoder(nn.Module):
    def __init__(self, model: CELCodec):
        super().__init__()
        self.model = model

    def forward(self, latent: Tensor, length: Tensor) -> Tensor:
        y = self.model.synthesize(latent)
        return soft_clip(torch.index_select(y, 2, torch.arange(length)))


class _GenericEncoder(nn.Module):
    """Any other family: its own ``encode``, traceable only if it avoids Python lengths."""

    def __init__(self, model: Autoencoder):
        super().__init__()
        self.model = model

    def forward(self, audio: Tensor) -> Tensor:
        return self.model.encode(audio)


class _GenericDecoder(nn.Module):
    def __init__(self, model: Autoencoder):
        super().__init__()
        self.model = model

    def forward(self, latent: Tensor, length: Tensor) -> Tensor:
        return self.model.decode(latent, length=int(length))


def _plain_copy(model: Autoencoder) -> Autoencoder:
    """An eval-mode CPU copy with weight-norm parametrizations folded into plain weights."""
    model = copy.deepcopy(model).to("cpu").eval()
    for module in model.modules():
        if parametrize.is_parametrized(module):
            # Not parametrize.remove_parametrizations: it deletes the property from the
            # injected class, which the deep copy shares with the original model.
            values = {name: getattr(module, name).detach().clone()
                      for name in module.parametrizations}
            module.__class__ = type(module).__bases__[0]
            del module.parametrizations
            for name, value in values.items():
                module.register_parameter(name, nn.Parameter(value))
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def export_modules(model: Autoencoder) -> tuple[nn.Module, nn.Module]:
    """The ``(encoder, decoder)`` modules to trace for ``model``.

    ``encoder(audio: Tensor[B, 1, T]) -> Tensor[B, C, L]``;
    ``decoder(latent: Tensor[B, C, L], length: Tensor[] int64) -> Tensor[B, 1, length]``.
    Both work on an eval-mode CPU copy; ``model`` itself is untouched.
    """
    plain = _plain_copy(model)
    if isinstance(plain, CELAutoencoder):
        pair = _CELEncoder(plain), _CELDecoder(plain)
    elif isinstance(plain, CELCodec):
        pair = _CodecEncoder(plain), _CodecDecoder(plain)
    else:
        pair = _GenericEncoder(plain), _GenericDecoder(plain)
    return pair[0].eval(), pair[1].eval()


def length_rule(model: Autoencoder) -> dict:
    """How a host computes latent and output lengths, as stored in ``export.json``."""
    C = model.latent_channels
    if isinstance(model, CELCodec):
        hop = int(model.config.hop)
        return {"latent_channels": C, "latent_frames": f"ceil(samples / {hop})",
                "default_length": f"frames * {hop}, or {model.clip_samples} for a whole clip's "
                                  f"{model.latent_shape()[1]} frames",
                "max_length": f"frames * {hop}"}
    ratio = model.latent_ratio
    return {"latent_channels": C, "latent_frames": f"ceil(samples / {ratio:g})",
            "default_length": f"round(frames * {ratio:g}), or {model.clip_samples} for a whole "
                              f"clip's {model.latent_shape()[1]} frames",
            "max_length": None}

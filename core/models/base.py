"""The interface every autoencoder family implements.

A model maps mono audio ``Tensor[B, 1, T]`` to a latent ``Tensor[B, C, L]`` and back. Inference,
training, the app and the model files only ever use this interface, so a new family (a class
plus a frozen config dataclass, registered in :mod:`core.models.registry`) plugs in everywhere.
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor, nn


class Autoencoder(nn.Module):
    """Base class of every autoencoder: an encoder, a decoder and a frozen config.

    Parameters
    ----------
    config : frozen dataclass
        The family's hyper-parameters. It must have ``sample_rate`` and ``clip_samples`` fields.

    Attributes
    ----------
    config : frozen dataclass
        Hyper-parameters the model was built from (stored in ``config.json``).
    arch : str
        Registry name the model was built under (set by :func:`core.models.registry.build_model`).

    Notes
    -----
    Length rule. ``latent_shape(T)`` gives the latent of an input of ``T`` samples. A latent does
    not always determine ``T`` (``L = ceil(T / ratio)`` has several solutions), so ``decode``
    takes the wanted output length; without one it uses :meth:`output_length`, which returns
    ``clip_samples`` for the latent of a full clip and ``round(L * ratio)`` otherwise.
    """

    #: Whether ``encode``/``decode`` accept inputs of any length, not only ``clip_samples``.
    flexible_length: bool = True

    def __init__(self, config: Any):
        super().__init__()
        self.config = config
        self.arch = ""

    @property
    def sample_rate(self) -> int:
        """Sample rate of the audio the model takes and returns, in Hz."""
        return int(self.config.sample_rate)

    @property
    def clip_samples(self) -> int:
        """Length in samples of the clips the model was built (and trained) for."""
        return int(self.config.clip_samples)

    @property
    def latent_ratio(self) -> float:
        """Input samples per latent step (``T / L`` up to rounding)."""
        return float(self.config.latent_ratio)

    @property
    def latent_channels(self) -> int:
        """Channels ``C`` of the latent."""
        return self.latent_shape()[0]

    def latent_shape(self, T: int | None = None) -> tuple[int, int]:
        """Shape ``(C, L)`` of the latent of one input of ``T`` samples (default a clip)."""
        T = self.clip_samples if T is None else int(T)
        return (int(getattr(self.config, "latent_channels", 1)),
                math.ceil(T / self.latent_ratio))

    def output_length(self, L: int) -> int:
        """Number of samples ``decode`` produces from a latent of length ``L`` by default."""
        if self.latent_shape()[1] == L:
            return self.clip_samples
        return max(1, round(L * self.latent_ratio))

    def encode(self, x: Tensor) -> Tensor:
        """Encode audio.

        Parameters
        ----------
        x : Tensor[B, 1, T]
            Mono audio in [-1, 1].

        Returns
        -------
        Tensor[B, C, L]
            The latent, ``(C, L) == self.latent_shape(T)``.
        """
        raise NotImplementedError

    def decode(self, z: Tensor, length: int | None = None) -> Tensor:
        """Decode a latent.

        Parameters
        ----------
        z : Tensor[B, C, L]
            A latent.
        length : int, optional
            Samples ``T`` to produce; default :meth:`output_length` of ``L``.

        Returns
        -------
        Tensor[B, 1, T]
            Audio in [-1, 1].
        """
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """Reconstruct ``x``: ``Tensor[B, 1, T] -> Tensor[B, 1, T]``."""
        return self.decode(self.encode(x), length=x.shape[-1])

    def num_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

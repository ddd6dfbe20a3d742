"""Networks for genre classification: heads on a frozen encoder's latent (the report's
flatten-MLP and two better ones), :class:`MusicGenreClassifier`, and the mel-spectrogram and
MFCC baselines.

Heads take latents ``Tensor[B, C, L]`` so that latents can be computed once (the encoder is
frozen) and so that the app can classify an edited latent without re-encoding; the ``encoder``
head takes features of the audio computed by the frozen encoder instead
(:mod:`core.genre.encoder_stats`), so a classifier with it scores audio only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import torch
from torch import Tensor, nn

from core.audio.features import LATENT_STATS_VERSION, LogMel, latent_stats_dim, latent_stats_torch

HEAD_KINDS = ("stats", "conv", "report", "multiscale", "encoder")
"""``stats``: pooled latent statistics, standardised, + MLP (default); ``conv``: a small conv
net on the latent with mean/std/max pooling over time; ``report``: the report's head, the
flattened latent + MLP; ``multiscale``: the pooled statistics plus their multi-scale variations
and the channel correlations (:mod:`core.genre.multiscale`), + MLP; ``encoder``: the multi-scale
statistics beside the band statistics of the encoder's first stage, which still sees the whole
band (:mod:`core.genre.encoder_stats`; a CELCodec's encoder only), + MLP."""


@dataclass(frozen=True)
class HeadConfig:
    """Hyper-parameters of a classifier head (saved in the classifier's ``config.json``)."""

    kind: str = "stats"
    latent_channels: int = 1
    latent_length: int = 55_125
    n_genres: int = 10
    hidden: tuple[int, ...] = (256, 64)
    dropout: float = 0.3
    n_bands: int = 16
    frame: int = 256
    conv_channels: tuple[int, ...] = (32, 64, 64)
    feature_version: int = LATENT_STATS_VERSION
    stage_channels: int = 0
    """Channels of the encoder's first stage (the ``encoder`` head only)."""
    members: int = 1
    """Heads whose probabilities are averaged (:class:`EnsembleHead`), each fitted from its own
    seed; 1 is one head."""

    def __post_init__(self):
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"unknown head kind {self.kind!r}; choose one of {HEAD_KINDS}")
        if not isinstance(self.members, int) or not 1 <= self.members <= MAX_MEMBERS:
            raise ValueError(f"members must be 1 to {MAX_MEMBERS}, not {self.members!r}")
        # JSON round trips turn tuples into lists; keep the dataclass hashable and comparable.
        object.__setattr__(self, "hidden", tuple(self.hidden))
        object.__setattr__(self, "conv_channels", tuple(self.conv_channels))

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["conv_channels"] = list(self.conv_channels)
        return d


def mlp(in_dim: int, hidden: tuple[int, ...], n_out: int, dropout: float) -> nn.Sequential:
    """Fully connected layers with ReLU and dropout, then a linear output (the report's head)."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_dim, width), nn.ReLU(), nn.Dropout(dropout)]
        in_dim = width
    layers.append(nn.Linear(in_dim, n_out))
    return nn.Sequential(*layers)


class Standardize(nn.Module):
    """``(x - mean) / std`` with statistics fitted once on training data and saved as buffers."""

    def __init__(self, dim: int | tuple[int, ...]):
        super().__init__()
        shape = (dim,) if isinstance(dim, int) else dim
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("std", torch.ones(shape))

    @torch.no_grad()
    def fit(self, x: Tensor, dims: tuple[int, ...] = (0,)) -> None:
        """Set the statistics from ``x``, reducing over ``dims``."""
        self.mean.copy_(x.float().mean(dims).reshape(self.mean.shape))
        self.std.copy_(x.float().std(dims).reshape(self.std.shape).clamp_min(1e-6))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


class FeatureHead(nn.Module):
    """Fixed features -> standardisation -> MLP. ``features`` maps the input to ``[B, D]``."""

    def __init__(self, dim: int, hidden: tuple[int, ...], n_out: int, dropout: float):
        super().__init__()
        self.norm = Standardize(dim)
        self.mlp = mlp(dim, hidden, n_out, dropout)

    def features(self, x: Tensor) -> Tensor:
        return x.reshape(len(x), -1)

    def fit_normalization(self, x: Tensor) -> None:
        """Fit the standardisation on training inputs (run in batches by the caller if large)."""
        self.norm.fit(self.features(x))

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(self.norm(self.features(x)))


class StatsHead(FeatureHead):
    """Pooled latent statistics over time (:func:`latent_stats_torch`) + MLP."""

    def __init__(self, cfg: HeadConfig):
        super().__init__(latent_stats_dim(cfg.latent_channels, cfg.n_bands), cfg.hidden,
                         cfg.n_genres, cfg.dropout)
        self.n_bands, self.frame = cfg.n_bands, cfg.frame

    def features(self, x: Tensor) -> Tensor:
        return latent_stats_torch(x, self.n_bands, self.frame)


class MultiscaleHead(FeatureHead):
    """Multi-scale pooled latent statistics and channel correlations + MLP."""

    def __init__(self, cfg: HeadConfig):
        from core.genre.multiscale import multiscale_dim

        super().__init__(multiscale_dim(cfg.latent_channels, cfg.n_bands), cfg.hidden,
                         cfg.n_genres, cfg.dropout)
        self.n_bands, self.frame = cfg.n_bands, cfg.frame

    def features(self, x: Tensor) -> Tensor:
        from core.genre.multiscale import multiscale_stats

        return multiscale_stats(x, self.n_bands, self.frame)


class EncoderHead(FeatureHead):
    """:func:`core.genre.encoder_stats.encoder_stats` of the audio + MLP: its input is those
    features, which :meth:`MusicGenreClassifier.encode` computes from audio."""

    reads_audio = True

    def __init__(self, cfg: HeadConfig):
        from core.genre.encoder_stats import encoder_stats_dim

        if cfg.stage_channels <= 0:
            raise ValueError("the encoder head needs stage_channels (the encoder's first stage)")
        super().__init__(encoder_stats_dim(cfg.latent_channels, cfg.stage_channels, cfg.n_bands),
                         cfg.hidden, cfg.n_genres, cfg.dropout)
        self.n_bands, self.frame = cfg.n_bands, cfg.frame


class ReportHead(FeatureHead):
    """The report's head: the whole latent flattened + MLP."""

    def __init__(self, cfg: HeadConfig):
        super().__init__(cfg.latent_channels * cfg.latent_length, cfg.hidden, cfg.n_genres,
                         cfg.dropout)


class ConvHead(nn.Module):
    """Strided 1-D convolutions over the latent, then mean/std/max pooling over time + MLP."""

    def __init__(self, cfg: HeadConfig):
        super().__init__()
        self.norm = Standardize((1, cfg.latent_channels, 1))
        layers: list[nn.Module] = []
        c_in = cfg.latent_channels
        # Stride the first layer hard: the report's latents are tens of thousands long.
        for i, c_out in enumerate(cfg.conv_channels):
            k, s = (32, 8) if i == 0 else (8, 4)
            layers += [nn.Conv1d(c_in, c_out, k, stride=s, padding=k // 2),
                       nn.BatchNorm1d(c_out), nn.ReLU()]
            c_in = c_out
        self.conv = nn.Sequential(*layers)
        self.mlp = mlp(3 * c_in, cfg.hidden, cfg.n_genres, cfg.dropout)

    def fit_normalization(self, x: Tensor) -> None:
        """Fit the per-channel standardisation on training latents ``[B, C, L]``."""
        self.norm.fit(x, dims=(0, 2))

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv(self.norm(x))
        return self.mlp(torch.cat([h.mean(-1), h.std(-1), h.amax(-1)], dim=1))


class EnsembleHead(nn.Module):
    """Heads of one kind fitted from different seeds; its output is the log of their mean
    probabilities, so a softmax of it (after any temperature) gives the averaged answer.

    On the real music style split an MLP's test accuracy moves by several points with its seed
    alone (62.6-69.7 % for the ``encoder`` head over five seeds); the average of five is steadier
    and better than most of them (66.5 %; MFCC statistics: 59.1-63.8 % alone, 63.8 % averaged).
    """

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one head")
        self.members = nn.ModuleList(members)
        first = members[0]
        # What MusicGenreClassifier asks of its head: the encoder head's settings.
        self.reads_audio = bool(getattr(first, "reads_audio", False))
        self.n_bands, self.frame = getattr(first, "n_bands", None), getattr(first, "frame", None)

    def forward(self, x: Tensor) -> Tensor:
        p = torch.stack([torch.softmax(m(x), -1) for m in self.members]).mean(0)
        return torch.log(p.clamp_min(1e-12))


MAX_MEMBERS = 16
"""Most heads an :class:`EnsembleHead` holds."""


def build_head(cfg: HeadConfig) -> nn.Module:
    """The head named by ``cfg.kind`` (an :class:`EnsembleHead` of ``cfg.members`` of them when
    more than one); input ``Tensor[B, C, L]``, output logits ``Tensor[B, n_genres]``."""
    if cfg.members > 1:
        one = replace(cfg, members=1)
        return EnsembleHead([build_head(one) for _ in range(cfg.members)])
    return {"stats": StatsHead, "conv": ConvHead, "report": ReportHead,
            "multiscale": MultiscaleHead, "encoder": EncoderHead}[cfg.kind](cfg)


class MusicGenreClassifier(nn.Module):
    """A trained autoencoder's encoder, frozen, feeding a head that outputs genre logits.

    Parameters
    ----------
    autoencoder : core.models.base.Autoencoder
        Only its ``encode`` is used; its weights are frozen (``requires_grad`` is turned off on
        this very object, so pass a model that is not being trained elsewhere).
    head : nn.Module
        Maps latents ``[B, C, L]`` to logits ``[B, n_genres]`` (see :func:`build_head`).
    head_config : HeadConfig
    genres : list[str]
        Class names in logit order.
    autoencoder_ref : dict
        Where the autoencoder came from (``path``, ``name``, ``sha256``), saved with the head.
    """

    def __init__(self, autoencoder: nn.Module, head: nn.Module, head_config: HeadConfig,
                 genres: list[str], autoencoder_ref: dict | None = None):
        super().__init__()
        self.autoencoder = autoencoder
        for p in self.autoencoder.parameters():
            p.requires_grad_(False)
        self.autoencoder.eval()
        self.head = head
        self.head_config = head_config
        self.genres = list(genres)
        self.autoencoder_ref = dict(autoencoder_ref or {})
        self.metrics: dict = {}
        # Logits are divided by this before the softmax (temperature scaling, fitted on the
        # validation side by core.genre.calibration); 1 leaves them as trained.
        self.temperature = 1.0

    def train(self, mode: bool = True) -> MusicGenreClassifier:
        super().train(mode)
        self.autoencoder.eval()  # frozen: its BatchNorm statistics must not move
        return self

    @property
    def reads_audio(self) -> bool:
        """True when the head needs the audio (the ``encoder`` head), not only a latent."""
        return bool(getattr(self.head, "reads_audio", False))

    def encode(self, audio: Tensor) -> Tensor:
        """Audio ``Tensor[B, 1, T]`` -> the head's input (no gradient): the latent
        ``Tensor[B, C, L]``, or the ``encoder`` head's features ``Tensor[B, D]``."""
        with torch.no_grad():
            if self.reads_audio:
                from core.genre.encoder_stats import encoder_stats

                return encoder_stats(self.autoencoder, audio, self.head.n_bands,
                                     self.head.frame)
            return self.autoencoder.encode(audio)

    def forward_latent(self, z: Tensor) -> Tensor:
        """Latent ``Tensor[B, C, L]`` -> logits ``Tensor[B, n_genres]``.

        Raises
        ------
        ValueError
            For the ``encoder`` head, which reads the audio's encoder layers, not a latent.
        """
        if self.reads_audio:
            raise ValueError("this classifier's head (encoder) reads the audio through the "
                             "encoder's layers: score the audio, not a latent")
        return self.head(z)

    def forward(self, audio: Tensor) -> Tensor:
        """Audio ``Tensor[B, 1, T]`` -> logits ``Tensor[B, n_genres]``."""
        return self.head(self.encode(audio))


class MelCNN(nn.Module):
    """Baseline: log-mel spectrogram -> four conv blocks -> mean+max pooling -> linear.

    ``forward`` takes audio ``Tensor[B, T]`` or ``[B, 1, T]``; :meth:`body` takes the log-mel
    ``Tensor[B, n_mels, F]`` (the front end is fixed, so training can run on log-mels computed
    once). Output logits ``Tensor[B, n_genres]``.
    """

    def __init__(self, n_genres: int, channels: tuple[int, ...] = (16, 32, 64, 64),
                 dropout: float = 0.3):
        super().__init__()
        self.front = LogMel()
        self.in_norm = nn.BatchNorm2d(1)
        layers: list[nn.Module] = []
        c_in = 1
        for c_out in channels:
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                       nn.MaxPool2d(2, ceil_mode=True)]
            c_in = c_out
        self.conv = nn.Sequential(*layers)
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * c_in, n_genres))

    def body(self, mel: Tensor) -> Tensor:
        """Log-mel ``Tensor[B, n_mels, F]`` -> logits ``Tensor[B, n_genres]``."""
        h = self.conv(self.in_norm(mel[:, None])).flatten(2)
        return self.out(torch.cat([h.mean(-1), h.amax(-1)], dim=1))

    def forward(self, audio: Tensor) -> Tensor:
        return self.body(self.front(audio))


class _Body(nn.Module):
    """Adapter that trains :meth:`MelCNN.body` as a module of its own."""

    def __init__(self, net: MelCNN):
        super().__init__()
        self.net = net

    def forward(self, mel: Tensor) -> Tensor:
        return self.net.body(mel)


def trainable_part(net: nn.Module) -> nn.Module:
    """The part of ``net`` that takes pre-computed inputs: the MLP after fixed features for
    :class:`FeatureHead` (input ``[B, D]`` features), the body of :class:`MelCNN` (input
    log-mel), else ``net`` itself. Parameters are shared, so training it trains ``net``."""
    if isinstance(net, FeatureHead):
        return nn.Sequential(net.norm, net.mlp)
    if isinstance(net, MelCNN):
        return _Body(net)
    return net

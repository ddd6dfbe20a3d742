"""Genre classification: the latent probe (:class:`MusicGenreClassifier`), its mel and MFCC
baselines on the same split, their evaluation (the report's Tables 1-3) and prediction.

Inputs are plain arrays (:class:`LabeledClips`), so this module does not depend on how a
dataset was scanned or split; ``core.cli.analysis`` wires it to ``core.data``.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
from sklearn import metrics as skm
from torch import Tensor, nn

from core.audio.features import mfcc_stats
from core.errors import DatasetError, TrainingError
from core.genre.fit import FitConfig, FitResult, as_float, fit, predict_logits
from core.genre.model import (
    EnsembleHead,
    FeatureHead,
    HeadConfig,
    MelCNN,
    MusicGenreClassifier,
    build_head,
    trainable_part,
)
from core.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress

_BATCH = 32
_NORM_SAMPLES = 512
"""Clips used to fit a head's standardisation: enough for stable statistics, cheap on GTZAN."""


@dataclass
class LabeledClips:
    """Clips with their genre index and song id (clips of one song share it).

    ``clips``: ndarray[N, T] int16 or float32; ``labels``: ndarray[N] int; ``songs``:
    ndarray[N] int or None.
    """

    clips: np.ndarray
    labels: np.ndarray
    songs: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.clips)


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall, F1 and support of one genre (a row of the report's Tables 1-3)."""

    genre: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class ClassificationMetrics:
    """Evaluation of one classifier on one set of clips.

    ``confusion[i, j]`` counts clips of genre ``i`` predicted as ``j``. ``macro`` and
    ``weighted`` are :class:`ClassScore` rows named ``"macro avg"``/``"weighted avg"``.
    ``song_accuracy`` votes per song (mean probability over its clips) when songs are known.
    ``seconds`` is the training plus evaluation time of the whole run.
    """

    name: str
    genres: list[str]
    accuracy: float
    confusion: np.ndarray
    per_class: list[ClassScore]
    macro: ClassScore
    weighted: ClassScore
    n_clips: int
    loss: float | None = None
    song_accuracy: float | None = None
    evaluated_on: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        d = asdict(self)
        d["confusion"] = self.confusion.tolist()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ClassificationMetrics:
        """Inverse of :meth:`as_dict` (metrics stored in a classifier's ``config.json``)."""
        d = dict(d)
        d["confusion"] = np.asarray(d["confusion"], dtype=np.int64)
        d["per_class"] = [ClassScore(**r) for r in d["per_class"]]
        d["macro"], d["weighted"] = ClassScore(**d["macro"]), ClassScore(**d["weighted"])
        return cls(**d)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, genres: list[str], *,
                           name: str = "", songs: np.ndarray | None = None,
                           evaluated_on: str = "", seconds: float = 0.0
                           ) -> ClassificationMetrics:
    """Accuracy, confusion matrix, per-class and averaged precision/recall/F1 (sklearn).

    Parameters
    ----------
    y_true : ndarray[N] of int
        True genre index per clip.
    proba : ndarray[N, G]
        Predicted probabilities (argmax is the prediction).
    genres : list[str]
        ``G`` genre names.
    songs : ndarray[N], optional
        Song id per clip, for the per-song vote.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    y_pred = proba.argmax(1)
    classes = list(range(len(genres)))
    p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=classes,
                                                     zero_division=0)
    rows = [ClassScore(g, float(p[i]), float(r[i]), float(f[i]), int(s[i]))
            for i, g in enumerate(genres)]
    avgs = []
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = skm.precision_recall_fscore_support(y_true, y_pred, labels=classes,
                                                            average=avg, zero_division=0)
        avgs.append(ClassScore(f"{avg} avg", float(ap), float(ar), float(af), len(y_true)))
    eps = 1e-12
    loss = float(-np.mean(np.log(proba[np.arange(len(y_true)), y_true] + eps)))
    song_acc = None
    if songs is not None:
        songs = np.asarray(songs)
        hits = [proba[songs == s].mean(0).argmax() == y_true[songs == s][0]
                for s in np.unique(songs)]
        song_acc = float(np.mean(hits))
    return ClassificationMetrics(
        name=name, genres=list(genres), accuracy=float(skm.accuracy_score(y_true, y_pred)),
        confusion=skm.confusion_matrix(y_true, y_pred, labels=classes), per_class=rows,
        macro=avgs[0], weighted=avgs[1], n_clips=len(y_true), loss=loss,
        song_accuracy=song_acc, evaluated_on=evaluated_on, seconds=seconds)


def _device_of(net: nn.Module) -> torch.device:
    return next(net.parameters()).device


def _sub(on_progress: ProgressFn, lo: float, hi: float) -> ProgressFn:
    return lambda f, m: on_progress(lo + (hi - lo) * f, m)


def encode_latents(autoencoder: nn.Module, clips: np.ndarray, *, batch_size: int = 16,
                   on_progress: ProgressFn | None = None, should_stop: StopFn | None = None
                   ) -> Tensor:
    """Encode clips with a (frozen) autoencoder, in batches on the model's device.

    Parameters
    ----------
    clips : ndarray[N, T]
        int16 or float32 audio.

    Returns
    -------
    Tensor[N, C, L]
        float32 latents on the CPU.
    """
    return _in_batches(autoencoder, autoencoder.encode, clips, batch_size, on_progress,
                       should_stop)


def encode_features(autoencoder: nn.Module, head: nn.Module, clips: np.ndarray, *,
                    batch_size: int = 16, on_progress: ProgressFn | None = None,
                    should_stop: StopFn | None = None) -> Tensor:
    """The ``encoder`` head's features of clips (:func:`core.genre.encoder_stats.encoder_stats`),
    in batches on the model's device: ``Tensor[N, D]`` on the CPU."""
    from core.genre.encoder_stats import encoder_stats

    return _in_batches(autoencoder,
                       lambda x: encoder_stats(autoencoder, x, head.n_bands, head.frame),
                       clips, batch_size, on_progress, should_stop)


def _in_batches(autoencoder: nn.Module, fn, clips: np.ndarray, batch_size: int,
                on_progress: ProgressFn | None, should_stop: StopFn | None) -> Tensor:
    on_progress = on_progress or no_progress
    should_stop = should_stop or never_stop
    device = _device_of(autoencoder)
    autoencoder.eval()
    x = torch.from_numpy(np.ascontiguousarray(clips))
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            if should_stop():
                raise Cancelled()
            out.append(fn(as_float(x[i:i + batch_size])[:, None].to(device)).float().cpu())
            on_progress(min(1.0, (i + batch_size) / len(x)), "encoding clips")
    return torch.cat(out)


def _precompute(net: nn.Module, x: Tensor, device: torch.device | str) -> Tensor:
    """Inputs of :func:`trainable_part`: fixed features (FeatureHead) or log-mels (MelCNN)."""
    if isinstance(net, FeatureHead):
        fn = net.features
    elif isinstance(net, MelCNN):
        fn = net.front.to(device)
    else:
        return x
    with torch.no_grad():
        return torch.cat([fn(as_float(x[i:i + _BATCH]).to(device)).cpu()
                          for i in range(0, len(x), _BATCH)])


def _fit_net(net: nn.Module, x_tr: Tensor, y_tr: np.ndarray, x_va: Tensor, y_va: np.ndarray,
             config: FitConfig, device, label: str, checkpoint_dir, on_progress, should_stop,
             on_epoch) -> FitResult:
    net.to(device)
    x_tr, x_va = _precompute(net, x_tr, device), _precompute(net, x_va, device)
    if isinstance(net, FeatureHead):
        net.norm.fit(x_tr)
    elif hasattr(net, "fit_normalization"):
        pick = np.random.default_rng(config.seed).permutation(len(x_tr))[:_NORM_SAMPLES]
        net.fit_normalization(x_tr[torch.from_numpy(pick)].to(device))
    return fit(trainable_part(net), (x_tr, torch.as_tensor(y_tr, dtype=torch.long)),
               (x_va, torch.as_tensor(y_va, dtype=torch.long)), config, device=device,
               checkpoint_dir=checkpoint_dir, label=label, on_progress=on_progress,
               should_stop=should_stop, on_epoch=on_epoch)


def _check(train: LabeledClips, genres: list[str]) -> None:
    if len(train) < 2:
        raise DatasetError(f"{len(train)} training clips: too few to train a classifier")
    if len(genres) < 2:
        raise DatasetError("a classifier needs at least two genres (folders or name prefixes)")


def train_latent_probe(autoencoder: nn.Module, train: LabeledClips, valid: LabeledClips,
                       genres: list[str], *, head: str = "stats",
                       fit_config: FitConfig | None = None, head_options: dict | None = None,
                       autoencoder_ref: dict | None = None,
                       checkpoint_dir: str | os.PathLike | None = None,
                       on_progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                       on_epoch=None) -> tuple[MusicGenreClassifier, FitResult]:
    """Train a head on the frozen encoder's latents (computed once) and wrap both.

    Parameters
    ----------
    autoencoder : Autoencoder
        A loaded autoencoder, on the device to use.
    train, valid : LabeledClips
        Training and early-stopping clips (clips of the autoencoder's clip length).
    genres : list[str]
        Genre names, in label order.
    head : str
        One of :data:`core.genre.model.HEAD_KINDS` (default ``"stats"``); ``"encoder"``
        needs a CELCodec.
    head_options : dict, optional
        Other :class:`HeadConfig` fields (hidden, dropout...).
    autoencoder_ref : dict, optional
        Saved with the classifier to find its autoencoder again.

    Returns
    -------
    (MusicGenreClassifier, FitResult)
    """
    _check(train, genres)
    on_progress = on_progress or no_progress
    config = fit_config or FitConfig()
    channels, length = autoencoder.latent_shape(train.clips.shape[1])
    options = dict(head_options or {})
    if head == "encoder":
        from core.genre.encoder_stats import stage_channels, supports

        if not supports(autoencoder):
            raise TrainingError(f"the encoder head reads a CELCodec's encoder layers; this model "
                             f"is a {type(autoencoder).__name__}: pick another head")
        options.setdefault("stage_channels", stage_channels(autoencoder))
    cfg = HeadConfig(kind=head, latent_channels=channels, latent_length=length,
                     n_genres=len(genres), **options)
    one = replace(cfg, members=1)
    torch.manual_seed(config.seed)  # the head's initial weights: the same run, the same probe
    net = build_head(one)
    if getattr(net, "reads_audio", False):
        def inputs(clips, **kw):
            return encode_features(autoencoder, net, clips, **kw)
    else:
        def inputs(clips, **kw):
            return encode_latents(autoencoder, clips, **kw)
    z_tr = inputs(train.clips, on_progress=_sub(on_progress, 0, 0.15), should_stop=should_stop)
    z_va = inputs(valid.clips, on_progress=_sub(on_progress, 0.15, 0.2),
                  should_stop=should_stop)
    fitted, result = _fit_members(
        net, lambda: build_head(one), cfg.members, z_tr, train.labels, z_va, valid.labels,
        config, _device_of(autoencoder), f"latent probe ({head})", checkpoint_dir,
        _sub(on_progress, 0.2, 1.0), should_stop, on_epoch)
    return MusicGenreClassifier(autoencoder, fitted, cfg, genres, autoencoder_ref), result


def _fit_members(first: nn.Module, build, members: int, x_tr: Tensor, y_tr: np.ndarray,
                 x_va: Tensor, y_va: np.ndarray, config: FitConfig, device, label: str,
                 checkpoint_dir, on_progress, should_stop, on_epoch
                 ) -> tuple[nn.Module, FitResult]:
    """Fit ``first`` and ``members - 1`` more heads from ``build()``, head ``i`` from seed
    ``config.seed + i`` (its initial weights and shuffles), on the same inputs. Returns the head
    (an :class:`EnsembleHead` of them when more than one; each keeps its own best epoch) and the
    first one's fit, the history reported."""
    nets, results = [], []
    for i in range(members):
        if should_stop and should_stop():
            raise Cancelled()
        if i:
            torch.manual_seed(config.seed + i)
        net = first if i == 0 else build()
        alone = members == 1
        results.append(_fit_net(
            net, x_tr, y_tr, x_va, y_va, replace(config, seed=config.seed + i), device,
            label if alone else f"{label} {i + 1}/{members}",
            checkpoint_dir if alone or checkpoint_dir is None
            else os.path.join(checkpoint_dir, f"member-{i}"),
            _sub(on_progress, i / members, (i + 1) / members), should_stop,
            on_epoch if i == 0 else None))
        nets.append(net)
    return (nets[0] if len(nets) == 1 else EnsembleHead(nets)), results[0]


def train_mel_baseline(train: LabeledClips, valid: LabeledClips, genres: list[str], *,
                       fit_config: FitConfig | None = None, device: str | torch.device = "cpu",
                       on_progress: ProgressFn | None = None, should_stop: StopFn | None = None
                       ) -> tuple[MelCNN, FitResult]:
    """Train the mel-spectrogram CNN baseline on the same clips (log-mels computed once)."""
    _check(train, genres)
    torch.manual_seed((fit_config or FitConfig()).seed)
    net = MelCNN(len(genres))
    result = _fit_net(net, torch.from_numpy(np.ascontiguousarray(train.clips)), train.labels,
                      torch.from_numpy(np.ascontiguousarray(valid.clips)), valid.labels,
                      fit_config or FitConfig(), device, "mel CNN baseline", None,
                      on_progress, should_stop, None)
    return net, result


def train_mfcc_baseline(train: LabeledClips, valid: LabeledClips, genres: list[str], *,
                        fit_config: FitConfig | None = None, hidden: tuple[int, ...] = (256, 64),
                        dropout: float = 0.3, device: str | torch.device = "cpu",
                        members: int = 1, on_progress: ProgressFn | None = None,
                        should_stop: StopFn | None = None) -> tuple[nn.Module, FitResult]:
    """Train MFCC statistics (:func:`core.audio.features.mfcc_stats`) + the probe's MLP
    (``members`` of them averaged, as the probe's ``members``, for a like comparison).

    The returned net takes MFCC statistics ``[B, 80]``, not audio.
    """
    _check(train, genres)
    config = fit_config or FitConfig()
    f_tr = torch.from_numpy(mfcc_stats(train.clips, device=device))
    f_va = torch.from_numpy(mfcc_stats(valid.clips, device=device))
    torch.manual_seed(config.seed)

    def build() -> FeatureHead:
        return FeatureHead(f_tr.shape[1], tuple(hidden), len(genres), dropout)

    return _fit_members(build(), build, members, f_tr, train.labels, f_va, valid.labels,
                        config, device, "MFCC baseline", None, on_progress, should_stop, None)


def predict_proba(classifier: nn.Module, clips: np.ndarray, *, batch_size: int = 16
                  ) -> np.ndarray:
    """Genre probabilities of clips.

    Parameters
    ----------
    classifier : MusicGenreClassifier or MelCNN
        Takes audio ``[B, 1, T]``.
    clips : ndarray[N, T]
        int16 or float32 audio of the classifier's clip length.

    Returns
    -------
    ndarray[N, n_genres]
        Probabilities, after the classifier's temperature; each row sums to 1.
    """
    x = torch.from_numpy(np.ascontiguousarray(np.atleast_2d(clips)))[:, None]
    logits = predict_logits(classifier, x, _device_of(classifier), batch_size)
    return torch.softmax(logits / getattr(classifier, "temperature", 1.0), 1).numpy()


def predict_proba_from_latent(classifier: MusicGenreClassifier, z: np.ndarray | Tensor
                              ) -> np.ndarray:
    """Genre probabilities of latents, without re-encoding (for live latent edits).

    Parameters
    ----------
    z : ndarray[N, C, L] or [C, L]
        Latents from the classifier's autoencoder (possibly edited).

    Returns
    -------
    ndarray[N, n_genres]
        Probabilities; each row sums to 1 (``N = 1`` for a single ``[C, L]`` latent).
    """
    if classifier.reads_audio:
        raise ValueError("this classifier's head (encoder) reads the audio through the "
                         "encoder's layers: score the audio, not a latent")
    z_t = torch.as_tensor(np.asarray(z, dtype=np.float32))
    if z_t.dim() == 2:
        z_t = z_t[None]
    logits = predict_logits(classifier.head, z_t, _device_of(classifier), _BATCH)
    return torch.softmax(logits / classifier.temperature, 1).numpy()


def evaluate(net: nn.Module, data: LabeledClips, genres: list[str], *, name: str,
             features: np.ndarray | None = None, evaluated_on: str = "test",
             seconds: float = 0.0) -> ClassificationMetrics:
    """Metrics of ``net`` on ``data``: audio nets get the clips, a FeatureHead gets
    ``features`` (e.g. MFCC statistics of the same clips)."""
    started = time.perf_counter()
    if features is not None:
        logits = predict_logits(net, torch.from_numpy(features), _device_of(net), _BATCH)
        proba = torch.softmax(logits, 1).numpy()
    else:
        proba = predict_proba(net, data.clips)
    return classification_metrics(data.labels, proba, genres, name=name, songs=data.songs,
                                  evaluated_on=evaluated_on,
                                  seconds=seconds + time.perf_counter() - started)

"""The classification commands as plain functions: ``celae classify train|eval|predict``.

Each returns a result dataclass with ``as_dict()`` (for ``--json``) and ``text()``. Every
latent-probe number comes with its baselines (mel CNN, MFCC statistics + MLP) trained and
evaluated on the same split.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.analysis.data import AnalysisData, load_analysis_data
from core.audio.features import mfcc_stats
from core.errors import DatasetError
from core.genre.calibration import Calibration, calibrate
from core.genre.files import (
    autoencoder_reference,
    load_classifier,
    save_classifier,
)
from core.genre.fit import FitConfig, FitResult, predict_logits
from core.genre.probe import (
    ClassificationMetrics,
    LabeledClips,
    evaluate,
    predict_proba,
    train_latent_probe,
    train_mel_baseline,
    train_mfcc_baseline,
)
from core.paths import default_classifier_dir
from core.progress import ProgressFn, StopFn, no_progress

DEFAULT_HEAD = "stats"
BASELINES = ("mel", "mfcc")
CHECKPOINT_DIR = "checkpoint"


def sub_progress(on_progress: ProgressFn, lo: float, hi: float) -> ProgressFn:
    """A progress callback mapping 0..1 onto ``lo..hi`` of ``on_progress``."""
    return lambda f, m: on_progress(lo + (hi - lo) * f, m)


def load_autoencoder(model, device: str = "auto"):
    """``core.models.io.load_model`` of a folder or name, on ``pick_device(device)``."""
    from core.devices import pick_device
    from core.models.io import load_model

    return load_model(model, pick_device(device))


def _eval_side(ad: AnalysisData) -> str:
    return "test" if len(ad.split.test) else "valid"


def metrics_line(m: ClassificationMetrics) -> str:
    """One line of text for a classifier's metrics."""
    song = "" if m.song_accuracy is None else f", per song {100 * m.song_accuracy:.1f} %"
    return (f"  {m.name:<28} accuracy {100 * m.accuracy:5.1f} %{song}, macro F1 "
            f"{m.macro.f1:.3f}  ({m.n_clips} {m.evaluated_on} clips, {m.seconds:.1f} s)")


# ---------------------------------------------------------------- classification

def train_and_evaluate(loaded, ad: AnalysisData, *, head: str = DEFAULT_HEAD,
                       fit_config: FitConfig | None = None,
                       baselines: tuple[str, ...] = BASELINES, checkpoint_dir=None,
                       members: int = 1,
                       on_progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                       on_epoch=None):
    """Train the latent probe and the baselines on one split and evaluate them on its test side
    (its validation side when there is no test side); nothing is saved.

    Parameters
    ----------
    loaded : core.models.io.LoadedModel
        The autoencoder.
    ad : AnalysisData
        Clips and split (:func:`core.analysis.data.load_analysis_data`).
    head, fit_config, baselines, checkpoint_dir, members, on_progress, should_stop, on_epoch
        As in :func:`run_classify_train`.

    Returns
    -------
    (MusicGenreClassifier, FitResult, ClassificationMetrics, list[ClassificationMetrics])
        The probe, its training history, its metrics, and the baselines' metrics.
    """
    on_progress = on_progress or no_progress
    fit_config = fit_config or FitConfig()
    train, valid, side = ad.side("train"), ad.side("valid"), _eval_side(ad)
    test = ad.side(side)
    share = 0.5 if baselines else 1.0
    started = time.perf_counter()
    averaged = f", {members} averaged" if members > 1 else ""
    clf, fit = train_latent_probe(
        loaded.model, train, valid, ad.genres, head=head, fit_config=fit_config,
        head_options={"members": members}, autoencoder_ref=autoencoder_reference(loaded),
        checkpoint_dir=checkpoint_dir, on_progress=sub_progress(on_progress, 0, share),
        should_stop=should_stop, on_epoch=on_epoch)
    probe = evaluate(clf, test, ad.genres, name=f"latent probe ({head}{averaged})",
                     evaluated_on=side, seconds=time.perf_counter() - started)
    device = next(clf.head.parameters()).device
    results = []
    for i, name in enumerate(baselines):
        lo = share + (1 - share) * i / len(baselines)
        prog = sub_progress(on_progress, lo, lo + (1 - share) / len(baselines))
        started = time.perf_counter()
        if name == "mel":
            net, _ = train_mel_baseline(train, valid, ad.genres, fit_config=fit_config,
                                        device=device, on_progress=prog, should_stop=should_stop)
            results.append(evaluate(net, test, ad.genres, name="mel CNN baseline",
                                    evaluated_on=side, seconds=time.perf_counter() - started))
        elif name == "mfcc":
            net, _ = train_mfcc_baseline(train, valid, ad.genres, fit_config=fit_config,
                                         device=device, members=members, on_progress=prog,
                                         should_stop=should_stop)
            name = "MFCC stats + MLP baseline" + (f" ({members} averaged)" if members > 1 else "")
            results.append(evaluate(net, test, ad.genres, name=name,
                                    features=mfcc_stats(test.clips, device=device),
                                    evaluated_on=side, seconds=time.perf_counter() - started))
        else:
            raise ValueError(f"unknown baseline {name!r} (known: {', '.join(BASELINES)})")
    return clf, fit, probe, results


@dataclass
class ClassifyTrainResult:
    """What ``celae classify train`` did: where the classifier went, the split, the probe's
    and the baselines' test metrics, the training history."""

    classifier: str
    autoencoder: str
    head: str
    genres: list[str]
    split: dict
    probe: ClassificationMetrics
    baselines: list[ClassificationMetrics]
    fit: FitResult
    seconds: float
    calibration: Calibration | None = None
    trained_on: str | None = None

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return {"classifier": self.classifier, "autoencoder": self.autoencoder,
                "head": self.head, "genres": self.genres, "split": self.split,
                "probe": self.probe.as_dict(), "baselines": [b.as_dict() for b in self.baselines],
                "fit": self.fit.as_dict(), "seconds": round(self.seconds, 3),
                "trained_on": self.trained_on,
                "calibration": self.calibration.as_dict() if self.calibration else None}

    def text(self) -> str:
        """Human summary."""
        lines = [f"saved the classifier to {self.classifier} (split {self.split['method']}, "
                 f"best epoch {self.fit.best_epoch}, {self.fit.stopped})",
                 metrics_line(self.probe)] + [metrics_line(b) for b in self.baselines]
        if self.calibration is not None:
            c = self.calibration
            lines.append(f"  calibrated on {c.n_clips} validation clips: temperature "
                         f"{c.temperature:.3g}, expected calibration error {c.ece_before:.3f} "
                         f"-> {c.ece_after:.3f}")
        return "\n".join(lines)


def dataset_label(data: str | os.PathLike) -> str:
    """A short name of a dataset folder for the genre bars: its name, with its parent's when
    the name is only a split (``real_music/train``)."""
    path = Path(data).resolve()
    splits = ("train", "training", "valid", "validation", "test")
    if path.name.lower() in splits and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name


def calibrate_on(clf, valid) -> Calibration:
    """Fit ``clf``'s temperature on the validation clips and set it on ``clf``."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(valid.clips))[:, None]
    logits = predict_logits(clf, x, next(clf.head.parameters()).device, 16).numpy()
    result = calibrate(logits, np.asarray(valid.labels))
    clf.temperature = result.temperature
    return result


def run_classify_train(data: str | os.PathLike, model: str | os.PathLike | None = None,
                       out: str | os.PathLike | None = None, *, epochs: int = 30,
                       head: str = DEFAULT_HEAD, batch_size: int = 32, lr: float = 1e-3,
                       seed: int = 0, device: str = "auto", max_clips: int | None = None,
                       baselines: tuple[str, ...] = BASELINES, trained_on: str | None = None,
                       clips_per_song: int | None = None, members: int = 1,
                       on_progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                       on_epoch=None) -> ClassifyTrainResult:
    """Train a genre classifier on an autoencoder's frozen encoder, with baselines.

    Parameters
    ----------
    data : path
        A labelled dataset folder (one sub-folder per genre; GTZAN names get the
        fault-filtered split).
    model : str or path, optional
        Autoencoder folder or name (default: the bundled model).
    out : path, optional
        Classifier folder (default :func:`default_classifier_dir`). An interrupted run's
        checkpoint in ``out/checkpoint`` is resumed.
    epochs, head, batch_size, lr, seed, device, max_clips
        Training settings; ``head`` is ``"stats"``, ``"conv"`` or ``"report"``.
    baselines : tuple of str
        Any of ``"mel"``, ``"mfcc"``; trained and evaluated on the same split.
    trained_on : str, optional
        The label shown with the genre bars (default :func:`dataset_label` of ``data``).
    clips_per_song : int, optional
        Use at most this many clips of each song, evenly spread.
    members : int
        Heads fitted from seeds ``seed`` ... ``seed + members - 1`` and averaged (an
        :class:`core.genre.model.EnsembleHead`); the MFCC baseline is averaged alike.
    on_progress, should_stop, on_epoch
        ``core.progress`` callbacks; ``on_epoch`` gets each probe epoch's history row.
    """
    on_progress = on_progress or no_progress
    started = time.perf_counter()
    loaded = load_autoencoder(model, device)
    out = Path(out) if out is not None else default_classifier_dir(loaded.path)
    ad = load_analysis_data(data, loaded.model.clip_samples, seed=seed, max_clips=max_clips,
                            clips_per_song=clips_per_song,
                            on_progress=sub_progress(on_progress, 0, 0.1), should_stop=should_stop)
    cfg = FitConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    clf, fit, probe, base = train_and_evaluate(
        loaded, ad, head=head, fit_config=cfg, baselines=tuple(baselines),
        checkpoint_dir=out / CHECKPOINT_DIR, members=members,
        on_progress=sub_progress(on_progress, 0.1, 1.0), should_stop=should_stop,
        on_epoch=on_epoch)
    metrics = {"probe": probe.as_dict(), "baselines": [b.as_dict() for b in base]}
    calibration = calibrate_on(clf, ad.side("valid"))
    trained_on = trained_on or dataset_label(data)
    save_classifier(clf, out, metrics=metrics, extra={
        "dataset": str(Path(data).resolve()), "seed": seed, "split": ad.split_info(),
        "fit": fit.as_dict(), "max_clips": max_clips, "clips_per_song": clips_per_song},
        trained_on=trained_on, calibration=calibration.as_dict())
    shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
    on_progress(1.0, "classifier saved")
    return ClassifyTrainResult(str(out), str(loaded.path), head, ad.genres, ad.split_info(),
                               probe, base, fit, time.perf_counter() - started, calibration,
                               trained_on)


@dataclass
class ClassifyEvalResult:
    """A saved classifier's metrics on a dataset, beside those stored at training time."""

    classifier: str
    dataset: str
    metrics: ClassificationMetrics
    stored: dict = field(default_factory=dict)
    dropped_clips: int = 0

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return {"classifier": self.classifier, "dataset": self.dataset,
                "metrics": self.metrics.as_dict(), "stored": self.stored,
                "dropped_clips": self.dropped_clips}

    def text(self) -> str:
        """Human summary."""
        lines = [metrics_line(self.metrics)]
        for b in self.stored.get("baselines", []):
            lines.append(f"  (at training) {b['name']}: accuracy {100 * b['accuracy']:.1f} %")
        if self.dropped_clips:
            lines.append(f"  {self.dropped_clips} clips of genres the classifier does not know "
                         "were left out")
        return "\n".join(lines)


def run_classify_eval(clf: str | os.PathLike, data: str | os.PathLike, *, device: str = "auto",
                      max_clips: int | None = None, on_progress: ProgressFn | None = None,
                      should_stop: StopFn | None = None) -> ClassifyEvalResult:
    """Evaluate a saved classifier on a labelled dataset.

    On the dataset it was trained on, only the held-out side of the same split is used;
    on any other dataset, every clip of a genre the classifier knows.
    """
    from core.devices import pick_device

    on_progress = on_progress or no_progress
    lc = load_classifier(clf, pick_device(device))
    extra = lc.meta.get("extra", {})
    same = extra.get("dataset") == str(Path(data).resolve())
    ad = load_analysis_data(data, lc.classifier.autoencoder.clip_samples,
                            seed=int(extra.get("seed", 0)) if same else 0,
                            max_clips=extra.get("max_clips") if same else max_clips,
                            on_progress=sub_progress(on_progress, 0, 0.3), should_stop=should_stop)
    side = _eval_side(ad) if same else "all"
    part = ad.side(side)
    index = {g: i for i, g in enumerate(lc.genres)}
    mapped = np.array([index.get(ad.genres[y], -1) for y in part.labels], dtype=np.int64)
    ok = mapped >= 0
    if not ok.any():
        raise DatasetError(f"{Path(data).name}: none of its genres ({', '.join(ad.genres)}) is "
                           f"one the classifier knows ({', '.join(lc.genres)})")
    part = LabeledClips(part.clips[ok], mapped[ok], part.songs[ok])
    on_progress(0.4, "classifying clips")
    kind = lc.classifier.head_config.kind
    m = evaluate(lc.classifier, part, lc.genres, name=f"latent probe ({kind})", evaluated_on=side)
    on_progress(1.0, "done")
    return ClassifyEvalResult(str(lc.path), str(data), m, lc.meta.get("metrics", {}),
                              int((~ok).sum()))


@dataclass
class PredictResult:
    """Genre probabilities of one audio file: the mean over its clips, and per clip."""

    audio: str
    genres: list[str]
    probabilities: list[float]
    per_clip: list[list[float]]

    @property
    def top(self) -> str:
        """The most probable genre."""
        return self.genres[int(np.argmax(self.probabilities))]

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return {"audio": self.audio, "top": self.top,
                "probabilities": dict(zip(self.genres, self.probabilities, strict=True)),
                "per_clip": self.per_clip}

    def text(self) -> str:
        """Human summary: genres by decreasing probability."""
        order = np.argsort(self.probabilities)[::-1]
        return "\n".join([f"{Path(self.audio).name}: {self.top} "
                          f"({len(self.per_clip)} clips)"]
                         + [f"  {self.genres[i]:<12} {100 * self.probabilities[i]:5.1f} %"
                            for i in order])


def run_classify_predict(clf: str | os.PathLike, audio: str | os.PathLike, *,
                         device: str = "auto") -> PredictResult:
    """Genre probabilities of an audio file (any length: cut into the model's clips).

    Raises
    ------
    AudioLoadError
        The file cannot be decoded.
    ModelLoadError
        The classifier or its autoencoder cannot be loaded.
    """
    from core.audio.io import load_audio, split_clips
    from core.devices import pick_device

    lc = load_classifier(clf, pick_device(device))
    ae = lc.classifier.autoencoder
    clips = split_clips(load_audio(audio, ae.sample_rate), ae.clip_samples)
    proba = predict_proba(lc.classifier, clips)
    return PredictResult(str(audio), lc.genres, proba.mean(0).tolist(), proba.tolist())

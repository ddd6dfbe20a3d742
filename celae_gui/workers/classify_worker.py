"""Genre classification in the background: find and load a model's classifier, score the
original and the reconstruction, and train a new classifier (``core.analysis``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Signal

from celae_gui.workers.base import BaseWorker

if TYPE_CHECKING:
    from core.models.inference import SongLatent

CLASSIFIER_DIR = "classifier"


def find_classifier(model_path: Path | None) -> Path | None:
    """The classifier folder of a model: ``<model>/classifier``, else
    ``core.paths.default_classifier_dir(model)`` (where a bundled model's goes); None
    when neither holds a classifier."""
    if model_path is None:
        return None
    from core.genre.files import is_classifier_folder
    from core.paths import default_classifier_dir

    for folder in (Path(model_path) / CLASSIFIER_DIR, default_classifier_dir(model_path)):
        if is_classifier_folder(folder):
            return folder
    return None


def model_device(loaded):
    """The torch device the ``LoadedModel``'s weights are on."""
    return next(loaded.model.parameters()).device


class ClassifierLoadWorker(BaseWorker):
    """Load the classifier of ``loaded`` (a ``LoadedModel``) on its device, sharing its encoder.

    ``result`` carries the ``LoadedClassifier``, or None when the model has no classifier.
    """

    def __init__(self, loaded):
        super().__init__()
        self._loaded = loaded

    def work(self):
        from core.genre.files import load_classifier

        folder = find_classifier(self._loaded.path)
        if folder is None:
            return None
        self.on_progress(0.0, f"Loading the genre classifier {folder}")
        return load_classifier(folder, model_device(self._loaded), autoencoder=self._loaded)


@dataclass(frozen=True)
class GenreResult:
    """Genre probabilities ``[n_genres]`` of the original and of the reconstruction."""

    latents: SongLatent
    original: np.ndarray
    recon: np.ndarray | None


def genre_proba(classifier, audio: np.ndarray) -> np.ndarray:
    """Genre probabilities ``[n_genres]`` of ``audio[T]``: encoded clip by clip with the
    classifier's own autoencoder and averaged over clips.

    A, B and C are all scored this way, from the audio each one is, so with no edit C's bars
    equal B's (C is B's audio), and a classifier never reads another model's latents.
    """
    from core.audio.io import split_clips
    from core.genre.probe import predict_proba

    net = classifier.classifier
    return predict_proba(net, split_clips(audio, net.autoencoder.clip_samples)).mean(0)


class GenreWorker(BaseWorker):
    """Probabilities of the original ``original[T]`` and of the reconstruction ``recon[T]``
    (:func:`genre_proba`); ``latents`` tags the result with the window it belongs to."""

    def __init__(self, classifier, latents, original: np.ndarray,
                 recon: np.ndarray | None):
        super().__init__()
        self._classifier = classifier
        self._latents = latents
        self._original = original
        self._recon = recon

    def work(self) -> GenreResult:
        original = genre_proba(self._classifier, self._original)
        recon = None
        if self._recon is not None and not self.should_stop():
            recon = genre_proba(self._classifier, self._recon)
        return GenreResult(self._latents, original, recon)


@dataclass(frozen=True)
class ClassifierTrainSettings:
    """What the "Train classifier" dialog asks for (see ``run_classify_train``)."""

    data: Path
    model: Path
    epochs: int = 30
    head: str = "stats"
    device: str = "auto"
    max_clips: int | None = None
    baselines: tuple[str, ...] = ("mel", "mfcc")


class ClassifierTrainWorker(BaseWorker):
    """``core.analysis.run_classify_train``; ``epoch_done`` carries each history row (a
    dict with ``epoch``, ``train_loss``, ``valid_loss``, ``valid_accuracy``); ``result`` the
    ``ClassifyTrainResult``. The classifier goes to ``default_classifier_dir(model)``."""

    epoch_done = Signal(object)

    def __init__(self, settings: ClassifierTrainSettings):
        super().__init__(progress_rate=4.0)
        self._settings = settings

    def work(self):
        from core.analysis import run_classify_train

        s = self._settings
        return run_classify_train(s.data, s.model, None, epochs=s.epochs, head=s.head,
                                  device=s.device, max_clips=s.max_clips,
                                  baselines=s.baselines, on_progress=self.on_progress,
                                  should_stop=self.should_stop, on_epoch=self.epoch_done.emit)

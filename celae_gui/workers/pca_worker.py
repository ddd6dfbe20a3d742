"""Principal directions of a model's latent space in the background: find the stored PCA, or
fit one on songs and store it (beside the model when its folder is writable, else under the
user models folder)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from celae_gui.workers.base import BaseWorker
from core.errors import DatasetError

if TYPE_CHECKING:
    from core.latent.pca import LatentPCA
    from core.latent.pca_effects import DirectionEffect
    from core.models.inference import SongLatent

MAX_FIT_CLIPS = 512
"""Clips encoded at most for a fit: plenty for the covariance of 8-dimensional frame vectors."""
PCA_SUBDIR = "latent_pca"


def fallback_pca_dir(loaded) -> Path:
    """Where the PCA of a model with a read-only folder goes: named after the model and its
    weights, so a retrained model with the same name does not pick up a stale PCA."""
    from core.paths import user_models_dir

    return user_models_dir() / PCA_SUBDIR / f"{loaded.path.name}-{loaded.weights_sha256[:12]}"


def load_model_pca(loaded):
    """The stored ``LatentPCA`` of ``loaded`` (a ``LoadedModel``), or None when it has none."""
    from core.latent.pca import load_latent_pca

    pca = load_latent_pca(loaded.path)
    if pca is None and fallback_pca_dir(loaded).is_dir():
        pca = load_latent_pca(fallback_pca_dir(loaded))
    return pca


def clips_of(files: list[Path], clip_samples: int, limit: int = MAX_FIT_CLIPS, *,
             should_stop=None) -> np.ndarray:
    """Every clip ``[N, clip_samples]`` of ``files`` (decoded whole, cut, at most ``limit``)."""
    from core.audio.io import load_audio, split_clips
    from core.progress import Cancelled

    clips, total = [], 0
    for path in files:
        if should_stop is not None and should_stop():
            raise Cancelled()
        part = split_clips(load_audio(path), clip_samples)[:limit - total]
        clips.append(part)
        total += len(part)
        if total >= limit:
            break
    if not clips:
        raise DatasetError("no songs to fit the latent PCA on: add songs to the library or "
                           "choose a folder of audio files")
    return np.concatenate(clips)


def save_pca(pca, loaded) -> Path:
    """Store ``pca`` beside the model ``loaded`` when its folder is writable, else in
    :func:`fallback_pca_dir`; returns the ``.safetensors`` path written.

    Bundled models count as read-only even in a writable checkout, as for their classifiers
    (``core.analysis.default_classifier_dir``): the app never changes what it ships.
    """
    from core.latent.pca import save_latent_pca
    from core.paths import bundled_models_dir

    beside = Path(loaded.path)
    bundled = beside.resolve().is_relative_to(bundled_models_dir().resolve())
    if not bundled and os.access(beside, os.W_OK):
        try:
            return save_latent_pca(pca, beside)
        except OSError:
            pass  # a folder that looks writable can still refuse (read-only mount, share)
    folder = fallback_pca_dir(loaded)
    folder.mkdir(parents=True, exist_ok=True)
    return save_latent_pca(pca, folder)


class PcaLoadWorker(BaseWorker):
    """``result`` carries the stored ``LatentPCA`` of a ``LoadedModel``, or None."""

    def __init__(self, loaded):
        super().__init__()
        self._loaded = loaded

    def work(self):
        return load_model_pca(self._loaded)


@dataclass(frozen=True)
class PcaFitResult:
    """The fitted PCA, where it was stored, and the model it belongs to."""

    pca: LatentPCA
    saved_to: Path
    model_path: Path
    n_clips: int


class PcaFitWorker(BaseWorker):
    """Encode the clips of ``files`` (songs or folders), fit ``core.latent.pca`` and save it."""

    def __init__(self, loaded, files: list[Path]):
        super().__init__()
        self._loaded = loaded
        self._files = [Path(f) for f in files]

    def work(self) -> PcaFitResult:
        from celae_gui.workers.decode_worker import expand_paths
        from core.latent.pca import fit_latent_pca

        model = self._loaded.model
        self.on_progress(0.0, "Decoding songs for the latent PCA")
        clips = clips_of(expand_paths(self._files), model.clip_samples,
                         should_stop=self.should_stop)
        pca = fit_latent_pca(model, clips, on_progress=self._fit_progress,
                             should_stop=self.should_stop)
        saved = save_pca(pca, self._loaded)
        return PcaFitResult(pca, saved, Path(self._loaded.path), len(clips))

    def _fit_progress(self, fraction: float, message: str) -> None:
        self.on_progress(0.1 + 0.9 * fraction, message)


@dataclass(frozen=True)
class PcaEffectsResult:
    """``core.latent.pca_effects.DirectionEffect`` of each direction, for ``pca`` on the
    window ``latents`` (a ``SongLatent``; its first clip was measured)."""

    pca: LatentPCA
    latents: SongLatent
    effects: list[DirectionEffect]


class PcaEffectsWorker(BaseWorker):
    """Decode the first clip of ``latents`` at +1 std along each of ``k`` directions."""

    def __init__(self, model, pca, latents, k: int):
        super().__init__()
        self._model, self._pca, self._latents, self._k = model, pca, latents, k

    def work(self) -> PcaEffectsResult:
        from core.latent.pca_effects import direction_effects

        effects = direction_effects(self._model, self._pca, self._latents.z[0], self._k)
        return PcaEffectsResult(self._pca, self._latents, effects)

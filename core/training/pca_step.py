"""The latent PCA stored beside a trained model: fitted on training clips, never at its cost.

The app's principal-direction sliders and 2-D map read it. The model is already saved when
the PCA is fitted, so a failure here (a full disk, a degenerate fit) is a warning that says the
model is kept, never an error that would make a user think the run was lost.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from torch import nn

from core.progress import ProgressFn
from core.training.data import TrainingData

PCA_CLIPS = 256
"""Training clips the latent PCA stored with a model is fitted on."""

log = logging.getLogger(__name__)


def save_training_pca(model: nn.Module, data: TrainingData, out_dir: Path,
                      report: ProgressFn) -> str:
    """Fit the latent PCA on (up to :data:`PCA_CLIPS`) training clips and save it in ``out_dir``.

    Parameters
    ----------
    model : Autoencoder
        The trained model, already saved in ``out_dir``.
    data : TrainingData
        Its training clips.
    out_dir : Path
        The model folder.
    report : ProgressFn
        Progress callback of the run.

    Returns
    -------
    str
        ``""`` when the PCA was saved, else the warning (also logged) that says why not.
    """
    from core.latent.pca import fit_latent_pca, save_latent_pca

    train = np.asarray(data.train)
    if len(train) > PCA_CLIPS:
        train = train[np.linspace(0, len(train) - 1, PCA_CLIPS).round().astype(int)]
    report(0.9995, "fitting the latent PCA")
    try:
        clips = data.clips.float_batch(np.sort(train))
        save_latent_pca(fit_latent_pca(model, clips), out_dir)
    except (ValueError, RuntimeError, OSError) as exc:
        warning = (f"latent PCA not saved: {exc}; the model itself is saved and loads (the "
                   "app's Fit latent PCA can add one later)")
        log.warning("%s", warning)
        return warning
    return ""

"""Settings and results of a training run: :class:`TrainConfig`, :class:`EpochRecord`,
:class:`TrainResult` (re-exported by :mod:`core.training.trainer`)."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from core.errors import TrainingError
from core.models.losses import losses

LR_SCHEDULES = ("auto", "plateau", "linear")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    Parameters
    ----------
    arch : str
        Registry name of the architecture (``core.models.architectures()``).
    model : dict
        Config overrides for the architecture, e.g. ``{"activation": "silu",
        "latent_ratio": 4}``. ``clip_samples`` defaults to the data's clip length.
    epochs : int
        Epochs to train in total (a resumed run continues up to this number).
    batch_size : int
        Clips per batch, per process under DDP.
    lr, weight_decay : float
        Adam's learning rate and weight decay.
    seed : int
        Seeds the weights, the train/valid split, the shuffles and the crops.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (``core.devices.pick_device``).
    valid_fraction : float
        Share of songs held out for validation (split by song, never by clip).
    patience : int or None
        Stop after this many epochs without a better validation loss; ``None`` never stops early.
    lr_patience, lr_factor : int, float
        ReduceLROnPlateau: multiply the learning rate by ``lr_factor`` after ``lr_patience``
        epochs without improvement.
    loss : str
        A name from ``core.models.losses.losses()``; ``"mse"`` is the report's. ``"auto"`` takes the
        loss the architecture's config names (the codec family's spectral loss), else MSE.
    crop : int or None
        Train on random windows of this many samples; ``None`` trains on whole clips.
        Validation always uses whole clips.
    valid_clips : int or None
        Validate on this many validation clips, a fixed subset drawn once with ``seed`` (so
        every epoch's figure is comparable and validation stays a small share of the run);
        ``None`` validates on the whole validation split.
    max_minutes : float or None
        Wall-time budget: the run stops after this many minutes of training (the epoch under
        way is cut short, validated and checkpointed) and saves the best model. ``None`` runs
        ``epochs`` epochs.
    lr_schedule : str
        ``"plateau"`` lowers the learning rate on a validation plateau (``lr_patience``,
        ``lr_factor``); ``"linear"`` decays it linearly to 10 % over the run (over the time
        budget with ``max_minutes``, else over ``epochs``), the recipe of
        ``scripts/bench_rd.py``; ``"auto"`` is ``"linear"`` with ``max_minutes``, else
        ``"plateau"``.
    grad_clip : float or None
        Clip the gradient's global norm to this value before each step; ``None`` never clips.
    ema : float or None
        Keep an exponential moving average of the weights with this decay per step (0.999
        averages over about the last 1000 steps); validation scores the average and the saved
        model is the best average (:mod:`core.training.ema`). ``None`` uses the weights as
        trained.
    max_clips : int or None
        Use at most this many clips (whole songs, chosen by ``seed``) for quick runs.
    out_dir : str or None
        Model folder to write (checkpoint included); ``None`` trains in memory only.
    num_workers : int
        Batches prepared ahead on a background thread (0 prepares them in the loop).
    threads : int or None
        Torch CPU threads; ``None`` keeps torch's default (split between ranks under DDP).
    """

    arch: str = "CELAutoencoderSiLU"
    model: dict[str, Any] = field(default_factory=dict)
    epochs: int = 10
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "auto"
    valid_fraction: float = 0.2
    patience: int | None = 10
    lr_patience: int = 3
    lr_factor: float = 0.5
    loss: str = "auto"
    crop: int | None = None
    max_clips: int | None = None
    out_dir: str | None = None
    num_workers: int = 2
    threads: int | None = None
    valid_clips: int | None = 16
    max_minutes: float | None = None
    lr_schedule: str = "auto"
    grad_clip: float | None = None
    ema: float | None = None

    def __post_init__(self) -> None:
        check_setting(isinstance(self.epochs, int) and self.epochs >= 1, "epochs must be >= 1")
        check_setting(isinstance(self.batch_size, int) and self.batch_size >= 1,
               "batch_size must be >= 1")
        check_setting(math.isfinite(self.lr) and self.lr > 0, "lr must be a positive number")
        check_setting(self.weight_decay >= 0, "weight_decay must be >= 0")
        check_setting(0 < self.valid_fraction < 1, "valid_fraction must be between 0 and 1")
        check_setting(self.patience is None or self.patience >= 1, "patience must be >= 1 or None")
        check_setting(self.lr_patience >= 0, "lr_patience must be >= 0")
        check_setting(0 < self.lr_factor < 1, "lr_factor must be between 0 and 1")
        check_setting(self.loss == "auto" or self.loss in losses(),
                      f"unknown loss {self.loss!r} (known: auto, {', '.join(losses())})")
        check_setting(self.crop is None or self.crop >= 1, "crop must be >= 1 or None")
        check_setting(self.max_clips is None or self.max_clips >= 2,
                      "max_clips must be >= 2 or None")
        check_setting(self.num_workers >= 0, "num_workers must be >= 0")
        check_setting(self.threads is None or self.threads >= 1, "threads must be >= 1 or None")
        check_setting(isinstance(self.model, dict), "model must be a dict of config overrides")
        check_setting(self.valid_clips is None or self.valid_clips >= 1,
                      "valid_clips must be >= 1 or None")
        check_setting(self.max_minutes is None or (math.isfinite(self.max_minutes)
                                                   and self.max_minutes > 0),
                      "max_minutes must be a positive number or None")
        check_setting(self.lr_schedule in LR_SCHEDULES,
                      f"unknown lr_schedule {self.lr_schedule!r} (known: "
                      f"{', '.join(LR_SCHEDULES)})")
        check_setting(self.grad_clip is None or (math.isfinite(self.grad_clip)
                                                 and self.grad_clip > 0),
                      "grad_clip must be a positive number or None")
        check_setting(self.ema is None or 0.0 < self.ema < 1.0,
                      "ema must be a decay between 0 and 1, or None")

    @property
    def schedule(self) -> str:
        """The learning-rate schedule in effect, ``"plateau"`` or ``"linear"``."""
        if self.lr_schedule != "auto":
            return self.lr_schedule
        return "linear" if self.max_minutes is not None else "plateau"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the settings (tuples in ``model`` become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Settings from :meth:`as_dict` output; unknown keys raise :class:`TrainingError`."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        check_setting(not unknown, f"unknown training setting(s) {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class EpochRecord:
    """Figures of one finished epoch (passed to ``on_epoch`` and kept in the history).

    ``seconds`` covers training and validation; ``data_wait_fraction`` is the share of the
    training time spent waiting for batches; ``clips_per_s`` counts training clips over all
    ranks; ``valid_si_sdr`` is the mean SI-SDR in dB of the first few validation clips;
    ``valid_fraction`` is the share of the epoch's time spent validating; ``steps`` counts the
    epoch's optimiser steps (fewer than a full epoch's when the time budget ran out).
    """

    epoch: int
    train_loss: float
    valid_loss: float
    lr: float
    seconds: float
    data_wait_fraction: float
    clips_per_s: float
    valid_si_sdr: float
    valid_fraction: float = 0.0
    steps: int = 0

    @property
    def steps_per_s(self) -> float:
        """Optimiser steps per second of the epoch's whole time (validation included)."""
        return self.steps / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures as a plain dict."""
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """What a finished run returns.

    Attributes
    ----------
    model : Autoencoder
        The best-validation weights, on the CPU, in eval mode.
    history : list of dict
        ``EpochRecord.as_dict()`` of every epoch, resumed ones included.
    best_epoch : int
        Epoch (1-based) of the best validation loss.
    best_valid_loss : float
    epochs_run : int
        Epochs completed in total.
    stopped_early : bool
        True if early stopping ended the run before ``config.epochs``.
    out_dir : Path or None
        The model folder written, if any.
    skipped : list of dict
        ``{"path", "reason"}`` of every input file left out of the run.
    warnings : list of str
        What went wrong after the model was saved (its latent PCA could not be written, say);
        the model in ``out_dir`` is complete all the same.
    """

    model: nn.Module
    history: list[dict[str, Any]]
    best_epoch: int
    best_valid_loss: float
    epochs_run: int
    stopped_early: bool
    out_dir: Path | None
    skipped: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the model)."""
        return {"history": self.history, "best_epoch": self.best_epoch,
                "best_valid_loss": self.best_valid_loss, "epochs_run": self.epochs_run,
                "stopped_early": self.stopped_early,
                "out_dir": str(self.out_dir) if self.out_dir else None,
                "skipped": self.skipped, "warnings": self.warnings}


def check_setting(ok: bool, message: str) -> None:
    """Raise :class:`TrainingError` with ``message`` unless ``ok``."""
    if not ok:
        raise TrainingError(message)

"""The supervised training loop shared by the genre classifier and its baselines.

CrossEntropyLoss, Adam, ReduceLROnPlateau on validation loss, early stopping with the best
weights restored, ``on_progress``/``should_stop`` between batches and an atomic checkpoint after
every epoch (``core.training.checkpoint``) that a later call resumes from.

The autoencoder trainer (``core.training.trainer``) fits a reconstruction loss on raw clips; this
loop
fits labels on any pre-computed inputs (latents, features or clips), so it stays separate and
compact.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from core.errors import TrainingError
from core.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress
from core.training.checkpoint import checkpoint_exists, load_checkpoint, save_checkpoint

EpochFn = Callable[[dict], None]


@dataclass(frozen=True)
class FitConfig:
    """Settings of one supervised fit.

    ``patience`` epochs without a better validation loss stop training early;
    ``lr_patience`` epochs halve the learning rate (ReduceLROnPlateau).
    """

    epochs: int = 40
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 8
    lr_patience: int = 3
    lr_factor: float = 0.5
    seed: int = 0

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise TrainingError(f"epochs, batch size and learning rate must be positive "
                                f"(got {self.epochs}, {self.batch_size}, {self.lr})")


@dataclass
class FitResult:
    """What a fit did: per-epoch ``history`` (epoch, train_loss, valid_loss, valid_accuracy,
    lr), the best epoch and loss, why it stopped (``"completed"`` or ``"early_stopping"``),
    and wall time."""

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_valid_loss: float = math.inf
    stopped: str = "completed"
    seconds: float = 0.0

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


def as_float(x: Tensor) -> Tensor:
    """int16 audio to float32 in [-1, 1); other tensors to float32."""
    return x.float() / 32768.0 if x.dtype == torch.int16 else x.float()


@torch.no_grad()
def predict_logits(net: nn.Module, x: Tensor, device: torch.device | str = "cpu",
                   batch_size: int = 64, forward: Callable[[Tensor], Tensor] | None = None
                   ) -> Tensor:
    """Logits ``Tensor[N, n_classes]`` (on the CPU) of ``net`` on inputs ``x[N, ...]``."""
    net.eval()
    forward = forward or net
    outs = [forward(as_float(x[i:i + batch_size]).to(device)).float().cpu()
            for i in range(0, len(x), batch_size)]
    return torch.cat(outs) if outs else torch.zeros(0)


def fit(net: nn.Module, train: tuple[Tensor, Tensor], valid: tuple[Tensor, Tensor],
        config: FitConfig, *, device: torch.device | str = "cpu",
        checkpoint_dir: str | os.PathLike | None = None, label: str = "classifier",
        on_progress: ProgressFn | None = None, should_stop: StopFn | None = None,
        on_epoch: EpochFn | None = None) -> FitResult:
    """Train ``net`` to predict labels; on return it holds the best-validation-loss weights.

    Parameters
    ----------
    net : nn.Module
        Maps a float batch ``x[B, ...]`` to logits ``[B, n_classes]``.
    train, valid : (Tensor[N, ...], Tensor[N] of int64)
        Inputs (int16 audio is scaled to [-1, 1)) and labels, on the CPU; batches move to
        ``device``. An empty ``valid`` makes the training loss drive the scheduler.
    config : FitConfig
    device : torch.device or str
    checkpoint_dir : path, optional
        Folder of the per-epoch checkpoint; if it already holds one, training resumes there.
    label : str
        Name used in progress messages.
    on_progress, should_stop
        ``core.progress`` callbacks, called/checked between batches.
    on_epoch : callable, optional
        Called with each epoch's history row.

    Raises
    ------
    Cancelled
        ``should_stop()`` returned True (the last checkpoint is intact).
    TrainingError
        The loss became NaN or infinite.
    """
    on_progress = on_progress or no_progress
    should_stop = should_stop or never_stop
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    gen = np.random.default_rng(config.seed)
    net.to(device)
    opt = torch.optim.Adam((p for p in net.parameters() if p.requires_grad), lr=config.lr,
                           weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=config.lr_factor, patience=config.lr_patience)
    loss_fn = nn.CrossEntropyLoss()
    result = FitResult()
    best_state = copy.deepcopy(net.state_dict())
    start_epoch, bad_epochs = 0, 0
    if checkpoint_dir is not None and checkpoint_exists(checkpoint_dir):
        state = load_checkpoint(checkpoint_dir)
        try:
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            best_state = state["best_model"]
            start_epoch, bad_epochs = state["epoch"], state["bad_epochs"]
            result.history = list(state["history"])
            result.best_epoch, result.best_valid_loss = state["best_epoch"], state["best_loss"]
        except (KeyError, RuntimeError, ValueError) as err:
            raise TrainingError(f"{os.path.basename(checkpoint_dir)}: the checkpoint there is "
                                f"from another model or run and cannot be resumed ({err}); "
                                "delete it to start afresh") from None
        gen = np.random.default_rng(config.seed + start_epoch)
    x_tr, y_tr = train
    n_batches = max(1, math.ceil(len(x_tr) / config.batch_size))
    total = config.epochs * n_batches
    for epoch in range(start_epoch, config.epochs):
        net.train()
        order = torch.from_numpy(gen.permutation(len(x_tr)))
        losses = []
        for b in range(n_batches):
            if should_stop():
                raise Cancelled()
            idx = order[b * config.batch_size:(b + 1) * config.batch_size]
            if len(idx) < 2 and len(x_tr) > 1:
                continue  # BatchNorm cannot train on a batch of one
            xb, yb = as_float(x_tr[idx]).to(device), y_tr[idx].to(device)
            loss = loss_fn(net(xb), yb)
            if not torch.isfinite(loss):
                raise TrainingError(f"{label}: the loss became {loss.item()} at epoch "
                                    f"{epoch + 1}; try a lower learning rate")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            on_progress((epoch * n_batches + b + 1) / total,
                        f"{label}: epoch {epoch + 1}/{config.epochs}, loss {loss.item():.3f}")
        train_loss = float(np.mean(losses)) if losses else math.nan
        row = {"epoch": epoch + 1, "train_loss": train_loss,
               "lr": float(opt.param_groups[0]["lr"])}
        if len(valid[0]):
            logits = predict_logits(net, valid[0], device, config.batch_size)
            row["valid_loss"] = float(loss_fn(logits, valid[1]).item())
            row["valid_accuracy"] = float((logits.argmax(1) == valid[1]).float().mean())
        monitored = row.get("valid_loss", train_loss)
        sched.step(monitored)
        result.history.append(row)
        if monitored < result.best_valid_loss:
            result.best_valid_loss, result.best_epoch = monitored, epoch + 1
            best_state = copy.deepcopy(net.state_dict())
            bad_epochs = 0
        else:
            bad_epochs += 1
        if checkpoint_dir is not None:
            save_checkpoint(checkpoint_dir, {
                "model": net.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "best_model": best_state,
                "epoch": epoch + 1, "bad_epochs": bad_epochs, "history": result.history,
                "best_epoch": result.best_epoch, "best_loss": result.best_valid_loss})
        if on_epoch is not None:
            on_epoch(row)
        if bad_epochs >= config.patience:
            result.stopped = "early_stopping"
            break
    net.load_state_dict(best_state)
    net.eval()
    result.seconds = time.perf_counter() - started
    on_progress(1.0, f"{label}: done (best epoch {result.best_epoch})")
    return result

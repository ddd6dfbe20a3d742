"""The trainer: fit an autoencoder to a clip set, with checkpoints, resume, cancel and DDP.

``train(config, data)`` runs Adam on the reconstruction loss (MSE, the report's), validates every
epoch on a fixed subset of the validation clips, lowers the learning rate on a validation plateau
(or linearly over the run), stops early after ``patience`` epochs without improvement or when the
``max_minutes`` budget is spent, and writes the best-validation weights as a model folder.

Files, under ``config.out_dir``::

    OUT/model.safetensors, OUT/config.json   the final model (best valid weights), at the end
    OUT/checkpoint/                          written after every epoch (core.training.checkpoint)

Cancelling: ``should_stop()`` is checked between batches; when it returns True the trainer
raises :class:`core.progress.Cancelled` within one batch. The last checkpoint (end of the last
completed epoch) stays intact and ``train(config, data, resume=True)`` continues from it; no final
model is written. On CPU a resumed run ends with exactly the weights of an uninterrupted one.

A non-finite loss raises :class:`core.errors.TrainingError` before the optimizer step; the last
good checkpoint is kept (a non-finite state is never saved).

Under ``torchrun --nproc-per-node N`` the same call trains with DistributedDataParallel (see
:mod:`core.training.distributed`): each rank takes every N-th clip of the epoch's shuffle, losses
are
summed over ranks, rank 0 writes checkpoints and the model and alone calls the callbacks.
``config.batch_size`` is per process.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.errors import TrainingError
from core.models.losses import make_loss
from core.progress import Cancelled, ProgressFn, StopFn, Throttle, never_stop, no_progress
from core.training.batches import BatchStream
from core.training.checkpoint import checkpoint_exists, load_checkpoint, save_checkpoint
from core.training.config import EpochRecord, TrainConfig, TrainResult
from core.training.data import TrainingData, prepare_data
from core.training.distributed import DistContext, setup_distributed
from core.training.ema import WeightAverage
from core.training.pca_step import save_training_pca
from core.training.run_lock import run_lock
from core.training.threads import torch_settings

CHECKPOINT_DIRNAME = "checkpoint"
SI_SDR_CLIPS = 4
"""Validation clips whose SI-SDR is reported each epoch (a cheap, audible-quality figure)."""

# Settings that decide the data order, the model or the optimizer: a resume that changed them
# could not continue the same run (and the optimizer and scheduler state would silently keep
# the old lr, weight_decay, lr_patience and lr_factor).
_RUN_IDENTITY = ("arch", "model", "batch_size", "seed", "valid_fraction", "loss", "crop",
                 "max_clips", "lr", "weight_decay", "lr_patience", "lr_factor", "valid_clips",
                 "max_minutes", "lr_schedule", "grad_clip", "ema")


def train(config: TrainConfig, data: Any, *, split: Any = None,
          on_progress: ProgressFn | None = None, should_stop: StopFn | None = None,
          on_epoch: Callable[[EpochRecord], None] | None = None,
          resume: bool = False) -> TrainResult:
    """Train ``config.arch`` on ``data`` and write the best model to ``config.out_dir``.

    Parameters
    ----------
    config : TrainConfig
        The run's settings.
    data : ClipSet or path
        Clips in memory (int16 ``[N, T]``) or a dataset folder (scanned and decoded through the
        clip cache).
    split : Split, optional
        Train/valid clip indices; by default ``split_by_song(clips, valid_fraction, seed)``.
    on_progress : callable, optional
        ``on_progress(fraction, message)``, a few times a second, with the ETA in the message.
    should_stop : callable, optional
        Checked between batches; True stops the run with :class:`core.progress.Cancelled`.
    on_epoch : callable, optional
        Called with an :class:`EpochRecord` after each epoch's checkpoint is written.
    resume : bool
        Continue the run checkpointed in ``config.out_dir``; with no checkpoint there yet, start
        from scratch.

    Returns
    -------
    TrainResult

    Raises
    ------
    core.progress.Cancelled
        ``should_stop()`` returned True; the last checkpoint is intact.
    TrainingError
        Bad settings, a non-finite loss, or a checkpoint that does not fit this run.
    DatasetError
        ``data`` holds no usable audio.
    """
    from core.devices import pick_device

    should_stop = should_stop or never_stop
    device = pick_device(config.device)
    ctx = setup_distributed(device)
    try:
        with torch_settings(config, ctx):
            report = Throttle(on_progress or no_progress) if ctx.is_main else no_progress
            stop = should_stop if ctx.is_main else never_stop
            # Rank 0 decodes into the clip cache first; the others then open the finished
            # entry instead of racing to write the same cache files.
            if not ctx.is_main:
                ctx.barrier()
            with _out_lock(config, ctx):
                prepared = prepare_data(config, data, split, on_progress=report,
                                        should_stop=stop)
                if ctx.is_main:
                    ctx.barrier()
                return _Run(config, prepared, ctx, report, stop,
                            on_epoch if ctx.is_main else None).run(resume)
    finally:
        ctx.close()


def _out_lock(config: TrainConfig, ctx: DistContext) -> contextlib.AbstractContextManager:
    """The output folder's run lock (rank 0 writes the folder, so rank 0 holds it)."""
    if config.out_dir is None or not ctx.is_main:
        return contextlib.nullcontext()
    return run_lock(config.out_dir)


class _Run:
    """One call of :func:`train`: the model, optimizer and loop state, and the loop itself."""

    def __init__(self, config: TrainConfig, data: TrainingData, ctx: DistContext,
                 report: ProgressFn, should_stop: StopFn,
                 on_epoch: Callable[[EpochRecord], None] | None):
        from core.models import build_from_config, config_from_dict

        self.config, self.data, self.ctx = config, data, ctx
        self.report, self.should_stop, self.on_epoch = report, should_stop, on_epoch
        overrides = {"clip_samples": data.clip_samples, **config.model}
        torch.manual_seed(config.seed)
        try:
            # config_from_dict, not build_model: overrides read from JSON carry lists where
            # the frozen config wants tuples.
            model_config = config_from_dict(config.arch, overrides)
            self.model = build_from_config(config.arch, model_config).to(ctx.device)
        except ValueError as exc:
            raise TrainingError(f"cannot build {config.arch}: {exc}") from exc
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr,
                                          weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="min", factor=config.lr_factor, patience=config.lr_patience)
        self.loss_name = (getattr(model_config, "loss", None) or "mse"
                          if config.loss == "auto" else config.loss)
        self.loss_fn = make_loss(self.loss_name)
        if isinstance(self.loss_fn, nn.Module):
            self.loss_fn.to(ctx.device)
        self.rng = np.random.Generator(np.random.PCG64(config.seed))
        self.valid = _valid_subset(data.valid, config.valid_clips, config.seed)
        self.budget_s = config.max_minutes * 60.0 if config.max_minutes is not None else None
        # Training time of the run so far, resumed runs included: the budget and the linear
        # schedule count it, so a resumed run ends where an uninterrupted one would.
        self.elapsed = 0.0
        self.out_of_time = False
        self.epoch = 0
        self.history: list[dict[str, Any]] = []
        self.best_valid = math.inf
        self.best_epoch = 0
        self.best_state = _clone_state(self.model)
        self.average = WeightAverage(self.model, config.ema) if config.ema else None
        self.bad_epochs = 0
        self.stopped_early = False
        self.out_dir = Path(config.out_dir) if config.out_dir else None
        self.ckpt_dir = self.out_dir / CHECKPOINT_DIRNAME if self.out_dir else None
        self.net: nn.Module = self.model
        if ctx.world > 1:
            ids = [ctx.device.index] if ctx.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

    def run(self, resume: bool) -> TrainResult:
        cfg = self.config
        if resume:
            if self.ckpt_dir is None:
                raise TrainingError("resume needs out_dir, the folder of the run to continue")
            if checkpoint_exists(self.ckpt_dir):
                self._restore(load_checkpoint(self.ckpt_dir))
                self.report(min(self.epoch / cfg.epochs, 0.999),
                            f"resumed after epoch {self.epoch}")
            elif self.ctx.is_main:
                logging.getLogger(__name__).warning(
                    "%s: no checkpoint to resume from; starting a new run", self.out_dir)
        self._start_epoch, self._t0 = self.epoch, time.monotonic()
        self._elapsed0 = self.elapsed
        while self.epoch < cfg.epochs and not self.stopped_early and not self.out_of_time:
            self._train_one_epoch()
        return self._finish()

    def _train_one_epoch(self) -> None:
        cfg, ctx = self.config, self.ctx
        e = self.epoch + 1
        t_start = self._epoch_t0 = time.perf_counter()
        lr = float(self.optimizer.param_groups[0]["lr"])
        stream = self._epoch_stream()
        self.net.train()
        total = count = 0.0
        steps = 0
        train_start = time.perf_counter()
        with contextlib.closing(stream):
            for b, x in enumerate(_stoppable(stream, self.should_stop, ctx.world), start=1):
                self._set_lr(e, b, len(stream))
                y = self.net(x)
                loss = self.loss_fn(y, x)
                value = float(loss.detach())
                stop, bad = ctx.any([self._stop_flag, not math.isfinite(value)])
                if bad:
                    what = "infinite" if math.isinf(value) else "NaN"
                    kept = ("the last good checkpoint is kept"
                            if self.ckpt_dir is not None and checkpoint_exists(self.ckpt_dir)
                            else "no checkpoint was written yet")
                    raise TrainingError(f"loss became {what} at epoch {e} batch {b}; {kept}")
                if stop:
                    raise Cancelled(f"training cancelled at epoch {e} batch {b}")
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip is not None:
                    nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                self.optimizer.step()
                if self.average is not None:
                    self.average.update()
                steps += 1
                total += value * x.shape[0]
                count += x.shape[0]
                self._progress(e, b, len(stream), value)
                if self._time_is_up(t_start):
                    break
        train_seconds = time.perf_counter() - train_start
        total, count, wait = self.ctx.all_sum([total, count, stream.wait_seconds])
        train_loss = total / max(count, 1.0)
        valid_start = time.perf_counter()
        with self._scored_weights():
            valid_loss, si_sdr = self._validate()
            finite = math.isfinite(valid_loss) and _all_finite(self.model)
            if finite and valid_loss < self.best_valid:
                self.best_state = _clone_state(self.model)
        finite = finite and _all_finite(self.model)
        valid_seconds = time.perf_counter() - valid_start
        if not finite:
            # A saturating output (tanh) can keep the loss finite while weights or BatchNorm
            # statistics have blown up; such a state must not become the new checkpoint.
            raise TrainingError(f"weights became non-finite at epoch {e} (try a lower learning "
                                "rate); the last good checkpoint is kept")
        if cfg.schedule == "plateau":
            self.scheduler.step(valid_loss)
        if valid_loss < self.best_valid:
            self.best_valid, self.best_epoch, self.bad_epochs = valid_loss, e, 0
        else:
            self.bad_epochs += 1
        if cfg.patience is not None and self.bad_epochs >= cfg.patience:
            self.stopped_early = True
        seconds = time.perf_counter() - t_start
        self.elapsed += seconds
        if self.budget_s is not None and self.elapsed >= self.budget_s:
            self.out_of_time = True
        record = EpochRecord(
            epoch=e, train_loss=train_loss, valid_loss=valid_loss, lr=lr, seconds=seconds,
            data_wait_fraction=wait / ctx.world / max(train_seconds, 1e-9),
            clips_per_s=count / max(train_seconds, 1e-9), valid_si_sdr=si_sdr,
            valid_fraction=valid_seconds / max(seconds, 1e-9), steps=steps)
        self.history.append(record.as_dict())
        self.epoch = e
        if self.ckpt_dir is not None and ctx.is_main:
            save_checkpoint(self.ckpt_dir, self._state())
        ctx.barrier()
        if self.on_epoch is not None:
            self.on_epoch(record)

    def _scored_weights(self) -> contextlib.AbstractContextManager:
        """The weights validation scores and the best model keeps: the average with ``ema``."""
        return self.average.swapped_in() if self.average is not None else contextlib.nullcontext()

    def _time_is_up(self, epoch_start: float) -> bool:
        if self.budget_s is None:
            return False
        spent = self.elapsed + time.perf_counter() - epoch_start
        # Every rank must cut the epoch at the same batch (DDP's backward is collective).
        return bool(self.ctx.any([spent >= self.budget_s])[0])

    def _set_lr(self, epoch: int, batch: int, n_batches: int) -> None:
        cfg = self.config
        if cfg.schedule != "linear":
            return
        if self.budget_s is not None:
            progress = (self.elapsed + time.perf_counter() - self._epoch_t0) / self.budget_s
        else:
            progress = ((epoch - 1) * n_batches + batch - 1) / (cfg.epochs * n_batches)
        for group in self.optimizer.param_groups:
            group["lr"] = cfg.lr * (1.0 - 0.9 * min(max(progress, 0.0), 1.0))

    @property
    def _stop_flag(self) -> bool:
        # Under DDP rank 0 asks after every forward pass, and the flag travels with the loss
        # check in one all-reduce, so every rank stops at the same batch.
        return self.ctx.world > 1 and bool(self.should_stop())

    def _epoch_stream(self) -> BatchStream:
        cfg, ctx = self.config, self.ctx
        order = self.rng.permutation(self.data.train)
        offsets = None
        if cfg.crop is not None:
            span = self.data.clip_samples - cfg.crop + 1
            offsets = self.rng.integers(0, max(span, 1), size=len(order))
        # Every rank draws the same shuffle; padding by wrap-around gives each the same number
        # of batches, which DDP's collective backward needs.
        per_rank = -(-len(order) // ctx.world)
        take = np.resize(np.arange(len(order)), per_rank * ctx.world)[ctx.rank::ctx.world]
        mine = order[take]
        batches = [mine[i:i + cfg.batch_size] for i in range(0, len(mine), cfg.batch_size)]
        crops = None
        if offsets is not None:
            mine_off = offsets[take]
            crops = [mine_off[i:i + cfg.batch_size] for i in range(0, len(mine), cfg.batch_size)]
        return BatchStream(self.data.clips, batches, offsets=crops,
                           crop=cfg.crop if cfg.crop and cfg.crop < self.data.clip_samples
                           else None, device=ctx.device, prefetch=cfg.num_workers)

    @torch.no_grad()
    def _validate(self) -> tuple[float, float]:
        from core.audio.metrics import si_sdr

        cfg, ctx = self.config, self.ctx
        # The bare module, not the DDP wrapper: ranks run different numbers of validation
        # batches, and DDP's forward would wait on a collective.
        self.model.eval()
        valid = self.valid[ctx.rank::ctx.world]
        batches = [valid[i:i + cfg.batch_size] for i in range(0, len(valid), cfg.batch_size)]
        total = 0.0
        stream = BatchStream(self.data.clips, batches, device=ctx.device, prefetch=0)
        with contextlib.closing(stream):
            for x in _stoppable(stream, self.should_stop, ctx.world):
                total += float(self.loss_fn(self.model(x), x)) * x.shape[0]
        total, count = ctx.all_sum([total, float(len(valid))])
        first = self.valid[:SI_SDR_CLIPS]
        ref = self.data.clips.float_batch(first)
        est = self.model(torch.from_numpy(ref).unsqueeze(1).to(ctx.device))
        est = est.squeeze(1).float().cpu().numpy()
        scores = [float(si_sdr(r, s)) for r, s in zip(ref, est, strict=True)]
        return total / max(count, 1.0), float(np.mean(scores)) if scores else math.nan

    def _progress(self, epoch: int, batch: int, n_batches: int, loss: float) -> None:
        cfg = self.config
        if self.budget_s is not None:
            spent = self.elapsed + time.perf_counter() - self._epoch_t0
            self.report(min(spent / self.budget_s, 0.999),
                        f"epoch {epoch} batch {batch}/{n_batches} loss {loss:.5f} "
                        f"time left {_clock(self.budget_s - spent)}")
            return
        done = (epoch - 1 - self._start_epoch) * n_batches + batch
        todo = (cfg.epochs - self._start_epoch) * n_batches
        elapsed = time.monotonic() - self._t0
        eta = elapsed * (todo - done) / max(done, 1)
        fraction = ((epoch - 1) * n_batches + batch) / (cfg.epochs * n_batches)
        self.report(min(fraction, 0.999), f"epoch {epoch}/{cfg.epochs} batch {batch}/{n_batches} "
                    f"loss {loss:.5f} ETA {_clock(eta)}")

    def _state(self) -> dict[str, Any]:
        rng: dict[str, Any] = {"torch": torch.get_rng_state(),
                               "numpy": self.rng.bit_generator.state}
        if self.ctx.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.ctx.device)
        return {"epoch": self.epoch, "config": self.config.as_dict(),
                "data": self.data.identity(), "world": self.ctx.world,
                "model": self.model.state_dict(), "best_model": self.best_state,
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "rng": rng,
                "average": self.average.state_dict() if self.average is not None else None,
                "history": self.history, "best_valid": self.best_valid,
                "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs,
                "stopped_early": self.stopped_early, "elapsed": self.elapsed,
                "out_of_time": self.out_of_time}

    def _restore(self, state: dict[str, Any]) -> None:
        old = state.get("config", {})
        new = self.config.as_dict()
        # A checkpoint older than a setting was started with that setting's default.
        defaults = TrainConfig().as_dict()
        changed = [k for k in _RUN_IDENTITY if old.get(k, defaults[k]) != new.get(k)]
        if changed:
            raise TrainingError(f"{CHECKPOINT_DIRNAME}: cannot resume, the run was started with "
                                f"other settings ({', '.join(changed)})")
        if state.get("data") != self.data.identity():
            raise TrainingError(f"{CHECKPOINT_DIRNAME}: cannot resume, the dataset is not the "
                                "one the run was started on")
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            if self.average is not None:
                self.average.load_state_dict(state["average"])
            self.best_state = {k: v.to(self.ctx.device) for k, v in state["best_model"].items()}
            torch.set_rng_state(state["rng"]["torch"])
            if "cuda" in state["rng"] and self.ctx.device.type == "cuda":
                torch.cuda.set_rng_state(state["rng"]["cuda"], self.ctx.device)
            self.rng.bit_generator.state = state["rng"]["numpy"]
            self.epoch = _count(state["epoch"], "epoch")
            self.history = list(state["history"])
            self.best_valid = float(state["best_valid"])
            self.best_epoch = _count(state["best_epoch"], "best_epoch")
            self.bad_epochs = _count(state["bad_epochs"], "bad_epochs")
            self.stopped_early = bool(state["stopped_early"])
            self.elapsed = float(state.get("elapsed", 0.0))
            self.out_of_time = bool(state.get("out_of_time", False))
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as exc:
            raise TrainingError(f"{CHECKPOINT_DIRNAME}: checkpoint does not fit the model or is "
                                f"damaged ({type(exc).__name__}: {exc})") from None

    def _finish(self) -> TrainResult:
        warnings: list[str] = []
        self.model.load_state_dict(self.best_state)
        self.model.eval()
        if self.out_dir is not None and self.ctx.is_main:
            from core.models.io import save_model

            self.report(0.999, "saving the model")
            summary = {"training": self.config.as_dict(), "loss": self.loss_name,
                       "history": self.history,
                       "best_epoch": self.best_epoch, "epochs_run": self.epoch,
                       "stopped_early": self.stopped_early, "out_of_time": self.out_of_time,
                       "train_minutes": round(self.elapsed / 60.0, 2),
                       "steps": sum(int(h.get("steps", 0)) for h in self.history)}
            best = self.history[self.best_epoch - 1] if self.best_epoch else {}
            metrics = {"valid_loss": self.best_valid, "valid_si_sdr": best.get("valid_si_sdr"),
                       "train_loss": best.get("train_loss")}
            save_model(self.model, self.out_dir, summary=summary, metrics=metrics)
            pca_warning = save_training_pca(self.model, self.data, self.out_dir, self.report)
            if pca_warning:
                warnings.append(pca_warning)
        self.ctx.barrier()
        self.report(1.0, f"done: best valid loss {self.best_valid:.5f} at epoch "
                    f"{self.best_epoch}")
        return TrainResult(model=self.model.cpu(), history=self.history,
                           best_epoch=self.best_epoch, best_valid_loss=self.best_valid,
                           epochs_run=self.epoch, stopped_early=self.stopped_early,
                           out_dir=self.out_dir,
                           skipped=[{"path": e.path, "reason": e.reason}
                                    for e in getattr(self.data.clips, "errors", ())],
                           warnings=warnings)


def _count(value: Any, name: str) -> int:
    """A checkpoint's epoch counter, refused unless a plain integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} is {value!r}, not a count")
    return value


def _stoppable(stream: BatchStream, should_stop: StopFn, world: int) -> Iterator[torch.Tensor]:
    # In one process the check comes before a batch is even computed; under DDP it rides on
    # the per-batch all-reduce instead (see _Run._stop_flag).
    for x in stream:
        if world == 1 and should_stop():
            raise Cancelled("training cancelled")
        yield x


def _valid_subset(valid: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """A fixed, seeded choice of ``n`` validation clips, in their original order.

    A generator of its own, so the choice never shifts the training shuffles.
    """
    valid = np.asarray(valid)
    if n is None or len(valid) <= n:
        return valid
    rng = np.random.Generator(np.random.PCG64([seed, 0x7A11D]))
    return np.sort(rng.choice(valid, size=n, replace=False))


def _all_finite(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in model.state_dict().values()
               if v.is_floating_point())


def _clone_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"

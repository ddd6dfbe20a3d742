"""SIGKILL a training process at random moments, in checkpoint writes too, and resume each time:
the last checkpoint always loads, stale temps go away, and the end result equals an
uninterrupted run bit for bit (CPU)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time

import numpy as np
import pytest
import soundfile as sf
import torch

from core.atomic import TEMP_PREFIX
from core.models.io import load_model
from core.training.checkpoint import checkpoint_exists, load_checkpoint
from core.training.ddp import main
from core.training.trainer import CHECKPOINT_DIRNAME

T = 1024
EPOCHS = 5
TRIALS = 10
TARGETED_TRIALS = 6
"""The first trials kill right after a checkpoint temp file appears (inside a write)."""
SLOW_WRITE_S = "0.2"

# Children fork from a server that has imported the trainer once, so each restart costs a fork
# rather than a fresh interpreter importing torch (seconds on a busy machine). torch._dynamo is
# what torch.optim imports on the first optimizer: the slowest import of all.
_MP = multiprocessing.get_context("forkserver")
_MP.set_forkserver_preload(["core.training.trainer", "core.training.ddp", "core.data",
                            "core.models",
                            "core.models.io", "core.audio.metrics", "torch._dynamo"])


def _write_songs(folder) -> None:
    folder.mkdir()
    rng = np.random.default_rng(0)
    t = np.arange(3 * T) / 22050
    for i in range(8):
        x = 0.3 * np.sin(2 * np.pi * (100 + 30 * i) * t) + 0.05 * rng.standard_normal(len(t))
        sf.write(folder / f"song{i}.wav", x.astype(np.float32), 22050)


def _argv(data, out, *extra: str) -> list[str]:
    return [str(data), "--out", str(out), "--epochs", str(EPOCHS), "--batch-size", "4",
            "--device", "cpu", "--threads", "1", "--seed", "3", "--patience", "100",
            "--valid-fraction", "0.25",
            "--model", '{"clip_samples": 1024, "channels": [4, 8], "kernel_size": 5}', *extra]


def _child(argv: list[str], slow: str | None, log: str | None = None) -> None:
    if log:
        sys.stderr = open(log, "w", encoding="utf-8")  # noqa: SIM115 (closed by the exit)
    if slow:
        os.environ["CELAE_TEST_SLOW_CHECKPOINT"] = slow
    else:
        os.environ.pop("CELAE_TEST_SLOW_CHECKPOINT", None)
    raise SystemExit(main(argv))


def _temps(folder) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)}


def _finite(state: dict) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in state["model"].values()
               if v.is_floating_point())


def _kill_after_temp(proc, ckpt, n_temps: int) -> None:
    """SIGKILL ``proc`` as soon as it has opened its ``n_temps``-th checkpoint temp file."""
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    while proc.is_alive() and time.monotonic() < deadline:
        seen |= _temps(ckpt)
        if len(seen) >= n_temps:
            break
        time.sleep(0.005)
    _sigkill(proc)


def _sigkill(proc) -> None:
    """SIGKILL ``proc`` unless it already ended by itself."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_matches_uninterrupted(tmp_path):
    data = tmp_path / "songs"
    _write_songs(data)
    reference = _MP.Process(target=_child, args=(_argv(data, tmp_path / "ref"), None))
    reference.start()
    reference.join(120)
    assert reference.exitcode == 0

    out = tmp_path / "run"
    ckpt = out / CHECKPOINT_DIRNAME
    rng = np.random.default_rng(1)
    last_epoch, mid_write_kills, pending_temps = 0, 0, set()
    for trial in range(TRIALS):
        proc = _MP.Process(target=_child, args=(_argv(data, out, "--resume"), SLOW_WRITE_S))
        proc.start()
        if trial >= TARGETED_TRIALS:
            # Random moments come after the targeted kills: on a fast machine a resumed run can
            # finish before the kill lands, which ends the trials.
            time.sleep(float(rng.uniform(0.1, 1.5)))
            _sigkill(proc)
        else:
            # Two temps per save (tensors, then state.json): 1-2 kill the first save of this
            # process, 3-4 the second, after one epoch has been committed.
            _kill_after_temp(proc, ckpt, int(rng.choice([1, 2, 3, 4, 3, 4])))
        proc.join(60)
        assert proc.exitcode is not None
        left = _temps(ckpt)
        mid_write_kills += bool(left)
        if checkpoint_exists(ckpt):
            state = load_checkpoint(ckpt)
            assert state["epoch"] >= last_epoch and _finite(state)
            if state["epoch"] > last_epoch:
                assert not pending_temps & _temps(ckpt), "a later save must sweep old temps"
                pending_temps = set()
            last_epoch = state["epoch"]
        pending_temps |= left
        if proc.exitcode == 0:
            break
    assert mid_write_kills >= 3, "kills should land inside checkpoint writes"

    final = _MP.Process(target=_child, args=(_argv(data, out, "--resume"), None))
    final.start()
    final.join(120)
    assert final.exitcode == 0
    assert not _temps(ckpt)
    assert load_checkpoint(ckpt)["epoch"] == EPOCHS
    ref_w = load_model(tmp_path / "ref").model.state_dict()
    run_w = load_model(out).model.state_dict()
    assert ref_w.keys() == run_w.keys()
    for k in ref_w:
        assert torch.equal(ref_w[k], run_w[k]), k


def test_forced_nan_exits_with_the_message_and_only_finite_checkpoints(tmp_path):
    data = tmp_path / "songs"
    _write_songs(data)
    out = tmp_path / "run"
    first = _MP.Process(target=_child, args=(_argv(data, out, "--epochs", "1"), None))
    first.start()
    first.join(120)
    assert first.exitcode == 0
    log = tmp_path / "stderr.txt"
    nan = _MP.Process(target=_child, args=(_argv(data, out, "--lr", "1e30"), None, str(log)))
    nan.start()
    nan.join(120)
    assert nan.exitcode == 1
    assert "loss became NaN at epoch 1 batch" in log.read_text()
    state = load_checkpoint(out / CHECKPOINT_DIRNAME)
    assert state["epoch"] == 1 and _finite(state)

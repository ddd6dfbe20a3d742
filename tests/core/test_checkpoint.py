"""Checkpoint folders: round trip of trainer state, crash safety, refusal of bad states."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from core.atomic import TEMP_PREFIX
from core.errors import TrainingError
from core.training.checkpoint import STATE_NAME, checkpoint_exists, load_checkpoint, save_checkpoint


def _trainer_state() -> dict:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3), torch.nn.BatchNorm1d(4))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net(torch.randn(2, 1, 16)).square().mean().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    sched.step(0.5)
    rng = np.random.default_rng(3)
    rng.random(5)
    return {"model": net.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "numpy": rng.bit_generator.state},
            "history": [{"epoch": 1, "valid_loss": 0.25}], "best_valid": math.inf,
            "nothing": None, "pair": (0.9, 0.999)}


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return (isinstance(b, dict) and list(a) == list(b)
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, list | tuple):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    return a == b


def test_round_trip_restores_optimizer_scheduler_and_rng(tmp_path):
    state = _trainer_state()
    save_checkpoint(tmp_path / "ckpt", state)
    back = load_checkpoint(tmp_path / "ckpt")
    assert _same(state, back)
    # Restored objects behave like the originals: the optimizer takes the same next step.
    net = torch.nn.Sequential(torch.nn.Conv1d(1, 4, 3), torch.nn.BatchNorm1d(4))
    net.load_state_dict(back["model"])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    opt.load_state_dict(back["optimizer"])
    assert opt.state_dict()["state"][0]["exp_avg"].shape == (4, 1, 3)
    rng = np.random.default_rng()
    rng.bit_generator.state = back["rng"]["numpy"]
    expected = np.random.default_rng(3)
    expected.random(5)
    assert rng.random() == expected.random()


def test_files_are_safetensors_and_json_only(tmp_path):
    save_checkpoint(tmp_path, _trainer_state())
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and names[0] == STATE_NAME
    assert names[1].startswith("tensors-") and names[1].endswith(".safetensors")
    json.loads((tmp_path / STATE_NAME).read_text())


def test_new_save_replaces_old_files_and_sweeps_temps(tmp_path):
    save_checkpoint(tmp_path, {"w": torch.zeros(3)})
    (tmp_path / f"{TEMP_PREFIX}tensors-dead.safetensors.x.safetensors").write_bytes(b"junk")
    save_checkpoint(tmp_path, {"w": torch.ones(3)})
    assert len(list(tmp_path.iterdir())) == 2
    assert torch.equal(load_checkpoint(tmp_path)["w"], torch.ones(3))


def test_non_finite_state_is_refused_and_previous_kept(tmp_path):
    save_checkpoint(tmp_path, {"w": torch.ones(3), "epoch": 1})
    with pytest.raises(TrainingError, match="non-finite"):
        save_checkpoint(tmp_path, {"w": torch.tensor([1.0, math.nan, 0.0]), "epoch": 2})
    assert load_checkpoint(tmp_path)["epoch"] == 1


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    assert not checkpoint_exists(tmp_path)
    with pytest.raises(TrainingError, match="no checkpoint"):
        load_checkpoint(tmp_path)


def test_tampered_tensor_file_is_detected(tmp_path):
    save_checkpoint(tmp_path, {"w": torch.ones(8)})
    tensors = next(tmp_path.glob("tensors-*"))
    data = bytearray(tensors.read_bytes())
    data[-1] ^= 0xFF
    tensors.write_bytes(bytes(data))
    with pytest.raises(TrainingError, match="does not match"):
        load_checkpoint(tmp_path)


def test_unsupported_values_are_rejected_before_writing(tmp_path):
    with pytest.raises(TypeError, match="cannot store"):
        save_checkpoint(tmp_path, {"when": object()})
    assert not checkpoint_exists(tmp_path)

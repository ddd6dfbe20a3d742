"""Weight averaging (``--ema``): the average itself, what the trainer validates and saves with it,
and a resumed run that continues the same average."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.errors import TrainingError
from core.models.io import load_model
from core.progress import Cancelled
from core.training.ema import WeightAverage
from core.training.trainer import train
from tests.core.test_training import _assert_same_weights, _clips, _config, _weights


def test_the_average_follows_the_warm_up_formula_and_swaps_back():
    model = nn.Linear(3, 2)
    avg = WeightAverage(model, decay=0.9)
    expected = model.weight.detach().clone()
    with torch.no_grad():
        for step in range(1, 6):
            model.weight.add_(1.0)
            avg.update()
            d = min(0.9, (1 + step) / (10 + step))
            expected = d * expected + (1 - d) * model.weight
    trained = model.weight.detach().clone()
    assert torch.allclose(avg.state["weight"], expected, atol=1e-6)
    assert not torch.allclose(expected, trained)
    with avg.swapped_in():
        assert torch.allclose(model.weight, expected, atol=1e-6)
    assert torch.equal(model.weight, trained)


def test_a_decay_outside_zero_one_is_refused(tmp_path):
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(nn.Linear(1, 1), decay=1.0)
    with pytest.raises(TrainingError, match="ema"):
        _config(tmp_path, ema=1.5)


def test_training_saves_the_averaged_weights_and_validates_them(tmp_path):
    clips = _clips()
    plain = train(_config(tmp_path / "plain", epochs=2, patience=None), clips)
    averaged = train(_config(tmp_path / "ema", epochs=2, patience=None, ema=0.9), clips)
    # The same shuffles and steps: the training losses agree, the scored weights do not.
    assert [h["train_loss"] for h in averaged.history] == [h["train_loss"] for h in plain.history]
    assert [h["valid_loss"] for h in averaged.history] != [h["valid_loss"] for h in plain.history]
    saved = _weights(load_model(tmp_path / "ema" / "model").model)
    trained = _weights(plain.model)
    assert any(not torch.equal(saved[k], trained[k]) for k in saved)
    meta = (tmp_path / "ema" / "model" / "config.json").read_text()
    assert '"ema": 0.9' in meta


def test_a_resumed_run_continues_the_same_average(tmp_path):
    clips = _clips()
    straight = train(_config(tmp_path / "a", ema=0.9, patience=None), clips)
    epochs_seen = []
    cfg = _config(tmp_path / "b", ema=0.9, patience=None)
    with pytest.raises(Cancelled):
        train(cfg, clips, on_epoch=epochs_seen.append, should_stop=lambda: len(epochs_seen) >= 1)
    resumed = train(cfg, clips, resume=True)
    _assert_same_weights(straight.model, resumed.model)
    with pytest.raises(TrainingError, match=r"other settings \(ema\)"):
        train(_config(tmp_path / "b", ema=0.99, patience=None, epochs=4), clips, resume=True)

"""The trainer on tiny real models and synthetic clips: resume, cancel, NaN, early stopping,
records, the saved model, and training from a dataset folder."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest
import soundfile as sf
import torch

from core.data import ClipSet
from core.errors import TrainingError
from core.models.io import load_model
from core.models.losses import register_loss
from core.progress import Cancelled
from core.training.checkpoint import load_checkpoint
from core.training.trainer import CHECKPOINT_DIRNAME, EpochRecord, TrainConfig, train

T = 1024


def _clips(n_songs: int = 10, per_song: int = 2, seed: int = 0) -> ClipSet:
    rng = np.random.default_rng(seed)
    t = np.arange(T) / 22050
    rows, songs = [], []
    for s in range(n_songs):
        f0 = 110 * 2 ** (s / 5)
        for c in range(per_song):
            x = 0.4 * np.sin(2 * np.pi * f0 * t + c) + 0.05 * rng.standard_normal(T)
            rows.append(x)
            songs.append(s)
    return ClipSet.from_audio(np.stack(rows), song_of_clip=songs)


def _config(tmp_path, **kw) -> TrainConfig:
    base = dict(arch="CELAutoencoderSiLU", model={"channels": (4, 8), "kernel_size": 5},
                epochs=3, batch_size=4, lr=3e-3, seed=7, device="cpu", valid_fraction=0.25,
                out_dir=str(tmp_path / "model"), num_workers=1, threads=1)
    base.update(kw)
    return TrainConfig(**base)


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def _assert_same_weights(a, b) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def test_cancel_then_resume_gives_the_uninterrupted_weights(tmp_path):
    clips = _clips()
    straight = train(_config(tmp_path / "a"), clips)

    epochs_seen = []
    cfg = _config(tmp_path / "b")
    with pytest.raises(Cancelled):
        train(cfg, clips, on_epoch=epochs_seen.append, should_stop=lambda: len(epochs_seen) >= 1)
    assert [r.epoch for r in epochs_seen] == [1]
    assert load_checkpoint(tmp_path / "b" / "model" / CHECKPOINT_DIRNAME)["epoch"] == 1
    assert not (tmp_path / "b" / "model" / "model.safetensors").exists()

    resumed = train(cfg, clips, resume=True)
    assert resumed.epochs_run == 3
    _assert_same_weights(straight.model, resumed.model)
    assert ([h["valid_loss"] for h in resumed.history]
            == [h["valid_loss"] for h in straight.history])
    # The written model folders hold the same best-validation weights too.
    _assert_same_weights(load_model(tmp_path / "a" / "model").model,
                         load_model(tmp_path / "b" / "model").model)


def test_cancel_stops_within_one_batch_and_keeps_the_last_checkpoint(tmp_path):
    clips = _clips()
    cfg = _config(tmp_path, batch_size=2)
    records: list[EpochRecord] = []
    asked_in_epoch_2 = []

    def should_stop() -> bool:
        if records:
            asked_in_epoch_2.append(1)
        return len(asked_in_epoch_2) >= 2  # before the second batch of epoch 2

    with pytest.raises(Cancelled):
        train(cfg, clips, should_stop=should_stop, on_epoch=records.append)
    assert len(asked_in_epoch_2) == 2, "no batch may start after should_stop() said yes"
    assert [r.epoch for r in records] == [1]
    state = load_checkpoint(tmp_path / "model" / CHECKPOINT_DIRNAME)
    assert state["epoch"] == 1
    assert state["history"] == [records[0].as_dict()]


def test_resume_continues_to_more_epochs_and_refuses_other_settings(tmp_path):
    clips = _clips()
    first = train(_config(tmp_path, epochs=1), clips)
    more = train(_config(tmp_path, epochs=2), clips, resume=True)
    assert [h["epoch"] for h in more.history] == [1, 2]
    assert more.history[0] == first.history[0]
    with pytest.raises(TrainingError, match=r"other settings \(seed\)"):
        train(_config(tmp_path, epochs=3, seed=8), clips, resume=True)
    with pytest.raises(TrainingError, match="dataset"):
        train(_config(tmp_path, epochs=3), _clips(seed=1), resume=True)


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_checkpoint(tmp_path):
    clips = _clips()
    train(_config(tmp_path, epochs=1), clips)
    ckpt = tmp_path / "model" / CHECKPOINT_DIRNAME
    before = load_checkpoint(ckpt)

    with pytest.raises(TrainingError,
                       match=r"loss became NaN at epoch 1 batch \d+; the last good checkpoint "
                             r"is kept"):
        train(_config(tmp_path, epochs=3, lr=1e30), clips)
    after = load_checkpoint(ckpt)
    assert after["epoch"] == 1
    for k, v in before["model"].items():
        assert torch.equal(v, after["model"][k])


def test_blown_up_weights_are_never_checkpointed(tmp_path):
    # A large learning rate saturates tanh, so the loss can stay finite while BatchNorm
    # statistics overflow; that state must not replace the last good checkpoint.
    with pytest.raises(TrainingError, match=r"at epoch (\d+)") as err:
        train(_config(tmp_path, epochs=4, lr=1e5), _clips())
    failed_at = int(re.search(r"at epoch (\d+)", str(err.value)).group(1))
    assert failed_at > 1, "the settings should blow up after a first good epoch"
    state = load_checkpoint(tmp_path / "model" / CHECKPOINT_DIRNAME)
    assert state["epoch"] == failed_at - 1
    assert all(torch.isfinite(v).all() for v in state["model"].values()
               if v.is_floating_point())


def _flat_loss():
    # Validation never improves, so the plateau scheduler and early stopping must act.
    return lambda est, ref: torch.nn.functional.mse_loss(est * 0.0, ref)


register_loss("test_flat", _flat_loss)


def test_early_stopping_and_learning_rate_plateau(tmp_path):
    cfg = _config(tmp_path, epochs=20, patience=3, lr_patience=0, lr_factor=0.5, lr=1e-3,
                  loss="test_flat")
    result = train(cfg, _clips())
    assert result.stopped_early and result.epochs_run == 4
    assert result.best_epoch == 1
    assert [h["lr"] for h in result.history] == pytest.approx([1e-3, 1e-3, 5e-4, 2.5e-4])
    # Resuming a run that stopped early does not train further.
    again = train(cfg, _clips(), resume=True)
    assert again.epochs_run == 4 and len(again.history) == 4


def test_records_progress_and_the_saved_model(tmp_path):
    records: list[EpochRecord] = []
    progress: list[tuple[float, str]] = []
    cfg = _config(tmp_path, epochs=2, crop=512)
    result = train(cfg, _clips(), on_epoch=records.append,
                   on_progress=lambda f, m: progress.append((f, m)))
    assert [r.epoch for r in records] == [1, 2]
    for r in records:
        assert r.train_loss > 0 and r.valid_loss > 0 and r.lr == cfg.lr
        assert 0 <= r.data_wait_fraction < 1 and r.clips_per_s > 0 and r.seconds > 0
        assert np.isfinite(r.valid_si_sdr)
    assert result.history == [r.as_dict() for r in records]
    assert progress[-1][0] == 1.0
    assert any("ETA" in m and "epoch 1/2" in m for _, m in progress)
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions)

    loaded = load_model(tmp_path / "model")
    _assert_same_weights(loaded.model, result.model)
    assert loaded.model.clip_samples == T  # whole clips, not the crop, define the model
    meta = json.loads((tmp_path / "model" / "config.json").read_text())
    assert meta["summary"]["history"] == result.history
    assert meta["summary"]["training"]["crop"] == 512
    assert meta["metrics"]["valid_loss"] == pytest.approx(result.best_valid_loss)


def test_train_in_memory_only_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = train(dataclasses.replace(_config(tmp_path), out_dir=None, epochs=1), _clips())
    assert result.out_dir is None and result.epochs_run == 1
    assert list(tmp_path.iterdir()) == []


def test_train_from_a_dataset_folder(tmp_path):
    data = tmp_path / "songs"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        sf.write(data / f"song{i}.wav", 0.3 * rng.standard_normal(3 * T).astype(np.float32),
                 22050)
    cfg = _config(tmp_path, epochs=1, max_clips=12, model={"clip_samples": T, "channels": (4, 8)})
    result = train(cfg, str(data))
    assert result.epochs_run == 1
    assert load_model(tmp_path / "model").model.clip_samples == T


def test_bad_settings_are_training_errors(tmp_path):
    with pytest.raises(TrainingError, match="epochs"):
        _config(tmp_path, epochs=0)
    with pytest.raises(TrainingError, match="unknown loss"):
        _config(tmp_path, loss="nope")
    with pytest.raises(TrainingError, match="cannot build"):
        train(_config(tmp_path, model={"latent_ratio": 0.5}), _clips())
    with pytest.raises(TrainingError, match="resume needs out_dir"):
        train(_config(tmp_path, out_dir=None), _clips(), resume=True)


def test_a_trained_model_carries_its_latent_pca(tmp_path):
    from core.latent.pca import load_latent_pca

    train(_config(tmp_path, epochs=1), _clips())
    pca = load_latent_pca(tmp_path / "model")
    assert pca is not None
    assert set(pca.thresholds) == {"80", "90", "95", "99"}
    assert np.all(np.diff(pca.cumulative) >= -1e-6)


def test_auto_loss_is_the_architectures_own(tmp_path):
    codec = train(_config(tmp_path, arch="CELCodec4", model={}, epochs=1, crop=None), _clips())
    meta = json.loads((tmp_path / "model" / "config.json").read_text())
    assert meta["summary"]["loss"] == codec.model.config.loss != "mse"
    train(_config(tmp_path / "cel", epochs=1), _clips())
    meta = json.loads((tmp_path / "cel" / "model" / "config.json").read_text())
    assert meta["summary"]["loss"] == "mse"


def test_a_time_budget_ends_the_run_with_the_best_model_saved(tmp_path):
    # 0.002 minutes is far less than the 1000 epochs asked for: the budget, not the epoch
    # count, must end the run, and the model folder must still be written.
    records: list[EpochRecord] = []
    result = train(_config(tmp_path, epochs=1000, max_minutes=0.002, patience=None),
                   _clips(), on_epoch=records.append)
    assert 1 <= result.epochs_run < 1000
    assert (tmp_path / "model" / "model.safetensors").exists()
    summary = json.loads((tmp_path / "model" / "config.json").read_text())
    assert summary["summary"]["training"]["max_minutes"] == 0.002
    assert summary["summary"]["out_of_time"]
    assert sum(r.steps for r in records) >= 1
    assert all(0 <= r.valid_fraction < 1 for r in records)


def test_the_linear_schedule_decays_the_learning_rate_to_a_tenth(tmp_path):
    result = train(_config(tmp_path, epochs=5, lr_schedule="linear", patience=None), _clips())
    lrs = [h["lr"] for h in result.history]
    assert lrs[0] == pytest.approx(3e-3)
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))
    assert lrs[-1] > 0.1 * 3e-3


def test_validation_uses_a_fixed_subset_of_the_validation_clips(tmp_path):
    clips = _clips(n_songs=20, per_song=3)
    small = train(_config(tmp_path / "a", epochs=1, valid_clips=2), clips)
    again = train(_config(tmp_path / "b", epochs=1, valid_clips=2), clips)
    whole = train(_config(tmp_path / "c", epochs=1, valid_clips=None), clips)
    # The same seed picks the same two clips; all clips give another figure.
    assert small.history[0]["valid_loss"] == again.history[0]["valid_loss"]
    assert small.history[0]["valid_loss"] != whole.history[0]["valid_loss"]
    # The subset never shifts the training shuffles: the training loss is the same.
    assert small.history[0]["train_loss"] == whole.history[0]["train_loss"]


def test_a_bad_time_budget_is_a_one_line_error():
    with pytest.raises(TrainingError, match="max_minutes"):
        TrainConfig(max_minutes=0)
    with pytest.raises(TrainingError, match="lr_schedule"):
        TrainConfig(lr_schedule="cosine")

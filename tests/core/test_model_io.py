"""Model folders: saving, loading, finding models by name, and generic tensor files."""

from __future__ import annotations

import json

import pytest
import torch

from core.errors import ModelLoadError, TrainingError
from core.models import build_model
from core.models.io import list_models, load_model, resolve_model, save_model
from core.tensorfile import load_tensors, save_tensors


def _tiny(name="CELAutoencoder2", **kw):
    torch.manual_seed(0)
    return build_model(name, clip_samples=2_048, **kw)


def test_save_then_load_gives_identical_outputs_and_keeps_the_description(tmp_path):
    model = _tiny(latent_ratio=3.5)
    # Move BatchNorm running stats away from their defaults so they must be saved too.
    model.train()
    with torch.no_grad():
        model(torch.rand(4, 1, 2_048) - 0.5)
    model.eval()
    save_model(model, tmp_path / "mine", summary={"epochs": 3}, metrics={"si_sdr": 7.5},
               extra={"note": "hi"})
    loaded = load_model(tmp_path / "mine")
    x = torch.rand(3, 1, 2_048) - 0.5
    with torch.inference_mode():
        assert torch.equal(model(x), loaded.model(x))
    assert not loaded.model.training
    assert loaded.arch == "CELAutoencoder2"
    assert loaded.config == model.config
    meta = json.loads((tmp_path / "mine" / "config.json").read_text())
    assert meta["format"] == "celae-model"
    assert meta["latent_shape"] == [1, 586]
    assert meta["clip_samples"] == 2_048 and meta["sample_rate"] == 22_050
    assert meta["summary"] == {"epochs": 3} and meta["metrics"] == {"si_sdr": 7.5}
    assert loaded.meta["extra"] == {"note": "hi"}
    assert loaded.name == "mine"


def test_a_model_with_nan_weights_is_never_saved(tmp_path):
    model = _tiny()
    with torch.no_grad():
        model.dec_out[0].weight[0, 0, 0] = float("nan")
    with pytest.raises(TrainingError, match="NaN"):
        save_model(model, tmp_path / "bad")
    assert not (tmp_path / "bad" / "model.safetensors").exists()
    assert not (tmp_path / "bad" / "config.json").exists()


def test_saving_over_a_model_replaces_it(tmp_path):
    save_model(_tiny("CELAutoencoder3"), tmp_path / "m")
    save_model(_tiny("CELAutoencoderSiLU"), tmp_path / "m")
    assert load_model(tmp_path / "m").arch == "CELAutoencoderSiLU"
    # No temp file of either save is left behind.
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json",
                                                                  "model.safetensors"]


def test_models_are_found_by_name_and_listed_with_their_source(tmp_path, monkeypatch):
    resources = tmp_path / "res"
    monkeypatch.setenv("CELAE_RESOURCES_DIR", str(resources))
    monkeypatch.setenv("CELAE_USER_MODELS_DIR", str(tmp_path / "user"))
    with pytest.raises(ModelLoadError, match="no bundled model"):
        resolve_model(None)
    save_model(_tiny("CELAutoencoder3"), resources / "models" / "b-first")
    save_model(_tiny("CELAutoencoderSiLU"), resources / "models" / "demo")
    save_model(_tiny("CELAutoencoder2"), tmp_path / "user" / "mine", metrics={"snr": 3.0})
    assert resolve_model(None) == resources / "models" / "b-first"
    (resources / "models" / "DEFAULT").write_text("demo\n")
    assert resolve_model(None) == resources / "models" / "demo"
    assert load_model().arch == "CELAutoencoderSiLU"
    assert load_model("mine").arch == "CELAutoencoder2"
    entries = {e.name: e for e in list_models()}
    assert set(entries) == {"b-first", "demo", "mine"}
    assert entries["mine"].source == "user" and entries["demo"].source == "bundled"
    assert entries["mine"].metrics == {"snr": 3.0}
    assert entries["b-first"].latent_shape == (1, 205)
    with pytest.raises(ModelLoadError, match="no such model") as err:
        load_model("nope")
    assert "mine" in str(err.value)


def test_a_model_file_path_inside_the_folder_also_loads(tmp_path):
    save_model(_tiny(), tmp_path / "m")
    assert load_model(tmp_path / "m" / "model.safetensors").path == tmp_path / "m"


def test_extra_tensors_round_trip_with_their_description(tmp_path):
    tensors = {"components": torch.randn(2, 586), "mean": torch.randn(586)}
    path = save_tensors(tmp_path / "m" / "pca.safetensors", tensors, {"explained": [0.1, 0.05]})
    back, meta = load_tensors(path)
    assert set(back) == {"components", "mean"}
    assert torch.equal(back["components"], tensors["components"])
    assert meta == {"explained": [0.1, 0.05]}
    assert (tmp_path / "m" / "pca.json").is_file()


def test_extra_tensors_that_do_not_match_their_description_are_refused(tmp_path):
    path = save_tensors(tmp_path / "head.safetensors", {"w": torch.ones(3)}, {"k": 1})
    doc = (tmp_path / "head.json").read_text()
    save_tensors(path, {"w": torch.zeros(3)}, {"k": 2})
    (tmp_path / "head.json").write_text(doc)
    with pytest.raises(ModelLoadError, match="head.safetensors: .*checksum"):
        load_tensors(path)
    with pytest.raises(TrainingError):
        save_tensors(tmp_path / "inf.safetensors", {"w": torch.tensor([float("inf")])})

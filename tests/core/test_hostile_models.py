"""Hostile and broken model files: refused with ModelLoadError, nothing executed or loaded."""

from __future__ import annotations

import json
import pickle
import struct

import pytest

from core.errors import ModelLoadError
from core.models import build_model
from core.models.io import load_model, save_model
from core.tensorfile import load_tensors


class Payload:
    """Unpickling this writes a marker file: proof that a pickle ran code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def _evil_bytes(marker):
    return pickle.dumps({"state_dict": Payload(marker)})


def test_the_payload_is_live_when_unpickled(tmp_path):
    marker = tmp_path / "proof"
    pickle.loads(_evil_bytes(marker))
    assert marker.exists()


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".ckpt", ".pkl"])
def test_a_pickle_passed_directly_is_refused_unopened(tmp_path, suffix):
    marker = tmp_path / "marker"
    evil = tmp_path / f"model{suffix}"
    evil.write_bytes(_evil_bytes(marker))
    with pytest.raises(ModelLoadError, match=f"model{suffix}: pickle files are never loaded"):
        load_model(evil)
    assert not marker.exists()


def test_a_folder_holding_only_a_pickle_is_refused(tmp_path, model_dir):
    marker = tmp_path / "marker"
    (model_dir / "model.safetensors").unlink()
    (model_dir / "model.pt").write_bytes(_evil_bytes(marker))
    with pytest.raises(ModelLoadError, match="pickle files are never loaded"):
        load_model(model_dir)
    assert not marker.exists()


def test_a_pickle_renamed_to_safetensors_is_refused(tmp_path, model_dir):
    marker = tmp_path / "marker"
    (model_dir / "model.safetensors").write_bytes(_evil_bytes(marker))
    with pytest.raises(ModelLoadError, match="model.safetensors: "):
        load_model(model_dir)
    (tmp_path / "pca.safetensors").write_bytes(_evil_bytes(marker))
    (tmp_path / "pca.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="pca.safetensors: "):
        load_tensors(tmp_path / "pca.safetensors")
    assert not marker.exists()


@pytest.mark.parametrize("keep", [0, 4, 8, 60, -20])
def test_truncated_weights_are_refused(model_dir, keep):
    weights = model_dir / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(ModelLoadError, match="model.safetensors: .*(truncated|corrupt)"):
        load_model(model_dir)


def test_a_header_length_larger_than_the_file_is_refused(model_dir):
    weights = model_dir / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(struct.pack("<Q", 2**40) + data[8:])
    with pytest.raises(ModelLoadError, match="header length .* larger than the file"):
        load_model(model_dir)


def test_a_header_pointing_past_the_data_is_refused(tmp_path):
    header = json.dumps({"w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}})
    raw = header.encode()
    (tmp_path / "x.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * 16)
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ModelLoadError, match="x.safetensors: tensor 'w' lies outside"):
        load_tensors(tmp_path / "x.safetensors")


def _edit_config(folder, **changes):
    path = folder / "config.json"
    meta = json.loads(path.read_text())
    for key, value in changes.items():
        if key == "config":
            meta["config"].update(value)
        else:
            meta[key] = value
    path.write_text(json.dumps(meta))


def test_weights_that_do_not_match_the_config_are_refused(model_dir):
    _edit_config(model_dir, config={"kernel_size": 5})
    with pytest.raises(ModelLoadError, match="model.safetensors: tensor .* has shape"):
        load_model(model_dir)


def test_weights_of_another_model_are_refused(tmp_path, model_dir):
    other = tmp_path / "other"
    save_model(build_model("CELAutoencoderSiLU", clip_samples=1_024, latent_channels=2), other)
    (model_dir / "model.safetensors").write_bytes((other / "model.safetensors").read_bytes())
    with pytest.raises(ModelLoadError, match="model.safetensors: "):
        load_model(model_dir)


def test_an_unknown_architecture_is_refused(model_dir):
    _edit_config(model_dir, arch="GPT5Audio")
    with pytest.raises(ModelLoadError, match="config.json: unknown architecture 'GPT5Audio'"):
        load_model(model_dir)


def test_a_future_format_version_is_refused(model_dir):
    _edit_config(model_dir, format_version=99)
    with pytest.raises(ModelLoadError, match="config.json: format_version 99 is newer"):
        load_model(model_dir)


@pytest.mark.parametrize("text, words", [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "invalid JSON: expected an object"),
    ('{"format": "something-else"}', "not a CELAE model"),
])
def test_a_broken_config_is_refused(model_dir, text, words):
    (model_dir / "config.json").write_text(text)
    with pytest.raises(ModelLoadError, match=f"config.json: {words}"):
        load_model(model_dir)


@pytest.mark.parametrize("missing", ["config.json", "model.safetensors"])
def test_a_missing_file_is_named(model_dir, missing):
    (model_dir / missing).unlink()
    with pytest.raises(ModelLoadError, match=f"{missing}: file not found"):
        load_model(model_dir)


def test_nan_weights_written_by_someone_else_are_refused(model_dir):
    from safetensors.torch import load_file, save_file

    weights = model_dir / "model.safetensors"
    state = load_file(str(weights))
    state["dec_out.0.weight"][0, 0, 0] = float("nan")
    save_file(state, str(weights))
    _edit_config(model_dir, weights_sha256=None)
    with pytest.raises(ModelLoadError, match="NaN"):
        load_model(model_dir)

"""The ``celae`` command line, end to end on real files and real (tiny) models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.cli.main import main
from core.constants import SAMPLE_RATE


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    t = np.arange(int(1.5 * SAMPLE_RATE)) / SAMPLE_RATE
    x = 0.6 * np.sin(2 * np.pi * 220 * t) * (1 + 0.3 * np.sin(2 * np.pi * 2 * t))
    path = tmp_path_factory.mktemp("songs") / "tone.flac"
    sf.write(path, x.astype(np.float32), SAMPLE_RATE)
    return path


def run_json(capsys, *argv) -> dict:
    code = main([*argv, "--json", "-q"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_reconstruct_writes_audio_and_prints_figures(capsys, tiny_model, song, tmp_path):
    out = tmp_path / "recon.wav"
    data = run_json(capsys, "reconstruct", str(song), "--model", str(tiny_model),
                    "--out", str(out))
    recon, sr = sf.read(out)
    assert sr == SAMPLE_RATE
    assert len(recon) == int(1.5 * SAMPLE_RATE)
    assert {"snr", "si_sdr", "log_mel_l1", "mr_stft"} <= set(data)
    assert np.isfinite(data["si_sdr"])


def test_encode_decode_round_trip_matches_reconstruction(capsys, tiny_model, song, tmp_path):
    from core.audio.metrics import si_sdr

    z = tmp_path / "z.celat"
    meta = run_json(capsys, "encode", str(song), "--model", str(tiny_model), "--out", str(z))
    original, _ = sf.read(song)
    assert meta["length_samples"] == len(original) and meta["hop"] < meta["window"]
    back, recon = tmp_path / "back.wav", tmp_path / "recon.wav"
    run_json(capsys, "decode", str(z), "--model", str(tiny_model), "--out", str(back))
    run_json(capsys, "reconstruct", str(song), "--model", str(tiny_model), "--out", str(recon))
    decoded, _ = sf.read(back, dtype="float32")
    reconstructed, _ = sf.read(recon, dtype="float32")
    # Same windows and crossfades as `celae reconstruct`, cut to the song's own length.
    assert len(decoded) == len(original)
    assert si_sdr(reconstructed, decoded) >= 60
    # The tiny model learned the tone: decoding its latent gives the tone back, not noise.
    assert si_sdr(original, decoded) > 0


def test_decode_finds_the_model_named_in_the_latent_file(capsys, tiny_model, song, tmp_path,
                                                         monkeypatch):
    import shutil

    models = tmp_path / "user-models"
    shutil.copytree(tiny_model, models / "tiny")
    monkeypatch.setenv("CELAE_USER_MODELS_DIR", str(models))
    z = tmp_path / "z.celat"
    run_json(capsys, "encode", str(song), "--model", "tiny", "--out", str(z))
    data = run_json(capsys, "decode", str(z), "--out", str(tmp_path / "back.wav"))
    assert data["model"] == "tiny"


def test_decode_refuses_a_latent_of_other_weights(capsys, tiny_model, song, tmp_path):
    import torch

    from core.models.io import load_model, save_model

    z = tmp_path / "z.celat"
    run_json(capsys, "encode", str(song), "--model", str(tiny_model), "--out", str(z))
    model = load_model(tiny_model).model
    with torch.no_grad():
        next(model.parameters()).add_(0.01)
    other = tmp_path / "other"
    save_model(model, other)
    code = main(["decode", str(z), "--model", str(other), "--out", str(tmp_path / "o.wav")])
    err = capsys.readouterr().err
    assert code == 1 and "z.celat" in err and "checksums differ" in err
    assert not (tmp_path / "o.wav").exists()


def test_older_npy_latents_still_decode(capsys, tiny_model, song, tmp_path):
    from core.audio.io import load_audio, split_clips
    from core.models.inference import encode
    from core.models.io import load_model

    model = load_model(tiny_model).model
    audio = load_audio(song)
    z = encode(model, split_clips(audio, 4096))
    npy = tmp_path / "old.npy"
    np.save(npy, z, allow_pickle=False)
    npy.with_suffix(".json").write_text(json.dumps(
        {"model": str(tiny_model), "arch": "CELAutoencoderSiLU", "sample_rate": SAMPLE_RATE,
         "clip_samples": 4096, "length_samples": len(audio), "shape": list(z.shape)}))
    back = tmp_path / "back.wav"
    run_json(capsys, "decode", str(npy), "--model", str(tiny_model), "--out", str(back))
    assert len(sf.read(back)[0]) == len(audio)


def test_encode_refuses_a_name_that_is_not_a_latent_file(capsys, tiny_model, song, tmp_path):
    notes = tmp_path / "notes.json"
    notes.write_text("my notes")
    code = main(["encode", str(song), "--model", str(tiny_model), "--out",
                 str(tmp_path / "notes.npy")])
    assert code == 1 and ".celat" in capsys.readouterr().err
    assert notes.read_text() == "my notes" and not (tmp_path / "notes.npy").exists()


def test_edit_scale_changes_the_audio(capsys, tiny_model, song, tmp_path):
    plain, louder = tmp_path / "plain.wav", tmp_path / "scaled.wav"
    run_json(capsys, "edit", str(song), "--model", str(tiny_model), "--out", str(plain))
    run_json(capsys, "edit", str(song), "--model", str(tiny_model), "--scale", "0.2",
             "--smooth", "5", "--out", str(louder))
    a, _ = sf.read(plain)
    b, _ = sf.read(louder)
    assert a.shape == b.shape
    assert np.abs(a - b).max() > 1e-3


def test_models_lists_user_models(capsys, tiny_model, monkeypatch):
    monkeypatch.setenv("CELAE_USER_MODELS_DIR", str(tiny_model.parent))
    data = run_json(capsys, "models")
    names = {m["name"]: m for m in data["models"]}
    assert names["tiny"]["source"] == "user"
    assert names["tiny"]["arch"] == "CELAutoencoderSiLU"
    archs = run_json(capsys, "models", "--archs")["architectures"]
    assert {"CELAutoencoderSiLU", "CELAutoencoder2", "CELAutoencoder3"} <= set(archs)


def test_bad_audio_is_one_line_error_exit_1(capsys, tiny_model, tmp_path):
    bad = tmp_path / "notes.mp3"
    bad.write_text("these are my notes, not a song\n")
    code = main(["reconstruct", str(bad), "--model", str(tiny_model), "--out",
                 str(tmp_path / "x.wav")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.count("\n") == 0
    assert "notes.mp3" in err and "not an audio file" in err
    assert not (tmp_path / "x.wav").exists()


def test_pickle_model_is_refused(capsys, song, tmp_path):
    evil = tmp_path / "model.pt"
    evil.write_bytes(b"\x80\x04K\x01.")
    code = main(["reconstruct", str(song), "--model", str(evil), "--out", str(tmp_path / "x.wav")])
    assert code == 1
    assert "pickle" in capsys.readouterr().err


def test_decode_rejects_a_latent_of_the_wrong_shape(capsys, tiny_model, tmp_path):
    z = tmp_path / "z.npy"
    np.save(z, np.zeros((1, 1, 7), np.float32))
    code = main(["decode", str(z), "--model", str(tiny_model), "--out", str(tmp_path / "o.wav")])
    assert code == 1
    assert "z.npy" in capsys.readouterr().err
    assert not (tmp_path / "o.wav").exists()


def test_usage_error_exits_2():
    proc = subprocess.run([sys.executable, "-m", "core.cli", "reconstruct"], capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert "--out" in proc.stderr


def test_demo_data_train_evaluate(capsys, tmp_path):
    data = tmp_path / "demo"
    run_json(capsys, "demo-data", str(data), "--songs-per-genre", "1", "--seconds", "5")
    assert len(list(data.glob("*/*.wav"))) == 10
    out = tmp_path / "model"
    result = run_json(capsys, "train", str(data), "--arch", "CELAutoencoder3", "--epochs", "1",
                      "--batch-size", "4", "--device", "cpu", "--out", str(out))
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()
    assert result["out"] == str(out)
    report = run_json(capsys, "evaluate", str(out), str(data))
    assert report["clips"] >= 1
    assert set(report["model"]) == set(report["baseline"]) >= {"mse", "si_sdr", "log_mel_l1"}


def test_train_with_a_nonsense_ratio_is_a_one_line_error(capsys, tmp_path):
    code = main(["train", str(tmp_path), "--ratio", "0.5", "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert "latent_ratio" in err and "\n" not in err


def test_device_cuda_without_a_gpu_is_a_clear_error(capsys, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    data = tmp_path / "demo"
    run_json(capsys, "demo-data", str(data), "--songs-per-genre", "1", "--seconds", "5")
    code = main(["train", str(data), "--device", "cuda", "--epochs", "1", "--out",
                 str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 1
    assert "CUDA" in err and "no GPU" in err
    assert not (tmp_path / "m" / "model.safetensors").exists()


def test_models_lists_the_bundled_models_and_marks_the_default(capsys):
    from core.paths import bundled_models_dir

    data = run_json(capsys, "models")
    defaults = [m["name"] for m in data["models"] if m["default"]]
    assert defaults == [(bundled_models_dir() / "DEFAULT").read_text().strip()]
    assert main(["models", "-q"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith(defaults[0]))
    assert "default" in line and "kbps" in line


"""Every model reports its bitrate at 32/16/8 bits: the listing, the CLI and odd configs."""

from __future__ import annotations

import json

import pytest

from core.cli.main import main
from core.latent.bitrate import bitrate, model_bitrate


def test_a_latent_of_8_channels_at_1_in_32_costs_its_values_times_the_bits():
    # 8 channels x 3446 steps per 5 s clip at 22 050 Hz: 5513.6 values a second.
    rate = bitrate((8, 3446), 110_250, 22_050)
    assert rate.floats_per_second == pytest.approx(5513.6)
    assert rate.kbps == pytest.approx({32: 176.4352, 16: 88.2176, 8: 44.1088})
    assert rate.text() == "176.4 / 88.2 / 44.1 kbps at 32/16/8 bits"


@pytest.mark.parametrize("meta", [{}, {"latent_shape": []}, {"latent_shape": ["x", 2]},
                                  {"latent_shape": [1, 10], "clip_samples": 0}])
def test_a_config_without_a_usable_latent_shape_has_no_bitrate(meta):
    assert model_bitrate(meta) is None


def test_celae_models_prints_kbps_at_each_depth(capsys, tmp_path, monkeypatch):
    from core.models import build_model
    from core.models.io import save_model

    save_model(build_model("CELAutoencoderSiLU"), tmp_path / "half")
    monkeypatch.setenv("CELAE_USER_MODELS_DIR", str(tmp_path))
    assert main(["models", "--json"]) == 0
    rows = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    half = rows["half"]  # 1 x 55 125 per 5 s clip: half the samples
    assert half["kbps"] == pytest.approx({"32": 352.8, "16": 176.4, "8": 88.2})
    assert main(["models"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("half "))
    assert "352.8 / 176.4 / 88.2 kbps at 32/16/8 bits" in line

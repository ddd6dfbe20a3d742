"""Reliability: hostile sidecars of older ``.npy`` latents are one line, never a traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli.main import main


def _latent(tmp_path, sidecar: str | None):
    z = tmp_path / "z.npy"
    np.save(z, np.zeros((2, 1, 2048), np.float32))
    if sidecar is not None:
        z.with_suffix(".json").write_text(sidecar)
    return z


@pytest.mark.parametrize("sidecar", [
    json.dumps({"length_samples": "abc"}),
    json.dumps({"length_samples": [1]}),
    json.dumps({"length_samples": 0}),
    json.dumps([{"length_samples": 4096}]),
    "[" * 100_000 + "]" * 100_000,
])
def test_a_hostile_sidecar_is_a_one_line_error(capsys, tmp_path, tiny_model, sidecar):  # noqa: F811
    code = main(["decode", str(_latent(tmp_path, sidecar)), "--model", str(tiny_model),
                 "--out", str(tmp_path / "out.wav"), "-q"])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("celae: error: z.json: ") and "\n" not in err
    assert not (tmp_path / "out.wav").exists()


def test_a_null_length_falls_back_to_the_whole_latent(capsys, tmp_path, tiny_model):  # noqa: F811
    code = main(["decode", str(_latent(tmp_path, json.dumps({"length_samples": None}))),
                 "--model", str(tiny_model), "--out", str(tmp_path / "out.wav"), "-q"])
    assert code == 0, capsys.readouterr().err

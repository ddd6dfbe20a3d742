"""Reliability: an output never replaces an input (same path, symlink, hard link)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from core.atomic import ensure_not_input
from core.cli.main import main
from core.constants import SAMPLE_RATE
from core.errors import FileError
from tests.core.test_cli import song  # noqa: F401  (module fixture; tiny_model is in conftest)


def test_ensure_not_input_sees_the_same_file_by_any_name(tmp_path):
    src = tmp_path / "a.wav"
    src.write_bytes(b"x")
    (tmp_path / "link.wav").symlink_to(src)
    os.link(src, tmp_path / "hard.wav")
    for out in (src, tmp_path / "." / "a.wav", tmp_path / "link.wav", tmp_path / "hard.wav"):
        with pytest.raises(FileError, match=r"would replace the input .*a\.wav"):
            ensure_not_input(out, tmp_path / "other.wav", src)
    ensure_not_input(tmp_path / "new.wav", src, None)


@pytest.mark.parametrize("command", ["reconstruct", "edit"])
def test_cli_refuses_to_write_over_its_input(capsys, tmp_path, song, tiny_model, command):  # noqa: F811
    mine = tmp_path / "x.wav"
    sf.write(mine, np.sin(np.arange(SAMPLE_RATE) / 9).astype(np.float32) * 0.5, SAMPLE_RATE)
    before = mine.read_bytes()
    code = main([command, str(mine), "--model", str(tiny_model), "--out", str(mine), "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("celae: error: x.wav: the output would replace the input")
    assert "Traceback" not in err
    assert mine.read_bytes() == before


def test_edit_refuses_to_write_over_the_mixed_song(capsys, tmp_path, song, tiny_model):  # noqa: F811
    other = tmp_path / "other.wav"
    sf.write(other, np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE)
    before = other.read_bytes()
    code = main(["edit", str(song), "--mix", str(other), "--model", str(tiny_model),
                 "--out", str(other), "-q"])
    assert code == 1
    assert "would replace the input" in capsys.readouterr().err
    assert other.read_bytes() == before

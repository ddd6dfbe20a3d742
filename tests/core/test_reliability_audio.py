"""Reliability of the audio reader's words: the reason a user reads is the real one."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.audio.io import load_audio, probe
from core.audio.metrics import quality
from core.audio.verify import find_damage
from core.cli.main import main
from core.errors import AudioLoadError
from core.progress import Cancelled


def test_a_valid_wav_whose_name_is_not_utf8_decodes(tmp_path):
    name = os.path.join(os.fsencode(tmp_path), b"caf\xe9 m\xfcsic.wav")
    sf.write(tmp_path / "plain.wav", np.full(2_000, 0.25, np.float32), 22_050)
    os.rename(os.fsencode(tmp_path / "plain.wav"), name)
    path = os.fsdecode(name)
    assert probe(path).frames == 2_000
    x = load_audio(path)
    assert x.shape == (2_000,) and np.allclose(x, 1.0)


def write_damaged_mp3(folder: Path, seconds: int = 10) -> tuple[Path, Path]:
    """``good.mp3``, ``seconds`` of a tone, and ``middle.mp3``: the same with 4 kB of garbage
    written over its middle."""
    t = np.arange(seconds * 22_050) / 22_050
    good = folder / "good.mp3"
    sf.write(good, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 22_050,
             format="MP3")
    raw = bytearray(good.read_bytes())
    mid = len(raw) // 2
    raw[mid:mid + 4_000] = np.random.default_rng(0).integers(0, 256, 4_000, np.uint8).tobytes()
    bad = folder / "middle.mp3"
    bad.write_bytes(bytes(raw))
    return good, bad


@pytest.fixture
def damaged_mp3(tmp_path):
    """Ten seconds of MP3 with 4 kB of garbage written over its middle."""
    return write_damaged_mp3(tmp_path)[1]


def test_an_mp3_damaged_in_the_middle_says_its_first_half_decodes(damaged_mp3, capfd):
    with pytest.raises(AudioLoadError) as info:
        load_audio(damaged_mp3)
    message = str(info.value)
    assert message.startswith("middle.mp3: truncated or damaged: header promises 220500 frames")
    decoded = int(message.split("only ")[1].split()[0])
    assert 80_000 < decoded < 140_000
    # libmpg123's own "Note: Illegal Audio-MPEG-Header" lines stay off the terminal.
    err = capfd.readouterr().err
    assert "Note:" not in err and "libmpg123" not in err


def test_the_whole_file_check_says_how_far_a_damaged_mp3_decodes(damaged_mp3):
    damage = find_damage(damaged_mp3)
    assert re.fullmatch(r"decodes only the first 0:0[3-6] of 0:10", damage.summary())
    assert damage.text().startswith(f"{damage.summary()} (truncated or damaged: header "
                                    "promises 220500 frames, only ")
    assert find_damage(damaged_mp3.with_name("good.mp3")) is None
    with pytest.raises(Cancelled):
        find_damage(damaged_mp3.with_name("good.mp3"), should_stop=lambda: True)


def test_a_silent_one_sample_reference_gives_a_bounded_mr_stft():
    q = quality(np.zeros(1, np.float32), np.array([0.01], np.float32))
    assert q.mr_stft < 10


def test_the_cli_gives_a_one_sample_wav_a_bounded_mr_stft(capsys, tmp_path, tiny_model):  # noqa: F811
    """The command line's streamed figures, not only core.audio.metrics (2.6e11, then 1.2e12)."""
    sf.write(tmp_path / "one.wav", np.array([0.0], np.float32), 22_050)
    code = main(["reconstruct", str(tmp_path / "one.wav"), "--model", str(tiny_model),
                 "--out", str(tmp_path / "one-out.wav"), "--json", "-q"])
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["mr_stft"] < 10


def test_the_cli_reconstructs_a_song_whose_name_is_not_utf8(capsys, tmp_path, tiny_model):  # noqa: F811
    name = os.path.join(os.fsencode(tmp_path), b"caf\xe9.wav")
    sf.write(tmp_path / "plain.wav", np.full(4_000, 0.25, np.float32), 22_050)
    os.rename(os.fsencode(tmp_path / "plain.wav"), name)
    code = main(["reconstruct", os.fsdecode(name), "--model", str(tiny_model),
                 "--out", str(tmp_path / "out.wav"), "-q"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Logging error" not in err and "Traceback" not in err


def test_text_named_mp3_is_refused_without_libmpg123_notes(tmp_path, capfd):
    notes = tmp_path / "notes.mp3"
    notes.write_text("this is not audio, only a few words of text\n" * 20)
    with pytest.raises(AudioLoadError, match=r"^notes.mp3: "):
        load_audio(notes)
    err = capfd.readouterr().err
    assert "Note:" not in err and "Illegal Audio-MPEG-Header" not in err

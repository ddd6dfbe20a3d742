"""``celae reconstruct`` as one streaming pass: same sound as the offline render, figures equal
to the whole-signal ones, bounded memory, the input never replaced, models run by onnxruntime."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.cli.main import main
from core.constants import SAMPLE_RATE
from tests.core.child_memory import PEAK_KIB

ROOT = Path(__file__).resolve().parents[2]


def _tone(seconds: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(0)
    return (0.5 * np.sin(2 * np.pi * 220 * t) * (1 + 0.3 * np.sin(2 * np.pi * 2 * t))
            + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def _run(capsys, *argv) -> dict:
    code = main([*argv, "--json", "-q"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_the_streamed_file_is_the_offline_reconstruction(capsys, tiny_model, tmp_path, engine):
    from core.audio.io import load_audio
    from core.audio.metrics import quality, si_sdr
    from core.models.inference import reconstruct_song
    from core.models.io import load_model

    song = tmp_path / "song.wav"
    sf.write(song, _tone(3.3), SAMPLE_RATE, subtype="FLOAT")
    out = tmp_path / "recon.wav"
    data = _run(capsys, "reconstruct", str(song), "--model", str(tiny_model), "--out",
                str(out), "--engine", engine)
    assert data["engine"] == engine
    written, sr = sf.read(out, dtype="float32")
    audio = load_audio(song)  # peak-normalised, as the command does by default
    offline = np.clip(reconstruct_song(load_model(tiny_model).model, audio), -1, 1)
    assert sr == SAMPLE_RATE and len(written) == len(audio)
    assert si_sdr(offline, written) > 40  # the 16-bit file's own rounding is the limit here
    whole = quality(audio, offline).as_dict()
    for key in ("snr", "si_sdr", "log_mel_l1", "mr_stft"):
        assert data[key] == pytest.approx(whole[key], rel=2e-3, abs=2e-3), key


def test_onnx_graph_is_exported_once_and_matches_torch(tiny_model):
    from core.audio.metrics import si_sdr
    from core.models.io import load_model
    from core.models.onnx_engine import load_onnx
    from core.models.streaming import torch_window_fn

    first = load_onnx(tiny_model)
    again = load_onnx(tiny_model)
    assert again.exported is False and again.clip_samples == 4096
    windows = np.stack([_tone(0.5)[:4096], _tone(0.5)[100:4196]])
    by_torch = torch_window_fn(load_model(tiny_model).model)(0, windows)
    assert si_sdr(by_torch, first(0, windows)).min() >= 60


def test_a_changed_model_gets_a_new_graph(tiny_model, tmp_path):
    import shutil

    from core.models.io import load_model, save_model
    from core.models.onnx_engine import load_onnx

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model, copy)
    before = load_onnx(copy)
    model = load_model(copy).model
    for p in model.parameters():
        p.data.mul_(0.5)
    save_model(model, copy)
    after = load_onnx(copy)
    assert after.exported
    x = _tone(0.5)[None, :4096]
    assert not np.allclose(before(0, x), after(0, x))


def test_output_that_is_the_input_is_refused_and_the_input_kept(capsys, tiny_model, tmp_path):
    song = tmp_path / "mine.wav"
    sf.write(song, _tone(1.0), SAMPLE_RATE)
    before = song.read_bytes()
    link = tmp_path / "alias.wav"
    os.link(song, link)
    for target in (song, link, tmp_path / "." / "mine.wav"):
        code = main(["reconstruct", str(song), "--model", str(tiny_model), "--out",
                     str(target), "-q"])
        err = capsys.readouterr().err
        assert code == 1 and "mine.wav" in err and err.count("\n") == 1
    assert song.read_bytes() == before


def test_figures_can_be_basic_or_off(capsys, tiny_model, tmp_path):
    song = tmp_path / "s.wav"
    sf.write(song, _tone(1.0), SAMPLE_RATE)
    basic = _run(capsys, "reconstruct", str(song), "--model", str(tiny_model), "--out",
                 str(tmp_path / "a.wav"), "--figures", "basic")
    assert np.isfinite(basic["si_sdr"]) and basic["log_mel_l1"] is None
    none = _run(capsys, "reconstruct", str(song), "--model", str(tiny_model), "--out",
                str(tmp_path / "b.wav"), "--figures", "none")
    assert "si_sdr" not in none
    assert {"decode", "model", "write", "figures"} <= set(none["timings"])


def _peak_rss_mb(song: Path, model: Path, out: Path, env: dict) -> float:
    code = ("import sys; import core.cli.reconstruct as r; r.KEEP_DECODED_SECONDS = 60.0; "
            "from core.cli.main import main; rc = main(sys.argv[1:]); "
            f"print({PEAK_KIB} / 1024); sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, "reconstruct", str(song), "--model",
                           str(model), "--out", str(out), "-q"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return float(proc.stdout.strip().splitlines()[-1])


def test_memory_does_not_grow_with_the_song(tiny_model, tmp_path):
    # Songs up to KEEP_DECODED_SECONDS (10 minutes) are decoded once and kept, a bounded 53 MB;
    # the child runs with a one-minute bound so that an 8-minute song takes the path of any
    # longer one (decoded again, block by block), where memory must stay flat.
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    sf.write(short, _tone(2.0, 8000), 8000)
    chunk = _tone(10.0, 8000)
    with sf.SoundFile(long, "w", samplerate=8000, channels=2, subtype="PCM_16") as f:
        for _ in range(48):  # 8 minutes: 10.6 M samples at 22 050 Hz, 42 MB per float copy
            f.write(np.stack([chunk, chunk[::-1]], axis=1))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    _peak_rss_mb(short, tiny_model, tmp_path / "warm.wav", env)  # the graph export, once
    small = _peak_rss_mb(short, tiny_model, tmp_path / "o1.wav", env)
    big = _peak_rss_mb(long, tiny_model, tmp_path / "o2.wav", env)
    assert sf.info(tmp_path / "o2.wav").frames == 480 * SAMPLE_RATE
    assert big < small + 30, (small, big)


def test_a_song_is_reconstructed_the_same_whether_kept_or_decoded_twice(
        capsys, tiny_model, tmp_path, monkeypatch):
    import core.cli.reconstruct as rc

    song = tmp_path / "song.wav"
    sf.write(song, _tone(7.5), SAMPLE_RATE, subtype="FLOAT")
    kept = _run(capsys, "reconstruct", str(song), "--model", str(tiny_model), "--out",
                str(tmp_path / "kept.wav"))
    monkeypatch.setattr(rc, "KEEP_DECODED_SECONDS", 5.0)  # shorter than the song
    twice = _run(capsys, "reconstruct", str(song), "--model", str(tiny_model), "--out",
                 str(tmp_path / "twice.wav"))
    a, _ = sf.read(tmp_path / "kept.wav", dtype="float32")
    b, _ = sf.read(tmp_path / "twice.wav", dtype="float32")
    np.testing.assert_array_equal(a, b)
    assert kept["si_sdr"] == twice["si_sdr"] and kept["normalized"] and twice["normalized"]


@pytest.mark.parametrize("n", [300, 700, 5_000, 60_000])
def test_figures_fed_in_blocks_equal_the_whole_signal_figures(n):
    from core.audio import metrics
    from core.audio import stream_metrics as sm

    assert (sm.MEL_FFT, sm.MEL_FLOOR, sm.STFT_SIZES, sm.DB_CAP) == (
        metrics.MEL_FFT, metrics.MEL_FLOOR, metrics.STFT_SIZES, metrics.DB_CAP)
    rng = np.random.default_rng(n)
    ref = (0.3 * rng.standard_normal(n)).astype(np.float32)
    est = (ref + 0.1 * rng.standard_normal(n)).astype(np.float32)
    running = sm.RunningQuality()
    at, sizes = 0, [17, 1000, 33, 4096]
    while at < n:
        size = sizes[at % len(sizes)]
        running.add(ref[at:at + size], est[at:at + size])
        at += size
    streamed, whole = running.result().as_dict(), metrics.quality(ref, est).as_dict()
    for key, value in whole.items():
        assert streamed[key] == pytest.approx(value, rel=1e-4), key

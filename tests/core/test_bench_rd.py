"""``make bench-rd`` end to end on a tiny folder of songs: baseline, report model and CELCodec
rows, the target lines, models trained two at a time in their own processes and saved in a form
the app loads."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.writer import save_audio
from core.data.demo import synthesize_song
from core.models.io import load_model
from scripts import bench_rd


@pytest.mark.timeout(300)
def test_bench_rd_scores_every_method_and_saves_loadable_models(tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    for i, genre in enumerate(("rock", "jazz", "metal", "classical")):
        save_audio(songs / f"{genre}.flac", synthesize_song(genre, 6.0, seed=i))
    out, models = tmp_path / "rd.md", tmp_path / "models"
    code = bench_rd.main(["--data", str(songs), "--ratios", "4", "--budget-seconds", "2",
                          "--song-seconds", "6", "--offset", "0", "--eval-clips", "2",
                          "--valid-fraction", "0.25", "--batch", "2", "--jobs", "2",
                          "--out", str(out), "--save-models", str(models)])
    assert code == 0
    text = out.read_text()
    assert "2 model(s) trained at a time" in text
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| 1/4 |")]
    methods = [r[1] for r in rows]
    assert methods[:3] == ["pool+interp", "report `CELAutoencoder2`", "CELCodec `CELCodec4`"]
    for cells in rows[:3]:
        si_sdr, log_mel = float(cells[2]), float(cells[3])
        assert np.isfinite(si_sdr) and log_mel > 0
    assert int(rows[1][6]) > 0 and int(rows[2][6]) > 0       # training steps taken
    assert f"- {songs.name}, 1/4: CELCodec vs baseline" in text
    assert "(per clip, CELCodec - report: SI-SDR dB " in text
    for arch in ("CELAutoencoder2", "CELCodec4"):
        assert load_model(models / f"{arch}-2s").arch == arch
    assert (models / "CELCodec4-2s" / "latent_pca.json").is_file()


def test_paired_comparison_reports_mean_interval_and_wins():
    report = np.array([10.0, 12.0, 14.0, 16.0])
    codec = report + np.array([1.0, 1.0, 1.0, -0.5])
    text = bench_rd.paired(codec, report, higher_is_better=True)
    mean, rest = text.split(" [")
    lo, hi = (float(v) for v in rest.split("]")[0].split(", "))
    assert float(mean) == pytest.approx(0.625)
    assert -0.5 <= lo <= 0.625 <= hi <= 1.0
    assert text.endswith("better on 3/4 clips")
    # Lower is better (log-mel L1): the same differences win on the one clip that went down.
    assert bench_rd.paired(codec, report, higher_is_better=False).endswith("better on 1/4 clips")

"""Reliability of ``celae train`` and the clip cache: nothing skipped or stale goes unsaid.

Skipped inputs are listed on stderr, in ``--json`` and in ``cli.log``; a corrupted cache entry
or a source edited in place with its mtime restored is decoded again; two runs on one ``--out``
cannot both write it; a damaged checkpoint state or an unwritable folder is one line.
"""

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
from core.data import load_clips, scan_dataset

REPO = Path(__file__).resolve().parents[2]
TRAIN = ["--arch", "CELAutoencoder3", "--epochs", "1", "--batch-size", "4", "--device", "cpu",
         "-q"]


def _tone(path: Path, seconds: float, freq: float) -> Path:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), SAMPLE_RATE,
             subtype="PCM_16")
    return path


@pytest.fixture
def dataset(tmp_path) -> Path:
    root = tmp_path / "data"
    for g, f in (("rock", 220.0), ("jazz", 330.0)):
        for i in range(2):
            _tone(root / g / f"{g}.{i:05d}.wav", 5.2, f * (1 + i / 10))
    return root


def _log_text() -> str:
    return (Path(os.environ["CELAE_LOG_DIR"]) / "cli.log").read_text(encoding="utf-8")


def test_skipped_files_are_listed_on_stderr_in_json_and_in_the_log(capsys, tmp_path, dataset):
    (dataset / "rock" / "notes.wav").write_text("not audio at all, just words")
    (dataset / "jazz" / "empty.flac").write_bytes(b"")
    (dataset / "jazz" / "loop.wav").symlink_to("loop.wav")
    code = main(["train", str(dataset), *TRAIN, "--json", "--out", str(tmp_path / "m")])
    out = capsys.readouterr()
    assert code == 0, out.err
    skipped = {Path(s["path"]).name: s["reason"] for s in json.loads(out.out)["skipped"]}
    assert set(skipped) == {"notes.wav", "empty.flac", "loop.wav"}
    assert skipped["loop.wav"].startswith("symlink loop")
    assert skipped["empty.flac"] == "empty file (0 bytes)"
    log = _log_text()
    for name, reason in skipped.items():
        assert f"skipped {dataset}" in out.err and f"{name}: {reason}" in out.err
        assert f"{name}: {reason}" in log


def test_a_corrupted_cache_entry_is_decoded_again(dataset):
    index = scan_dataset(dataset)
    first = load_clips(index, clip_samples=4096)
    truth = np.array(first.clips)
    data_file = first.cache_path
    del first
    raw = bytearray(data_file.read_bytes())
    raw[1000:21000] = bytes(b ^ 0xFF for b in raw[1000:21000])
    data_file.write_bytes(bytes(raw))
    again = load_clips(index, clip_samples=4096)
    assert np.array_equal(np.asarray(again.clips), truth)


def test_a_source_edited_in_place_with_its_mtime_restored_is_decoded_again(dataset):
    song = dataset / "rock" / "rock.00000.wav"
    first = load_clips(scan_dataset(dataset), clip_samples=4096)
    song_index = [s.path for s in first.songs].index(song)
    row = first.song_of_clip.tolist().index(song_index)
    st = song.stat()
    raw = bytearray(song.read_bytes())
    # Outside the three sampled 16 KiB regions of the fingerprint: only ctime can tell.
    raw[44 + 2 * 20_000:44 + 2 * 24_000] = bytes(2 * 4_000)
    song.write_bytes(bytes(raw))
    os.utime(song, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert song.stat().st_mtime_ns == st.st_mtime_ns and song.stat().st_size == st.st_size
    second = load_clips(scan_dataset(dataset), clip_samples=4096)
    # Samples 20 000-24 000 are now silence: most of clip 5 (samples 20 480-24 575).
    assert np.any(np.asarray(first.clips[row + 5][:3500]) != 0)
    assert not np.any(np.asarray(second.clips[row + 5][:3500]))


def test_resume_with_no_checkpoint_says_so(capsys, tmp_path, dataset):
    code = main(["train", str(dataset), *TRAIN, "--resume", "--out", str(tmp_path / "m")])
    assert code == 0
    assert "no checkpoint to resume from; starting a new run" in capsys.readouterr().err


def test_a_second_run_on_the_same_out_is_refused_naming_the_first(capsys, tmp_path, dataset):
    out = tmp_path / "m"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\nfrom core.training.run_lock import run_lock\n"
         f"with run_lock({str(out)!r}):\n    print('held', flush=True)\n    sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline().strip() == "held"
        code = main(["train", str(dataset), *TRAIN, "--out", str(out)])
        err = capsys.readouterr().err.strip()
    finally:
        holder.communicate("", timeout=60)
    assert code == 1
    assert err == (f"celae: error: {out}: another training run (pid {holder.pid}) is writing "
                   "to this folder; wait for it to finish or choose another --out")
    assert not (out / "model.safetensors").exists()
    # Once the first run is gone the folder is free again.
    assert main(["train", str(dataset), *TRAIN, "--out", str(out)]) == 0


def test_an_unwritable_out_is_refused_before_any_work(capsys, tmp_path, dataset):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = main(["train", str(dataset), *TRAIN, "--out", str(blocker / "m")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith(f"celae: error: {blocker / 'm'}: cannot write the model folder")
    assert "\n" not in err


@pytest.mark.parametrize("epoch", ["x", None, [1], -3])
def test_a_damaged_checkpoint_state_is_one_line(capsys, tmp_path, dataset, epoch):
    out = tmp_path / "m"
    assert main(["train", str(dataset), *TRAIN, "--out", str(out)]) == 0
    state_file = out / "checkpoint" / "state.json"
    doc = json.loads(state_file.read_text())
    doc["state"]["epoch"] = epoch
    state_file.write_text(json.dumps(doc))
    capsys.readouterr()
    code = main(["train", str(dataset), *TRAIN, "--epochs", "2", "--resume", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("celae: error: checkpoint: checkpoint does not fit the model or is "
                          "damaged") and "epoch" in err and "\n" not in err


def test_a_write_that_fails_mid_checkpoint_is_one_line(capsys, tmp_path, dataset):
    """A full disk, as the file-size limit plays it: the checkpoint write fails mid-file."""
    # The clip cache is filled first, so the limited run fails at its first checkpoint.
    load_clips(scan_dataset(dataset))
    out = tmp_path / "m"
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, 30_000))\n"
            "from core.cli.main import main\n"
            f"sys.exit(main(['train', {str(dataset)!r}, *{TRAIN!r}, '--out', {str(out)!r}]))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "CELAE_LOG_DIR": str(tmp_path / "logs")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    err = done.stderr.strip()
    assert done.returncode == 1, err
    assert "Traceback" not in err and "SafetensorError" not in err
    assert err.startswith("celae: error: ") and "could not write" in err
    assert "\n" not in err

"""Reliability on a real full disk: a small tmpfs mounted in the test's folder.

Every write that fails for want of space (the model, its latent PCA, the clip cache, a
checkpoint, ``celae train --out``) is one line naming the file and saying "no space left on
device"; it leaves no temp or half-written file behind and the previous good files as they were.
Where the model was saved and only its PCA did not fit, the run says so and succeeds.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.atomic import TEMP_PREFIX
from core.constants import SAMPLE_RATE
from core.errors import WriteError

PAGE = 4096
"""tmpfs counts space in pages."""
FULL = "could not write: no space left on device"


def pages(n_bytes: int) -> int:
    return -(-n_bytes // PAGE)


class SmallDisks:
    """Mounts tmpfs file systems of a given size; unmounts them all at teardown."""

    def __init__(self) -> None:
        self.mounted: list[Path] = []

    def mount(self, folder: Path, size_bytes: int) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs",
                               str(folder)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")
        self.mounted.append(folder)
        return folder

    def unmount_all(self) -> None:
        for folder in reversed(self.mounted):
            subprocess.run(["umount", "-l", str(folder)], check=False)
        self.mounted.clear()


@pytest.fixture
def small_disk():
    disks = SmallDisks()
    try:
        yield disks
    finally:
        disks.unmount_all()


def fill(disk: Path, leave_bytes: int = 0) -> None:
    """Fill ``disk`` with a file of zeros, then give back ``leave_bytes`` (rounded to pages)."""
    filler = disk / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(fd, bytes(64 * PAGE))
    except OSError as err:
        assert err.errno == errno.ENOSPC
        # The last partial write leaves a file size that is not a whole number of pages.
        while True:
            try:
                os.write(fd, bytes(1))
            except OSError:
                break
    finally:
        os.close(fd)
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - size % PAGE - pages(leave_bytes) * PAGE))
    assert os.statvfs(disk).f_bavail == pages(leave_bytes)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (but the filler) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "filler.bin"}


def no_temps(folder: Path) -> bool:
    return not any(p.name.startswith(TEMP_PREFIX) for p in folder.rglob("*"))


def _model(seed: int):
    import torch

    from core.models.registry import build_model

    torch.manual_seed(seed)
    return build_model("CELAutoencoderSiLU", clip_samples=4096).eval()


# ------------------------------------------------------------------------------------ the model

def test_a_model_write_on_a_full_disk_keeps_the_previous_model(small_disk, tmp_path):
    from core.models.io import load_model, save_model

    disk = small_disk.mount(tmp_path / "disk", 256 * 1024)
    folder = save_model(_model(0), disk / "tiny")
    before = snapshot(folder)
    fill(disk)
    with pytest.raises(WriteError) as info:
        save_model(_model(1), folder)
    assert str(info.value).startswith(f"model.safetensors: {FULL}")
    assert "\n" not in str(info.value)
    assert snapshot(folder) == before and no_temps(disk)
    assert load_model(folder).weights_sha256


def test_a_new_model_whose_config_does_not_fit_leaves_nothing_behind(small_disk, tmp_path):
    from core.models.io import save_model

    probe = save_model(_model(0), tmp_path / "probe")
    disk = small_disk.mount(tmp_path / "disk", 256 * 1024)
    (disk / "tiny").mkdir()
    # Room for the weights, not for the config beside them.
    fill(disk, (probe / "model.safetensors").stat().st_size)
    with pytest.raises(WriteError) as info:
        save_model(_model(0), disk / "tiny")
    assert str(info.value).startswith(f"config.json: {FULL}")
    # Weights without a config would be listed as a model that never loads.
    assert list((disk / "tiny").iterdir()) == []


# ------------------------------------------------------------------------------- the latent PCA

def _pca(model, seed: int):
    from core.latent.pca import fit_latent_pca

    clips = np.random.default_rng(seed).standard_normal((8, 4096)).astype(np.float32) * 0.1
    return fit_latent_pca(model, clips)


def test_a_latent_pca_write_on_a_full_disk_keeps_the_previous_one(small_disk, tmp_path):
    from core.latent.pca import load_latent_pca, save_latent_pca
    from core.models.io import save_model

    disk = small_disk.mount(tmp_path / "disk", 256 * 1024)
    model = _model(0)
    folder = save_model(model, disk / "tiny")
    old = _pca(model, 0)
    save_latent_pca(old, folder)
    before = snapshot(folder)
    fill(disk)
    with pytest.raises(WriteError) as info:
        save_latent_pca(_pca(model, 1), folder)
    assert str(info.value).startswith(f"latent_pca.safetensors: {FULL}")
    assert snapshot(folder) == before and no_temps(disk)
    assert np.array_equal(load_latent_pca(folder).components, old.components)


def test_a_new_latent_pca_whose_json_does_not_fit_leaves_nothing_behind(small_disk, tmp_path):
    from core.latent.pca import PCA_FILE, load_latent_pca, save_latent_pca
    from core.models.io import save_model

    model = _model(0)
    probe = save_model(model, tmp_path / "probe")
    save_latent_pca(_pca(model, 0), probe)
    disk = small_disk.mount(tmp_path / "disk", 256 * 1024)
    folder = save_model(model, disk / "tiny")
    before = snapshot(folder)
    fill(disk, (probe / PCA_FILE).stat().st_size)
    with pytest.raises(WriteError) as info:
        save_latent_pca(_pca(model, 0), folder)
    assert str(info.value).startswith(f"latent_pca.json: {FULL}")
    # A PCA file without its JSON would show in the app as a damaged PCA, not a missing one.
    assert snapshot(folder) == before and no_temps(disk)
    assert load_latent_pca(folder) is None


# ------------------------------------------------------------------------------- the clip cache

def _songs(root: Path, n: int, seconds: float) -> Path:
    for i in range(n):
        genre = ("rock", "jazz")[i % 2]
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        path = root / genre / f"{genre}.{i:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, (0.5 * np.sin(2 * np.pi * (220 + 40 * i) * t)).astype(np.float32),
                 SAMPLE_RATE, subtype="PCM_16")
    return root


@pytest.mark.parametrize("fails", ["data", "json"])
def test_a_clip_cache_write_on_a_full_disk_leaves_no_partial_entry(
        small_disk, tmp_path, monkeypatch, fails):
    from core.data import load_clips, scan_dataset

    disk = small_disk.mount(tmp_path / "cache", 2 * 1024 * 1024)
    monkeypatch.setenv("CELAE_CACHE_DIR", str(disk))
    earlier = load_clips(scan_dataset(_songs(tmp_path / "earlier", 2, 1.0)), clip_samples=4096)
    before = snapshot(disk)
    index = scan_dataset(_songs(tmp_path / "data", 4, 2.0))
    # 4 songs of 2 s at 4096-sample clips: 44 clips of int16, then a JSON of under a page.
    data_bytes = 4 * 11 * 4096 * 2
    fill(disk, data_bytes if fails == "json" else 0)
    with pytest.raises(WriteError) as info:
        load_clips(index, clip_samples=4096)
    message = str(info.value)
    suffix = ".json" if fails == "json" else ".i16"
    assert message.split(": ")[0].endswith(suffix) and f": {FULL}" in message
    assert f"the clip cache is in {disk / 'clips'}" in message and "\n" not in message
    assert snapshot(disk) == before and no_temps(disk)
    again = load_clips(scan_dataset(tmp_path / "earlier"), clip_samples=4096)
    assert again.cache_path == earlier.cache_path


# --------------------------------------------------------------------------------- checkpoints

def test_a_checkpoint_whose_state_does_not_fit_leaves_no_orphan_tensors(small_disk, tmp_path):
    import torch

    from core.training.checkpoint import load_checkpoint, save_checkpoint

    disk = small_disk.mount(tmp_path / "disk", 256 * 1024)
    folder = disk / "checkpoint"
    save_checkpoint(folder, {"w": torch.zeros(4000), "epoch": 1})
    before = snapshot(folder)
    tensors = next(p for p in folder.iterdir() if p.suffix == ".safetensors")
    fill(disk, tensors.stat().st_size)
    with pytest.raises(WriteError) as info:
        save_checkpoint(folder, {"w": torch.ones(4000), "epoch": 2})
    assert str(info.value).startswith(f"state.json: {FULL}")
    assert snapshot(folder) == before and no_temps(disk)
    assert load_checkpoint(folder)["epoch"] == 1


# ---------------------------------------------------------------------------- celae train --out

def test_celae_train_whose_disk_fills_at_the_pca_step_keeps_the_model_and_says_so(
        small_disk, tmp_path, capsys):
    from core.cli.main import main
    from core.models.io import load_model, save_model
    from core.models.registry import build_model

    data = _songs(tmp_path / "data", 4, 5.2)
    probe = save_model(build_model("CELAutoencoder3"), tmp_path / "probe")
    out = tmp_path / "m"
    # The run lock, the weights and their config fit; nothing more. The checkpoint has a disk
    # of its own, so the disk fills exactly at the latent PCA.
    small_disk.mount(out, PAGE * (1 + pages((probe / "model.safetensors").stat().st_size) + 1))
    small_disk.mount(out / "checkpoint", 1024 * 1024)
    code = main(["train", str(data), "--arch", "CELAutoencoder3", "--epochs", "1",
                 "--batch-size", "4", "--device", "cpu", "-q", "--out", str(out)])
    printed = capsys.readouterr()
    err = printed.err
    lines = err.strip().splitlines()
    assert code == 0, err
    assert "Traceback" not in err and "SafetensorError" not in err
    warning = next(line for line in lines if "latent PCA not saved" in line)
    assert f"latent_pca.safetensors: {FULL}" in warning
    assert "the model itself is saved and loads" in warning
    assert printed.out.strip() == (f"saved model to {out} (without its latent PCA: see the "
                                   "warning above)")
    assert load_model(out).arch == "CELAutoencoder3"
    assert not list(out.glob("latent_pca*")) and no_temps(out)

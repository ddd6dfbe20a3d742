"""Reliability: a model folder cannot exhaust memory or hang the program.

Special files (``/dev/zero`` behind a symlink, a FIFO) are refused before any read, and a
``config.json`` is checked against sane bounds and against its weights' header before the model
is built for real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.errors import ModelLoadError
from core.models import build_model
from core.models.io import load_model, save_model
from tests.core.child_memory import PEAK_KIB
from tests.core.test_classify import _one_thread, trained  # noqa: F401  (module fixtures)

REPO = Path(__file__).resolve().parents[2]


def _load_in_child(folder: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Load ``folder`` in a fresh interpreter (a hang or an OOM must not take the suite down);
    prints the error, then the peak RSS in MiB."""
    code = ("import sys\n"
            "from core.errors import CelaeError\n"
            "from core.models.io import load_model\n"
            "try:\n"
            f"    load_model({str(folder)!r})\n"
            "    print('loaded')\n"
            "except CelaeError as err:\n"
            "    print(err)\n"
            f"print({PEAK_KIB} // 1024)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_config_json_linked_to_dev_zero_is_refused_unread(model_dir):
    (model_dir / "config.json").unlink()
    (model_dir / "config.json").symlink_to("/dev/zero")
    with pytest.raises(ModelLoadError, match=r"config.json: is a device, not a regular file"):
        load_model(model_dir)


def test_a_fifo_named_model_safetensors_is_refused_without_hanging(model_dir):
    (model_dir / "model.safetensors").unlink()
    os.mkfifo(model_dir / "model.safetensors")
    # Before the fix, opening the FIFO blocked forever: the child's timeout turns that into a
    # failure instead of a stuck suite.
    done = _load_in_child(model_dir, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == ("model.safetensors: is a FIFO (named pipe), not a "
                                           "regular file")


def test_huge_widths_in_config_json_allocate_nothing_before_the_header_check(model_dir):
    baseline = int(_load_in_child(model_dir).stdout.splitlines()[1])
    cfg = json.loads((model_dir / "config.json").read_text())
    # Within the sane bounds, but two 256x256x1025 kernels are 0.5 GB the weights do not hold.
    cfg["config"].update(channels=[256, 256], kernel_size=1025)
    (model_dir / "config.json").write_text(json.dumps(cfg))
    done = _load_in_child(model_dir)
    message, rss_mib = done.stdout.splitlines()
    assert message.startswith("model.safetensors: tensor ") and "implies" in message
    print(f"peak RSS: {baseline} MiB loading the good model, {rss_mib} MiB refusing this one")
    assert int(rss_mib) < baseline + 250


@pytest.mark.parametrize(("values", "words"), [
    ({"channels": [100_000, 16]}, "each channel width must be an integer from 1 to 4096"),
    ({"kernel_size": 1_000_001}, "kernel_size must be an integer from 1 to 1025"),
    ({"clip_samples": 10**12}, "clip_samples must be an integer from 64 to"),
    ({"clip_samples": 1}, "clip_samples must be an integer from 64 to"),
    ({"clip_samples": 4_000_000, "latent_channels": 4096}, "GiB of activations"),
])
def test_config_values_outside_sane_bounds_are_refused(model_dir, values, words):
    cfg = json.loads((model_dir / "config.json").read_text())
    cfg["config"].update(values)
    (model_dir / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelLoadError, match=r"^config.json: ") as info:
        load_model(model_dir)
    assert words in str(info.value)


def test_a_deeply_nested_config_json_is_one_line(model_dir):
    (model_dir / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelLoadError, match=r"config.json: invalid JSON \(nested too deeply\)"):
        load_model(model_dir)


def test_codec_bounds_refuse_a_stride_of_a_million():
    with pytest.raises(ValueError, match="each stride must be an integer from 1 to 64"):
        build_model("CELCodec64", strides=(1_000_000, 4, 8))


def test_a_classifier_without_its_autoencoders_checksum_is_refused(trained, tmp_path):  # noqa: F811
    import shutil

    from core.genre.files import load_classifier

    root, _, _ = trained
    shutil.copytree(root / "ae", tmp_path / "ae")
    cfg_path = tmp_path / "ae" / "classifier" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    del cfg["autoencoder"]["sha256"]
    cfg_path.write_text(json.dumps(cfg))
    # Another autoencoder in its place: without the checksum nothing would tell.
    torch.manual_seed(5)
    save_model(build_model("CELAutoencoderSiLU", clip_samples=4096), tmp_path / "ae")
    with pytest.raises(ModelLoadError, match=r"config.json: names no checksum of its autoencoder"):
        load_classifier(tmp_path / "ae" / "classifier")

"""``celae export``: ONNX and TorchScript graphs that reproduce torch, at any length."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

from core.cli.main import main
from core.errors import FileError
from core.export import MAX_ABS_DIFF, ExportError, export_model
from core.export.parity import probe_signal
from core.models import registry
from core.models.base import Autoencoder
from core.models.cel import CELConfig
from core.models.io import load_model, save_model
from core.paths import bundled_models_dir

HOST = Path(__file__).with_name("onnx_host.py")
# Every model the app ships, read from its folder, so a newly bundled model is covered too.
BUNDLED = tuple(sorted(p.name for p in bundled_models_dir().iterdir()
                       if (p / "config.json").is_file()))


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_model_exports_in_both_formats(capsys, tmp_path, name, fmt):
    out = tmp_path / "D"
    code, text, err = _cli(capsys, "export", name, "--format", fmt, "--out", str(out), "-q")
    assert code == 0, err
    assert "matches torch" in text
    suffix = ".onnx" if fmt == "onnx" else ".ts"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"decoder{suffix}", f"encoder{suffix}", "export.json"])
    manifest = json.loads((out / "export.json").read_text())
    model = load_model(name)
    assert manifest["model"]["name"] == name
    assert manifest["model"]["weights_sha256"] == model.meta["weights_sha256"]
    assert manifest["sample_rate"] == 22050
    assert manifest["latent"]["clip_latent_shape"] == list(model.model.latent_shape())
    assert [i["name"] for i in manifest["encoder"]["inputs"]] == ["audio"]
    assert [i["name"] for i in manifest["decoder"]["inputs"]] == ["latent", "length"]
    pca = manifest["pca"]
    from core.latent.pca import load_latent_pca

    # The directions the app offers (the level-only DC direction left out), no fewer.
    shown = load_latent_pca(model.path)
    assert len(pca["components"]) == len(pca["std"]) == len(shown.std) >= 1
    figures = manifest["parity"]["figures"]
    assert {f["samples"] for f in figures} == {110250, 36751}
    assert all(f["passed"] for f in figures)


VARIANTS = [(arch, {}) for arch in registry.architectures()] + [
    ("CELAutoencoderSiLU", {"upsample_mode": "nearest", "latent_ratio": 3.5}),
    ("CELCodec4", {"weight_norm": True}),
]


@pytest.mark.parametrize(("arch", "overrides"), VARIANTS)
def test_every_architecture_exports_and_matches_torch_at_an_odd_length(tmp_path, arch,
                                                                       overrides):
    torch.manual_seed(0)
    model = registry.build_model(arch, clip_samples=8192, **overrides).eval()
    folder = save_model(model, tmp_path / arch)
    for fmt in ("onnx", "torchscript"):
        result = export_model(folder, tmp_path / fmt, fmt)
        assert result.parity.passed, [f.describe() for f in result.parity.figures]
        assert {f.samples for f in result.parity.figures} == {8192, 2731}


@pytest.mark.parametrize("name", BUNDLED)
def test_a_host_with_only_numpy_and_onnxruntime_hears_what_celae_reconstruct_writes(
        capsys, tmp_path, name):
    clip = tmp_path / "clip.wav"
    sf.write(clip, probe_signal(110250, 22050, seed=3)[0, 0], 22050, subtype="PCM_16")
    export_dir, recon = tmp_path / "D", tmp_path / "recon.wav"
    assert _cli(capsys, "export", name, "--format", "onnx", "--out", str(export_dir),
                "-q")[0] == 0
    assert _cli(capsys, "reconstruct", str(clip), "--model", name, "--out", str(recon),
                "-q")[0] == 0

    site = Path(np.__file__).parent.parent
    host_out = tmp_path / "host.npy"
    run = subprocess.run([sys.executable, "-I", "-S", str(HOST), str(site), str(export_dir),
                          str(clip), str(host_out)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["outside_imports"] == []
    assert report["latent_shape"] == [1, *load_model(name).model.latent_shape()]
    heard = np.load(host_out)
    written, _ = sf.read(recon, dtype="float32")
    assert heard.shape == written.shape
    # The WAV holds 16-bit samples: the host's float audio is within about one step of it.
    assert np.abs(heard - written).max() <= MAX_ABS_DIFF


class _FFTLowPass(Autoencoder):
    """A model whose encoder uses an FFT, which the ONNX exporter has no operator for."""

    def __init__(self, config: CELConfig):
        super().__init__(config)
        self.gain = torch.nn.Parameter(torch.ones(1))

    def encode(self, x):
        spec = torch.fft.rfft(x)
        return torch.fft.irfft(spec * self.gain, n=x.shape[-1])[..., ::2]

    def decode(self, z, length=None):
        T = self.output_length(z.shape[-1]) if length is None else int(length)
        return F.interpolate(z, size=T, mode="linear")


@pytest.fixture
def fft_model(tmp_path, monkeypatch) -> Path:
    monkeypatch.setitem(registry._REGISTRY, "TestFFTLowPass",
                        registry.Preset("TestFFTLowPass", _FFTLowPass, CELConfig, {}))
    model = registry.build_model("TestFFTLowPass", clip_samples=4096)
    return save_model(model.eval(), tmp_path / "fft-model")


def test_an_untraceable_model_gives_one_line_naming_the_model_and_the_operator(
        capsys, tmp_path, fft_model):
    code, _, err = _cli(capsys, "export", str(fft_model), "--out", str(tmp_path / "D"), "-q")
    assert code == 1
    assert err.strip().splitlines() == [
        "celae: error: fft-model: cannot export to ONNX: operator aten::fft_rfft cannot be "
        "exported"]
    assert not any((tmp_path / "D").iterdir())


def test_a_graph_that_froze_its_length_fails_with_the_figures_and_writes_nothing(
        tmp_path, fft_model):
    # The tracer records the FFT, but the decoder's Python length becomes a constant.
    out = tmp_path / "D"
    with pytest.raises(ExportError) as info:
        export_model(fft_model, out, "torchscript")
    message = str(info.value)
    assert message.startswith("fft-model: the torchscript export does not reproduce torch (")
    assert "decoder, 1365 samples" in message and "\n" not in message
    assert not any(out.iterdir())


def test_the_model_folder_itself_is_refused_as_the_export_folder(capsys, tmp_path):
    torch.manual_seed(0)
    folder = save_model(registry.build_model("CELAutoencoder3", clip_samples=4096).eval(),
                        tmp_path / "m")
    before = sorted(p.name for p in folder.iterdir())
    code, _, err = _cli(capsys, "export", str(folder), "--out", str(folder), "-q")
    assert code == 1 and "is the model's own folder" in err
    assert sorted(p.name for p in folder.iterdir()) == before


def test_without_onnx_core_imports_and_export_says_what_to_install(tmp_path):
    # onnx and onnxruntime are optional at import time: hide them as an install without them.
    script = f"""
import sys
# None in sys.modules is how Python marks a module as absent: import raises ImportError and
# importlib.util.find_spec answers None, as on a machine without these packages.
for name in ("onnx", "onnxruntime", "onnxscript"):
    sys.modules[name] = None
import core.export, core.models, core.cli.commands
from core.cli.main import main
sys.exit(main(["export", "celcodec4-demo", "--out", {str(tmp_path / "D")!r}, "-q"]))
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 1, run.stderr
    assert run.stderr.strip().splitlines() == [
        "celae: error: celcodec4-demo: cannot export to ONNX: the onnx package is not installed "
        "(pip install onnx)"]


def test_an_export_file_hard_linked_to_a_model_file_is_refused(tmp_path):
    torch.manual_seed(0)
    folder = save_model(registry.build_model("CELAutoencoder3", clip_samples=4096).eval(),
                        tmp_path / "m")
    before = (folder / "config.json").read_bytes()
    out = tmp_path / "D"
    out.mkdir()
    os.link(folder / "config.json", out / "encoder.onnx")
    with pytest.raises(FileError, match="would replace the input .*config.json"):
        export_model(folder, out, "onnx")
    assert (folder / "config.json").read_bytes() == before

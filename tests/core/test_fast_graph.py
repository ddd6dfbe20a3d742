"""The graph the onnxruntime engine runs (core/models/fast_graph.py): the model's own sound."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core.audio.metrics import si_sdr
from core.constants import SAMPLE_RATE
from core.models import build_model
from core.models.fast_graph import FastELU, PolyphaseConvTranspose1d, swapped
from core.models.io import load_model, save_model
from core.models.streaming import torch_window_fn

pytestmark = pytest.mark.timeout(120)


def _music(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SAMPLE_RATE
    notes = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in rng.uniform(80, 4000, 6))
    return (0.15 * notes + 0.02 * rng.standard_normal(n)).astype(np.float32)


def _trained_looking(model: nn.Module, seed: int = 0) -> nn.Module:
    # A fresh codec's deep path ends in zeros; weights of a trained one are not.
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    return model.eval()


@pytest.mark.parametrize(("c_in", "c_out", "stride", "kernel", "padding", "output_padding"), [
    (16, 8, 4, 8, 2, 0), (32, 16, 8, 16, 4, 0), (8, 1, 32, 64, 16, 0), (3, 5, 2, 6, 0, 0),
    (4, 4, 3, 6, 2, 1),  # an odd stride's output padding: not rewritten, left as it is
])
def test_transposed_convolutions_are_rewritten_only_where_they_stay_equal(
        c_in, c_out, stride, kernel, padding, output_padding):
    torch.manual_seed(0)
    conv = nn.ConvTranspose1d(c_in, c_out, kernel, stride=stride, padding=padding,
                              output_padding=output_padding)
    holder = nn.Sequential(conv, nn.ELU())
    fast = swapped(holder)
    x = torch.randn(2, c_in, 37)

    with torch.no_grad():
        assert torch.allclose(fast(x), holder(x), atol=1e-5)
    assert isinstance(fast[0], PolyphaseConvTranspose1d) == (output_padding == 0)
    assert isinstance(fast[1], FastELU)
    assert isinstance(holder[0], nn.ConvTranspose1d)  # the caller's model is left alone


def test_the_engine_runs_a_codec_as_torch_does(tmp_path):
    from core.models.onnx_engine import load_onnx

    model = _trained_looking(build_model("CELCodec4", clip_samples=8192))
    folder = save_model(model, tmp_path / "codec")
    windows = np.stack([_music(8192, 1), _music(8192, 2), _music(8192, 3)])

    by_torch = torch_window_fn(load_model(folder).model)(0, windows)
    engine = load_onnx(folder, threads=2)
    by_engine = engine(0, windows)
    later = engine.submit(0, windows)()

    assert engine.exported
    assert si_sdr(by_torch, by_engine).min() >= 60
    np.testing.assert_array_equal(later, by_engine)

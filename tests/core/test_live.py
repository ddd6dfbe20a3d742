"""Live blocks through a model equal the one-pass output, delayed by the reported latency."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.audio.metrics import si_sdr
from core.models import build_model
from core.models.live import LiveEngine, measure_live, receptive_radius

SR = 22_050


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _signal(n: int) -> np.ndarray:
    t = np.arange(n) / SR
    rng = np.random.default_rng(2)
    return (0.4 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(n)).astype(np.float32)


@pytest.mark.parametrize("arch,overrides", [
    ("CELAutoencoderSiLU", {"clip_samples": 4096}),
    ("CELCodec4", {"clip_samples": 4096}),
])
def test_live_output_is_the_one_pass_output_at_the_reported_latency(arch, overrides):
    torch.manual_seed(0)
    model = build_model(arch, **overrides).eval()
    engine = LiveEngine(model, 256)
    assert engine.context >= receptive_radius(model) > 0
    x = _signal(256 * 60)
    out = np.concatenate([engine.process(x[i:i + 256]) for i in range(0, len(x), 256)])
    with torch.inference_mode():
        whole = model(torch.from_numpy(x).view(1, 1, -1))[0, 0].numpy()
    lag = engine.delay_samples
    assert engine.latency_samples == 256 + lag
    start = 2 * engine.context + 256  # past the silent history the stream starts from
    live, ref = out[lag + start:], whole[start:len(x) - lag]
    assert si_sdr(ref, live) >= 60


def test_a_block_off_the_stride_grid_is_refused_and_timing_is_reported():
    model = build_model("CELCodec4", clip_samples=4096).eval()
    with pytest.raises(ValueError, match="multiple of"):
        LiveEngine(model, 257)
    report = measure_live(build_model("CELAutoencoderSiLU", clip_samples=4096), 512, SR,
                          blocks=3)
    assert report.block == 512 and report.latency_ms > 1000 * 512 / SR
    assert report.real_time_factor > 0 and report.keeps_up == (report.real_time_factor <= 0.7)


def test_live_edits_scale_smooth_and_draw_new_noise_per_block():
    from core.latent.edits import EditParams
    from core.latent.window_edits import LiveEdits

    z = np.random.default_rng(0).standard_normal((1, 8, 64)).astype(np.float32)
    assert LiveEdits(EditParams()).is_identity
    np.testing.assert_allclose(LiveEdits(EditParams(scale=2.0))(z), 2 * z, rtol=1e-6)
    noisy = LiveEdits(EditParams(noise_sigma=0.5))
    a, b = noisy(z), noisy(z)
    assert not np.allclose(a, b)  # a new draw per block, not one noise looped
    assert 0.3 < float(np.std(a - z) / np.std(z)) < 0.7
    mixed = LiveEdits(EditParams(mix_t=0.5, pc_offsets=(1.0,)))
    assert mixed.skipped == ["mixing with a second song", "principal-direction sliders"]
    np.testing.assert_array_equal(mixed(z), z)  # what cannot apply live is left out

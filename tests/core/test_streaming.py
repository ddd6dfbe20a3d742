"""Block-by-block rendering equals the offline whole-song render, from any start, with edits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.audio.metrics import si_sdr
from core.latent.edits import EditParams, apply_edits
from core.latent.window_edits import SongEdits, latent_rms
from core.models import build_model
from core.models.inference import decode_song, encode_song, reconstruct_song
from core.models.streaming import (
    LatentRenderer,
    WindowPlan,
    stream_song,
    torch_decode_fn,
    torch_window_fn,
)
from core.progress import Cancelled

CLIP = 1_024
SR = 22_050


def _song(n: int) -> np.ndarray:
    t = np.arange(n) / SR
    rng = np.random.default_rng(1)
    return (0.4 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
            + 0.05 * rng.standard_normal(n)).astype(np.float32)


@pytest.fixture(scope="module")
def model():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    m = build_model("CELAutoencoderSiLU", clip_samples=CLIP).eval()
    yield m
    torch.set_num_threads(before)


def _blocks(x: np.ndarray, sizes):
    at, k = 0, 0
    while at < len(x):
        n = sizes[k % len(sizes)]
        yield x[at:at + n]
        at, k = at + n, k + 1


@pytest.mark.parametrize("n", [1, 500, CLIP, CLIP + 1, 922 + CLIP, 20_000, 20_417])
def test_streamed_song_equals_the_offline_render_at_any_length(model, n):
    song = _song(n)
    offline = reconstruct_song(model, song)
    ins, outs = [], []
    for x, y in stream_song(_blocks(song, [333, 4_000, 17]), CLIP, torch_window_fn(model),
                            batch_size=3):
        ins.append(x)
        outs.append(y)
    streamed, seen = np.concatenate(outs), np.concatenate(ins)
    assert streamed.shape == (n,)
    np.testing.assert_array_equal(seen, song)  # the input handed back lines up with the output
    if n > 1:
        assert si_sdr(offline, streamed) >= 60
    assert np.max(np.abs(offline - streamed)) < 1e-5


def test_a_render_restarted_anywhere_is_exact_from_that_position(model):
    song = _song(30_000)
    latent = encode_song(model, song)
    offline = decode_song(model, latent)
    plan = WindowPlan.for_song(len(song), CLIP)
    assert plan.count == len(latent.z)
    renderer = LatentRenderer(plan, latent.z, torch_decode_fn(model, CLIP))
    for position in (0, 1, plan.hop - 1, plan.hop, plan.hop + plan.fade, 12_345, 29_999):
        first = next(iter(renderer.blocks(position)))
        assert first.start <= position
        rest = np.concatenate([b.audio for b in renderer.blocks(position)])
        start = plan.emitted_start(plan.first_window(position))
        assert first.start == start and start + len(rest) == len(song)
        assert np.max(np.abs(rest - offline[start:])) < 1e-5


def test_edited_render_streamed_from_the_play_head_matches_the_whole_edited_song(model):
    song = _song(25_000)
    latent = encode_song(model, song)
    plan = WindowPlan.for_song(len(song), CLIP)
    edits = SongEdits(EditParams(scale=1.4, smooth_window=5, noise_sigma=1.0, noise_seed=3),
                      rms=latent_rms(latent.z))
    whole = LatentRenderer(plan, latent.z, torch_decode_fn(model, CLIP, edits)).render()
    unedited = decode_song(model, latent)
    assert si_sdr(unedited, whole) < 30  # the edit changed the sound
    position = 17_000
    renderer = LatentRenderer(plan, latent.z, torch_decode_fn(model, CLIP, edits))
    blocks = list(renderer.blocks(position, batch_size=2))
    tail = np.concatenate([b.audio for b in blocks])
    assert si_sdr(whole[blocks[0].start:], tail) >= 60


def test_window_edits_without_noise_are_the_whole_array_edits():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 1, 50)).astype(np.float32)
    other = rng.standard_normal((6, 1, 50)).astype(np.float32)
    params = EditParams(scale=0.7, smooth_window=3, mix_t=0.4)
    edits = SongEdits(params, rms=latent_rms(z), other=other)
    by_window = np.concatenate([edits(i, z[i:i + 2]) for i in range(0, 6, 2)])
    np.testing.assert_allclose(by_window, apply_edits(z, params, other), atol=1e-6)
    noisy = SongEdits(EditParams(noise_sigma=0.5, noise_seed=9), rms=latent_rms(z))
    np.testing.assert_array_equal(noisy(4, z[4:5])[0], noisy(0, z)[4])  # same noise per window
    assert not np.allclose(noisy(0, z)[0] - z[0], noisy(0, z)[1] - z[1])


def test_stopping_cancels_between_batches(model):
    song = _song(20_000)
    latent = encode_song(model, song)
    plan = WindowPlan.for_song(len(song), CLIP)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        list(LatentRenderer(plan, latent.z, torch_decode_fn(model, CLIP)).blocks(
            0, should_stop=stop))
    assert len(calls) == 3


@pytest.mark.parametrize("arch", ["CELAutoencoderSiLU", "CELCodec4", "CELCodec64"])
def test_a_short_span_decoded_alone_is_the_whole_render_there(arch):
    """What a slider move plays first (a fraction of a window) is what the full render plays."""
    from core.models.streaming import decoder_radius, render_span, torch_span_fn

    torch.manual_seed(0)
    m = build_model(arch, clip_samples=4_096).eval()
    song = _song(30_000)
    latent = encode_song(m, song)
    plan = WindowPlan.for_song(len(song), m.clip_samples)
    edits = SongEdits(EditParams(scale=1.3, smooth_window=3, noise_sigma=0.5),
                      rms=latent_rms(latent.z))
    whole = LatentRenderer(plan, latent.z, torch_decode_fn(m, m.clip_samples, edits)).render()
    radius = decoder_radius(m)
    assert radius is not None and 1 <= radius < latent.z.shape[-1]
    step = m.latent_ratio
    for start in (0, 5, plan.hop - 100, plan.hop + 7, 2 * plan.hop + plan.fade, 29_000):
        span = render_span(plan, lambda i: edits(i, latent.z[i:i + 1])[0],
                           torch_span_fn(m), radius, step, start, start + 1_500)
        ref = whole[start:start + 1_500]
        assert span.shape == ref.shape
        assert np.max(np.abs(span - ref)) < 1e-4, (arch, start)
        assert si_sdr(ref, span) >= 60

"""Encoding/decoding numpy audio, and whole songs chunked into clips and crossfaded."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.audio.metrics import si_sdr
from core.models import build_model
from core.models.inference import (
    decode,
    decode_song,
    encode,
    encode_song,
    overlap_add,
    reconstruct,
    reconstruct_song,
    song_windows,
)
from core.progress import Cancelled

CLIP = 1_024
SR = 22_050


def _song(n=20_000):
    t = np.arange(n) / SR
    return (0.4 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))
            + 0.2 * np.sin(2 * np.pi * 330 * t + 1)).astype(np.float32)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: on a busy 2-core machine two OpenMP threads spin-wait for each other
    and these small convolutions run 20x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(one_thread):
    """A tiny model fitted for a few steps on the test song, so reconstructions mean something."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = build_model("CELAutoencoderSiLU", clip_samples=CLIP)
    song = torch.from_numpy(_song())
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        starts = rng.integers(0, song.numel() - CLIP, size=4)
        batch = torch.stack([song[s:s + CLIP] for s in starts]).unsqueeze(1)
        loss = torch.nn.functional.mse_loss(model(batch), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def test_clip_functions_give_the_documented_shapes_and_match_the_model(trained):
    clips = np.stack([_song()[i * CLIP:(i + 1) * CLIP] for i in range(5)])
    z = encode(trained, clips, batch_size=2)
    assert z.shape == (5, 1, CLIP // 2) and z.dtype == np.float32
    y = decode(trained, z, batch_size=3)
    assert y.shape == clips.shape
    assert np.allclose(reconstruct(trained, clips), y, atol=1e-6)
    with torch.inference_mode():
        direct = trained(torch.from_numpy(clips).unsqueeze(1))[:, 0].numpy()
    assert np.allclose(y, direct, atol=1e-6)
    assert si_sdr(clips, y).mean() > 10


def test_inference_leaves_a_training_model_in_training_mode(trained):
    trained.train()
    try:
        encode(trained, np.zeros((1, CLIP), np.float32))
        assert trained.training
    finally:
        trained.eval()


def test_windows_and_crossfade_put_an_untouched_song_back_exactly():
    song = _song(9_999)
    for overlap in (0.0, 0.1, 0.25):
        windows, hop = song_windows(song, 1_000, overlap)
        assert windows.shape[1] == 1_000
        assert np.allclose(overlap_add(windows, hop, song.size), song, atol=1e-6)


def test_chunked_song_sounds_as_good_as_one_pass_and_has_no_audible_seams(trained):
    song = _song()
    with torch.inference_mode():
        one_pass = trained(torch.from_numpy(song).view(1, 1, -1))[0, 0].numpy()
    chunked = reconstruct_song(trained, song, overlap=0.1, batch_size=4)
    assert chunked.shape == song.shape
    assert abs(si_sdr(song, chunked) - si_sdr(song, one_pass)) < 0.5
    # Crossfading must bring the chunked output closer to the seam-free one than hard cuts.
    hard_cuts = reconstruct_song(trained, song, overlap=0.0)
    assert si_sdr(one_pass, chunked) > si_sdr(one_pass, hard_cuts) + 6
    assert si_sdr(one_pass, chunked) > 35


@pytest.mark.parametrize("n", [1, 700, CLIP, CLIP + 1])
def test_songs_of_any_length_come_back_at_their_length(trained, n):
    out = reconstruct_song(trained, _song(n))
    assert out.shape == (n,) and np.isfinite(out).all()


def test_song_latent_round_trip_equals_reconstruction(trained):
    song = _song(7_000)
    latent = encode_song(trained, song)
    assert latent.z.shape[1:] == (1, CLIP // 2)
    assert latent.length == 7_000 and latent.overlap == round(0.1 * CLIP)
    assert np.allclose(decode_song(trained, latent), reconstruct_song(trained, song), atol=1e-5)
    louder = decode_song(trained, latent.with_z(latent.z * 1.5))
    assert louder.shape == song.shape and not np.allclose(louder, song)


def test_progress_reaches_the_end_and_stopping_cancels(trained):
    song = _song()
    seen = []
    reconstruct_song(trained, song, batch_size=2, on_progress=lambda f, m: seen.append(f))
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 2
    calls = []

    def stop_after_one_batch():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Cancelled):
        reconstruct_song(trained, song, batch_size=2, should_stop=stop_after_one_batch)
    assert len(calls) == 2


def test_wrong_shapes_are_refused_with_the_expected_shape(trained):
    with pytest.raises(ValueError, match=r"\[N, T\]"):
        encode(trained, np.zeros(CLIP, np.float32))
    with pytest.raises(ValueError, match=r"\[N, C, L\]"):
        decode(trained, np.zeros((1, CLIP), np.float32))

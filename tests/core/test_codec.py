"""CELCodec: the ratios its presets promise, the length rule, the untrained low-pass behaviour,
training through the project's trainer on crops, and the model file round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.audio.metrics import si_sdr
from core.constants import CLIP_SAMPLES, SAMPLE_RATE
from core.data import ClipSet
from core.models import architectures, build_model
from core.models.codec import PRESETS, mdct_basis
from core.models.inference import decode, encode, reconstruct
from core.models.io import load_model, save_model
from core.models.losses import make_loss
from core.training.trainer import TrainConfig, train

TINY = {"channels": (4, 4), "stem_channels": 4, "res_units": 1}


def _tone(freq: float, n: int, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / SAMPLE_RATE)).astype(np.float32)


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_keep_the_share_of_samples_their_name_promises(name):
    assert name in architectures()
    ratio = int(name.removeprefix("CELCodec"))
    model = build_model(name)
    C, L = model.latent_shape(CLIP_SAMPLES)
    assert model.config.compression == ratio
    # Padding the clip to whole frames costs at most one frame.
    assert ratio * 0.98 <= CLIP_SAMPLES / (C * L) <= ratio


def test_a_whole_clip_comes_back_with_its_exact_length_and_a_crop_too():
    model = build_model("CELCodec64", strides=(8, 4, 4, 4), channels=(4, 4, 4, 4),
                        latent_channels=8, stem_channels=4, res_units=1)
    clip = _tone(220, CLIP_SAMPLES)
    z = encode(model, clip[None])
    assert z.shape == (1, 8, 216)
    assert decode(model, z).shape == (1, CLIP_SAMPLES)
    crop = torch.from_numpy(clip[None, None, :5000])
    with torch.no_grad():
        assert model(crop).shape == (1, 1, 5000)
        zc = model.encode(crop)
        assert zc.shape == (1, 8, 10)
        assert model.decode(zc).shape[-1] == 10 * 512  # not a whole clip: L * hop
        with pytest.raises(ValueError, match="length"):
            model.decode(zc, length=10 * 512 + 1)


def test_untrained_codec_passes_low_tones_and_cuts_above_its_band():
    # 1/4 keeps 8 of 32 MDCT bins: a pass band up to about 2.7 kHz.
    model = build_model("CELCodec4", **TINY, clip_samples=8192)
    low, high = _tone(440, 8192), _tone(6000, 8192)
    out = reconstruct(model, np.stack([low, high]))
    assert si_sdr(low[512:-512], out[0, 512:-512]) > 25
    assert np.sqrt(np.mean(out[1, 512:-512] ** 2)) < 0.05 * np.sqrt(np.mean(high ** 2))


def test_output_stays_in_range_for_a_loud_latent():
    model = build_model("CELCodec4", **TINY, clip_samples=4096)
    with torch.no_grad():
        z = model.encode(torch.from_numpy(_tone(300, 4096)[None, None])) * 20
        y = model.decode(z)
    assert y.abs().max() <= 1.0


def test_bad_configs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="one width per stride"):
        build_model("CELCodec4", channels=(8,))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        build_model("CELCodec4", kernel_size=4)
    with pytest.raises(ValueError, match="even hop"):
        build_model("CELCodec4", strides=(3, 5))
    assert build_model("CELCodec4", strides=(3, 5), bypass=False).config.hop == 15
    with pytest.raises(ValueError, match="loss must be one of"):
        build_model("CELCodec4", loss="nope")


def _songs(n_songs: int = 4, T: int = 2048) -> ClipSet:
    rng = np.random.default_rng(0)
    rows, songs = [], []
    for s in range(n_songs):
        for c in range(2):
            x = _tone(150 * (s + 1), T, 0.3) + _tone(4000 + 500 * s, T, 0.1)
            rows.append(x + 0.02 * rng.standard_normal(T).astype(np.float32) * c)
            songs.append(s)
    return ClipSet.from_audio(np.stack(rows), song_of_clip=songs)


def test_trains_with_the_spectral_loss_on_crops_and_round_trips_through_a_model_file(tmp_path):
    data = _songs()
    # Six epochs: the guarded preset's deep path starts at zero and needs a few steps to add
    # the high tones (three gave a loss 1 % above the untrained model's).
    cfg = TrainConfig(arch="CELCodec4", model=dict(TINY), epochs=6, batch_size=3, lr=1e-3,
                      seed=0, device="cpu", valid_fraction=0.25, loss="spectral", crop=1024,
                      out_dir=str(tmp_path / "codec"), num_workers=0, threads=1, patience=None)
    result = train(cfg, data)
    assert all(np.isfinite([h["train_loss"] for h in result.history]))
    torch.manual_seed(0)
    untrained = build_model("CELCodec4", **TINY, clip_samples=2048)
    clips = torch.from_numpy(data.clips.astype(np.float32) / 32768)[:, None]
    loss = make_loss("spectral")
    with torch.no_grad():
        assert loss(result.model(clips), clips) < loss(untrained(clips), clips)
    loaded = load_model(tmp_path / "codec")
    assert loaded.arch == "CELCodec4" and loaded.model.clip_samples == 2048
    np.testing.assert_allclose(reconstruct(loaded.model, clips[:2, 0].numpy()),
                               reconstruct(result.model, clips[:2, 0].numpy()), atol=1e-6)


def test_the_band_guard_keeps_the_bypass_band_as_the_latent_says_after_training(tmp_path):
    # The guarded preset (CELCodec4) can only add what the MDCT band lacks: after training,
    # the output's band (the MDCT analysis of the output) is the latent itself, and the
    # transform did not move.
    data = _songs()
    cfg = TrainConfig(arch="CELCodec4", model=dict(TINY), epochs=2, batch_size=3, lr=3e-3,
                      seed=0, device="cpu", valid_fraction=0.25, loss="spectral", crop=1024,
                      out_dir=str(tmp_path / "guarded"), num_workers=0, threads=1)
    model = train(cfg, data).model.eval()
    assert model.config.band_guard
    basis = mdct_basis(model.config.hop, model.config.latent_channels)
    np.testing.assert_allclose(model.analysis.weight[:, 0].detach(), basis, atol=1e-7)
    x = torch.from_numpy(data.clips[:2].astype(np.float32) / 32768)[:, None]
    with torch.no_grad():
        z = model.encode(x)
        band = model.analysis(model.decode(z))
        deep = model.decoder(z)
    assert deep.abs().max() > 1e-3  # the deep path learned something...
    # ...and none of it lands in the band (interior frames: the edges are half windows).
    np.testing.assert_allclose(band[..., 2:-2], z[..., 2:-2], atol=1e-4)
    unguarded = build_model("CELCodec4", **TINY, band_guard=False, clip_samples=2048)
    assert all(p.requires_grad for p in unguarded.parameters())


def test_a_model_saved_before_the_band_guard_existed_loads_unguarded(tmp_path):
    # Files without the field were trained without the guard: loading one with the preset's
    # new default would silently change what it sounds like.
    import json

    old = build_model("CELCodec4", **TINY, band_guard=False, clip_samples=2048)
    with torch.no_grad():
        old.decoder[-1].weight.normal_(0, 0.05)  # a deep path that reaches into the band
    save_model(old, tmp_path / "old")
    cfg = json.loads((tmp_path / "old" / "config.json").read_text())
    del cfg["config"]["band_guard"]
    (tmp_path / "old" / "config.json").write_text(json.dumps(cfg))
    loaded = load_model(tmp_path / "old").model
    assert loaded.config.band_guard is False
    x = _tone(500, 2048)[None]
    np.testing.assert_allclose(reconstruct(loaded, x), reconstruct(old, x), atol=1e-6)


def test_weight_norm_variant_saves_and_loads(tmp_path):
    model = build_model("CELCodec4", **TINY, weight_norm=True, clip_samples=2048)
    save_model(model, tmp_path / "wn")
    loaded = load_model(tmp_path / "wn").model
    x = _tone(500, 2048)[None]
    np.testing.assert_allclose(reconstruct(loaded, x), reconstruct(model, x), atol=1e-6)

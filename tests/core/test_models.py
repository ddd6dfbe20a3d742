"""The report's model family, the registry and device selection."""

from __future__ import annotations

import math

import pytest
import torch

from core.devices import pick_device
from core.errors import DeviceError
from core.models import (
    architectures,
    build_model,
    config_from_dict,
    config_to_dict,
    register,
)
from core.models.cel import CELAutoencoder, CELConfig

REPORT_LATENTS = {
    "CELAutoencoderLeakyReLU": 55_125,
    "CELAutoencoderSiLU": 55_125,
    "CELAutoencoder2": 27_563,
    "CELAutoencoder3": 11_025,
}


@pytest.mark.parametrize("name", sorted(REPORT_LATENTS))
def test_report_presets_have_the_reports_latent_sizes_at_full_clip_length(name):
    model = build_model(name).eval()
    x = torch.rand(1, 1, 110_250) * 2 - 1
    with torch.inference_mode():
        z = model.encode(x)
        y = model.decode(z)
    assert model.arch == name
    assert tuple(z.shape) == (1, 1, REPORT_LATENTS[name])
    assert model.latent_shape() == (1, REPORT_LATENTS[name])
    assert tuple(y.shape) == (1, 1, 110_250)
    assert float(y.abs().max()) <= 1.0


def test_report_presets_differ_in_activation_as_the_report_says():
    assert isinstance(build_model("CELAutoencoderLeakyReLU").enc_in[2], torch.nn.LeakyReLU)
    assert isinstance(build_model("CELAutoencoderSiLU").enc_in[2], torch.nn.SiLU)


@pytest.mark.parametrize("ratio, T", [(3.5, 5_000), (2, 4_097), (10, 999)])
def test_any_ratio_and_any_input_length_round_trip_to_the_same_length(ratio, T):
    model = build_model("CELAutoencoderSiLU", latent_ratio=ratio, clip_samples=4_096).eval()
    with torch.inference_mode():
        z = model.encode(torch.zeros(2, 1, T))
        y = model.decode(z, length=T)
        y_forward = model(torch.zeros(2, 1, T))
    assert z.shape[-1] == model.latent_shape(T)[1] == math.ceil(T / ratio)
    assert y.shape == y_forward.shape == (2, 1, T)


def test_decode_of_a_clip_latent_gives_a_clip_without_being_told_the_length():
    model = build_model("CELAutoencoder2", clip_samples=1_001).eval()
    with torch.inference_mode():
        y = model.decode(torch.zeros(1, 1, model.latent_shape()[1]))
    assert y.shape[-1] == 1_001


def test_gradients_reach_the_encoder_so_the_model_can_learn():
    model = build_model("CELAutoencoderSiLU", clip_samples=512)
    x = torch.rand(4, 1, 512) - 0.5
    torch.nn.functional.mse_loss(model(x), x).backward()
    assert float(model.enc_in[0].weight.grad.abs().sum()) > 0
    assert float(model.dec_out[0].weight.grad.abs().sum()) > 0


@pytest.mark.parametrize("overrides, words", [
    ({"activation": "swish"}, "activation"),
    ({"latent_ratio": 1.0}, "latent_ratio"),
    ({"latent_ratio": float("nan")}, "latent_ratio"),
    ({"kernel_size": 8}, "odd"),
    ({"clip_samples": 0}, "clip_samples"),
    ({"channels": (8,)}, "channels"),
    ({"upsample_mode": "cubic"}, "upsample_mode"),
    ({"dropout": 0.1}, "unknown config field"),
])
def test_nonsense_settings_are_refused_with_a_message_naming_the_setting(overrides, words):
    with pytest.raises(ValueError, match=words):
        build_model("CELAutoencoderSiLU", **overrides)


def test_unknown_architecture_lists_the_known_ones():
    with pytest.raises(ValueError, match="CELAutoencoderSiLU"):
        build_model("NoSuchNet")


def test_config_survives_a_trip_through_a_plain_dict():
    config = CELConfig(activation="gelu", latent_ratio=3.5, clip_samples=777, channels=(4, 6))
    data = config_to_dict(config)
    assert data["channels"] == [4, 6]
    assert config_from_dict("CELAutoencoderSiLU", data) == config
    with pytest.raises(ValueError, match="unknown config field"):
        config_from_dict("CELAutoencoderSiLU", {**data, "bogus": 1})


def test_a_new_family_plugs_in_by_registering():
    register("TestOnlyCEL", CELAutoencoder, CELConfig, activation="relu", latent_ratio=5.0)
    model = build_model("TestOnlyCEL", clip_samples=100)
    assert "TestOnlyCEL" in architectures()
    assert model.latent_shape() == (1, 20)
    with pytest.raises(ValueError, match="already registered"):
        register("TestOnlyCEL", CELAutoencoder, CELConfig, activation="gelu")


def test_pick_device_cpu_and_auto():
    assert pick_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device(None).type == expected
    assert pick_device("auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_cuda_without_a_gpu_says_so():
    with pytest.raises(DeviceError, match="no GPU is available"):
        pick_device("cuda")


def test_a_device_name_that_is_not_one_is_refused():
    with pytest.raises(DeviceError, match="not a device"):
        pick_device("tpu")

"""Fixtures shared by the core tests: a tiny trained model and a model folder to damage."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.constants import SAMPLE_RATE


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A CELAutoencoderSiLU on 4 096-sample clips, a few optimiser steps from random."""
    import torch

    from core.models.io import save_model
    from core.models.registry import build_model

    torch.manual_seed(0)
    model = build_model("CELAutoencoderSiLU", clip_samples=4096)
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    t = torch.arange(4096) / SAMPLE_RATE
    x = (0.5 * torch.sin(2 * torch.pi * 220 * t)).reshape(1, 1, -1).repeat(4, 1, 1)
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), x).backward()
        opt.step()
    folder = tmp_path_factory.mktemp("models") / "tiny"
    save_model(model.eval(), folder, summary={"note": "test model"})
    return folder


@pytest.fixture
def model_dir(tmp_path) -> Path:
    """A freshly saved CELAutoencoderSiLU folder on 1 024-sample clips, for tests that damage it."""
    import torch

    from core.models.io import save_model
    from core.models.registry import build_model

    torch.manual_seed(0)
    folder = tmp_path / "good"
    save_model(build_model("CELAutoencoderSiLU", clip_samples=1_024), folder)
    return folder

"""The trainer under ``torchrun --nproc-per-node 2`` on the CPU (gloo): one model folder written
by rank 0, metrics summed over both ranks' shards."""

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

from core.data import load_clips, scan_dataset, split_by_song
from core.models.io import load_model
from core.training.checkpoint import load_checkpoint
from core.training.trainer import CHECKPOINT_DIRNAME

T = 1024


@pytest.mark.slow
def test_two_cpu_processes_train_one_model(tmp_path):
    data = tmp_path / "songs"
    data.mkdir()
    rng = np.random.default_rng(0)
    t = np.arange(3 * T) / 22050
    for i in range(8):
        x = 0.3 * np.sin(2 * np.pi * (100 + 30 * i) * t) + 0.05 * rng.standard_normal(len(t))
        sf.write(data / f"song{i}.wav", x.astype(np.float32), 22050)
    out = tmp_path / "model"
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [str(torchrun), "--standalone", "--nproc-per-node", "2", "-m",
           "core.training", str(data), "--out", str(out), "--epochs", "1",
           "--batch-size", "2", "--device", "cpu", "--threads", "1", "--valid-fraction", "0.25",
           "--model", '{"clip_samples": 1024, "channels": [4, 8], "kernel_size": 5}']
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]

    # Only rank 0 prints: one epoch line and one summary.
    lines = proc.stdout.strip().splitlines()
    assert sum(line.startswith("epoch 1:") for line in lines) == 1
    summary = json.loads(lines[-1])
    state = load_checkpoint(out / CHECKPOINT_DIRNAME)
    assert state["world"] == 2 and state["epoch"] == 1
    assert summary["history"] == state["history"]

    # The reported validation loss is the mean over all valid clips, although each rank saw
    # only its shard: recompute it with the saved model.
    clips = load_clips(scan_dataset(data), clip_samples=T)
    split = split_by_song(clips, 0.25, 0)
    model = load_model(out).model.eval()
    with torch.no_grad():
        x = torch.from_numpy(clips.float_batch(split.valid)).unsqueeze(1)
        expected = float(torch.nn.functional.mse_loss(model(x), x))
    assert summary["history"][0]["valid_loss"] == pytest.approx(expected, rel=1e-4)

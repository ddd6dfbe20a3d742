"""Training speed: clips per second of one optimisation step, per architecture.

A benchmark, not a test: ``python -m core.train_bench`` prints one line per report variant at
full size (110 250-sample clips). It times the model alone on batches already in memory, the
ceiling the data pipeline has to keep up with (the trainer reports the share of time it waits for
data in ``EpochRecord.data_wait_fraction``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import torch

from core.constants import CLIP_SAMPLES

REPORT_VARIANTS = ("CELAutoencoderLeakyReLU", "CELAutoencoderSiLU", "CELAutoencoder2",
                   "CELAutoencoder3")


@dataclass(frozen=True)
class Throughput:
    """Speed of one architecture: ``clips_per_s`` over ``batches`` timed steps."""

    arch: str
    device: str
    batch_size: int
    clip_samples: int
    batches: int
    seconds_per_batch: float
    clips_per_s: float


def measure_throughput(arch: str, *, batch_size: int = 16, batches: int = 3,
                       clip_samples: int = CLIP_SAMPLES, device: str = "auto",
                       warmup: int = 1) -> Throughput:
    """Time forward, MSE, backward and an Adam step on random ``Tensor[B, 1, T]`` batches.

    Parameters
    ----------
    arch : str
        Registry name.
    batch_size, batches, warmup : int
        Clips per batch, timed steps, untimed first steps (allocations, kernel selection).
    clip_samples : int
        ``T``.
    device : str
        For ``core.devices.pick_device``.
    """
    from core.devices import pick_device
    from core.models import build_model

    dev = pick_device(device)
    torch.manual_seed(0)
    model = build_model(arch, clip_samples=clip_samples).to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = (torch.rand(batch_size, 1, clip_samples, device=dev) * 2 - 1) * 0.5

    def step() -> None:
        loss = torch.nn.functional.mse_loss(model(x), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    start = time.perf_counter()
    for _ in range(batches):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    per_batch = (time.perf_counter() - start) / batches
    return Throughput(arch=arch, device=str(dev), batch_size=batch_size,
                      clip_samples=clip_samples, batches=batches, seconds_per_batch=per_batch,
                      clips_per_s=batch_size / per_batch)


def main(argv: list[str] | None = None) -> int:
    """Print the throughput of each report variant."""
    parser = argparse.ArgumentParser(prog="python -m core.train_bench")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--archs", nargs="*", default=list(REPORT_VARIANTS))
    args = parser.parse_args(argv)
    for arch in args.archs:
        t = measure_throughput(arch, batch_size=args.batch_size, batches=args.batches,
                               device=args.device)
        print(f"{t.arch:26s} {t.device:8s} batch {t.batch_size:3d}  "
              f"{t.seconds_per_batch * 1000:8.1f} ms/batch  {t.clips_per_s:8.1f} clips/s",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

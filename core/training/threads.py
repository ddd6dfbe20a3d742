"""The torch settings of one training run: its thread count and cuDNN determinism, restored
afterwards (split from :mod:`core.training.trainer`)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

from core.training.config import TrainConfig
from core.training.distributed import DistContext


@contextlib.contextmanager
def torch_settings(config: TrainConfig, ctx: DistContext) -> Iterator[None]:
    """A thread count that leaves room for the other ranks, restored afterwards.

    Determinism: every kernel these models use on the CPU (conv1d, BatchNorm, adaptive average
    pooling, linear interpolation, Adam) is deterministic for a fixed thread count, which the
    resume tests check bit for bit. ``torch.use_deterministic_algorithms`` is not called: it
    imports torch._inductor and torch._dynamo (seconds, on every training start) and adds nothing
    on the CPU. On CUDA, cuDNN's non-deterministic autotuning is turned off for the run instead.
    """
    threads = torch.get_num_threads()
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    wanted = config.threads
    if wanted is None and ctx.world > 1:
        local = int(os.environ.get("LOCAL_WORLD_SIZE", ctx.world))
        wanted = max(1, (os.cpu_count() or 1) // local)
    if wanted is not None:
        torch.set_num_threads(wanted)
    if ctx.device.type == "cuda":
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn

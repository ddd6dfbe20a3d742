"""The trainer's view of torch.distributed: one process, or one rank of a ``torchrun`` job.

Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) :func:`setup_distributed` joins the
process group (gloo on CPU, NCCL on CUDA, each rank on GPU ``LOCAL_RANK``); otherwise it returns a
single-process context whose collectives do nothing, so the training loop has one code path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistContext:
    """Where this process stands in a (possibly one-process) training job.

    Attributes
    ----------
    rank, world, local_rank : int
        Global rank, number of processes, rank on this machine.
    device : torch.device
        Device this rank trains on.
    owns_group : bool
        True if :func:`setup_distributed` created the process group (and :meth:`close` ends it).
    """

    rank: int
    world: int
    local_rank: int
    device: torch.device
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        """True on the rank that writes files and reports progress (rank 0)."""
        return self.rank == 0

    def all_sum(self, values: list[float]) -> list[float]:
        """Sum ``values`` element-wise over all ranks (float64, so counts stay exact)."""
        if self.world == 1:
            return list(values)
        # NCCL only reduces CUDA tensors; gloo only CPU ones.
        t = torch.tensor(values, dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.cpu().tolist()

    def any(self, flags: list[bool]) -> list[bool]:
        """Element-wise logical OR of ``flags`` over all ranks."""
        return [s > 0 for s in self.all_sum([float(f) for f in flags])]

    def barrier(self) -> None:
        """Wait for every rank (a no-op in a single process)."""
        if self.world > 1:
            if self.device.type == "cuda":
                dist.barrier(device_ids=[self.device.index or 0])
            else:
                dist.barrier()

    def close(self) -> None:
        """Leave the process group if this context created it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False

    def _comm_device(self) -> torch.device:
        return self.device if self.device.type == "cuda" else torch.device("cpu")


def launched_by_torchrun() -> bool:
    """True when the environment describes a multi-process job (``WORLD_SIZE`` > 1)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1")) > 1
    except ValueError:
        return False


def setup_distributed(device: torch.device) -> DistContext:
    """Join the ``torchrun`` job if there is one and return this process's context.

    Parameters
    ----------
    device : torch.device
        The device picked for training; on CUDA each rank moves to ``cuda:LOCAL_RANK``.
    """
    if not launched_by_torchrun():
        return DistContext(rank=0, world=1, local_rank=0, device=device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    owns = False
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo",
                                init_method="env://")
        owns = True
    return DistContext(rank=dist.get_rank(), world=dist.get_world_size(), local_rank=local_rank,
                       device=device, owns_group=owns)

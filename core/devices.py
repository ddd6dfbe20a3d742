"""Choosing the compute device: the GPU when asked for (or available on "auto"), else the CPU."""

from __future__ import annotations

import torch

from core.errors import DeviceError


def pick_device(requested: str | torch.device | None = None) -> torch.device:
    """The ``torch.device`` to compute on.

    Parameters
    ----------
    requested : str, torch.device or None
        ``None`` or ``"auto"``: the first CUDA GPU if there is one, else the CPU. ``"cpu"``,
        ``"cuda"`` or ``"cuda:N"``: exactly that device.

    Returns
    -------
    torch.device

    Raises
    ------
    DeviceError
        CUDA was requested but no GPU is available, ``cuda:N`` names a GPU that does not exist,
        or the name is not a device.
    """
    if isinstance(requested, torch.device):
        requested = str(requested)
    name = (requested or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(f"CUDA was requested ({name}) but no GPU is available on this "
                              "machine (or this PyTorch build has no CUDA); use 'cpu' or 'auto'")
        index_text = name.partition(":")[2] or "0"
        if not index_text.isdigit():
            raise DeviceError(f"not a device: {requested!r} (use 'auto', 'cpu', 'cuda' or "
                              "'cuda:N')")
        index, count = int(index_text), torch.cuda.device_count()
        if index >= count:
            raise DeviceError(f"{name} was requested but this machine has {count} GPU(s)")
        return torch.device("cuda", index)
    raise DeviceError(f"not a device: {requested!r} (use 'auto', 'cpu', 'cuda' or 'cuda:N')")


def describe_device(device: torch.device) -> str:
    """A short human description, e.g. ``"CPU"`` or ``"cuda:0 (NVIDIA H100)"``."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return device.type.upper()

"""Sane bounds on model hyper-parameters, checked when a config is made.

A ``config.json`` is user input: huge ``channels``, ``kernel_size`` or ``clip_samples`` would
build a model asking for tens of gigabytes before the weights are ever looked at, and
``clip_samples: 1`` would cut a song into millions of one-sample clips. The limits are far above
anything the project trains, far below what would exhaust a workstation.
"""

from __future__ import annotations

MIN_CLIP_SAMPLES = 64
MAX_CLIP_SAMPLES = 1 << 23
"""About 6 minutes at 22 050 Hz; a clip is what one forward pass sees."""
MAX_CHANNELS = 4096
MAX_KERNEL_SIZE = 1025
MAX_STRIDE = 64
MAX_STAGES = 8
MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 768_000
MAX_ACTIVATION_FLOATS = 1 << 29
"""Largest activation of one clip through one layer (2 GiB of float32)."""


def check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    """``value`` if it is an int in ``[minimum, maximum]``; else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum \
            or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ValueError(f"{name} must be an integer {bound}, not {value!r}")
    return value


def check_activation(name: str, floats: int) -> None:
    """Refuse a layout whose widest activation of one clip exceeds the budget."""
    if floats > MAX_ACTIVATION_FLOATS:
        raise ValueError(f"{name}: one clip would need {floats * 4 / 2**30:.0f} GiB of "
                         f"activations in a single layer (limit "
                         f"{MAX_ACTIVATION_FLOATS * 4 / 2**30:.0f} GiB)")

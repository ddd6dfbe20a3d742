"""The no-learning baseline: keep one average per latent step, interpolate back.

At the same latent length as a model (``L = ceil(T / ratio)``), this is what a learned encoder
has to beat: the report's 1/2 model is judged against it in the quality tables.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def pool_interp(x: np.ndarray, ratio: float) -> np.ndarray:
    """Average-pool to ``L = ceil(T / ratio)`` samples, then linearly interpolate back to ``T``.

    The pooling uses the same adaptive bins as the CELAutoencoder encoder, so the baseline's
    "latent" has exactly the model's length.

    Parameters
    ----------
    x : np.ndarray[..., T]
        Audio; any leading dimensions.
    ratio : float
        Samples per kept value, > 1 (2 keeps half, 10 keeps a tenth).

    Returns
    -------
    np.ndarray[..., T]
        float32 reconstruction of the same shape; ``x`` is not modified.
    """
    if not ratio > 1 or not math.isfinite(ratio):
        raise ValueError(f"ratio must be a finite number > 1, not {ratio!r}")
    arr = np.asarray(x, dtype=np.float32)
    T = arr.shape[-1]
    if T == 0:
        return arr.copy()
    L = math.ceil(T / ratio)
    flat = torch.from_numpy(np.ascontiguousarray(arr.reshape(-1, 1, T)))
    with torch.inference_mode():
        low = F.adaptive_avg_pool1d(flat, L)
        back = F.interpolate(low, size=T, mode="linear", align_corners=False)
    return back.reshape(arr.shape).numpy().astype(np.float32, copy=False)

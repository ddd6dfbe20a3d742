"""Playing sound through a model as it arrives: short blocks in, short blocks out.

A song is rendered in 5 s windows; live input cannot wait 5 s. The models are convolutional, so
an output sample depends only on the input within the model's receptive field. Each new input
block is run through the model together with ``context`` samples of history on its left and
``context`` samples of lookahead on its right, and only the middle ``block`` samples are kept:
away from the very start they equal what the model gives on the whole signal in one pass. The
lookahead is why the output lags the input, by ``block + context`` samples plus the sound
device's own buffers. ``context`` defaults to the model's receptive radius, measured once by
perturbing one sample (:func:`receptive_radius`).

:func:`measure_live` times a model at a block size on this machine, so the app can mark models
that cannot keep up before the user starts.
The app's Play > Live input runs an engine between two sound devices
(:mod:`celae_gui.playback.live_input`).
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

REALTIME_MARGIN = 0.7
"""A model keeps up when one block's compute takes at most this share of the block's duration
(the rest is the headroom for the sound device, the GUI and the other work)."""


def _forward(model, x: np.ndarray, edit: Callable[[np.ndarray], np.ndarray] | None
             ) -> np.ndarray:
    import torch

    with torch.inference_mode():
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).view(1, 1, -1)
        if edit is None:
            y = model(t)
        else:
            z = edit(model.encode(t).float().numpy())
            y = model.decode(torch.from_numpy(np.ascontiguousarray(z)), length=x.shape[-1])
        return y[0, 0].float().numpy()


_radii: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_radii_lock = threading.Lock()


def receptive_radius(model, probe: int = 16_384, threshold: float = 1e-6) -> int:
    """Samples either side of an input sample that its change can reach in the output.

    Measured, not derived from the layers: one forward pass on noise, one with the middle
    sample changed; the span where the outputs differ is the receptive field. Remembered per
    model object for the default probe (a speed check and the stream that follows share it).
    """
    if (probe, threshold) != (16_384, 1e-6):
        return _measure_radius(model, probe, threshold)
    with _radii_lock:
        known = _radii.get(model)
    if known is None:
        known = _measure_radius(model, probe, threshold)
        with _radii_lock:
            _radii[model] = known
    return known


def _measure_radius(model, probe: int, threshold: float) -> int:
    was = model.training
    model.eval()
    try:
        rng = np.random.default_rng(0)
        x = (0.1 * rng.standard_normal(probe)).astype(np.float32)
        y0 = _forward(model, x, None)
        x[probe // 2] += 0.5
        moved = np.nonzero(np.abs(_forward(model, x, None) - y0) > threshold)[0]
    finally:
        model.train(was)
    if len(moved) == 0:
        return 0
    return int(max(probe // 2 - moved[0], moved[-1] - probe // 2)) + 1


class LiveEngine:
    """Runs fixed-size input blocks through a model with context on both sides.

    Parameters
    ----------
    model : core.models.base.Autoencoder
        A model accepting any input length (``flexible_length``).
    block : int
        Samples per block (what the sound device delivers per callback).
    context : int, optional
        History and lookahead around each block; default the model's receptive radius rounded
        up to a multiple of 64.
    edit : callable, optional
        ``edit(z[1, C, L]) -> z'`` applied between encoder and decoder (the current edits).
    """

    def __init__(self, model, block: int, *, context: int | None = None,
                 edit: Callable[[np.ndarray], np.ndarray] | None = None):
        if block < 1:
            raise ValueError(f"block must be >= 1 sample, not {block}")
        if not getattr(model, "flexible_length", True):
            raise ValueError(f"{type(model).__name__} only takes whole clips: it cannot run live")
        # A strided encoder sees the input on a grid of its stride: every block must start on
        # it, or the same music lands on other grid points and comes out differently.
        ratio = float(getattr(model, "latent_ratio", 1.0))
        step = int(ratio) if ratio.is_integer() else 1
        if block % step:
            raise ValueError(f"block must be a multiple of {step} samples for this model "
                             f"(its stride), not {block}")
        self.model = model.eval()
        self.block = int(block)
        radius = receptive_radius(model) if context is None else int(context)
        unit = math.lcm(64, step)
        self.context = unit * math.ceil(radius / unit)
        self.edit = edit
        self._history = np.zeros(2 * self.context + self.block, dtype=np.float32)

    @property
    def delay_samples(self) -> int:
        """Output sample ``i`` of the stream is the model's output for input sample
        ``i - delay_samples``."""
        return self.context

    @property
    def latency_samples(self) -> int:
        """Input to heard, in samples, before the device's buffers: an output block is played
        during the block after its input arrived, and it lags by the lookahead."""
        return self.block + self.context

    def process(self, block: np.ndarray) -> np.ndarray:
        """Take the next input block ``[block]``; return the next output block ``[block]``,
        ``delay_samples`` behind the input."""
        x = np.asarray(block, dtype=np.float32)
        if x.shape != (self.block,):
            raise ValueError(f"expected a block of {self.block} samples, got {x.shape}")
        h = self._history
        h[:-self.block] = h[self.block:]
        h[-self.block:] = x
        y = _forward(self.model, h, self.edit)
        return y[self.context:self.context + self.block].copy()


@dataclass(frozen=True)
class LiveReport:
    """How a model does live at one block size on this machine.

    Attributes
    ----------
    block : int
    latency_ms : float
        Algorithmic lag (block + context), before the sound device's buffers.
    real_time_factor : float
        Median compute time of one block over the block's duration (below 1 keeps up).
    keeps_up : bool
        ``real_time_factor <= REALTIME_MARGIN``.
    """

    block: int
    latency_ms: float
    real_time_factor: float
    keeps_up: bool


def measure_live(model, block: int, sample_rate: int, *, blocks: int = 20) -> LiveReport:
    """Time ``blocks`` blocks of noise through a :class:`LiveEngine` (after one warm-up)."""
    engine = LiveEngine(model, block)
    rng = np.random.default_rng(0)
    engine.process((0.1 * rng.standard_normal(block)).astype(np.float32))
    times = []
    for _ in range(blocks):
        x = (0.1 * rng.standard_normal(block)).astype(np.float32)
        t0 = time.perf_counter()
        engine.process(x)
        times.append(time.perf_counter() - t0)
    rtf = float(np.median(times)) / (block / sample_rate)
    return LiveReport(block=block, latency_ms=1000 * engine.latency_samples / sample_rate,
                      real_time_factor=rtf, keeps_up=rtf <= REALTIME_MARGIN)

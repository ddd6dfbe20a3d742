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
that cannot keep up before the user starts. :class:`LiveStream` runs a sound device's input
through an engine to an output device, with its latency, real-time factor and dropped blocks.
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


# -- a live stream through the sound devices ------------------------------------------------------

@dataclass(frozen=True)
class LiveStats:
    """What a running :class:`LiveStream` has done so far.

    Attributes
    ----------
    latency_ms : float
        Input to heard: the gap between a block's capture and its playing on the stream's
        clock (the block itself and the devices' buffers) plus the model's lookahead.
    model_latency_ms, device_latency_ms : float
        The two parts of ``latency_ms``: lookahead, and block + buffers.
    real_time_factor : float
        Median compute time of the recent blocks over a block's duration (below 1 keeps up).
    blocks : int
        Blocks processed.
    dropped : int
        Blocks the sound devices flagged (an input overflow or output underflow: sound lost).
    late : int
        Blocks whose compute took longer than the block lasts.
    """

    latency_ms: float
    model_latency_ms: float
    device_latency_ms: float
    real_time_factor: float
    blocks: int
    dropped: int
    late: int


class LiveStream:
    """An input device through a :class:`LiveEngine` to an output device, in real time.

    One duplex PortAudio stream whose callback reads a block from the input (mixed to mono),
    runs it through the engine and writes the result to every output channel. The model runs in
    the callback's thread: torch releases the interpreter lock while it computes.

    Parameters
    ----------
    model : core.models.base.Autoencoder
    block : int
        Samples per block: the latency/robustness trade-off the user picks.
    sample_rate : int
        The model's rate; the devices are opened at it (PulseAudio and ALSA's plug convert).
    input_device, output_device : int or str, optional
        PortAudio devices; the defaults when omitted.
    edit : callable, optional
        As :class:`LiveEngine`'s; replace it while running with :meth:`set_edit`.
    """

    def __init__(self, model, block: int, sample_rate: int, *,
                 input_device: int | str | None = None, output_device: int | str | None = None,
                 edit: Callable[[np.ndarray], np.ndarray] | None = None):
        self.engine = LiveEngine(model, block, edit=edit)
        self.sample_rate = int(sample_rate)
        self._devices = (input_device, output_device)
        self._stream = None
        self._times: list[float] = []
        self._blocks = self._dropped = self._late = 0
        self._gaps: list[float] = []
        self._error: BaseException | None = None

    def set_edit(self, edit: Callable[[np.ndarray], np.ndarray] | None) -> None:
        """Use ``edit`` from the next block on (one attribute store: safe while running)."""
        self.engine.edit = edit

    @property
    def error(self) -> BaseException | None:
        """What stopped the stream from inside its callback, if anything did."""
        return self._error

    @property
    def active(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def start(self) -> None:
        """Open the devices and start; raises ``RuntimeError`` naming the device problem."""
        import sounddevice as sd

        if self._stream is not None:
            return
        block = self.engine.block
        try:
            info = sd.query_devices(self._devices[1], kind="output")
            out_channels = 2 if int(info["max_output_channels"]) >= 2 else 1
            # Twice a block of device buffering: room for one slow block without a dropout.
            stream = sd.Stream(samplerate=self.sample_rate, blocksize=block,
                               device=self._devices, channels=(1, out_channels),
                               dtype="float32", latency=2 * block / self.sample_rate,
                               callback=self._callback)
            stream.start()
        except (sd.PortAudioError, ValueError) as err:
            raise RuntimeError(f"the sound devices cannot be opened for live input: {err}"
                               ) from err
        self._stream = stream

    def stop(self) -> None:
        """Stop and close the stream (idempotent)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop(ignore_errors=True)
            stream.close(ignore_errors=True)

    def __enter__(self) -> LiveStream:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _callback(self, indata, outdata, frames, clock, status) -> None:
        import sounddevice as sd

        # When this block's first input sample was captured and when its first output sample
        # will be heard, on the stream's clock: their gap is the devices' share of the latency.
        gap = float(clock.outputBufferDacTime) - float(clock.inputBufferAdcTime)
        if 0 < gap < 10:
            self._gaps = self._gaps[-49:] + [gap]

        if status.input_overflow or status.output_underflow:
            self._dropped += 1
        t0 = time.perf_counter()
        try:
            x = indata[:, 0] if indata.shape[1] == 1 else indata.mean(axis=1)
            y = self.engine.process(x)
        except Exception as err:  # noqa: BLE001 - reported through .error, the stream ends
            self._error = err
            outdata.fill(0)
            raise sd.CallbackAbort from err
        np.nan_to_num(y, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
        outdata[:] = np.clip(y, -1.0, 1.0)[:, None]
        spent = time.perf_counter() - t0
        self._times = self._times[-49:] + [spent]
        self._blocks += 1
        if spent > frames / self.sample_rate:
            self._late += 1

    def stats(self) -> LiveStats:
        """The figures so far (device latency is 0 before :meth:`start`)."""
        sr = self.sample_rate
        # The gap from an input block's capture to its output's playing already spans the
        # block itself; the model adds its lookahead on top.
        model_ms = 1000 * self.engine.delay_samples / sr
        device_ms = 0.0
        if self._gaps:
            device_ms = 1000 * float(np.median(self._gaps))
        elif self._stream is not None:  # a host API that keeps no clock: its own estimate
            device_ms = 1000 * (self.engine.block / sr + float(sum(self._stream.latency)))
        times = self._times
        rtf = float(np.median(times)) / (self.engine.block / sr) if times else 0.0
        return LiveStats(latency_ms=model_ms + device_ms, model_latency_ms=model_ms,
                         device_latency_ms=device_ms, real_time_factor=rtf,
                         blocks=self._blocks, dropped=self._dropped, late=self._late)

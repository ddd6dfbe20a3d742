"""Live input: a sound device's input through a model to an output device, in real time.

:class:`LiveStream` is one duplex sounddevice stream around a
:class:`core.models.live.LiveEngine` (GUI-free, no sound devices); it counts what the user
needs to see: the input-to-output latency on the stream's clock, the compute real-time factor,
and the blocks the devices dropped. Play > Live input (:mod:`celae_gui.dialogs.live_dialog`)
drives it. No Qt here: the stream runs in PortAudio's callback thread.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.models.live import LiveEngine

RECENT_BLOCKS = 50
"""Blocks the running latency and real-time factor are the median of."""


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
        self._times: deque[float] = deque(maxlen=RECENT_BLOCKS)
        self._blocks = self._dropped = self._late = 0
        self._gaps: deque[float] = deque(maxlen=RECENT_BLOCKS)
        self._abort: type[Exception] = RuntimeError
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
        self._abort = sd.CallbackAbort  # raised from the callback, where nothing is imported
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
        # When this block's first input sample was captured and when its first output sample
        # will be heard, on the stream's clock: their gap is the devices' share of the latency.
        gap = float(clock.outputBufferDacTime) - float(clock.inputBufferAdcTime)
        if 0 < gap < 10:
            self._gaps.append(gap)

        if status.input_overflow or status.output_underflow:
            self._dropped += 1
        t0 = time.perf_counter()
        try:
            x = indata[:, 0] if indata.shape[1] == 1 else indata.mean(axis=1)
            y = self.engine.process(x)
        except Exception as err:  # noqa: BLE001 - reported through .error, the stream ends
            self._error = err
            outdata.fill(0)
            raise self._abort from err
        np.nan_to_num(y, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
        outdata[:] = np.clip(y, -1.0, 1.0)[:, None]
        spent = time.perf_counter() - t0
        self._times.append(spent)
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
            device_ms = 1000 * float(np.median(list(self._gaps)))
        elif self._stream is not None:  # a host API that keeps no clock: its own estimate
            device_ms = 1000 * (self.engine.block / sr + float(sum(self._stream.latency)))
        times = list(self._times)
        rtf = float(np.median(times)) / (self.engine.block / sr) if times else 0.0
        return LiveStats(latency_ms=model_ms + device_ms, model_latency_ms=model_ms,
                         device_latency_ms=device_ms, real_time_factor=rtf,
                         blocks=self._blocks, dropped=self._dropped, late=self._late)

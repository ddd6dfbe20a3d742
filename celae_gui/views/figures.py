"""What the views show for one source, computed off the GUI thread: spectrum and quality.

Both come from core (``core.audio.features.log_mel``, ``core.audio.metrics.quality``); this module
only
packages them as the state's :class:`~celae_gui.state.SourceData`.
"""

from __future__ import annotations

import numpy as np

from celae_gui.state import SourceData, Spectrum
from core.constants import SAMPLE_RATE

ENVELOPE_FROM_SAMPLES = 1_000_000
"""Sources longer than this (45 s) are drawn from their envelope: handing pyqtgraph every
sample of a 5-minute song froze the window for seconds while it decimated them."""
ENVELOPE_BINS = 20_000

MAX_SPECTRUM_FRAMES = 4000
"""Longer songs are shown with frames averaged down to this many (the view is ~1000 px wide)."""


def spectrum_of(audio: np.ndarray) -> Spectrum:
    """Log-mel spectrogram of ``audio[T]`` for display, at most ``MAX_SPECTRUM_FRAMES`` wide."""
    from core.audio.features import log_mel

    values = log_mel(audio[None].astype(np.float32, copy=False))[0]
    frames = values.shape[1]
    if frames > MAX_SPECTRUM_FRAMES:
        group = -(-frames // MAX_SPECTRUM_FRAMES)
        usable = frames // group * group
        values = values[:, :usable].reshape(values.shape[0], -1, group).mean(axis=2)
    return Spectrum(values=np.ascontiguousarray(values, dtype=np.float32),
                    seconds=len(audio) / SAMPLE_RATE)


class RunningEnvelope:
    """The waveform's envelope (a min and a max per bin, see :func:`envelope_of`) of a buffer
    being filled, updated for each finished range at the cost of that range."""

    def __init__(self, length: int, bins: int = ENVELOPE_BINS):
        self.length = int(length)
        self.step = max(1, -(-self.length // bins))
        self.bins = -(-self.length // self.step)
        self.values = np.zeros(2 * self.bins, np.float32)
        starts = np.arange(self.bins, dtype=np.float64) * self.step / SAMPLE_RATE
        self.seconds = (np.repeat(starts, 2)
                        + np.tile([0.0, 0.5 * self.step / SAMPLE_RATE], self.bins))

    def update(self, audio: np.ndarray, start: int, stop: int) -> None:
        """Recompute the bins that samples ``[start, stop)`` of ``audio`` fall in."""
        b0, b1 = start // self.step, min(self.bins, -(-stop // self.step))
        for b in range(b0, b1, 4096):  # bounded temporaries for a long range
            e = min(b1, b + 4096)
            seg = audio[b * self.step:min(e * self.step, self.length)]
            full = len(seg) // self.step
            if full:
                chunk = seg[:full * self.step].reshape(full, self.step)
                self.values[2 * b:2 * (b + full):2] = chunk.min(1)
                self.values[2 * b + 1:2 * (b + full):2] = chunk.max(1)
            if len(seg) > full * self.step:
                rest = seg[full * self.step:]
                self.values[2 * (b + full)] = rest.min()
                self.values[2 * (b + full) + 1] = rest.max()

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """``(seconds, values)`` as a :class:`~celae_gui.state.SourceData` envelope."""
        return self.seconds, self.values.copy()


def envelope_of(audio: np.ndarray, bins: int = ENVELOPE_BINS
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """Min and max of ``audio[T]`` per bin, interleaved, with each point's time in seconds;
    None when the audio is short enough to draw sample by sample."""
    n = len(audio)
    if n <= ENVELOPE_FROM_SAMPLES:
        return None
    envelope = RunningEnvelope(n, bins)
    envelope.update(audio, 0, n)
    return envelope.seconds, envelope.values


def fast_quality(reference: np.ndarray, audio: np.ndarray):
    """SNR and SI-SDR only (a few ms); the spectral figures are NaN until :func:`full_quality`.

    Live edits show these at once; ``core.audio.metrics.quality`` takes hundreds of ms on a busy CPU
    (the multi-resolution STFT), too slow for a slider.
    """
    from core.audio.metrics import Quality, si_sdr, snr

    n = min(len(reference), len(audio))
    return Quality(snr=float(snr(reference[:n], audio[:n])),
                   si_sdr=float(si_sdr(reference[:n], audio[:n])),
                   log_mel_l1=float("nan"), mr_stft=float("nan"))


def full_quality(reference: np.ndarray, audio: np.ndarray):
    """All four figures of ``core.audio.metrics.quality``."""
    from core.audio.metrics import quality

    n = min(len(reference), len(audio))
    return quality(reference[:n], audio[:n], SAMPLE_RATE)


def playable(audio: np.ndarray) -> np.ndarray:
    """``audio[T]`` as the player takes it without a copy: float32, finite and in [-1, 1]
    (copied only when it is not all of these already). Done here, off the GUI thread: preparing
    a 5-minute song's three sources there cost over 100 ms of frozen window."""
    out = np.ascontiguousarray(audio, dtype=np.float32)
    if out.size and not (np.isfinite(out).all() and float(np.abs(out).max()) <= 1.0):
        out = np.clip(np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
    return out


def source_data(audio: np.ndarray, reference: np.ndarray | None, *,
                live: bool = False) -> SourceData:
    """Audio ``[T]`` with its spectrum, and its quality against ``reference[T]`` when given.

    ``live`` computes only the fast figures (see :func:`fast_quality`). The audio is made
    :func:`playable`.
    """
    audio = playable(audio)
    figures = None
    if reference is not None:
        figures = (fast_quality if live else full_quality)(reference, audio)
    return SourceData(audio=audio, spectrum=spectrum_of(audio), quality=figures, playable=True,
                      envelope=envelope_of(audio))

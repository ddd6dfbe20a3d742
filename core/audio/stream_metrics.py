"""Quality figures of a reconstruction computed block by block, in the pass that renders it.

:func:`core.audio.metrics.quality` needs both whole signals. Here each figure keeps running
sums: SNR and SI-SDR need five sums of products (exact, at no cost worth measuring); log-mel L1
and MR-STFT keep, per FFT size, a buffer of less than one frame and the sums the figures are
ratios or means of. Frames sit where ``torch.stft(center=True)`` puts them (reflection padding at
both ends), so the streamed figures equal the whole-signal ones up to rounding. The 1024-point
spectrum serves both the mel figure and the MR-STFT, so no STFT is computed twice.

numpy and ``scipy.fft`` only: the command line computes these without importing torch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from core.constants import SAMPLE_RATE

# The definitions of core.audio.metrics, restated because that module imports torch (a test
# checks they agree).
MEL_FFT = 1024
MEL_FLOOR = 1e-5
STFT_SIZES = (512, 1024, 2048)
DB_CAP = 100.0
_N_MELS = 64
_LOG_FLOOR = 1e-7


def _hann(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


def mel_filterbank(sample_rate: int, n_fft: int = MEL_FFT, n_mels: int = _N_MELS) -> np.ndarray:
    """Triangular HTK mel filters ``[n_fft // 2 + 1, n_mels]`` (torchaudio's defaults)."""
    freqs = np.linspace(0, sample_rate // 2, n_fft // 2 + 1)
    mel_max = 2595.0 * math.log10(1.0 + (sample_rate / 2) / 700.0)
    points = 700.0 * (10 ** (np.linspace(0, mel_max, n_mels + 2) / 2595.0) - 1.0)
    diff = points[1:] - points[:-1]
    slopes = points[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    return np.maximum(0.0, np.minimum(down, up)).astype(np.float32)


@dataclass(frozen=True)
class StreamQuality:
    """The figures of :class:`core.audio.metrics.Quality`; NaN for one not computed."""

    snr: float
    si_sdr: float
    log_mel_l1: float
    mr_stft: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class _Frames:
    """Centred STFT frames of two signals arriving in blocks (reflect-padded at both ends)."""

    def __init__(self, n_fft: int):
        self.n, self.hop, self.window = n_fft, n_fft // 4, _hann(n_fft)
        self.buf = np.zeros((2, 0), dtype=np.float32)
        self.started = False
        self.head = np.zeros((2, 0), dtype=np.float32)  # held until longer than a frame

    def push(self, pair: np.ndarray, last: bool = False) -> np.ndarray | None:
        """Add ``pair[2, B]``; return the magnitudes ``[2, frames, bins]`` now complete."""
        half = self.n // 2
        if not self.started:
            self.head = np.concatenate([self.head, pair], axis=1)
            if self.head.shape[1] <= self.n and not last:
                return None
            x = self.head
            if x.shape[1] <= self.n:  # a signal shorter than a frame: padded as metrics.py does
                x = np.pad(x, ((0, 0), (0, self.n + 1 - x.shape[1])))
            self.buf = np.concatenate([x[:, half:0:-1], x], axis=1)
            self.started = True
            self.head = None
        else:
            self.buf = np.concatenate([self.buf, pair], axis=1)
        if last:
            self.buf = np.concatenate([self.buf, self.buf[:, -2:-half - 2:-1]], axis=1)
        count = (self.buf.shape[1] - self.n) // self.hop + 1
        if count <= 0:
            return None
        view = np.lib.stride_tricks.sliding_window_view(self.buf, self.n, axis=1)
        frames = view[:, : (count - 1) * self.hop + 1: self.hop] * self.window
        self.buf = self.buf[:, count * self.hop:]
        # scipy's FFT keeps float32 (numpy's goes through float64): 5x faster here. Imported
        # here, not with the module: it costs a second, which only the spectral figures pay.
        import scipy.fft

        return np.abs(scipy.fft.rfft(frames, axis=-1))


class RunningQuality:
    """SNR, SI-SDR and (with ``spectral=True``) log-mel L1 and MR-STFT of ``est`` against
    ``ref``, fed block by block with :meth:`add`; :meth:`result` gives the figures.

    The spectral figures match :func:`core.audio.metrics.quality` on the whole signals; they
    cost about as much as running the default model, which is why they are optional.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, *, spectral: bool = True):
        self._sums = np.zeros(5, dtype=np.float64)  # rr, ee, re, (r-e)^2, n
        self.spectral = spectral
        self._frames = {n: _Frames(n) for n in STFT_SIZES} if spectral else {}
        if spectral and MEL_FFT not in self._frames:
            self._frames[MEL_FFT] = _Frames(MEL_FFT)
        self._fb = mel_filterbank(sample_rate) if spectral else None
        # per size: sum of diff^2, ref^2, |log ratio|, est^2
        self._stft = {n: np.zeros(4, dtype=np.float64) for n in STFT_SIZES}
        self._stft_count = dict.fromkeys(STFT_SIZES, 0)
        self._mel = np.zeros(2, dtype=np.float64)  # sum |log diff|, count

    def add(self, ref: np.ndarray, est: np.ndarray) -> None:
        """Feed the next samples of both signals (same length)."""
        r = np.asarray(ref, dtype=np.float64)
        e = np.asarray(est, dtype=np.float64)
        if r.shape != e.shape or r.ndim != 1:
            raise ValueError(f"blocks differ in shape: {r.shape} vs {e.shape}")
        d = r - e
        # Element-wise sums, not BLAS dot products: OpenBLAS threads stall on a busy machine.
        self._sums += (np.sum(r * r), np.sum(e * e), np.sum(r * e), np.sum(d * d), len(r))
        if self.spectral and len(r):
            self._spectra(np.stack([r, e]).astype(np.float32), last=False)

    def _spectra(self, pair: np.ndarray, last: bool) -> None:
        for n, frames in self._frames.items():
            mag = frames.push(pair, last=last)
            if mag is None or mag.shape[1] == 0:
                continue
            mr, me = mag[0], mag[1]
            if n in self._stft:
                diff = mr - me
                self._stft[n] += (float(np.sum(diff * diff, dtype=np.float64)),
                                  float(np.sum(mr * mr, dtype=np.float64)),
                                  float(np.sum(np.abs(np.log(np.maximum(mr, _LOG_FLOOR)
                                                             / np.maximum(me, _LOG_FLOOR))),
                                               dtype=np.float64)),
                                  float(np.sum(me * me, dtype=np.float64)))
                self._stft_count[n] += mr.size
            if n == MEL_FFT:
                mel_r = np.log10(np.maximum(mr @ self._fb, MEL_FLOOR))
                mel_e = np.log10(np.maximum(me @ self._fb, MEL_FLOOR))
                self._mel += (float(np.sum(np.abs(mel_r - mel_e), dtype=np.float64)),
                              mel_r.size)

    def result(self) -> StreamQuality:
        """The figures so far (call once, after the last :meth:`add`); NaN for a figure not
        computed. dB figures are capped at +-``DB_CAP`` as :func:`quality` does."""
        if self.spectral:
            self._spectra(np.zeros((2, 0), dtype=np.float32), last=True)
            self.spectral = False  # the buffers are flushed: no more blocks may come
            self._done = True
        rr, ee, re, dd, _ = self._sums
        snr = _db(rr, dd)
        alpha = re / rr if rr > 0 else 0.0
        target = alpha * alpha * rr
        residual = max(0.0, ee - 2 * alpha * re + alpha * alpha * rr)
        sdr = -math.inf if (rr == 0) != (ee == 0) else _db(target, residual)
        if getattr(self, "_done", False):
            mr = float(np.mean([_convergence(*self._stft[n][[0, 1, 3]])
                                + self._stft[n][2] / max(self._stft_count[n], 1)
                                for n in STFT_SIZES]))
            mel = self._mel[0] / max(self._mel[1], 1)
        else:
            mr = mel = math.nan
        return StreamQuality(snr=_cap(snr), si_sdr=_cap(sdr), log_mel_l1=float(mel), mr_stft=mr)


def _convergence(diff2: float, ref2: float, est2: float) -> float:
    """Spectral convergence from the sums of squares, as :func:`core.audio.metrics.mr_stft_distance`
    takes it: against the estimate's norm when the reference is (near) silent, so a one-sample
    or silent reference gives a figure near 1, not 1e11."""
    nr, ne = ref2 ** 0.5, est2 ** 0.5
    denom = nr if nr > 1e-3 * ne else ne
    return diff2 ** 0.5 / max(denom, 1e-12)


def _db(signal: float, noise: float) -> float:
    if noise == 0:
        return math.inf
    if signal == 0:
        return -math.inf
    return 10 * math.log10(signal / noise)


def _cap(value: float) -> float:
    return float(min(DB_CAP, max(-DB_CAP, value)))

"""Vectorised synthesis primitives for the demo music: oscillators, envelopes, drums, filters.

Every function returns a ``float32`` signal of shape ``[n]`` at ``sr`` Hz, roughly within
[-1, 1]. They are deliberately simple (naive saws, FFT-domain filters): the demo songs only need
to sound like distinct styles, fast, with numpy alone.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal

TWO_PI = 2.0 * np.pi


def midi_hz(note: float | np.ndarray) -> float | np.ndarray:
    """Frequency in Hz of a MIDI note number (69 = A4 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(note, dtype=np.float64) - 69.0) / 12.0)


def _time(n: int, sr: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / sr


def envelope(n: int, sr: int, attack: float = 0.005, decay: float = 0.1, sustain: float = 0.7,
             release: float = 0.05) -> np.ndarray:
    """ADSR envelope of ``n`` samples whose release ends exactly at the last sample.

    Times are in seconds; ``sustain`` is a level in [0, 1]. Returns ``float64[n]``.
    """
    env = np.full(n, sustain, dtype=np.float64)
    a = min(n, max(1, int(attack * sr)))
    d = min(n - a, max(1, int(decay * sr)))
    r = min(n, max(1, int(release * sr)))
    env[:a] = np.linspace(0.0, 1.0, a, endpoint=False)
    env[a:a + d] = np.linspace(1.0, sustain, d, endpoint=False)
    env[n - r:] *= np.linspace(1.0, 0.0, r)
    return env


def fft_filter(x: np.ndarray, sr: int, low: float | None = None, high: float | None = None,
               order: int = 2) -> np.ndarray:
    """Butterworth-shaped zero-phase band filter applied in the frequency domain.

    ``low`` is the high-pass corner and ``high`` the low-pass corner in Hz (either may be None).
    The signal is zero-padded so that decaying tails do not wrap around to the start.
    """
    n = len(x)
    size = 1 << int(np.ceil(np.log2(max(2, n + n // 8 + 64))))
    spec = np.fft.rfft(x, size)
    f = np.fft.rfftfreq(size, 1.0 / sr)
    gain = np.ones_like(f)
    if high is not None:
        gain /= np.sqrt(1.0 + (f / high) ** (2 * order))
    if low is not None:
        gain /= np.sqrt(1.0 + (low / np.maximum(f, 1e-3)) ** (2 * order))
    return np.fft.irfft(spec * gain, size)[:n]


@functools.lru_cache(maxsize=64)
def _butter(sr: int, low: float | None, high: float | None, order: int) -> np.ndarray:
    if low and high:
        return signal.butter(order, [low, high], "bandpass", fs=sr, output="sos")
    if low:
        return signal.butter(order, low, "highpass", fs=sr, output="sos")
    return signal.butter(order, high, "lowpass", fs=sr, output="sos")


def iir_filter(x: np.ndarray, sr: int, low: float | None = None, high: float | None = None,
               order: int = 2) -> np.ndarray:
    """Butterworth band filter in the time domain: the cheap choice for whole-song buses.

    A ``high`` corner at or above 0.45 ``sr`` is dropped (there is nothing left to cut there).
    """
    if high is not None and high >= 0.45 * sr:
        high = None
    if not low and not high:
        return x
    return signal.sosfilt(_butter(sr, low, high, order), x)


def soft_clip(x: np.ndarray, drive: float) -> np.ndarray:
    """``tanh`` saturation normalised so that a full-scale input stays at full scale."""
    return np.tanh(drive * x) / np.tanh(drive)


def sine(freq: float, n: int, sr: int, vibrato: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Sine at ``freq`` Hz; ``vibrato`` is (rate in Hz, depth in semitones)."""
    return np.sin(_phase(freq, n, sr, vibrato))


def _phase(freq: float, n: int, sr: int, vibrato: tuple[float, float]) -> np.ndarray:
    rate, depth = vibrato
    t = _time(n, sr)
    if depth == 0.0:
        return TWO_PI * freq * t
    inst = freq * 2.0 ** (depth / 12.0 * np.sin(TWO_PI * rate * t))
    return TWO_PI * np.cumsum(inst) / sr


def additive(freq: float, n: int, sr: int, amps: tuple[float, ...], decay: float = 0.0,
             vibrato: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Sum of harmonics ``k * freq`` with amplitudes ``amps[k-1]``.

    Higher harmonics die away faster (``decay * k`` per second), as in struck or plucked tones;
    harmonics above Nyquist are left out.
    """
    phase = _phase(freq, n, sr, vibrato)
    t = _time(n, sr)
    out = np.zeros(n)
    for k, amp in enumerate(amps, start=1):
        if amp == 0.0 or k * freq >= sr / 2:
            continue
        partial = amp * np.sin(k * phase)
        if decay:
            partial *= np.exp(-decay * k * t)
        out += partial
    return out / max(1e-9, sum(abs(a) for a in amps))


def fm(freq: float, n: int, sr: int, ratio: float = 1.0, index: float = 2.0,
       index_decay: float = 4.0) -> np.ndarray:
    """Two-operator FM tone (electric piano, bell, brass) whose brightness fades with time."""
    t = _time(n, sr)
    mod = index * np.exp(-index_decay * t) * np.sin(TWO_PI * freq * ratio * t)
    return np.sin(TWO_PI * freq * t + mod)


def saw(freq: float, n: int, sr: int, detune_cents: tuple[float, ...] = (0.0,),
        rng: np.random.Generator | None = None) -> np.ndarray:
    """Naive sawtooth, one voice per detune (in cents) with random start phases, averaged."""
    t = _time(n, sr)
    out = np.zeros(n)
    for cents in detune_cents:
        f = freq * 2.0 ** (cents / 1200.0)
        start = rng.random() if rng is not None else 0.0
        out += 2.0 * np.mod(f * t + start, 1.0) - 1.0
    return out / len(detune_cents)


def karplus_strong(freq: float, n: int, sr: int, rng: np.random.Generator,
                   brightness: float = 0.6, damping: float = 0.996) -> np.ndarray:
    """Plucked string by the Karplus-Strong algorithm, computed one delay-line period at a time.

    ``brightness`` in (0, 1] sets how much high-frequency content the initial noise burst has;
    ``damping`` (< 1) is the loss per period, so low notes ring longer than high ones.
    """
    period = max(2, int(round(sr / freq)))
    burst = rng.uniform(-1.0, 1.0, period)
    # A softer pluck is a smoother burst: repeated two-point averaging low-passes it.
    for _ in range(int(round((1.0 - brightness) * 6))):
        burst = 0.5 * (burst + np.roll(burst, 1))
    burst -= burst.mean()
    # y[i] = damping * (y[i-P] + y[i-P-1]) / 2; the leading zero stands in for y[-1].
    y = np.zeros(n + 1)
    y[1:period + 1] = burst[: min(period, n)]
    for start in range(period + 1, n + 1, period):
        seg = y[start - period - 1:start]
        block = damping * 0.5 * (seg[1:] + seg[:-1])
        stop = min(start + period, n + 1)
        y[start:stop] = block[: stop - start]
    return y[1:]


def kick(sr: int, rng: np.random.Generator, pitch: float = 50.0, length: float = 0.35,
         punch: float = 3.0) -> np.ndarray:
    """Bass drum: a sine sweeping down from ``punch * pitch`` plus a short noise click."""
    n = int(length * sr)
    t = _time(n, sr)
    freq = pitch * (1.0 + (punch - 1.0) * np.exp(-t * 35.0))
    body = np.sin(TWO_PI * np.cumsum(freq) / sr) * np.exp(-t * 3.0 / length)
    click = fft_filter(rng.standard_normal(n), sr, low=1500.0) * np.exp(-t * 300.0) * 0.3
    return body + click


def snare(sr: int, rng: np.random.Generator, tone: float = 190.0, length: float = 0.25,
          noise_mix: float = 0.7, brightness: float = 7000.0) -> np.ndarray:
    """Snare drum: a damped tone under band-passed noise."""
    n = int(length * sr)
    t = _time(n, sr)
    body = np.sin(TWO_PI * tone * t) * np.exp(-t * 25.0)
    noise = fft_filter(rng.standard_normal(n), sr, low=900.0, high=brightness)
    noise *= np.exp(-t * 4.0 / length) / (np.abs(noise).max() + 1e-9)
    return (1.0 - noise_mix) * body + noise_mix * noise


def hat(sr: int, rng: np.random.Generator, open_: bool = False, tone: float = 7000.0) -> np.ndarray:
    """Hi-hat: high-passed noise with metallic partials, short (closed) or ringing (open)."""
    length = 0.35 if open_ else 0.06
    n = int(length * sr)
    t = _time(n, sr)
    noise = fft_filter(rng.standard_normal(n), sr, low=tone)
    noise /= np.abs(noise).max() + 1e-9
    metal = sum(np.sign(np.sin(TWO_PI * f * t)) for f in (3140.0, 4510.0, 5930.0)) / 6.0
    return (0.8 * noise + 0.2 * metal) * np.exp(-t * 4.0 / length)


def cymbal(sr: int, rng: np.random.Generator, length: float = 1.2,
           ride: bool = False) -> np.ndarray:
    """Crash (long noisy wash) or ride (shorter, with a pinged bell tone)."""
    n = int(length * sr)
    t = _time(n, sr)
    noise = fft_filter(rng.standard_normal(n), sr, low=4000.0 if ride else 2500.0)
    noise /= np.abs(noise).max() + 1e-9
    out = noise * np.exp(-t * 3.0 / length)
    if ride:
        out = 0.5 * out + 0.5 * fm(620.0, n, sr, ratio=1.41, index=3.0, index_decay=2.0) * np.exp(
            -t * 6.0)
    return out


def place(bus: np.ndarray, onset: int, sound: np.ndarray, gain: float = 1.0) -> None:
    """Add ``gain * sound`` into ``bus`` starting at sample ``onset``, cut at the bus's end."""
    if onset >= len(bus) or onset + len(sound) <= 0:
        return
    start = max(0, onset)
    stop = min(len(bus), onset + len(sound))
    bus[start:stop] += gain * sound[start - onset:stop - onset]


# --- Voices: (sr, rng, freq, n) -> enveloped note of n samples. -----------------------------

def pluck(sr: int, rng: np.random.Generator, freq: float, n: int,
          brightness: float = 0.6) -> np.ndarray:
    """Plucked guitar/harp string (Karplus-Strong), damped at the note's end."""
    return karplus_strong(freq, n, sr, rng, brightness) * envelope(n, sr, 0.001, 0.01, 1.0, 0.03)


def epiano(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """Electric piano: FM with a bright attack that mellows, plus a faint tine."""
    tone = fm(freq, n, sr, ratio=1.0, index=1.8, index_decay=3.0)
    tone += 0.15 * fm(freq, n, sr, ratio=14.0, index=0.6, index_decay=12.0)
    return tone * envelope(n, sr, 0.002, 0.6, 0.35, 0.06)


def organ(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """Drawbar organ: steady harmonics 1, 2, 3, 4, 6, 8."""
    tone = additive(freq, n, sr, (1.0, 0.7, 0.5, 0.35, 0.0, 0.25, 0.0, 0.2),
                    vibrato=(6.5, 0.04))
    return tone * envelope(n, sr, 0.008, 0.05, 0.9, 0.03)


def strings(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """String section: detuned saws with a slow bow attack (low-pass the bus)."""
    tone = saw(freq, n, sr, (-9.0, 0.0, 8.0), rng)
    return tone * envelope(n, sr, 0.25, 0.2, 0.85, min(0.4, 0.4 * n / sr))


def violin(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """Solo bowed line: bright harmonics with vibrato."""
    tone = additive(freq, n, sr, tuple(1.0 / k for k in range(1, 11)), vibrato=(5.5, 0.15))
    return tone * envelope(n, sr, 0.07, 0.1, 0.85, 0.08)


def reed(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """Saxophone / harmonica-like lead: odd-heavy harmonics, breathy vibrato."""
    tone = additive(freq, n, sr, (1.0, 0.3, 0.6, 0.2, 0.4, 0.1, 0.25), vibrato=(5.0, 0.1))
    return tone * envelope(n, sr, 0.03, 0.1, 0.8, 0.05)


def bell(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """Glassy synth pluck (inharmonic FM), short decay."""
    return fm(freq, n, sr, ratio=3.5, index=2.5, index_decay=8.0) * envelope(
        n, sr, 0.001, 0.25, 0.15, 0.05)


def lead(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """Bright pop synth lead: full harmonic series with slight vibrato."""
    tone = additive(freq, n, sr, tuple(1.0 / k for k in range(1, 9)), vibrato=(5.8, 0.08))
    return tone * envelope(n, sr, 0.01, 0.15, 0.7, 0.05)


def bass(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """Round electric bass: fundamental plus a little second and third harmonic."""
    tone = additive(freq, n, sr, (1.0, 0.35, 0.15), decay=1.5)
    return tone * envelope(n, sr, 0.004, 0.2, 0.7, 0.03)


def saw_note(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """Raw saw (guitar through a distortion bus, synth bass): tight attack and release."""
    return saw(freq, n, sr, (-6.0, 5.0), rng) * envelope(n, sr, 0.002, 0.05, 0.9, 0.02)


def sub808(sr: int, rng: np.random.Generator, freq: float, n: int) -> np.ndarray:
    """808-style sub bass: a sine with a pitch drop at the start and a long decay."""
    t = _time(n, sr)
    inst = freq * (1.0 + 0.5 * np.exp(-t * 40.0))
    tone = soft_clip(np.sin(TWO_PI * np.cumsum(inst) / sr), 1.8)
    return tone * envelope(n, sr, 0.002, 0.6, 0.6, 0.05)


class SongBuilder:
    """A song under construction: tempo grid, named buses with their effects, note placement.

    ``at(bar, beat)`` maps musical time to samples, with swing (``swing`` = 1/3 delays each
    off-beat of a ``swing_unit`` to the triplet position) and a few milliseconds of human timing.
    Rendered notes are cached per (voice, pitch, length), which keeps a 30 s song well under a
    tenth of a second.
    """

    def __init__(self, rng: np.random.Generator, n: int, sr: int):
        self.rng = rng
        self.n = n
        self.sr = sr
        self.buses: dict[str, np.ndarray] = {}
        self.effects: dict[str, tuple[float, float | None, float | None, float | None]] = {}
        self._cache: dict[tuple, np.ndarray] = {}
        self.set_tempo(120.0)

    def set_tempo(self, bpm: float, beats_per_bar: int = 4, swing: float = 0.0,
                  swing_unit: float = 1.0, jitter: float = 0.004) -> None:
        """Set the grid; ``bars`` becomes the number of bars that cover the song."""
        self.bpm = bpm
        self.beat = 60.0 / bpm * self.sr
        self.beats_per_bar = beats_per_bar
        self.swing = swing
        self.swing_unit = swing_unit
        self.jitter = jitter
        self.bars = int(np.ceil(self.n / (self.beat * beats_per_bar))) + 1

    def at(self, bar: int, beat: float) -> int:
        """Sample index of ``beat`` (from 0) in ``bar``, swung and humanised."""
        unit, frac = divmod(beat / self.swing_unit, 1.0)
        if self.swing:
            late = 0.5 + self.swing / 2.0
            frac = frac / 0.5 * late if frac < 0.5 else late + (frac - 0.5) / 0.5 * (1.0 - late)
        pos = (bar * self.beats_per_bar + (unit + frac) * self.swing_unit) * self.beat
        return int(pos + self.rng.normal(0.0, self.jitter * self.sr))

    def bus(self, name: str, gain: float = 1.0, low: float | None = None,
            high: float | None = None, drive: float | None = None) -> str:
        """Declare a mix bus: gain, band limits in Hz and saturation, applied at mix time."""
        self.buses.setdefault(name, np.zeros(self.n, dtype=np.float32))
        self.effects[name] = (gain, low, high, drive)
        return name

    def hit(self, bus: str, sound: np.ndarray, bar: int, beat: float, gain: float = 1.0) -> None:
        """Place a one-shot sound (nothing when the bus is muted)."""
        if not self.effects[bus][0]:
            return
        place(self.buses[bus], self.at(bar, beat), sound, gain)

    def note(self, bus: str, voice, midi: float, bar: int, beat: float, beats: float,
             gain: float = 1.0) -> None:
        """Render ``voice`` at MIDI pitch ``midi`` for ``beats`` beats and place it."""
        if not self.effects[bus][0]:
            return
        length = max(16, int(beats * self.beat))
        key = (voice, round(float(midi), 2), length)
        sound = self._cache.get(key)
        if sound is None:
            sound = voice(self.sr, self.rng, float(midi_hz(midi)), length).astype(np.float32)
            self._cache[key] = sound
        place(self.buses[bus], self.at(bar, beat), sound, gain)

    def pattern(self, bus: str, sound: np.ndarray, grid: str, bar: int, gain: float = 1.0,
                keep: float = 1.0) -> None:
        """Play a one-bar step pattern: ``X`` loud, ``x`` normal, ``o`` ghost, ``.`` rest.

        ``keep`` is the chance each ghost note is played, for a little variation.
        """
        step = self.beats_per_bar / len(grid)
        levels = {"X": 1.0, "x": 0.7, "o": 0.35}
        for i, ch in enumerate(grid):
            if ch == "." or (ch == "o" and self.rng.random() > keep):
                continue
            vel = levels[ch] * self.rng.uniform(0.85, 1.0)
            self.hit(bus, sound, bar, i * step, gain * vel)

    def mix(self) -> np.ndarray:
        """Apply each bus's effects, normalise it, and sum with its gain: ``float32[n]``."""
        out = np.zeros(self.n, dtype=np.float32)
        for name, x in self.buses.items():
            gain, low, high, drive = self.effects[name]
            peak = float(np.abs(x).max())
            if not gain or peak < 1e-9:
                continue
            if drive:
                x = np.tanh(x * np.float32(drive / peak))
            if low or high:
                x = iir_filter(x, self.sr, low, high).astype(np.float32)
            out += np.float32(gain / max(1e-9, float(np.abs(x).max()))) * x
        return out

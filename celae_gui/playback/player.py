"""Sound output for the app: an A/B/C player over a sounddevice output stream.

The player holds up to three prepared mono buffers ("A" the original, "B" the reconstruction,
"C" the edited sound) and plays one of them. Switching source keeps the play position and
crossfades with equal power for a few milliseconds, so comparing A and B is click-free.

Threads: every public method is meant for the GUI thread. The sound-device callback runs on
PortAudio's thread; it only copies slices of buffers that were prepared (converted, cleaned,
made read-only) on the caller's thread, into scratch arrays allocated up front. State shared by
both threads sits behind one lock that is held for a few microseconds at a time.

No sound hardware is not an error: when the PortAudio library is missing, there is no output
device, or the device cannot be opened, :func:`playback_status` says why, and the player's methods
still run (sources, seeking and selection are tracked) but play nothing. ``sounddevice`` is
imported lazily, so importing this module never fails. Nothing here imports Qt: the GUI wraps the
player and polls :attr:`Player.position` from a ``QTimer`` to draw the play-head.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from core.constants import SAMPLE_RATE

SOURCE_NAMES = ("A", "B", "C")
"""Names a source may have: A original, B reconstruction, C edited."""

NO_PORTAUDIO_REASON = "No sound output: the PortAudio library is not installed (libportaudio2)"
NO_DEVICE_REASON = "No sound output: no output device found"


class PlaybackStatus(NamedTuple):
    """Whether sound can be played, and if not, why (a sentence for the user)."""

    available: bool
    reason: str


_sd_lock = threading.Lock()
_sd_module: Any = None
_sd_reason = ""
_open_streams = 0


def _sounddevice() -> tuple[Any, str]:
    """Import ``sounddevice`` once; return ``(module, "")`` or ``(None, reason)``."""
    global _sd_module, _sd_reason
    with _sd_lock:
        if _sd_module is None and not _sd_reason:
            try:
                import sounddevice
            except OSError:
                # sounddevice raises OSError at import when libportaudio cannot be loaded.
                _sd_reason = NO_PORTAUDIO_REASON
            except ImportError as err:
                _sd_reason = f"No sound output: the sounddevice package is missing ({err})"
            else:
                _sd_module = sounddevice
        return _sd_module, _sd_reason


def _rescan_devices(sd: Any) -> None:
    """Re-initialise PortAudio so devices that appeared since the import are seen."""
    with _sd_lock:
        # PortAudio fixes its device list at initialisation and cannot re-scan under open streams.
        if _open_streams:
            return
        try:
            sd._terminate()
            sd._initialize()
        except (AttributeError, sd.PortAudioError):
            pass


def _output_channels(info: Mapping[str, Any]) -> int:
    """Stereo (the mono signal duplicated) where the device has two channels, else mono."""
    return 2 if int(info["max_output_channels"]) >= 2 else 1


def playback_status(*, refresh: bool = False, device: int | str | None = None) -> PlaybackStatus:
    """Find out whether sound can be played here.

    Parameters
    ----------
    refresh : bool
        Re-scan the sound devices first (PortAudio lists them once, at import); skipped while a
        player has a stream open.
    device : int or str, optional
        A PortAudio output device (index or name); the default output device when omitted.

    Returns
    -------
    PlaybackStatus
        ``(True, "")``, or ``(False, reason)`` with a sentence such as
        ``"No sound output: no output device found"``.
    """
    sd, reason = _sounddevice()
    if sd is None:
        return PlaybackStatus(False, reason)
    if refresh:
        _rescan_devices(sd)
    try:
        info = sd.query_devices(device, kind="output")
    except (sd.PortAudioError, ValueError):
        return PlaybackStatus(False, NO_DEVICE_REASON)
    if int(info["max_output_channels"]) < 1:
        return PlaybackStatus(False, NO_DEVICE_REASON)
    try:
        # Opening (not starting) a stream is the only sure test: a listed device may be busy.
        stream = sd.OutputStream(samplerate=SAMPLE_RATE, channels=_output_channels(info),
                                 dtype="float32", device=device)
        stream.close()
    except (sd.PortAudioError, ValueError) as err:
        return PlaybackStatus(False, f"No sound output: the output device cannot be opened ({err})")
    return PlaybackStatus(True, "")


def _prepare(name: str, x: Any) -> np.ndarray:
    """Turn a caller's signal into a clean, private, read-only float32 buffer."""
    if name not in SOURCE_NAMES:
        raise ValueError(f"unknown source {name!r}; expected one of {SOURCE_NAMES}")
    buf = np.array(x, dtype=np.float32, copy=True)
    if buf.ndim != 1:
        raise ValueError(f"source {name}: expected a mono signal of shape [T], got {buf.shape}")
    # A NaN or an overflow from a bad decode must not reach the speakers.
    np.nan_to_num(buf, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    np.clip(buf, -1.0, 1.0, out=buf)
    buf.flags.writeable = False
    return buf


def _fill(dst: np.ndarray, buf: np.ndarray | None, pos: int, loop: bool) -> int:
    """Copy ``buf`` from ``pos`` into ``dst`` (silence past the end, or wrap when looping).

    Returns the position after the copied samples.
    """
    if buf is None:
        dst.fill(0.0)
        return pos
    n, length, i = len(dst), len(buf), 0
    while i < n:
        if pos >= length:
            if not loop or length == 0:
                dst[i:].fill(0.0)
                return pos
            pos = 0
        m = min(n - i, length - pos)
        dst[i:i + m] = buf[pos:pos + m]
        i += m
        pos += m
    return pos


class Player:
    """Plays one of up to three mono sources, switching between them without a click.

    Parameters
    ----------
    sample_rate : int
        Rate of every source, in Hz.
    device : int or str, optional
        PortAudio output device; the system default when omitted.
    channels : int, optional
        Output channels; by default 2 (the mono source duplicated) where the device allows it.
    blocksize : int
        Frames per callback: small, so switching and pausing answer quickly.
    latency : float or str
        PortAudio's suggested latency (seconds, ``"low"`` or ``"high"``).
    crossfade_ms : float
        Length of the equal-power crossfade used when switching source, seeking, starting and
        pausing.
    loop : bool
        Start again from the beginning at the end of the source instead of stopping.
    """

    def __init__(self, *, sample_rate: int = SAMPLE_RATE, device: int | str | None = None,
                 channels: int | None = None, blocksize: int = 256,
                 latency: float | str = "low", crossfade_ms: float = 10.0, loop: bool = False):
        self.sample_rate = int(sample_rate)
        self._device = device
        self._channels = channels
        self._blocksize = int(blocksize)
        self._latency = latency
        n_fade = max(0, round(crossfade_ms * self.sample_rate / 1000.0))
        theta = (np.arange(n_fade, dtype=np.float64) + 0.5) * (math.pi / 2 / max(n_fade, 1))
        self._rise = np.sin(theta).astype(np.float32)
        self._fall = np.cos(theta).astype(np.float32)
        self._mix = np.zeros(max(self._blocksize, 1), dtype=np.float32)
        self._tail = np.zeros_like(self._mix)

        self._lock = threading.Lock()
        self._stream_lock = threading.Lock()
        self._buffers: dict[str, np.ndarray] = {}
        self._active = SOURCE_NAMES[0]
        self._pos = 0
        self._loop = bool(loop)
        self._playing = False
        # The outgoing voice of a crossfade: a buffer (None: silence) and its own position.
        self._fade_buf: np.ndarray | None = None
        self._fade_pos = 0
        self._fade_k = len(self._rise)
        self._cb_done = False
        self._post_roll = 0
        self._post_left = 0
        self._stream: Any = None
        self._status: PlaybackStatus | None = None
        self.underruns = 0
        """Output underflows PortAudio reported (a sign the machine was too busy)."""

    # -- availability -----------------------------------------------------------------------

    @staticmethod
    def probe(*, refresh: bool = False) -> PlaybackStatus:
        """Same as :func:`playback_status` for the default output device."""
        return playback_status(refresh=refresh)

    @property
    def status(self) -> PlaybackStatus:
        """Whether this player can make sound, and if not, why."""
        if self._status is None:
            self._status = playback_status(device=self._device)
        return self._status

    @property
    def available(self) -> bool:
        """True when this player can make sound."""
        return self.status.available

    # -- sources ----------------------------------------------------------------------------

    def set_sources(self, sources: Mapping[str, Any]) -> None:
        """Replace all sources at once.

        Parameters
        ----------
        sources : mapping of str to array [T]
            Mono float signals by name ("A", "B", "C"); a source left out is removed.
        """
        prepared = {name: _prepare(name, x) for name, x in sources.items() if x is not None}
        with self._lock:
            old = self._buffers.get(self._active)
            self._buffers = prepared
            self._after_buffer_change(old)

    def set_source(self, name: str, x: Any) -> None:
        """Set (or with ``x=None`` remove) one source; the buffer ``x : array [T]`` is copied.

        Replacing the source being heard crossfades to the new one at the same position.
        """
        buf = None if x is None else _prepare(name, x)
        with self._lock:
            old = self._buffers.get(self._active)
            buffers = dict(self._buffers)
            if buf is None:
                buffers.pop(name, None)
            else:
                buffers[name] = buf
            self._buffers = buffers
            self._after_buffer_change(old)

    def share_source(self, name: str, buf: np.ndarray) -> None:
        """Play float32 ``buf[T]`` in [-1, 1] as ``name`` uncopied, a renderer filling it."""
        if name not in SOURCE_NAMES or buf.dtype != np.float32 or buf.ndim != 1:
            raise ValueError(f"source {name!r}: expected float32 [T], got {buf.dtype}")
        with self._lock:
            old, self._buffers = self._buffers.get(self._active), {**self._buffers, name: buf}
            self._after_buffer_change(old)

    def _after_buffer_change(self, old: np.ndarray | None) -> None:
        new = self._buffers.get(self._active)
        if new is old:
            return
        if self._playing:
            self._start_fade(old, self._pos)
        self._pos = min(self._pos, len(new)) if new is not None else 0

    @property
    def sources(self) -> tuple[str, ...]:
        """Names of the sources set, in A, B, C order."""
        with self._lock:
            return tuple(n for n in SOURCE_NAMES if n in self._buffers)

    def duration(self, name: str | None = None) -> float:
        """Length of a source (the active one by default) in seconds; 0 when it is not set."""
        with self._lock:
            buf = self._buffers.get(self._active if name is None else name)
            return 0.0 if buf is None else len(buf) / self.sample_rate

    # -- transport --------------------------------------------------------------------------

    @property
    def active_source(self) -> str:
        """Name of the source being played (or that play() would play)."""
        return self._active

    @property
    def position(self) -> float:
        """Play position in the active source, in seconds (what the callback last rendered)."""
        return self._pos / self.sample_rate

    @property
    def is_playing(self) -> bool:
        """True between play() and pause()/stop()/the end of the source."""
        return self._playing

    @property
    def loop(self) -> bool:
        """Whether playback starts again from the beginning at the end of the source."""
        return self._loop

    @loop.setter
    def loop(self, value: bool) -> None:
        self._loop = bool(value)

    def select(self, name: str) -> None:
        """Switch to source ``name`` at the same position (clamped to its length)."""
        if name not in SOURCE_NAMES:
            raise ValueError(f"unknown source {name!r}; expected one of {SOURCE_NAMES}")
        with self._lock:
            if name == self._active:
                return
            old = self._buffers.get(self._active)
            self._active = name
            self._after_buffer_change(old)

    def seek(self, seconds: float) -> None:
        """Move the play position to ``seconds`` (clamped to the active source)."""
        with self._lock:
            buf = self._buffers.get(self._active)
            length = 0 if buf is None else len(buf)
            new = min(max(0, round(seconds * self.sample_rate)), length)
            if self._playing and new != self._pos:
                self._start_fade(buf, self._pos)
            self._pos = new

    def play(self) -> None:
        """Start or resume playing the active source; does nothing without sound output."""
        with self._lock:
            buf = self._buffers.get(self._active)
            if self._playing or buf is None or len(buf) == 0:
                return
            if self._pos >= len(buf):
                self._pos = 0
            self._playing = True
            # Fade in from silence, whatever was fading out before.
            self._start_fade(None, 0)
            restart = self._stream is None or self._cb_done
        if restart and not self._run_stream():
            with self._lock:
                self._playing = False

    def pause(self) -> None:
        """Stop playing and keep the position (the sound fades out over the crossfade)."""
        with self._lock:
            if not self._playing:
                return
            self._playing = False
            self._start_fade(self._buffers.get(self._active), self._pos)

    def toggle(self) -> None:
        """Pause when playing, play otherwise."""
        if self._playing:
            self.pause()
        else:
            self.play()

    def stop(self) -> None:
        """Pause and go back to the beginning."""
        self.pause()
        with self._lock:
            self._pos = 0

    def close(self) -> None:
        """Close the output stream (pending sound is dropped); the player may play again."""
        global _open_streams
        with self._stream_lock:
            with self._lock:
                stream, self._stream = self._stream, None
                self._playing = False
                self._fade_k = len(self._rise)
            if stream is not None:
                stream.close(ignore_errors=True)
                with _sd_lock:
                    _open_streams -= 1

    def __enter__(self) -> Player:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the stream -------------------------------------------------------------------------

    def _run_stream(self) -> bool:
        """Open the stream if needed and (re)start it; False (status set) when that fails."""
        global _open_streams
        sd, reason = _sounddevice()
        if sd is None:
            self._status = PlaybackStatus(False, reason)
            return False
        with self._stream_lock:
            try:
                if self._stream is None:
                    channels = self._channels
                    if channels is None:
                        try:
                            info = sd.query_devices(self._device, kind="output")
                        except (sd.PortAudioError, ValueError):
                            self._status = PlaybackStatus(False, NO_DEVICE_REASON)
                            return False
                        channels = _output_channels(info)
                    stream = sd.OutputStream(
                        samplerate=self.sample_rate, blocksize=self._blocksize,
                        device=self._device, channels=channels, dtype="float32",
                        latency=self._latency, callback=self._callback,
                        finished_callback=self._on_finished)
                    with _sd_lock:
                        _open_streams += 1
                    self._stream = stream
                    # PortAudio's figure undercounts what the ALSA/Pulse path holds: pad it.
                    self._post_roll = 2 * (math.ceil(stream.latency * self.sample_rate)
                                           + stream.blocksize)
                elif self._cb_done:
                    # The callback ended the stream after a pause; PortAudio wants stop() first.
                    self._stream.stop(ignore_errors=True)
                self._cb_done = False
                self._stream.start()
            except (sd.PortAudioError, ValueError) as err:
                self._status = PlaybackStatus(
                    False, f"No sound output: the output device cannot be opened ({err})")
                return False
        self._status = PlaybackStatus(True, "")
        return True

    def _start_fade(self, outgoing: np.ndarray | None, pos: int) -> None:
        """Begin a crossfade from ``outgoing`` at ``pos`` to the active source (lock held)."""
        self._fade_buf = outgoing
        self._fade_pos = pos
        self._fade_k = 0

    def _render(self, out: np.ndarray) -> bool:
        """Fill ``out`` (the next mono frames) and advance; False when the stream should end.

        Called with the lock held; only copies and multiplies in place.
        """
        n = len(out)
        if self._playing:
            buf = self._buffers.get(self._active)
            self._pos = _fill(out, buf, self._pos, self._loop)
            if buf is None or (self._pos >= len(buf) and not self._loop):
                # The end of the source: the signal itself ends, so no fade is needed.
                self._playing = False
                self._pos = 0
        else:
            out.fill(0.0)
        n_fade = len(self._rise)
        if self._fade_k < n_fade:
            tail = self._tail[:n] if n <= len(self._tail) else np.zeros(n, np.float32)
            self._fade_pos = _fill(tail, self._fade_buf, self._fade_pos, False)
            k = self._fade_k
            m = min(n, n_fade - k)
            out[:m] *= self._rise[k:k + m]
            tail[:m] *= self._fall[k:k + m]
            out[:m] += tail[:m]
            self._fade_k += m
            if self._fade_k >= n_fade:
                self._fade_buf = None
            self._post_left = self._post_roll
            return True
        if self._playing:
            self._post_left = self._post_roll
            return True
        # Stopping a stream drops what it still buffers: end only once that is silence.
        self._post_left -= n
        return self._post_left > 0

    def _on_finished(self) -> None:
        with self._lock:
            if not self._cb_done:
                # Not our own stop: the device failed or went away. Show the player as stopped
                # so the next play() starts the stream again.
                self._cb_done = True
                self._playing = False

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status.output_underflow:
            self.underruns += 1
        mix = self._mix[:frames] if frames <= len(self._mix) else np.zeros(frames, np.float32)
        with self._lock:
            keep = self._render(mix)
            if not keep:
                self._cb_done = True
        outdata[:] = mix[:, None]
        if not keep:
            raise _sd_module.CallbackStop

"""Real-sound test harness: a private PulseAudio daemon with a null sink, and a recorder of it.

``sound_harness`` (a session fixture; import it into a test module) starts ``pulseaudio`` in a
temporary folder with one null sink at 22 050 Hz, mono, float32, points PortAudio's ALSA
``default`` device at it (``ALSA_CONFIG_PATH`` + ``PULSE_SERVER``), re-scans PortAudio's device
list, and yields a :class:`NullSink`. ``NullSink.record()`` captures the sink's monitor with
``parecord``: what the player sent, sample for sample (no resampling, no quantisation).

Also here, for subprocess tests (the player's and the GUI's): environments in which PortAudio is
hidden (:func:`hidden_portaudio_env`) or present with no output device
(:func:`no_output_device_env`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from core.constants import SAMPLE_RATE

SINK = "celae_test_null"
INPUT_SINK = "celae_test_in"
"""A second null sink whose monitor is the default *input*: live-input tests play into it."""
FEED = "celae_test_feed"
"""A combined sink that plays into both: the recorded sink hears the input too, on one clock."""
_START_TIMEOUT_S = 15.0
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class HarnessError(RuntimeError):
    """The PulseAudio harness could not be set up here (the message says why)."""


def _write_client_config(folder: Path, server: str) -> Path:
    # autospawn off: a client must never start a real PulseAudio daemon behind the test's back.
    path = folder / "client.conf"
    path.write_text(f"autospawn = no\ndefault-server = {server}\n")
    return path


class Recording:
    """Samples captured from the null sink's monitor while the ``with`` block runs."""

    def __init__(self, env: dict[str, str]):
        self._env = env
        self._chunks: list[bytes] = []
        self._nbytes = 0
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def __enter__(self) -> Recording:
        cmd = ["parecord", "--raw", "--format=float32le", f"--rate={SAMPLE_RATE}",
               "--channels=1", f"--device={SINK}.monitor", "--latency-msec=20"]
        self._proc = subprocess.Popen(cmd, env=self._env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # The idle null sink's monitor streams silence: the first bytes mean we are connected.
        self.wait_for(lambda r: len(r) > 0, "parecord to connect")
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while chunk := self._proc.stdout.read1(65536):
            with self._lock:
                self._chunks.append(chunk)
                self._nbytes += len(chunk)

    def __exit__(self, *exc: object) -> None:
        assert self._proc is not None and self._reader is not None
        self._proc.terminate()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout=5)
        self._proc.stdout.close()
        self._proc.stderr.close()

    @property
    def samples(self) -> np.ndarray:
        """Everything recorded so far, float32 ``[T]`` at 22 050 Hz."""
        with self._lock:
            data = b"".join(self._chunks)
        usable = len(data) - len(data) % 4
        return np.frombuffer(data[:usable], dtype="<f4").astype(np.float32)

    def wait_for(self, predicate: Callable[[np.ndarray], bool], what: str,
                 timeout: float = 20.0) -> np.ndarray:
        """Poll the recording until ``predicate(samples)`` holds; fail the test after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            rec = self.samples
            if predicate(rec):
                return rec
            if self._proc is not None and self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                pytest.fail(f"parecord exited while waiting for {what}: {err.strip()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.02)

    def wait_for_silence_after_sound(self, threshold: float = 1e-3,
                                     silence_s: float = 0.3) -> np.ndarray:
        """Wait until sound was recorded and then ``silence_s`` of silence; return it all."""
        quiet = round(silence_s * SAMPLE_RATE)

        def done(rec: np.ndarray) -> bool:
            loud = np.flatnonzero(np.abs(rec) > threshold)
            return loud.size > 0 and len(rec) - loud[-1] > quiet

        return self.wait_for(done, "the sound to play out and stop")


class NullSink:
    """A private PulseAudio daemon with one null sink; :attr:`env` routes PortAudio to it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.socket = folder / "run" / "native"
        self.server = f"unix:{self.socket}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = folder / "pulseaudio.log"
        self.env: dict[str, str] = {}
        """Variables that make a client (PortAudio via ALSA, pactl, parecord) use this sink."""

    def start(self) -> None:
        """Start the daemon and wait until it answers; raise HarnessError if it cannot."""
        for tool in ("pulseaudio", "pactl", "parecord", "pacat"):
            if shutil.which(tool) is None:
                raise HarnessError(f"{tool} is not installed (apt-get install pulseaudio "
                                   "pulseaudio-utils libasound2-plugins)")
        run = self.folder / "run"
        run.mkdir(parents=True, exist_ok=True)
        run.chmod(0o700)
        script = self.folder / "default.pa"
        script.write_text(
            f"load-module module-null-sink sink_name={SINK} rate={SAMPLE_RATE} channels=1 "
            # norewinds: a rewind re-renders the sink's first milliseconds of a new stream, and
            # the monitor (what we record) loses them; a real speaker would not.
            f"format=float32le norewinds=1 sink_properties=device.description=celae-null\n"
            f"load-module module-null-sink sink_name={INPUT_SINK} rate={SAMPLE_RATE} channels=1 "
            f"format=float32le norewinds=1 sink_properties=device.description=celae-input\n"
            f"load-module module-combine-sink sink_name={FEED} slaves={INPUT_SINK},{SINK} "
            f"rate={SAMPLE_RATE} channels=1\n"
            f"load-module module-native-protocol-unix auth-anonymous=1 socket={self.socket}\n"
            f"set-default-sink {SINK}\n"
            # The input sink's monitor is what a live stream records: never the output's own
            # monitor, or the output would feed back into the input.
            f"set-default-source {INPUT_SINK}.monitor\n")
        asound = self.folder / "asound.conf"
        # This file replaces the system's ALSA configuration: one device, "default", to Pulse.
        asound.write_text("pcm.!default { type pulse }\nctl.!default { type pulse }\n")
        self.env = {
            "PULSE_SERVER": self.server,
            "PULSE_SINK": SINK,
            "PULSE_CLIENTCONFIG": str(_write_client_config(self.folder, self.server)),
            "ALSA_CONFIG_PATH": str(asound),
            "JACK_NO_START_SERVER": "1",
        }
        daemon_env = dict(os.environ, HOME=str(self.folder), XDG_RUNTIME_DIR=str(run),
                          XDG_CONFIG_HOME=str(self.folder / "config"))
        daemon_env.pop("PULSE_SERVER", None)
        # --system=no lets root run a per-user daemon (as in CI containers); -n skips the
        # system's default.pa so only our two modules are loaded.
        cmd = ["pulseaudio", "-n", "-F", str(script), "--daemonize=no", "--system=no",
               "--exit-idle-time=-1", "--use-pid-file=no", "--disallow-exit=no",
               "--log-target=stderr", "--log-level=error"]
        with open(self._log, "wb") as log:
            self._proc = subprocess.Popen(cmd, env=daemon_env, stdout=log, stderr=log)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            if self._proc.poll() is not None:
                raise HarnessError(f"pulseaudio exited: {self._log.read_text().strip()}")
            probe = subprocess.run(["pactl", "info"], env=self.client_env(),
                                   capture_output=True, text=True)
            if probe.returncode == 0 and f"Default Sink: {SINK}" in probe.stdout:
                return
            if time.monotonic() > deadline:
                self.stop()
                raise HarnessError(f"pulseaudio did not answer: {probe.stderr.strip()}")
            time.sleep(0.05)

    def client_env(self) -> dict[str, str]:
        """The whole environment for a client subprocess of this sink."""
        return dict(os.environ, **self.env)

    def record(self) -> Recording:
        """A context manager that records the sink's monitor (see :class:`Recording`)."""
        return Recording(self.client_env())

    def feed(self, samples: np.ndarray) -> subprocess.Popen[bytes]:
        """Play ``samples`` (float32, 22 050 Hz) into the input sink and, at the same instant,
        into the recorded sink; returns the running ``pacat`` (wait on it)."""
        cmd = ["pacat", "--playback", "--raw", "--format=float32le", f"--rate={SAMPLE_RATE}",
               "--channels=1", f"--device={FEED}", "--latency-msec=20"]
        proc = subprocess.Popen(cmd, env=self.client_env(), stdin=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(np.asarray(samples, dtype="<f4").tobytes())
        proc.stdin.close()
        return proc

    def stop(self) -> None:
        """Stop the daemon."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None


@contextlib.contextmanager
def _process_env(changes: dict[str, str]) -> Iterator[None]:
    """Set environment variables of this process for the block, then restore them."""
    saved = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def sound_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NullSink]:
    """A running null sink that this process's PortAudio default output plays into."""
    from celae_gui.playback.player import playback_status

    sink = NullSink(tmp_path_factory.mktemp("pulse"))
    try:
        sink.start()
    except HarnessError as err:
        pytest.skip(f"no PulseAudio null sink: {err}")
    try:
        with _process_env(sink.env):
            # PortAudio lists devices once; an earlier test may have imported it without Pulse.
            status = playback_status(refresh=True)
            if not status.available:
                pytest.fail(f"PortAudio does not see the null sink: {status.reason}")
            yield sink
        playback_status(refresh=True)
    finally:
        sink.stop()


# -- environments without sound output, for subprocess tests -----------------------------------

_FIND_LIBRARY_IMPORT = "from ctypes.util import find_library as _find_library\n"


def hidden_portaudio_env(folder: Path) -> dict[str, str]:
    """An environment whose Python cannot load PortAudio, as on a machine without libportaudio2.

    A copy of the installed ``sounddevice.py`` whose library search finds nothing is put first on
    ``PYTHONPATH``; importing ``sounddevice`` then raises the same ``OSError("PortAudio library
    not found")`` it raises where the library is not installed. The project itself is unchanged.

    Parameters
    ----------
    folder : Path
        An empty scratch folder (e.g. ``tmp_path``) to hold the copy.

    Returns
    -------
    dict
        A complete environment for ``subprocess.run(..., env=...)``.
    """
    spec = importlib.util.find_spec("sounddevice")
    if spec is None or spec.origin is None:
        raise HarnessError("sounddevice is not installed")
    source = Path(spec.origin).read_text()
    if source.count(_FIND_LIBRARY_IMPORT) != 1:
        raise HarnessError(f"{spec.origin}: library look-up not recognised; update the harness")
    hidden = source.replace(_FIND_LIBRARY_IMPORT,
                            "def _find_library(name):\n    return None\n")
    shadow = folder / "hidden_portaudio"
    shadow.mkdir(parents=True, exist_ok=True)
    (shadow / "sounddevice.py").write_text(hidden)
    paths = [str(shadow), str(_PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))


def no_output_device_env(folder: Path) -> dict[str, str]:
    """An environment where PortAudio loads but finds no output device.

    ALSA gets a configuration whose only device is a card that does not exist, PulseAudio a
    server address that does not exist (and no autospawn), JACK no server start.

    Parameters
    ----------
    folder : Path
        A scratch folder (e.g. ``tmp_path``) for the configuration files.

    Returns
    -------
    dict
        A complete environment for ``subprocess.run(..., env=...)``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    asound = folder / "asound-none.conf"
    # An empty ALSA configuration makes PortAudio abort; a default that cannot open does not.
    asound.write_text("pcm.!default { type hw card 99 }\n")
    server = f"unix:{folder / 'no-such-pulse-socket'}"
    paths = [str(_PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]
    return dict(os.environ, ALSA_CONFIG_PATH=str(asound), PULSE_SERVER=server,
                PULSE_CLIENTCONFIG=str(_write_client_config(folder, server)),
                JACK_NO_START_SERVER="1", PYTHONPATH=os.pathsep.join(p for p in paths if p))


def run_python(code: str, env: dict[str, str],
               timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter of this venv with ``env``, from the project root."""
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=_PROJECT_ROOT,
                          capture_output=True, text=True, timeout=timeout)

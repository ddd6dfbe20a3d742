"""``--selftest`` and ``--screenshot``: drive the real window through load, reconstruct, edit.

Both are small state machines on the window's signals (no sleeps, no ``processEvents`` loops):
wait for a song to be reconstructed, apply an edit, wait for the edited audio, then report and
quit. A timer turns a hang into a clear failure.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from celae_gui.main_window import MainWindow

TIMEOUT_S = 180
SELFTEST_SCALE = 1.5


class WindowCheck(QObject):
    """Wait until the first song is reconstructed and edited, then call :meth:`done`."""

    def __init__(self, window: MainWindow, app: QApplication):
        super().__init__(window)
        self.window = window
        self.app = app
        self.started = time.perf_counter()
        self.edit_sent = False
        state = window.state
        state.source_changed.connect(self._on_source_changed)
        window.controller.model_load_done.connect(self._on_model_load_done)
        state.message.connect(self._on_message)
        state.library_changed.connect(self._on_library_changed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self.fail(f"timed out after {TIMEOUT_S} s"))
        self._timer.start(TIMEOUT_S * 1000)
        self.last_error = ""
        self.failed = False

    def _on_message(self, level: str, text: str) -> None:
        if level == "error":
            self.last_error = text

    def _on_library_changed(self) -> None:
        # Every song checked and none usable: nothing will ever be reconstructed, so waiting
        # for the timeout would only delay the same failure.
        library = self.window.state.library
        if library and all(e.status == "error" for e in library):
            self._timer.stop()
            self.fail(f"none of the {len(library)} songs could be read ({library[0].reason})")

    def _on_model_load_done(self, ok: bool) -> None:
        if not ok:
            self.fail(f"no model ({self.window.state.model_error})")

    def _on_source_changed(self, kind: str) -> None:
        state = self.window.state
        if kind == "recon" and state.audio("recon") is not None and not self.edit_sent:
            self.edit_sent = True
            self.on_reconstructed()
        elif kind == "edited" and state.audio("edited") is not None and self.edit_sent \
                and not state.edit_params.is_identity:
            self._timer.stop()
            self.done()

    def on_reconstructed(self) -> None:
        self.window.state.set_edit_params(self.window.state.replace_params(scale=SELFTEST_SCALE))

    def done(self) -> None:
        raise NotImplementedError

    def fail(self, reason: str) -> None:
        """Print why and quit with status 1 (once)."""
        if self.failed:
            return
        self.failed = True
        extra = f" (last error: {self.last_error})" if self.last_error else ""
        print(f"{self.name} FAILED: {reason}{extra}", file=sys.stderr, flush=True)
        # Closing the last window would quit with status 0 after the exit(1) below.
        self.app.setQuitOnLastWindowClosed(False)
        self.window.close()
        self.app.exit(1)

    name = "check"


class SelfTest(WindowCheck):
    """One summary line on stdout, exit 0."""

    name = "selftest"

    def playback_summary(self) -> str:
        """What the transport shows: ``playback on``, or ``playback off`` with the shown
        reason and whether the play button is enabled."""
        bar = self.window.transport_bar
        if self.window.playback.available:
            return "playback on"
        play = "enabled" if bar.play_button.isEnabled() else "disabled"
        return f"playback off (play button {play}; shown: {bar.reason_label.text()!r})"

    def done(self) -> None:
        state = self.window.state
        recon = state.source("recon").quality
        edited = state.source("edited")
        changed = not (len(edited.audio) == len(state.audio("recon"))
                       and (edited.audio == state.audio("recon")).all())
        if not changed:
            self.fail("the edit did not change the audio")
            return
        print(f"selftest ok: model={state.model.name}, song={state.current_path.name}, "
              f"SI-SDR recon={recon.si_sdr:.2f} dB, edit applied (scale ×{SELFTEST_SCALE}, "
              f"SI-SDR {edited.quality.si_sdr:.2f} dB), "
              f"{time.perf_counter() - self.started:.2f} s; {self.playback_summary()}",
              flush=True)
        self.window.close()
        self.app.exit(0)


class Screenshot(WindowCheck):
    """Render the window to a PNG once the first song is reconstructed and edited."""

    name = "screenshot"

    def __init__(self, window: MainWindow, app: QApplication, out: Path):
        super().__init__(window, app)
        self.out = Path(out)

    def on_reconstructed(self) -> None:
        # A mild, audible edit so the edited trace is visible beside the reconstruction. Not
        # smoothing: a codec's latent frames carry detail that smoothing wipes out (-17 dB).
        self.window.state.set_edit_params(self.window.state.replace_params(
            scale=1.3, noise_sigma=0.1))

    def done(self) -> None:
        # Let the plots repaint with the final data before grabbing.
        QTimer.singleShot(200, self._grab)

    def _grab(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        ok = self.window.grab().save(str(self.out))
        if not ok:
            self.fail(f"{self.out.name}: could not write the PNG")
            return
        print(f"screenshot written: {self.out}", flush=True)
        self.window.close()
        self.app.exit(0)

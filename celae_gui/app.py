"""Entry point of ``celae-workbench``: the window first, torch and the model in the background.

``celae-workbench [AUDIO ...]`` opens the app with those songs (else the demo songs);
``--selftest`` checks load, reconstruct and edit offscreen and prints one line;
``--screenshot OUT.png [AUDIO ...]`` renders the window with the first song reconstructed.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path

_T0 = time.perf_counter()


HEAVY_MODULES = ("torch", "torchaudio", "sklearn", "scipy")
"""Seconds to import each: they load in workers after the window is up, never before it."""


def heavy_modules_loaded() -> str:
    """Comma-separated :data:`HEAVY_MODULES` already imported (empty when none)."""
    return ", ".join(m for m in HEAVY_MODULES if m in sys.modules)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="celae-workbench",
                                     description="Train, hear and explore music autoencoders.")
    parser.add_argument("audio", nargs="*", type=Path, help="songs or folders to open")
    parser.add_argument("--selftest", action="store_true",
                        help="open the window offscreen, reconstruct and edit a demo song, "
                             "print one line and exit")
    parser.add_argument("--screenshot", type=Path, metavar="OUT.png",
                        help="render the window with the songs loaded and the first one "
                             "reconstructed, then exit")
    parser.add_argument("--model", help="model folder or name to load instead of the last one")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the app; returns the exit status."""
    # The trainer runs in a spawned child process; in a frozen bundle the child re-enters here.
    multiprocessing.freeze_support()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    headless = args.selftest or args.screenshot is not None
    if headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from core.logs import setup_logging

    log_file = setup_logging("app")
    logging.getLogger(__name__).info("log file %s, arguments %s", log_file, args)

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from celae_gui import settings, theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(settings.ORGANISATION)
    app.setApplicationName(settings.APPLICATION)
    app.setApplicationDisplayName("CELAE Workbench")
    theme.apply_dark_theme(app)
    from core.paths import resources_dir

    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "celae-256.png")))

    from celae_gui.main_window import MainWindow

    window = MainWindow()
    check = None
    if args.selftest:
        from celae_gui.checks import SelfTest

        check = SelfTest(window, app)
    elif args.screenshot is not None:
        from celae_gui.checks import Screenshot

        window.resize(1600, 980)
        check = Screenshot(window, app, args.screenshot)
    if os.environ.get("CELAE_REPORT_STARTUP"):
        window.shown.connect(lambda: print(
            f"window shown after {time.perf_counter() - _T0:.3f} s "
            f"(heavy modules imported before it: {heavy_modules_loaded() or 'none'})",
            flush=True))
    window.show()
    # Start the background work once the window is on screen, so it appears at once.
    QTimer.singleShot(0, lambda: window.start(list(args.audio), args.model))
    status = app.exec()
    del check
    return status


if __name__ == "__main__":
    sys.exit(main())

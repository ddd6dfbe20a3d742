"""Help > About shows what a bug report needs: versions, the compute device, the log file."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication

from core import __version__ as app_version


def test_about_shows_versions_device_and_an_existing_log_file(qtbot, window):
    window.about_action.trigger()
    dialog = window.about_dialog
    qtbot.waitExposed(dialog)
    assert dialog.isVisible()
    assert dialog.text("Version") == app_version
    # The wheel's version string, e.g. "2.11.0+cu130", as torch itself reports it.
    assert dialog.text("PyTorch") == torch.__version__
    assert dialog.text("Qt") == qVersion()
    assert dialog.text("PySide6") == pyside_version
    assert dialog.text("Compute device") == str(next(window.state.model.model.parameters()).device)

    log_file = Path(dialog.text("Log file"))
    assert log_file.is_file()
    assert log_file.parent == Path(os.environ["CELAE_LOG_DIR"])
    # It is the file being written: a record logged now lands in it.
    logging.getLogger("celae.test_about").warning("about-dialog-marker")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "about-dialog-marker" in log_file.read_text(encoding="utf-8")

    dialog.copy_to_clipboard()
    copied = QGuiApplication.clipboard().text()
    assert f"PyTorch: {torch.__version__}" in copied and str(log_file) in copied
    dialog.close()


def test_about_before_any_model_says_none_is_loaded(qtbot, qapp):
    from celae_gui.dialogs.about_dialog import AboutDialog
    from celae_gui.state import AppState

    dialog = AboutDialog(AppState())
    qtbot.addWidget(dialog)
    assert dialog.text("Compute device").startswith("none yet")

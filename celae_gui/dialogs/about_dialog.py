"""Help > About: versions, the compute device in use and where the log file is.

What a user pastes into a bug report. Versions are read from package metadata, so opening the
dialog never imports torch (it may still be loading in the background at launch).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from celae_gui.state import AppState

APP_TITLE = "CELAE Workbench"


@dataclass(frozen=True)
class AboutInfo:
    """The facts the About dialog shows, as text."""

    app_version: str
    python: str
    torch: str
    qt: str
    pyside: str
    device: str
    log_file: Path

    def as_text(self) -> str:
        """All facts, one per line (what Copy puts on the clipboard)."""
        return "\n".join(f"{name}: {value}" for name, value in self.rows())

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs in display order."""
        return [("Version", self.app_version), ("Python", self.python),
                ("PyTorch", self.torch), ("Qt", self.qt), ("PySide6", self.pyside),
                ("Compute device", self.device), ("Log file", str(self.log_file))]


def package_version(name: str) -> str:
    """Installed version of distribution ``name``, or ``"not installed"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def torch_version() -> str:
    """torch's own version string once it is imported (it names the build, e.g.
    ``2.11.0+cu130``), else the installed package's."""
    torch = sys.modules.get("torch")
    return str(torch.__version__) if torch is not None else package_version("torch")


def app_version() -> str:
    """The app's version (``core.__version__``; the package metadata can lag in a checkout)."""
    from core import __version__

    return __version__


def compute_device(state: AppState | None) -> str:
    """The device the current model computes on, e.g. ``"cpu"`` or ``"cuda:0 (NVIDIA H100)"``.

    Only asks torch when it is already imported (the model worker imports it), so the dialog
    never waits for torch to load.
    """
    loaded = None if state is None else state.model
    if loaded is None or "torch" not in sys.modules:
        return "none yet (no model loaded)"
    try:
        device = next(loaded.model.parameters()).device
    except StopIteration:
        return "cpu"
    if device.type == "cuda":
        import torch

        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def collect_info(state: AppState | None = None) -> AboutInfo:
    """Versions, device and log path of this running app."""
    from core.logs import setup_logging

    return AboutInfo(
        app_version=app_version(),
        python=f"{platform.python_version()} ({sys.platform})",
        torch=torch_version(),
        qt=qVersion(),
        pyside=pyside_version,
        device=compute_device(state),
        # Idempotent: returns the file app start-up opened (or opens it if it did not).
        log_file=setup_logging("app"),
    )


class AboutDialog(QDialog):
    """Versions, compute device and log path, selectable, with a Copy button."""

    def __init__(self, state: AppState | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_TITLE}")
        self.info = collect_info(state)
        title = QLabel(f"<h2>{APP_TITLE}</h2>"
                       "<p>Train, hear and explore 1-D convolutional autoencoders of music.</p>")
        title.setTextFormat(Qt.TextFormat.RichText)
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for name, value in self.info.rows():
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            form.addRow(f"{name}:", label)
            self.values[name] = label
        self.values["Log file"].setToolTip("Attach this file to a bug report")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy")
        copy.setToolTip("Copy these details to the clipboard")
        copy.clicked.connect(self.copy_to_clipboard)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def text(self, name: str) -> str:
        """The shown value of row ``name`` (e.g. ``"Log file"``)."""
        return self.values[name].text()

    def copy_to_clipboard(self) -> None:
        """Put every row on the clipboard, for a bug report."""
        QGuiApplication.clipboard().setText(self.info.as_text())

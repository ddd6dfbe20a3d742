"""The keyboard shortcuts, in one table used by the actions and by Help > Shortcuts."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

SHORTCUTS = (
    ("Space", "Play / pause"),
    ("1 / 2 / 3", "Hear A original / B reconstruction / C edited"),
    ("Tab", "Cycle A → B → C (keeps the position)"),
    ("Click a plot", "Seek"),
    ("Ctrl+O", "Open songs"),
    ("Ctrl+E", "Export the edited audio"),
    ("Ctrl+T", "Train a model"),
    ("Ctrl+M", "Morph between songs"),
    ("Ctrl+L", "Live input through the model"),
    ("Ctrl+Shift+A", "Analysis and latent map"),
    ("Delete", "Remove the selected song from the library (the file stays)"),
    ("Ctrl+Z", "Undo a latent edit"),
    ("Ctrl+Shift+Z", "Redo a latent edit"),
    ("Ctrl+Q", "Quit"),
    ("F1", "This list"),
)


class ShortcutsDialog(QDialog):
    """A plain table of :data:`SHORTCUTS`."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = "".join(f"<tr><td style='padding:3px 18px 3px 0'><b>{k}</b></td><td>{v}</td></tr>"
                       for k, v in SHORTCUTS)
        label = QLabel(f"<table>{rows}</table>")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)

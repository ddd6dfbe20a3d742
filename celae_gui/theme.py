"""The dark theme: a Fusion palette, a small style sheet and the trace colours of the plots.

Audio tools are used for hours next to dark DAWs; a dark theme with three clearly distinct trace
colours (original, reconstruction, edited) keeps the overlays readable.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = "#1b1d23"
PANEL = "#23262e"
BASE = "#16181d"
TEXT = "#d8dce6"
MUTED = "#8b93a7"
ACCENT = "#4fa3ff"
ERROR = "#ff5c5c"
WARNING = "#ffc857"

TRACE_COLOURS = {"original": "#9aa5b8", "recon": "#ffa94d", "edited": "#5ce1a6"}
"""Colour of each audio source in every plot and in the transport's A/B/C buttons."""

CATEGORY_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                    "#b07aa1", "#ff9da7", "#9c755f", "#f0f0f0", "#17becf", "#bcbd22",
                    "#8c564b", "#e377c2", "#1f77b4", "#ffbb78", "#98df8a", "#c5b0d5",
                    "#aec7e8", "#7f7f7f")
"""Distinct colours for up to 20 categories (Tableau 10 with white for its grey, which sat
close to its teal, then more of Tableau 20): the evenly spaced hues used before gave two
neighbouring genres nearly the same green (CIE76 distance 25.8; now at least 30.4 for ten)."""


def category_colour(index: int, count: int) -> str:
    """Colour of category ``index`` of ``count`` (hues spaced evenly past 20 categories)."""
    from PySide6.QtGui import QColor

    if count <= len(CATEGORY_COLOURS):
        return CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]
    return QColor.fromHsvF((index / count) % 1.0, 0.65, 0.95).name()


TRACE_LABELS = {"original": "A  original", "recon": "B  reconstruction", "edited": "C  edited"}

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QWidget {{ color: {TEXT}; font-size: 10pt; }}
QGroupBox {{
    background: {PANEL}; border: 1px solid #30343e; border-radius: 6px;
    margin-top: 14px; padding: 8px 6px 6px 6px; font-weight: 600;
}}
QGroupBox::title {{
    subcontrol-origin: margin; left: 10px; padding: 0 4px; color: {MUTED};
}}
QListWidget, QTableWidget, QLineEdit, QComboBox {{
    background: {BASE}; border: 1px solid #30343e; border-radius: 4px; padding: 2px;
}}
QListWidget::item {{ padding: 4px 2px; }}
QListWidget::item:selected {{ background: #2b4a73; color: white; }}
QPushButton, QToolButton {{
    background: #2c303a; border: 1px solid #3a3f4b; border-radius: 4px; padding: 4px 10px;
}}
QPushButton:hover, QToolButton:hover {{ background: #353a46; }}
QPushButton:checked, QToolButton:checked {{ background: #2b4a73; border-color: {ACCENT}; }}
QPushButton:disabled, QToolButton:disabled {{ color: #5c6272; background: #24272e; }}
QSlider::groove:horizontal {{ height: 4px; background: #3a3f4b; border-radius: 2px; }}
QSlider::handle:horizontal {{
    background: {ACCENT}; width: 14px; margin: -6px 0; border-radius: 7px;
}}
QProgressBar {{
    background: {BASE}; border: 1px solid #30343e; border-radius: 4px; text-align: center;
}}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QStatusBar {{ background: {PANEL}; color: {MUTED}; }}
QSplitter::handle {{ background: {BACKGROUND}; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#error {{ color: {ERROR}; }}
QLabel#figure {{ font-size: 15pt; font-weight: 600; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none; padding: 3px; }}
QMenuBar {{ background: {PANEL}; }}
QMenuBar::item:selected, QMenu::item:selected {{ background: #2b4a73; }}
QMenu {{ background: {PANEL}; border: 1px solid #30343e; }}
QToolTip {{ background: {PANEL}; color: {TEXT}; border: 1px solid #3a3f4b; }}
"""


def apply_dark_theme(app: QApplication) -> None:
    """Give ``app`` the Fusion style, a dark palette and the workbench style sheet."""
    app.setStyle("Fusion")
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: BACKGROUND,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#2c303a",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: "#2b4a73",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: PANEL,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: MUTED,
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#5c6272"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText,
                     QColor("#5c6272"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)

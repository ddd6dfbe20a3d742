"""The quality figures of the current clip: reconstruction and edit, each against the original."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QWidget

from celae_gui import theme
from celae_gui.state import AppState

FIGURES = (
    ("snr", "SNR", "dB", "signal-to-noise ratio: higher is better"),
    ("si_sdr", "SI-SDR", "dB", "scale-invariant signal-to-distortion ratio: higher is better"),
    ("log_mel_l1", "log-mel L1", "", "mean absolute log-mel difference: lower is better"),
)
COLUMNS = ("recon", "edited")


def format_figure(value: float | None, unit: str) -> str:
    """``value`` with one decimal (three for unit-less figures) and its unit.

    An em dash when there is no figure, an ellipsis while it is being computed (NaN).
    """
    if value is not None and math.isnan(value):
        return "…"
    if value is None or not math.isfinite(value):
        return "—" if value is None else ("+∞" if value > 0 else "−∞")
    text = f"{value:.1f}" if unit else f"{value:.3f}"
    if float(text) == 0:
        text = text.lstrip("-")  # a tiny negative rounds to "-0.0", which reads as a glitch
    return f"{text} {unit}".strip()


class QualityPanel(QGroupBox):
    """A small table: SNR, SI-SDR and log-mel L1 of B and C against A."""

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__("Quality vs original", parent)
        self._state = state
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(14)
        for col, kind in enumerate(COLUMNS, start=1):
            head = QLabel(theme.TRACE_LABELS[kind].split("  ")[1])
            head.setStyleSheet(f"color: {theme.TRACE_COLOURS[kind]}; font-weight: 600;")
            head.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(head, 0, col)
        self.values: dict[tuple[str, str], QLabel] = {}
        for row, (key, name, _unit, tip) in enumerate(FIGURES, start=1):
            label = QLabel(name)
            label.setToolTip(tip)
            label.setObjectName("muted")
            grid.addWidget(label, row, 0)
            for col, kind in enumerate(COLUMNS, start=1):
                value = QLabel("—")
                value.setAlignment(Qt.AlignmentFlag.AlignRight)
                value.setToolTip(tip)
                value.setObjectName("figure")
                grid.addWidget(value, row, col)
                self.values[(kind, key)] = value
        state.source_changed.connect(self._on_source_changed)
        state.quality_changed.connect(self._on_source_changed)

    def text(self, kind: str, key: str) -> str:
        """The shown value of figure ``key`` for source ``kind``."""
        return self.values[(kind, key)].text()

    def _on_source_changed(self, kind: str) -> None:
        if kind not in COLUMNS:
            return
        data = self._state.source(kind)
        figures = None if data is None else data.quality
        for key, _name, unit, _tip in FIGURES:
            value = None if figures is None else getattr(figures, key, None)
            self.values[(kind, key)].setText(format_figure(value, unit))

"""The quality figures of the current clip: reconstruction and edit against the original, with
the no-learning baseline beside them, and the bitrate the latent costs.

Each figure of the reconstruction has the same figure for pool+interp at the model's ratio next
to it, so "18 dB" reads against what plain decimation scores. ViSQOL comes last (seconds per
clip, in the background). The bit-depth control makes B the reconstruction from the latent
stored at 16 or 8 bits (``core.latent.quantize``), heard and measured as such.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QWidget

from celae_gui import theme
from celae_gui.state import AppState

FIGURES = (
    ("snr", "SNR", "dB", "signal-to-noise ratio: higher is better"),
    ("si_sdr", "SI-SDR", "dB", "scale-invariant signal-to-distortion ratio: higher is better"),
    ("log_mel_l1", "log-mel L1", "", "mean absolute log-mel difference: lower is better"),
    ("visqol", "ViSQOL", "", "perceptual score, ViSQOL v3 audio mode at 48 kHz: 1 (bad) to 5 "
                            "(transparent); computed in the background, seconds per 5 s clip"),
)
COLUMNS = ("recon", "baseline", "edited")
BASELINE_TIP = ("pool+interp: keep one average per latent step (as many values per second as "
                "the model's latent), then interpolate back linearly. No learning: the figure "
                "a model has to beat.")
BIT_CHOICES = ((32, "32 bits"), (16, "16 bits"), (8, "8 bits"))
BITS_TIP = ("Store the latent at this many bits per value before decoding B: 32 (float32), 16 "
            "(float16) or 8 (per-channel scale and offset), as File ▸ Export latent would")


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


def format_visqol(value: float | None) -> str:
    """A ViSQOL score with two decimals (its scale is 1-5), "…" while computed, "—" if none."""
    if value is None:
        return "—"
    return "…" if math.isnan(value) else f"{value:.2f}"


class QualityPanel(QGroupBox):
    """A small table: SNR, SI-SDR, log-mel L1 and ViSQOL of B, pool+interp and C against A."""

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__("Quality vs original", parent)
        self._state = state
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(12)
        heads = {"recon": theme.TRACE_LABELS["recon"].split("  ")[0] + " recon",
                 "baseline": "pool+interp", "edited": theme.TRACE_LABELS["edited"].split("  ")[0]
                 + " edit"}
        colours = {**theme.TRACE_COLOURS, "baseline": theme.TRACE_COLOURS["original"]}
        self.heads: dict[str, QLabel] = {}
        for col, kind in enumerate(COLUMNS, start=1):
            head = QLabel(heads[kind])
            head.setStyleSheet(f"color: {colours[kind]}; font-weight: 600;")
            head.setAlignment(Qt.AlignmentFlag.AlignRight)
            if kind == "baseline":
                head.setToolTip(BASELINE_TIP)
            grid.addWidget(head, 0, col)
            self.heads[kind] = head
        self.values: dict[tuple[str, str], QLabel] = {}
        for row, (key, name, _unit, tip) in enumerate(FIGURES, start=1):
            label = QLabel(name)
            label.setToolTip(tip)
            label.setObjectName("muted")
            grid.addWidget(label, row, 0)
            for col, kind in enumerate(COLUMNS, start=1):
                value = QLabel("—")
                value.setAlignment(Qt.AlignmentFlag.AlignRight)
                value.setToolTip(BASELINE_TIP if kind == "baseline" else tip)
                value.setObjectName("muted" if kind == "baseline" else "figure")
                grid.addWidget(value, row, col)
                self.values[(kind, key)] = value
        grid.addWidget(self._bitrate_row(), len(FIGURES) + 1, 0, 1, len(COLUMNS) + 1)
        state.source_changed.connect(self._on_source_changed)
        state.quality_changed.connect(self._on_source_changed)
        state.visqol_changed.connect(self._on_visqol_changed)
        state.model_changed.connect(self._on_model_changed)
        state.latent_bits_changed.connect(self._on_latent_bits_changed)

    def _bitrate_row(self) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 4, 0, 0)
        self.bitrate_label = QLabel("—")
        self.bitrate_label.setObjectName("muted")
        self.bitrate_label.setToolTip("kilobits per second of audio the model's latent costs "
                                      "at 32 / 16 / 8 bits per value")
        self.bits_combo = QComboBox()
        for bits, text in BIT_CHOICES:
            self.bits_combo.addItem(text, bits)
        self.bits_combo.setToolTip(BITS_TIP)
        self.bits_combo.currentIndexChanged.connect(self._on_bits_chosen)
        hear = QLabel("B at")
        hear.setObjectName("muted")
        layout.addWidget(self.bitrate_label, 1)
        layout.addWidget(hear)
        layout.addWidget(self.bits_combo)
        return row

    def text(self, kind: str, key: str) -> str:
        """The shown value of figure ``key`` for column ``kind`` (``recon``, ``baseline``,
        ``edited``)."""
        return self.values[(kind, key)].text()

    def _on_bits_chosen(self, index: int) -> None:
        self._state.set_latent_bits(int(self.bits_combo.itemData(index)))

    def _on_latent_bits_changed(self, bits: int) -> None:
        index = self.bits_combo.findData(bits)
        if index != self.bits_combo.currentIndex():
            self.bits_combo.setCurrentIndex(index)
        self._on_model_changed(self._state.model)

    def _on_model_changed(self, loaded) -> None:
        from core.latent.bitrate import BIT_DEPTHS, model_bitrate

        rate = None if loaded is None else model_bitrate(loaded.meta)
        if rate is None:
            self.bitrate_label.setText("—")
            return
        bits = self._state.latent_bits
        c, length = loaded.model.latent_shape()
        ratio = loaded.model.clip_samples / (c * length)
        self.heads["baseline"].setText(f"pool+interp 1/{ratio:.3g}")
        depths = " / ".join(f"<b>{rate.kbps[b]:.1f}</b>" if b == bits else f"{rate.kbps[b]:.1f}"
                            for b in BIT_DEPTHS)
        self.bitrate_label.setText(f"Latent {depths} kbps at 32/16/8 bits")

    def _on_source_changed(self, kind: str) -> None:
        if kind not in ("recon", "edited"):
            return
        data = self._state.source(kind)
        figures = None if data is None else data.quality
        for key, _name, unit, _tip in FIGURES:
            if key != "visqol":
                value = None if figures is None else getattr(figures, key, None)
                self.values[(kind, key)].setText(format_figure(value, unit))
        if kind == "recon":
            baseline = None if data is None else data.baseline
            for key, _name, unit, _tip in FIGURES:
                if key != "visqol":
                    value = None if baseline is None else getattr(baseline, key, None)
                    self.values[("baseline", key)].setText(format_figure(value, unit))

    def _on_visqol_changed(self, kind: str) -> None:
        if kind in COLUMNS:
            self.values[(kind, "visqol")].setText(format_visqol(self._state.visqol.get(kind)))

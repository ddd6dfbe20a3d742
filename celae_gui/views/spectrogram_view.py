"""Log-mel spectrograms of the original, reconstruction and edited audio, and the difference.

Each row is one ``ImageItem`` with a colormap, x in seconds so it links with the waveform view.
The original's levels are used for every row, so a missing high band shows as dark, and the
difference (reconstruction minus original, in log power) uses a diverging map centred on zero.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from celae_gui import theme
from celae_gui.state import AppState
from celae_gui.views.plot_style import cache_axes, configure_pyqtgraph

ROWS = ("original", "recon", "edited", "difference")
TITLES = {"original": "A  original", "recon": "B  reconstruction", "edited": "C  edited",
          "difference": "B − A  (log power)"}
FREQ_TICKS_HZ = (100, 1000, 4000, 10000)
"""Frequencies marked on each row's left axis (the bands are mel-spaced)."""
DIFF_LIMIT = 4.0
"""Differences beyond ±4 natural-log units (about ±17 dB) saturate the colour scale."""
STAGGER_MS = 80
"""How long a new span (another window, the whole song) waits before it is drawn here: the
waveform view repaints first, in its own pass. Drawn together, the first paint of both views at
a new range took 45-60 ms on this project's 2-core machine, the window frozen meanwhile
(``scripts/bench_switch.py``)."""


class SpectrogramView(QWidget):
    """Four stacked spectrogram rows sharing the x axis."""

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        configure_pyqtgraph()
        self._state = state
        self._levels = (-12.0, 4.0)
        self._rects: dict[str, tuple[float, float, float, float]] = {}
        self._ticks: dict[str, list[tuple[float, str]]] = {}
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.ci.setSpacing(2)
        self.images: dict[str, pg.ImageItem] = {}
        self.plots: dict[str, pg.PlotItem] = {}
        heat = pg.colormap.get("inferno")
        diverging = pg.colormap.get("CET-D1A")
        first = None
        for row, name in enumerate(ROWS):
            plot = self.layout_widget.addPlot(row=row, col=0)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getViewBox().setMouseEnabled(x=True, y=False)
            plot.setLabel("left", TITLES[name], color=theme.TRACE_COLOURS.get(name, theme.MUTED))
            plot.getAxis("left").setWidth(62)
            if name != ROWS[-1]:
                plot.getAxis("bottom").setStyle(showValues=False)
                plot.getAxis("bottom").setHeight(4)
            else:
                plot.setLabel("bottom", "time (s)", color=theme.MUTED)
            cache_axes(plot)
            image = pg.ImageItem()
            image.setColorMap(diverging if name == "difference" else heat)
            plot.addItem(image)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            self.images[name] = image
            self.plots[name] = plot
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layout_widget)
        self._pending: set[str] = set()
        self._stagger = QTimer(self, singleShot=True, interval=STAGGER_MS)
        self._stagger.timeout.connect(self._show_pending)
        state.source_changed.connect(self._on_source_changed)

    @property
    def x_plot(self) -> pg.PlotItem:
        """The plot whose x range the others follow (link the waveform view to it)."""
        return self.plots[ROWS[0]]

    def has_image(self, name: str) -> bool:
        """True when row ``name`` shows data."""
        return self.images[name].image is not None

    def _show(self, name: str, values: np.ndarray | None, seconds: float, levels) -> None:
        image = self.images[name]
        if values is None:
            image.clear()
            self._rects.pop(name, None)
            return
        image.setImage(values, autoLevels=False, levels=levels)
        rect = (self._state.time_origin(), 0.0, seconds, float(values.shape[0]))
        # A live edit keeps the shape: re-setting the same rect and range would only redraw axes.
        if self._rects.get(name) != rect:
            self._rects[name] = rect
            image.setRect(*rect)
            self.plots[name].setYRange(0, values.shape[0], padding=0)
            self._set_frequency_ticks(name, values.shape[0])

    def frequency_ticks(self, name: str) -> list[tuple[float, str]]:
        """The (band position, label) ticks on row ``name``'s left axis."""
        return self._ticks.get(name, [])

    def _set_frequency_ticks(self, name: str, n_bands: int) -> None:
        from core.audio.features import mel_band_position

        ticks = []
        for hz in FREQ_TICKS_HZ:
            y = float(mel_band_position(hz, n_mels=n_bands))
            if 0 <= y <= n_bands:
                ticks.append((y, f"{hz // 1000}k" if hz >= 1000 else f"{hz} Hz"))
        self._ticks[name] = ticks
        self.plots[name].getAxis("left").setTicks([ticks, []])

    def _on_source_changed(self, kind: str) -> None:
        # A source over the span already shown (a live edit) is drawn at once; a new span (or
        # a first image) waits for the waveform view's repaint (STAGGER_MS), and so does any
        # source after it.
        if self._pending or self._new_span(kind):
            self._pending.add(kind)
            self._stagger.start()
            return
        self._show_source(kind)

    def _new_span(self, kind: str) -> bool:
        """True unless ``kind`` arrives over the very span its row already shows (a live
        edit); a row cleared for the new window or song counts as a new span too."""
        data = self._state.source(kind)
        if data is None or data.spectrum is None:
            return False
        rect = (self._state.time_origin(), 0.0, data.spectrum.seconds,
                float(data.spectrum.values.shape[0]))
        return rect != self._rects.get(kind)

    def _show_pending(self) -> None:
        pending, self._pending = self._pending, set()
        for kind in (k for k in ROWS if k in pending):
            self._show_source(kind)

    def _show_source(self, kind: str) -> None:
        data = self._state.source(kind)
        spectrum = None if data is None else data.spectrum
        if kind == "original" and spectrum is not None:
            top = float(spectrum.values.max())
            self._levels = (max(float(np.percentile(spectrum.values, 5)), top - 14.0), top)
        self._show(kind, None if spectrum is None else spectrum.values,
                   0.0 if spectrum is None else spectrum.seconds, self._levels)
        if kind in ("original", "recon"):
            self._update_difference()

    def _update_difference(self) -> None:
        a, b = self._state.source("original"), self._state.source("recon")
        if a is None or b is None or a.spectrum is None or b.spectrum is None:
            self._show("difference", None, 0.0, None)
            return
        frames = min(a.spectrum.values.shape[1], b.spectrum.values.shape[1])
        diff = b.spectrum.values[:, :frames] - a.spectrum.values[:, :frames]
        self._show("difference", diff, a.spectrum.seconds, (-DIFF_LIMIT, DIFF_LIMIT))

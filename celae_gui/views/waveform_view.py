"""Waveforms of the original, reconstruction and edited audio, overlaid, with a play-head.

One ``PlotDataItem`` per source, updated with ``setData``; pyqtgraph decimates (peak
downsampling, clip to view) so a 10-minute song pans without stalls. Clicking seeks.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from celae_gui import theme
from celae_gui.state import SOURCES, AppState
from celae_gui.views.plot_style import cache_axes, configure_pyqtgraph, style_plot
from core.constants import SAMPLE_RATE

DOWNSAMPLE_FACTOR = 1.0
"""Samples drawn per horizontal pixel (after peak decimation: a min and a max per bin)."""


class WaveformView(QWidget):
    """Overlaid waveforms; ``seek_requested(seconds)`` when the plot is clicked."""

    seek_requested = Signal(float)

    def __init__(self, state: AppState, parent: QWidget | None = None):
        super().__init__(parent)
        configure_pyqtgraph()
        self._state = state
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        style_plot(self.plot, "amplitude")
        cache_axes(self.plot)
        self.plot.setYRange(-1.0, 1.0, padding=0.02)
        self.plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.plot.getViewBox().setLimits(yMin=-1.1, yMax=1.1)
        legend = self.plot.addLegend(offset=(-10, 8), labelTextColor=theme.TEXT,
                                     brush=pg.mkBrush(theme.PANEL + "d0"))
        legend.setZValue(20)
        self.curves: dict[str, pg.PlotDataItem] = {}
        for kind in SOURCES:
            curve = self.plot.plot(pen=pg.mkPen(theme.TRACE_COLOURS[kind], width=1),
                                   name=theme.TRACE_LABELS[kind])
            curve.setDownsampling(auto=True, method="peak")
            # Peak decimation keeps each pixel column's min and max, so one bin per pixel shows
            # the same envelope as pyqtgraph's default five, with a fifth of the points to draw
            # (a 5 s repaint went from ~80 to ~40 ms on a busy 2-core machine).
            curve.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
            curve.setClipToView(True)
            curve.setZValue(SOURCES.index(kind))  # the edit on top, the original behind
            self.curves[kind] = curve
        self.play_head = pg.InfiniteLine(pos=0.0, angle=90, movable=False,
                                         pen=pg.mkPen("#ffffff", width=1.5))
        self.play_head.setZValue(10)
        self.plot.addItem(self.play_head)
        self.plot.scene().sigMouseClicked.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        state.source_changed.connect(self._on_source_changed)
        state.partial_source.connect(self._on_partial_source)
        state.edit_params_changed.connect(lambda _p: self._update_visibility())

    def curve_data(self, kind: str) -> np.ndarray:
        """The y values currently given to the curve of ``kind`` (empty when none): every
        sample, or a long source's envelope."""
        y = self.curves[kind].yData
        return np.empty(0, np.float32) if y is None else y

    def visible_traces(self) -> list[str]:
        """The sources whose curve is drawn, in A/B/C order."""
        return [k for k in SOURCES if self.curves[k].isVisible() and len(self.curve_data(k))]

    def _update_visibility(self) -> None:
        # With no edit C is B's audio (the same latents decoded): drawn on top it hid both A
        # and B. Draw it only when an edit makes it differ.
        self.curves["edited"].setVisible(not self._state.edit_params.is_identity)

    def set_play_head(self, seconds: float) -> None:
        """Move the play-head line to ``seconds`` into the shown audio (drawn at song time)."""
        self.play_head.setValue(self._state.time_origin() + seconds)

    def _on_source_changed(self, kind: str) -> None:
        data = self._state.source(kind)
        curve = self.curves[kind]
        if data is None:
            curve.setData([], [])
            self._update_visibility()
            return
        audio = data.audio
        # Song time as x so the axes link with the spectrogram views (both in seconds).
        origin = self._state.time_origin()
        if data.envelope is not None:
            seconds, values = data.envelope
            curve.setData(origin + seconds, values)
        else:
            curve.setData(origin + np.arange(len(audio), dtype=np.float64) / SAMPLE_RATE, audio)
        if kind == "original":
            end = origin + len(audio) / SAMPLE_RATE
            view = self.plot.getViewBox()
            # Limits first wide open, so the new range is never clamped by the old window's.
            view.setLimits(xMin=None, xMax=None)
            self.plot.setXRange(origin, end, padding=0)
            view.setLimits(xMin=origin, xMax=max(end, origin + 0.1))
        self._update_visibility()

    def _on_partial_source(self, kind: str, envelope) -> None:
        # A whole-song edit being rendered: what is done so far (the rest is silence).
        seconds, values = envelope
        self.curves[kind].setData(self._state.time_origin() + seconds, values)
        self._update_visibility()

    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.getViewBox().mapSceneToView(event.scenePos())
        seconds = point.x() - self._state.time_origin()
        if seconds >= 0:
            self.seek_requested.emit(float(seconds))

"""The analysis window's views: a confusion-matrix heat map with its per-class table, and the
clustering curves and 2-D map."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from celae_gui import theme
from celae_gui.views.plot_style import style_plot

HOVER_DELAY_MS = 250
TABLE_COLUMNS = ("genre", "precision", "recall", "F1", "support")
CURVES = (("silhouette", "silhouette", "#5ce1a6"), ("v_measure", "V-measure", "#4fa3ff"),
          ("ari", "ARI", "#ffa94d"), ("ami", "AMI", "#d98cff"))


def _table_item(text: str, right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class ConfusionView(QWidget):
    """Confusion matrix heat map and per-class table of one ``ClassificationMetrics``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget()
        plot = self.plot_widget.getPlotItem()
        style_plot(plot, "true genre", "predicted genre")
        plot.showGrid(x=False, y=False)
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.getViewBox().setMouseEnabled(False, False)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        plot.addItem(self.image)
        self._texts: list[pg.TextItem] = []
        self.summary = QLabel("")
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.plot_widget)
        splitter.addWidget(self.table)
        splitter.setSizes([520, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self.metrics = None

    def show_metrics(self, m) -> None:
        """Draw ``m`` (a ``core.genre.probe.ClassificationMetrics``)."""
        self.metrics = m
        cm = np.asarray(m.confusion, dtype=float)
        rows = cm.sum(1, keepdims=True)
        # Row-normalised colour: a small genre's misses show as clearly as a big one's.
        self.image.setImage(np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0),
                            levels=(0.0, 1.0))
        self.image.setRect(0, 0, cm.shape[1], cm.shape[0])
        plot = self.plot_widget.getPlotItem()
        for t in self._texts:
            plot.removeItem(t)
        self._texts = []
        for i in range(cm.shape[0]):
            for j in range(cm.shape[1]):
                share = cm[i, j] / rows[i, 0] if rows[i, 0] else 0.0
                text = pg.TextItem(f"{int(cm[i, j])}", anchor=(0.5, 0.5),
                                   color="#101010" if share > 0.6 else theme.TEXT)
                text.setPos(j + 0.5, i + 0.5)
                plot.addItem(text)
                self._texts.append(text)
        ticks = [(i + 0.5, g[:7]) for i, g in enumerate(m.genres)]
        plot.getAxis("bottom").setTicks([ticks])
        plot.getAxis("left").setTicks([ticks])
        # Room for the genre names beside the axis label (custom ticks do not resize it).
        plot.getAxis("left").setWidth(86)
        plot.setRange(xRange=(0, cm.shape[1]), yRange=(0, cm.shape[0]), padding=0.02)
        song = "" if m.song_accuracy is None else f", per song {100 * m.song_accuracy:.1f} %"
        self.summary.setText(f"{m.name}: accuracy {100 * m.accuracy:.1f} %{song}, macro F1 "
                             f"{m.macro.f1:.3f} on {m.n_clips} {m.evaluated_on} clips")
        rows_out = [*m.per_class, m.macro, m.weighted]
        self.table.setRowCount(len(rows_out))
        for r, row in enumerate(rows_out):
            values = (row.genre, f"{row.precision:.3f}", f"{row.recall:.3f}", f"{row.f1:.3f}",
                      str(row.support))
            for c, text in enumerate(values):
                self.table.setItem(r, c, _table_item(text, right=c > 0))
        self.table.resizeColumnsToContents()

    def cell_text(self, row: int, col: int) -> str:
        """The count written in cell (true ``row``, predicted ``col``)."""
        return self._texts[row * len(self.metrics.genres) + col].toPlainText()


class ClusterView(QWidget):
    """Metric-vs-k curves with the elbow, and the 2-D map of the clips of one sweep."""

    point_hovered = Signal(int)
    point_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.curve_widget = pg.PlotWidget()
        cplot = self.curve_widget.getPlotItem()
        style_plot(cplot, "score", "k (clusters)")
        cplot.addLegend(offset=(-10, 8), labelTextColor=theme.TEXT)
        self.curves = {key: cplot.plot(pen=pg.mkPen(colour, width=2), symbol="o",
                                       symbolSize=5, name=label)
                       for key, label, colour in CURVES}
        self.inertia_curve = cplot.plot(pen=pg.mkPen(theme.MUTED, width=2,
                                                     style=Qt.PenStyle.DashLine),
                                        name="inertia (scaled)")
        self.elbow_line = pg.InfiniteLine(angle=90, movable=False,
                                          pen=pg.mkPen(theme.ERROR, width=1.5),
                                          label="elbow k = {value:.0f}",
                                          labelOpts={"color": theme.ERROR, "position": 0.92})
        self.elbow_line.setVisible(False)
        cplot.addItem(self.elbow_line)
        self._tips: list[str] = []
        self.map_widget = pg.PlotWidget()
        mplot = self.map_widget.getPlotItem()
        style_plot(mplot, "PC 2", "PC 1")
        self.legend = mplot.addLegend(offset=(-10, 8), labelTextColor=theme.TEXT)
        self.scatter = pg.ScatterPlotItem(size=9, pen=None, hoverable=True,
                                          hoverSize=13, hoverPen=pg.mkPen(theme.TEXT),
                                          tip=self._tip)
        self.scatter.sigHovered.connect(self._on_hovered)
        self.scatter.sigClicked.connect(self._on_clicked)
        mplot.addItem(self.scatter)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.curve_widget)
        splitter.addWidget(self.map_widget)
        splitter.setSizes([420, 560])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.report = None
        self._hovered = -1

    def show_report(self, report, colour_by: str, names: list[str]) -> None:
        """Draw one ``core.analysis.clustering.ClusterReport``; ``names[i]`` is point ``i``'s hover
           text."""
        self.report = report
        ks = np.array([r.k for r in report.rows], dtype=float)
        for key, curve in self.curves.items():
            values = [getattr(r, key) for r in report.rows]
            ok = [v is not None and np.isfinite(v) for v in values]
            curve.setData(ks[ok], np.array([v for v, o in zip(values, ok, strict=True) if o],
                                           dtype=float))
        inertia = np.array([r.inertia for r in report.rows], dtype=float)
        span = np.ptp(inertia) or 1.0
        self.inertia_curve.setData(ks, (inertia - inertia.min()) / span)
        self.elbow_line.setVisible(True)
        self.elbow_line.setValue(report.elbow_k)
        self.elbow_line.label.valueChanged()  # the label skips updates while hidden
        self.set_colouring(colour_by, names)

    def set_colouring(self, colour_by: str, names: list[str]) -> None:
        """Colour the map's points by ``"cluster"`` or ``"genre"``."""
        report = self.report
        if report is None:
            return
        if colour_by == "genre" and report.labels is not None:
            groups = np.asarray(report.labels)
            labels = list(report.label_names)
        else:
            groups = np.asarray(report.assignments)
            labels = [f"cluster {i + 1}" for i in range(int(groups.max()) + 1)]
        colours = [theme.category_colour(g, len(labels)) for g in range(len(labels))]
        brushes = [pg.mkBrush(colours[int(g)]) for g in groups]
        coords = np.asarray(report.coords, dtype=float)
        tips = [f"{names[i] if i < len(names) else f'clip {i}'}\n"
                f"{labels[int(g)] if 0 <= int(g) < len(labels) else ''}"
                for i, g in enumerate(groups)]
        self.scatter.setData(x=coords[:, 0], y=coords[:, 1], brush=brushes,
                             data=list(range(len(coords))))
        self._tips = tips
        self.legend.clear()
        for g, label in enumerate(labels):
            self.legend.addItem(pg.ScatterPlotItem(brush=pg.mkBrush(colours[g]), pen=None,
                                                   size=9), label)

    def point_colours(self) -> list[str]:
        """The colour of every point of the map, as ``#rrggbb``."""
        return [b.color().name() for b in self.scatter.data["brush"]]

    def _tip(self, x: float, y: float, data) -> str:
        return self._tips[int(data)] if 0 <= int(data) < len(self._tips) else ""

    def point_position(self, index: int):
        """Where point ``index`` is drawn, in the map widget's viewport coordinates."""
        x, y = self.report.coords[index]
        scene = self.map_widget.getPlotItem().getViewBox().mapViewToScene(pg.Point(x, y))
        return self.map_widget.mapFromScene(scene)

    def _on_hovered(self, _item, points, _ev) -> None:
        index = int(points[0].data()) if len(points) else -1
        if index != self._hovered:
            self._hovered = index
            if index >= 0:
                self.point_hovered.emit(index)

    def _on_clicked(self, _item, points, _ev) -> None:
        if len(points):
            self.point_clicked.emit(int(points[0].data()))

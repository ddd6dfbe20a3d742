"""pyqtgraph defaults shared by the plot views (dark background, antialiasing off for speed)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem

from celae_gui import theme

_configured = False


def configure_pyqtgraph() -> None:
    """Set pyqtgraph's global options once (before the first plot widget is built)."""
    global _configured
    if _configured:
        return
    pg.setConfigOptions(background=theme.BASE, foreground=theme.MUTED, antialias=False,
                        imageAxisOrder="row-major")
    _configured = True


def style_plot(plot: pg.PlotItem, left: str, bottom: str = "time (s)") -> None:
    """Axis labels and a faint grid in the workbench's style."""
    plot.setLabel("left", left, color=theme.MUTED)
    plot.setLabel("bottom", bottom, color=theme.MUTED)
    plot.showGrid(x=True, y=True, alpha=0.15)
    plot.setMenuEnabled(False)


def cache_axes(plot: pg.PlotItem) -> None:
    """Keep each axis of ``plot`` as a pixmap, redrawn only when the axis itself changes, and
    without SI-prefix relabelling.

    A curve's dirty region overlaps the axes by a pen width, and replaying an axis's text costs
    ~3 ms: without the cache every live-edit repaint redrew six axes.
    """
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # No axis here has units to prefix, and re-deciding the SI prefix re-typeset the
        # label (setHtml) on every range change: ten times per frame while panning.
        axis.enableAutoSIPrefix(False)

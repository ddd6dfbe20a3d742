"""pyqtgraph defaults shared by the plot views (dark background, antialiasing off for speed)."""

from __future__ import annotations

import pyqtgraph as pg

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

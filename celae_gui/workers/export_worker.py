"""Export the current model as ONNX or TorchScript in the background (``core.export``).

Tracing and the parity check against torch take seconds, so they run off the GUI thread; the
result carries the written files and the parity figures.
"""

from __future__ import annotations

from pathlib import Path

from celae_gui.workers.base import BaseWorker


class ExportModelWorker(BaseWorker):
    """``result`` carries a ``core.export.ExportResult``; ``failed`` the one-line reason."""

    def __init__(self, loaded, out_dir: Path, fmt: str):
        super().__init__()
        self._loaded = loaded
        self._out = Path(out_dir)
        self._fmt = fmt

    def work(self):
        from core.export import export_model

        return export_model(self._loaded, self._out, self._fmt, on_progress=self.on_progress,
                            should_stop=self.should_stop)

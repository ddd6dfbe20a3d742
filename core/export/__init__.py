"""Models that leave the app: ONNX and TorchScript graphs of a model's encoder and decoder,
checked against eager torch before they are written (``celae export``)."""

from core.export.bundle import FORMATS, MANIFEST, ExportResult, build_manifest, export_model
from core.export.onnx import ExportError
from core.export.parity import (
    MAX_ABS_DIFF,
    MIN_SI_SDR_DB,
    ParityFigure,
    ParityReport,
    check_parity,
    si_sdr_db,
)

__all__ = ["FORMATS", "MANIFEST", "MAX_ABS_DIFF", "MIN_SI_SDR_DB", "ExportError", "ExportResult",
           "ParityFigure", "ParityReport", "build_manifest", "check_parity", "export_model",
           "si_sdr_db"]

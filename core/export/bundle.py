"""``celae export``: a model's encoder and decoder as files a host can run, checked first.

An export folder holds two graphs (``encoder.onnx``/``decoder.onnx`` or ``encoder.ts``/
``decoder.ts``) and ``export.json``: sample rate, hop, the latent shape rule, input and output
names, the model's name and weights checksum, the latent PCA (directions, mean, per-direction
standard deviation) and the parity figures. The graphs are built in memory and checked against
eager torch (:mod:`core.export.parity`) before anything is written, so a failed export leaves the
folder as it was.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from core.atomic import atomic_write_bytes, atomic_write_text, ensure_not_input
from core.errors import FileError
from core.export import onnx as onnx_format
from core.export import torchscript as ts_format
from core.export.graphs import length_rule
from core.export.onnx import ExportError
from core.export.parity import MAX_ABS_DIFF, MIN_SI_SDR_DB, ParityReport, check_parity
from core.models.codec import CELCodec
from core.models.io import LoadedModel, load_model
from core.progress import Cancelled, ProgressFn, StopFn, never_stop, no_progress

FORMATS = ("onnx", "torchscript")
MANIFEST = "export.json"
MANIFEST_FORMAT = "celae-export"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_model` wrote.

    Attributes
    ----------
    folder : Path
    format : str
        ``"onnx"`` or ``"torchscript"``.
    files : tuple[Path, ...]
        Encoder, decoder and ``export.json``.
    parity : ParityReport
    model_name : str
    """

    folder: Path
    format: str
    files: tuple[Path, ...]
    parity: ParityReport
    model_name: str


def _graphs(fmt: str, model, name: str):
    if fmt == "onnx":
        enc, dec = onnx_format.onnx_graphs(model, name)
        return enc, dec, onnx_format.onnx_runners(enc, dec), (
            onnx_format.ENCODER_FILE, onnx_format.DECODER_FILE, onnx_format.EXPORTER)
    enc, dec = ts_format.torchscript_graphs(model, name)
    return enc, dec, ts_format.torchscript_runners(enc, dec), (
        ts_format.ENCODER_FILE, ts_format.DECODER_FILE, ts_format.EXPORTER)


def export_model(model: str | os.PathLike | LoadedModel | None, out_dir: str | os.PathLike,
                 fmt: str = "onnx", *, on_progress: ProgressFn | None = None,
                 should_stop: StopFn | None = None) -> ExportResult:
    """Export a model's encoder and decoder to ``out_dir``, after checking them against torch.

    Parameters
    ----------
    model : str, path-like, LoadedModel or None
        A model name or folder (see :func:`core.models.io.resolve_model`), or a loaded model.
    out_dir : path-like
        Folder to write (created if needed); it must not be the model's own folder.
    fmt : str
        ``"onnx"`` or ``"torchscript"``.
    on_progress, should_stop : callables, optional

    Returns
    -------
    ExportResult

    Raises
    ------
    ExportError
        The exporter refused an operator (named), or the graphs miss the parity bound (the
        figures are in the message); nothing is written then.
    FileError
        ``out_dir`` is the model's folder or a file.
    ModelLoadError
        The model cannot be loaded.
    Cancelled
        ``should_stop`` returned True.
    """
    report = on_progress or no_progress
    stop = should_stop or never_stop
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    loaded = model if isinstance(model, LoadedModel) else load_model(model)
    name = loaded.path.name
    out = Path(out_dir)
    _check_out_dir(out, loaded.path)
    inputs = [p for p in loaded.path.iterdir() if p.is_file()]
    for written in _file_names(fmt):
        ensure_not_input(out / written, *inputs)
    report(0.05, f"tracing {name}")
    enc_bytes, dec_bytes, (encode, decode), (enc_file, dec_file, exporter) = _graphs(
        fmt, loaded.model, name)
    if stop():
        raise Cancelled("export")
    report(0.5, "checking against torch")
    parity = check_parity(loaded.model, fmt, encode, decode)
    if not parity.passed:
        figures = "; ".join(f.describe() for f in parity.failures)
        raise ExportError(f"{name}: the {fmt} export does not reproduce torch ({figures}; "
                          f"needs SI-SDR >= {MIN_SI_SDR_DB:g} dB or max abs diff <= "
                          f"{MAX_ABS_DIFF:g}); nothing written")
    if stop():
        raise Cancelled("export")
    report(0.9, f"writing {out}")
    manifest = build_manifest(loaded, fmt, enc_file, dec_file, exporter, parity)
    atomic_write_bytes(out / enc_file, enc_bytes)
    atomic_write_bytes(out / dec_file, dec_bytes)
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2))
    report(1.0, "exported")
    return ExportResult(out, fmt, (out / enc_file, out / dec_file, out / MANIFEST), parity, name)


def _file_names(fmt: str) -> tuple[str, str, str]:
    if fmt == "onnx":
        return onnx_format.ENCODER_FILE, onnx_format.DECODER_FILE, MANIFEST
    return ts_format.ENCODER_FILE, ts_format.DECODER_FILE, MANIFEST


def _check_out_dir(out: Path, model_folder: Path) -> None:
    if out.exists() and not out.is_dir():
        raise FileError(out, "is a file: give a folder to export into")
    # The graphs never replace a model file, but a host would then see two models in one
    # folder; refusing the model's own folder keeps it as the user made it.
    if out.exists() and out.resolve() == model_folder.resolve():
        raise FileError(out, "is the model's own folder: export into another folder")
    out.mkdir(parents=True, exist_ok=True)


def _pca(folder: Path) -> dict | None:
    from core.latent.pca import load_latent_pca

    pca = load_latent_pca(folder)
    if pca is None:
        return None
    return {
        "frames_per_vector": pca.frames_per_vector, "channels": pca.channels,
        "vector_layout": "z[:, b*g:(b+1)*g].reshape(C*g), channel-major, one vector per block "
                         "of g frames",
        "edit_rule": "z_block += offset_in_std * std[k] * components[k], for every block",
        "components": np.asarray(pca.components, dtype=np.float64).tolist(),
        "mean": np.asarray(pca.mean, dtype=np.float64).tolist(),
        "std": np.asarray(pca.std, dtype=np.float64).tolist(),
        "explained_variance_ratio": np.asarray(pca.explained_variance_ratio,
                                               dtype=np.float64).tolist(),
        "n_frames": pca.n_frames,
    }


def build_manifest(loaded: LoadedModel, fmt: str, enc_file: str, dec_file: str, exporter: str,
                   parity: ParityReport) -> dict:
    """The ``export.json`` document for an export of ``loaded``."""
    model = loaded.model
    C, L = model.latent_shape()
    hop = int(model.config.hop) if isinstance(model, CELCodec) else model.latent_ratio
    return {
        "format": MANIFEST_FORMAT, "format_version": MANIFEST_VERSION, "export_format": fmt,
        "exporter": exporter, "torch_version": torch.__version__,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": {"name": loaded.path.name, "arch": loaded.arch,
                  "weights_sha256": loaded.weights_sha256},
        "sample_rate": model.sample_rate, "clip_samples": model.clip_samples, "hop": hop,
        "latent": {**length_rule(model), "clip_latent_shape": [C, L]},
        "input_audio": "mono float32 in [-1, 1] at sample_rate; `celae reconstruct` peak-"
                       "normalises a song and runs windows of clip_samples with 10 % overlap "
                       "and linear crossfades",
        "encoder": {"file": enc_file,
                    "inputs": [{"name": "audio", "dtype": "float32",
                                "shape": ["batch", 1, "samples"]}],
                    "outputs": [{"name": "latent", "dtype": "float32",
                                 "shape": ["batch", C, "frames"]}]},
        "decoder": {"file": dec_file,
                    "inputs": [{"name": "latent", "dtype": "float32",
                                "shape": ["batch", C, "frames"]},
                               {"name": "length", "dtype": "int64", "shape": [],
                                "meaning": "samples to produce (see latent.default_length)"}],
                    "outputs": [{"name": "audio", "dtype": "float32",
                                 "shape": ["batch", 1, "length"]}]},
        "pca": _pca(loaded.path),
        "parity": parity.as_dict(),
    }

"""ONNX export: ``encoder.onnx`` and ``decoder.onnx`` with a dynamic batch and time axis.

Exporter. torch 2.11's ``torch.onnx.export`` defaults to the dynamo exporter (``torch.export``
then onnxscript). On these models it gives no length-generic graph: through the length-keeping
wrappers of :mod:`core.export.graphs` it fails (``torch.export`` cannot use a shape held in a
tensor), and straight through the families' own ``encode`` it specialises the time axis to the
example's 110 250 samples (ONNX Runtime then refuses any other length). The TorchScript-based
exporter (``dynamo=False``) records the wrappers' shape arithmetic as graph operations, so the
graphs take any length and match torch to about 1e-6 on both families; it is the one used here.

onnx, onnxruntime and onnxscript are imported only inside the functions, so ``core`` imports
without them.
"""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import torch

from core.errors import CelaeError
from core.export.graphs import export_modules
from core.models.base import Autoencoder

ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
OPSET = 17
ENCODER_INPUTS = ("audio",)
ENCODER_OUTPUTS = ("latent",)
DECODER_INPUTS = ("latent", "length")
DECODER_OUTPUTS = ("audio",)
EXPORTER = f"torch.onnx.export(dynamo=False), TorchScript-based, opset {OPSET}"


class ExportError(CelaeError):
    """A model could not be exported, or its export does not reproduce torch."""


def untraceable(name: str, fmt: str, err: BaseException) -> ExportError:
    """The one-line error for a graph the exporter refused, naming the operator when it can."""
    text = str(err)
    op = re.search(r"\b(aten|prim|onnx)::\w+", text)
    if op:
        reason = f"operator {op.group(0)} cannot be exported"
    else:
        reason = (text.strip().splitlines() or [type(err).__name__])[0][:200]
    return ExportError(f"{name}: cannot export to {fmt}: {reason}")


def onnx_graphs(model: Autoencoder, name: str) -> tuple[bytes, bytes]:
    """Serialised ``(encoder, decoder)`` ONNX graphs of ``model``.

    Parameters
    ----------
    model : Autoencoder
    name : str
        The model's name, for error messages.

    Raises
    ------
    ExportError
        The exporter refused an operation (the message names it).
    """
    encoder, decoder = export_modules(model)
    x = torch.zeros(1, 1, model.clip_samples)
    with torch.inference_mode():
        z = encoder(x)
    length = torch.tensor(model.clip_samples, dtype=torch.int64)
    enc_buf, dec_buf = io.BytesIO(), io.BytesIO()
    try:
        with warnings.catch_warnings():
            # The TorchScript-based exporter warns that it is deprecated, and traces warn
            # about Python values; the parity check, not the warnings, says if a graph is right.
            warnings.simplefilter("ignore")
            torch.onnx.export(encoder, (x,), enc_buf, input_names=list(ENCODER_INPUTS),
                              output_names=list(ENCODER_OUTPUTS), opset_version=OPSET,
                              dynamic_axes={"audio": {0: "batch", 2: "samples"},
                                            "latent": {0: "batch", 2: "frames"}},
                              dynamo=False)
            torch.onnx.export(decoder, (z.clone(), length), dec_buf,
                              input_names=list(DECODER_INPUTS),
                              output_names=list(DECODER_OUTPUTS), opset_version=OPSET,
                              dynamic_axes={"latent": {0: "batch", 2: "frames"},
                                            "audio": {0: "batch", 2: "samples"}},
                              dynamo=False)
    except ImportError:
        raise ExportError(f"{name}: cannot export to ONNX: the onnx package is not installed "
                          "(pip install onnx)") from None
    except Exception as err:  # the exporter raises many types (OnnxExporterError, RuntimeError)
        if "onnx is not installed" in str(err):
            raise ExportError(f"{name}: cannot export to ONNX: the onnx package is not "
                              "installed (pip install onnx)") from None
        raise untraceable(name, "ONNX", err) from None
    return enc_buf.getvalue(), dec_buf.getvalue()


def onnx_runners(encoder: bytes | str, decoder: bytes | str, threads: int = 1):
    """ONNX Runtime sessions wrapped as the parity check's ``encode`` and ``decode`` callables.

    Parameters
    ----------
    encoder, decoder : bytes or str
        Serialised graphs or file paths.
    threads : int
        Intra-op threads of each session.

    Raises
    ------
    ExportError
        onnxruntime is not installed.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        raise ExportError("onnxruntime is not installed (pip install onnxruntime): the ONNX "
                          "export is checked with it before it is written") from None

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    providers = ["CPUExecutionProvider"]
    enc = ort.InferenceSession(encoder, opts, providers=providers)
    dec = ort.InferenceSession(decoder, opts, providers=providers)

    def encode(audio: np.ndarray) -> np.ndarray:
        return enc.run(None, {"audio": np.ascontiguousarray(audio, dtype=np.float32)})[0]

    def decode(latent: np.ndarray, length: int) -> np.ndarray:
        return dec.run(None, {"latent": np.ascontiguousarray(latent, dtype=np.float32),
                              "length": np.array(length, dtype=np.int64)})[0]

    return encode, decode

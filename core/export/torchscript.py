"""TorchScript export: ``encoder.ts`` and ``decoder.ts`` for hosts that load TorchScript.

The same length-keeping wrappers as the ONNX export (:mod:`core.export.graphs`) are traced with
``torch.jit.trace``: a trace records the shape arithmetic as graph operations, so the modules take
any length. ``encoder(audio: Tensor[B, 1, T]) -> Tensor[B, C, L]``;
``decoder(latent: Tensor[B, C, L], length: Tensor[] int64) -> Tensor[B, 1, length]``.

The parity check reloads the serialised bytes with ``torch.jit.load``, the way a host would.
That reads TorchScript's own archive of files this function has just written, never a user's
file, and never runs Python's pickle on anything from outside.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import torch

from core.export.graphs import export_modules
from core.export.onnx import untraceable
from core.models.base import Autoencoder

ENCODER_FILE = "encoder.ts"
DECODER_FILE = "decoder.ts"
EXPORTER = "torch.jit.trace"


def torchscript_graphs(model: Autoencoder, name: str) -> tuple[bytes, bytes]:
    """Serialised ``(encoder, decoder)`` TorchScript modules of ``model``.

    Raises
    ------
    ExportError
        The tracer refused an operation.
    """
    encoder, decoder = export_modules(model)
    x = torch.zeros(1, 1, model.clip_samples)
    length = torch.tensor(model.clip_samples, dtype=torch.int64)
    out = []
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # Tracer warnings flag Python values in the trace; the parity check at an odd
            # length is what tells whether one froze a length.
            warnings.simplefilter("ignore")
            z = encoder(x)
            for module, example in ((encoder, (x,)), (decoder, (z, length))):
                traced = torch.jit.trace(module, example, check_trace=False)
                buf = io.BytesIO()
                torch.jit.save(traced, buf)
                out.append(buf.getvalue())
    except Exception as err:  # the tracer raises RuntimeError and assorted types
        raise untraceable(name, "TorchScript", err) from None
    return out[0], out[1]


def torchscript_runners(encoder: bytes, decoder: bytes):
    """Reloaded modules wrapped as the parity check's ``encode`` and ``decode`` callables."""
    with warnings.catch_warnings():
        # torch.jit.load warns that TorchScript is deprecated; hosts such as nn~ still load it.
        warnings.simplefilter("ignore", DeprecationWarning)
        enc = torch.jit.load(io.BytesIO(encoder), map_location="cpu").eval()
        dec = torch.jit.load(io.BytesIO(decoder), map_location="cpu").eval()

    def encode(audio: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return enc(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))).numpy()

    def decode(latent: np.ndarray, length: int) -> np.ndarray:
        with torch.inference_mode():
            z = torch.from_numpy(np.ascontiguousarray(latent, dtype=np.float32))
            return dec(z, torch.tensor(length, dtype=torch.int64)).numpy()

    return encode, decode

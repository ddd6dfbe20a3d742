"""Checked reading of model files: safetensors headers and JSON descriptions, bounded.

Every read here has a size bound that holds for special files (:mod:`core.bounded_read`): a
``config.json`` symlinked to ``/dev/zero`` or a FIFO named ``model.safetensors`` is refused in
one line instead of filling memory or hanging. Files with pickle suffixes are refused unopened.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

from core.bounded_read import open_regular, os_reason, parse_json, read_bounded
from core.errors import ModelLoadError

PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin", ".tar")
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_JSON_BYTES = 16 * 1024 * 1024
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
                "I8": 1, "U8": 1, "BOOL": 1}


def _refuse_pickle(path: Path) -> None:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ModelLoadError(path, "pickle files are never loaded (they can run arbitrary "
                                   "code); a model is a folder with model.safetensors and "
                                   "config.json")


def read_safetensors_header(path: str | os.PathLike) -> dict[str, dict]:
    """Parse and bounds-check a safetensors header without loading any tensor.

    Parameters
    ----------
    path : path-like
        A ``.safetensors`` file.

    Returns
    -------
    dict
        ``name -> {"dtype", "shape", "data_offsets"}`` for every tensor (``__metadata__``
        removed).

    Raises
    ------
    ModelLoadError
        Missing, truncated, oversized or malformed header, or offsets past the end of the file.
    """
    path = Path(path)
    _refuse_pickle(path)
    with open_regular(path, ModelLoadError) as fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(8)
            if len(head) < 8:
                raise ModelLoadError(path, f"truncated safetensors file ({size} bytes)")
            n = int.from_bytes(head, "little")
            if n > size - 8:
                raise ModelLoadError(path, f"header length {n} is larger than the file "
                                           f"({size} bytes): truncated or not safetensors")
            if n > MAX_HEADER_BYTES:
                raise ModelLoadError(path, f"header of {n} bytes is implausibly large")
            raw = fh.read(n)
        except OSError as err:
            raise ModelLoadError(path, os_reason(err)) from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ModelLoadError(path, "header is not valid JSON: not a safetensors file") from None
    if not isinstance(header, dict):
        raise ModelLoadError(path, "header is not a JSON object")
    header.pop("__metadata__", None)
    data_size = size - 8 - n
    for name, info in header.items():
        try:
            dtype, shape = info["dtype"], [int(d) for d in info["shape"]]
            start, end = (int(o) for o in info["data_offsets"])
        except (TypeError, KeyError, ValueError):
            raise ModelLoadError(path, f"tensor {name!r} has a malformed header entry") from None
        width = _DTYPE_BYTES.get(dtype)
        if width is None:
            raise ModelLoadError(path, f"tensor {name!r} has unsupported dtype {dtype!r}")
        if min(shape, default=0) < 0 or not 0 <= start <= end <= data_size \
                or end - start != width * math.prod(shape):
            raise ModelLoadError(path, f"tensor {name!r} lies outside the file or its size "
                                       "does not match its shape: truncated or corrupt")
    return header


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path, ModelLoadError) as fh:
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        except OSError as err:
            raise ModelLoadError(path, os_reason(err)) from None
    return digest.hexdigest()


def _read_json(path: Path) -> dict:
    _refuse_pickle(path)
    data = parse_json(read_bounded(path, MAX_JSON_BYTES, ModelLoadError, "JSON description"),
                      path, ModelLoadError)
    if not isinstance(data, dict):
        raise ModelLoadError(path, "invalid JSON: expected an object")
    return data

"""Safetensors files with a checksum: the one storage code of models, classifiers, checkpoints
and the latent PCA.

Every reader here bounds what it reads and validates before it allocates: a safetensors header
is parsed and bounds-checked by hand (:func:`read_safetensors_header`), JSON descriptions are read
with a size limit (:func:`read_json`), and a SHA-256 of the tensor file (:func:`sha256_file`),
stored in the JSON beside it, ties the two files together, so a save killed between its two
atomic writes, or a file edited since, is detected. Pickle suffixes are refused unopened.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from core.atomic import atomic_group
from core.bounded_read import open_regular, os_reason, parse_json, read_bounded
from core.errors import ModelLoadError, TrainingError

PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin", ".tar")
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_JSON_BYTES = 16 * 1024 * 1024
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
                "I8": 1, "U8": 1, "BOOL": 1}


def refuse_pickle(path: Path) -> None:
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
    refuse_pickle(path)
    # open_regular: a FIFO would block open() forever, /dev/zero has an st_size of 0.
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


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open_regular(path, ModelLoadError) as fh:
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        except OSError as err:
            raise ModelLoadError(path, os_reason(err)) from None
    return digest.hexdigest()


def verify_sha256(path: str | os.PathLike, expected: str | None, described_by: str) -> None:
    """Raise ModelLoadError naming ``path`` if its SHA-256 is not ``expected`` (None: no check).

    ``described_by`` names the file that recorded the checksum, for the message.
    """
    if expected is not None and expected != sha256_file(path):
        raise ModelLoadError(path, f"contents do not match {described_by} (checksum differs): "
                                   "the save was interrupted or the file edited")


def read_json(path: Path) -> dict:
    refuse_pickle(path)
    data = parse_json(read_bounded(path, MAX_JSON_BYTES, ModelLoadError, "JSON description"),
                      path, ModelLoadError)
    if not isinstance(data, dict):
        raise ModelLoadError(path, "invalid JSON: expected an object")
    return data


def check_finite(tensors: dict[str, torch.Tensor], what: str) -> None:
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise TrainingError(f"{what}: tensor {name!r} holds NaN or infinite values; "
                                "refusing to save it")


def save_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor],
                 meta: dict | None = None) -> Path:
    """Save named tensors to ``path`` (``.safetensors``) and ``meta`` beside it as JSON.

    Parameters
    ----------
    path : path-like
        Target file, ending in ``.safetensors``; the JSON goes to the same name with ``.json``.
    tensors : dict[str, Tensor]
        Any shapes; floating tensors must be finite.
    meta : dict, optional
        JSON-serialisable description, returned by :func:`load_tensors`.

    Returns
    -------
    Path
        The ``.safetensors`` path written.

    Raises
    ------
    TrainingError
        A tensor holds NaN or infinity (nothing is written).
    WriteError
        A file could not be written (full disk, read-only folder); neither file is replaced
        and no temp file is left.
    """
    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"{path.name}: tensors are saved to a .safetensors file")
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    check_finite(tensors, path.name)
    # Staged together: new tensors beside the old JSON would fail its checksum on every load.
    with atomic_group() as group:
        with group.path(path) as tmp:
            save_file(tensors, str(tmp))
            doc = {"meta": meta or {}, "tensors_sha256": sha256_file(tmp)}
        with group.path(path.with_suffix(".json")) as tmp:
            tmp.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def load_tensors(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """Load what :func:`save_tensors` wrote, validating both files first.

    Returns
    -------
    (dict[str, Tensor], dict)
        The tensors (on CPU) and the meta dict.

    Raises
    ------
    ModelLoadError
        Pickle suffix, missing file, corrupt header, invalid JSON or mismatched checksum.
    """
    path = Path(path)
    read_safetensors_header(path)
    doc = read_json(path.with_suffix(".json"))
    verify_sha256(path, doc.get("tensors_sha256"), path.with_suffix(".json").name)
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as err:  # safetensors raises its own error types for corrupt files
        raise ModelLoadError(path, f"cannot read tensors ({err})") from None
    meta = doc.get("meta", {})
    return tensors, meta if isinstance(meta, dict) else {}

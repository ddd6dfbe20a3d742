"""Training checkpoints: a folder holding one safetensors file of tensors and one JSON of the rest.

A checkpoint is any nested structure of dicts, lists, tuples, scalars and tensors (model and
optimizer ``state_dict``s, scheduler state, RNG states, history). Tensors go to
``tensors-<id>.safetensors``; everything else, with a reference for each tensor, goes to
``state.json``. Nothing is pickled, so loading a checkpoint can never run code.

Writing is crash-safe: the tensor file gets a fresh name and is written atomically first, then
``state.json`` is atomically replaced to point at it (the commit point), then older tensor files
are deleted. A process killed at any moment leaves ``state.json`` pointing at a complete tensor
file, either the old or the new one. Stale temps and orphaned tensor files are swept by the next
save.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from core.atomic import atomic_path, sweep_stale_temps
from core.bounded_read import read_json
from core.errors import FileError, TrainingError
from core.tensorfile import sha256_file

CHECKPOINT_FORMAT = 1
STATE_NAME = "state.json"
_TENSORS_PREFIX = "tensors-"
_TENSORS_SUFFIX = ".safetensors"
_SLOW_ENV = "CELAE_TEST_SLOW_CHECKPOINT"
MAX_STATE_BYTES = 64 * 1024 * 1024
"""Test hook: seconds to sleep inside each atomic write, so a test's kill can land there."""


def checkpoint_exists(folder: str | os.PathLike) -> bool:
    """True if ``folder`` holds a committed checkpoint (its ``state.json``)."""
    return (Path(folder) / STATE_NAME).is_file()


def save_checkpoint(folder: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` to the checkpoint ``folder`` atomically, replacing the previous one.

    Parameters
    ----------
    folder : path
        Checkpoint folder; created if missing. Only checkpoint files should live there.
    state : dict
        Nested dicts (str or int keys), lists, tuples, ``None``, bool, int, float, str and
        ``torch.Tensor`` of any shape and dtype.

    Raises
    ------
    TrainingError
        If a floating-point tensor holds NaN or infinity: a non-finite state is never saved, so
        the previous checkpoint stays the last good one.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(folder)
    tensors: dict[str, torch.Tensor] = {}
    encoded = _encode(state, "", tensors)
    for key, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise TrainingError(f"not saving a checkpoint with non-finite values in {key}")

    name = f"{_TENSORS_PREFIX}{uuid.uuid4().hex[:16]}{_TENSORS_SUFFIX}"
    with atomic_path(folder / name) as tmp:
        save_file(tensors, str(tmp), metadata={"format": str(CHECKPOINT_FORMAT)})
        _test_pause()
    digest = sha256_file(folder / name)
    doc = {"format": CHECKPOINT_FORMAT, "tensors_file": name, "sha256": digest, "state": encoded}
    try:
        with atomic_path(folder / STATE_NAME) as tmp:
            tmp.write_text(json.dumps(doc), encoding="utf-8")
            _test_pause()
    except BaseException:
        # Nothing points at the new tensors yet: on a full disk they would only hold its space.
        (folder / name).unlink(missing_ok=True)
        raise
    for entry in folder.iterdir():
        if (entry.name.startswith(_TENSORS_PREFIX) and entry.name.endswith(_TENSORS_SUFFIX)
                and entry.name != name):
            entry.unlink(missing_ok=True)


def load_checkpoint(folder: str | os.PathLike, device: str | torch.device = "cpu"
                    ) -> dict[str, Any]:
    """Read the checkpoint in ``folder`` back into the structure given to :func:`save_checkpoint`.

    Raises
    ------
    TrainingError
        If there is no checkpoint, or its files are unreadable, of another format, or do not
        match each other (the message names the file and the reason).
    """
    folder = Path(folder)
    state_path = folder / STATE_NAME
    if not state_path.is_file():
        raise TrainingError(f"{folder.name}: no checkpoint to resume from ({STATE_NAME} missing)")
    try:
        doc = read_json(state_path, MAX_STATE_BYTES, what="checkpoint state")
        fmt, name, digest, encoded = (doc["format"], doc["tensors_file"], doc["sha256"],
                                      doc["state"])
    except FileError as exc:
        raise TrainingError(str(exc)) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"{STATE_NAME}: unreadable checkpoint state ({exc})") from None
    if fmt != CHECKPOINT_FORMAT:
        raise TrainingError(f"{STATE_NAME}: checkpoint format {fmt} is not supported "
                            f"(this version reads {CHECKPOINT_FORMAT})")
    tensors_path = folder / str(name)
    if Path(str(name)).name != name or not tensors_path.is_file():
        raise TrainingError(f"{name}: checkpoint tensor file is missing")
    if sha256_file(tensors_path) != digest:
        raise TrainingError(f"{name}: checkpoint tensor file does not match {STATE_NAME}")
    try:
        tensors = load_file(str(tensors_path), device=str(device))
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        raise TrainingError(f"{name}: unreadable checkpoint tensors ({exc})") from exc
    return _decode(encoded, tensors)


def _test_pause() -> None:
    seconds = os.environ.get(_SLOW_ENV)
    if seconds:
        sys.stderr.write("celae-test: checkpoint write in progress\n")
        sys.stderr.flush()
        time.sleep(float(seconds))




def _encode(obj: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    # JSON loses int dict keys (optimizer state is keyed by parameter index) and tuples (Adam's
    # betas), so both are tagged to come back as they went in.
    if isinstance(obj, torch.Tensor):
        # Clones: safetensors refuses tensors that share storage, and views of a parameter do.
        tensors[key] = obj.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, f"{key}/{k}", tensors) for k, v in obj.items()}
        return {"__items__": [[k, _encode(v, f"{key}/{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{key}/{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{key}/{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at {key or '/'} in a checkpoint")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            key = obj["__tensor__"]
            if key not in tensors:
                raise TrainingError(f"{STATE_NAME}: checkpoint tensor {key} is missing")
            return tensors[key]
        if "__items__" in obj:
            return {k: _decode(v, tensors) for k, v in obj["__items__"]}
        if "__tuple__" in obj:
            return tuple(_decode(v, tensors) for v in obj["__tuple__"])
        return {k: _decode(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    return obj

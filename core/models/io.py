"""Model folders on disk: ``model.safetensors`` + ``config.json``, never a pickle.

A model folder holds the weights (safetensors) and a JSON description::

    {"format": "celae-model", "format_version": 1, "arch": "CELAutoencoderSiLU",
     "config": {...}, "sample_rate": 22050, "clip_samples": 110250, "latent_shape": [1, 55125],
     "summary": {...}, "metrics": {...}, "extra": {...}, "created": "2025-...Z",
     "weights_sha256": "..."}

Loading validates everything before a single weight is used: the safetensors header is parsed
and bounds-checked by hand, tensor names and shapes are compared with a model built from the
config, and the checksum ties the two files together (a save killed between the two atomic writes
is detected). Files with pickle suffixes are refused without being opened (the safetensors and
checksum code is :mod:`core.tensorfile`, shared with classifiers, checkpoints and the latent PCA).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from core.atomic import atomic_group
from core.bounded_read import read_bounded
from core.constants import MODEL_FORMAT_VERSION
from core.errors import ModelLoadError
from core.models import Autoencoder, build_from_config, config_from_dict, config_to_dict
from core.paths import bundled_models_dir, user_models_dir
from core.tensorfile import (
    PICKLE_SUFFIXES,
    check_finite,
    read_json,
    read_safetensors_header,
    refuse_pickle,
    sha256_file,
    verify_sha256,
)

log = logging.getLogger(__name__)

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
DEFAULT_MARKER = "DEFAULT"
FORMAT_NAME = "celae-model"


@dataclass
class LoadedModel:
    """A model read from disk, ready for inference.

    Attributes
    ----------
    model : Autoencoder
        The model, in eval mode, on the requested device.
    arch : str
        Registry name of its architecture.
    config : frozen dataclass
        Its hyper-parameters.
    meta : dict
        The whole ``config.json`` (``summary``, ``metrics``, ``extra``, ``created``...).
    path : Path
        The model folder.
    """

    model: Autoencoder
    arch: str
    config: Any
    meta: dict
    path: Path

    @property
    def name(self) -> str:
        """The folder name, which is the model's name in lists."""
        return self.path.name

    @property
    def weights_sha256(self) -> str:
        """Checksum of the weights: as ``config.json`` records it, else computed."""
        return str(self.meta.get("weights_sha256") or sha256_file(self.path / WEIGHTS_NAME))


@dataclass(frozen=True)
class ModelEntry:
    """One model found by :func:`list_models` (read from ``config.json`` only)."""

    name: str
    path: Path
    arch: str
    source: str
    latent_shape: tuple[int, ...]
    metrics: dict = field(default_factory=dict)


# ---------------------------------------------------------------- model folders

def save_model(model: Autoencoder, folder: str | os.PathLike, *, summary: dict | None = None,
               metrics: dict | None = None, extra: dict | None = None) -> Path:
    """Write ``model`` to ``folder`` as ``model.safetensors`` + ``config.json``, atomically.

    Parameters
    ----------
    model : Autoencoder
        A registered model (``model.arch`` set).
    folder : path-like
        Created if needed; existing model files in it are replaced.
    summary, metrics, extra : dict, optional
        Training summary, quality figures and anything else, stored in ``config.json``
        (JSON-serialisable).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    TrainingError
        A weight is NaN or infinite (nothing is written).
    WriteError
        A file could not be written (full disk, read-only folder); neither file is replaced
        and no temp file is left.
    """
    folder = Path(folder)
    if not model.arch:
        raise ValueError("model has no registered architecture name (build it with "
                         "core.models.build_model)")
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    check_finite(state, folder.name)
    meta = {
        "format": FORMAT_NAME,
        "format_version": MODEL_FORMAT_VERSION,
        "arch": model.arch,
        "config": config_to_dict(model.config),
        "sample_rate": model.sample_rate,
        "clip_samples": model.clip_samples,
        "latent_shape": list(model.latent_shape()),
        "summary": summary or {},
        "metrics": metrics or {},
        "extra": extra or {},
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    text_probe = json.dumps(meta)  # fail on unserialisable summary/metrics before writing
    del text_probe
    # Both files are staged before either is replaced: weights without their config (or beside
    # a config whose checksum they no longer match) would be a folder that does not load.
    with atomic_group() as group:
        with group.path(folder / WEIGHTS_NAME) as tmp:
            save_file(state, str(tmp), metadata={"format": FORMAT_NAME, "arch": model.arch})
            meta["weights_sha256"] = sha256_file(tmp)
        with group.path(folder / CONFIG_NAME) as tmp:
            tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return folder


def _model_folder(path: Path) -> Path:
    refuse_pickle(path)
    if path.is_file():
        if path.name in (WEIGHTS_NAME, CONFIG_NAME):
            return path.parent
        raise ModelLoadError(path, "not a model: expected a folder with model.safetensors and "
                                   "config.json")
    if not path.is_dir():
        raise ModelLoadError(path, "no such model folder")
    if not (path / WEIGHTS_NAME).exists():
        pickles = sorted(p.name for p in path.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            raise ModelLoadError(path, f"holds {', '.join(pickles)} but no {WEIGHTS_NAME}: "
                                       "pickle files are never loaded")
    return path


def read_model_meta(folder: str | os.PathLike) -> dict:
    """Read and validate a model folder's ``config.json`` (format, version, arch, config).

    Raises
    ------
    ModelLoadError
        Missing or invalid JSON, another format, a newer format version, unknown architecture
        or config fields.
    """
    folder = Path(folder)
    cfg_path = folder / CONFIG_NAME
    meta = read_json(cfg_path)
    if meta.get("format") != FORMAT_NAME:
        raise ModelLoadError(cfg_path, f"not a CELAE model description (format "
                                       f"{meta.get('format')!r}, expected {FORMAT_NAME!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelLoadError(cfg_path, f"invalid format_version {version!r}")
    if version > MODEL_FORMAT_VERSION:
        raise ModelLoadError(cfg_path, f"format_version {version} is newer than this program "
                                       f"supports ({MODEL_FORMAT_VERSION}); update CELAE")
    if not isinstance(meta.get("arch"), str):
        raise ModelLoadError(cfg_path, "missing architecture name ('arch')")
    try:
        config_from_dict(meta["arch"], meta.get("config", {}), saved=True)
    except (ValueError, TypeError) as err:
        raise ModelLoadError(cfg_path, str(err)) from None
    return meta


def load_model(name_or_path: str | os.PathLike | None = None,
               device: str | torch.device = "cpu") -> LoadedModel:
    """Load a model folder (or a bundled/user model by name), validating it fully first.

    Parameters
    ----------
    name_or_path : str or path-like, optional
        See :func:`resolve_model`; None loads the default bundled model.
    device : str or torch.device
        Where to put the model.

    Returns
    -------
    LoadedModel
        The model in eval mode and its description.

    Raises
    ------
    ModelLoadError
        Anything wrong with the files: pickle, missing, truncated, corrupt, mismatched with
        ``config.json``, unknown architecture, newer format. Nothing is loaded then.
    """
    folder = _model_folder(resolve_model(name_or_path))
    meta = read_model_meta(folder)
    arch = meta["arch"]
    config = config_from_dict(arch, meta.get("config", {}), saved=True)
    weights = folder / WEIGHTS_NAME
    header = read_safetensors_header(weights)
    # The layout is built on the meta device first: no memory is allocated, so a config.json
    # asking for huge widths costs nothing until the weights' header is known to match it.
    try:
        with torch.device("meta"):
            layout = build_from_config(arch, config)
    except (ValueError, TypeError) as err:
        raise ModelLoadError(folder / CONFIG_NAME, str(err)) from None
    expected = {k: tuple(v.shape) for k, v in layout.state_dict().items()}
    del layout
    found = {k: tuple(v["shape"]) for k, v in header.items()}
    if set(found) != set(expected):
        missing = sorted(set(expected) - set(found))[:3]
        unexpected = sorted(set(found) - set(expected))[:3]
        raise ModelLoadError(weights, f"tensors do not match {arch} in {CONFIG_NAME} "
                                      f"(missing {missing}, unexpected {unexpected})")
    wrong = [k for k in expected if expected[k] != found[k]]
    if wrong:
        k = wrong[0]
        raise ModelLoadError(weights, f"tensor {k!r} has shape {list(found[k])} but "
                                      f"{CONFIG_NAME} implies {list(expected[k])}")
    verify_sha256(weights, meta.get("weights_sha256"), CONFIG_NAME)
    try:
        model = build_from_config(arch, config)
        state = load_file(str(weights), device="cpu")
        model.load_state_dict(state, strict=True)
    except Exception as err:  # safetensors/torch raise assorted types for corrupt data
        raise ModelLoadError(weights, f"cannot load weights ({err})") from None
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ModelLoadError(weights, f"tensor {bad[0]!r} holds NaN or infinite values")
    model.to(device).eval()
    return LoadedModel(model=model, arch=arch, config=config, meta=meta, path=folder)


# ---------------------------------------------------------------- finding models

def _model_dirs(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / CONFIG_NAME).is_file())


def resolve_model(name_or_path: str | os.PathLike | None = None) -> Path:
    """Find a model: an existing path, else a name among bundled then user models.

    Parameters
    ----------
    name_or_path : str or path-like, optional
        A folder (or a file in it), or the name of a folder in
        :func:`core.paths.bundled_models_dir` or :func:`core.paths.user_models_dir` (bundled
        names win). None: the bundled model named in ``resources/models/DEFAULT``, else the first
        bundled model in name order.

    Returns
    -------
    Path
        The path found (not yet validated; :func:`load_model` does that).

    Raises
    ------
    ModelLoadError
        Nothing by that name, or no bundled model for the default.
    """
    bundled = bundled_models_dir()
    if name_or_path is None:
        marker = bundled / DEFAULT_MARKER
        if marker.is_file():
            name = read_bounded(marker, 4096, ModelLoadError, "model name").decode(
                "utf-8", "replace").strip()
            if name and (bundled / name).is_dir():
                return bundled / name
            log.warning("%s names %r, which is not a bundled model", marker, name)
        found = _model_dirs(bundled)
        if not found:
            raise ModelLoadError(bundled, "no bundled model found (run `make demo-model`)")
        return found[0]
    path = Path(name_or_path)
    if path.exists():
        return path
    name = str(name_or_path)
    if os.sep not in name and "/" not in name:
        for root in (bundled, user_models_dir()):
            if (root / name).is_dir():
                return root / name
    known = ", ".join(e.name for e in list_models()) or "none"
    raise ModelLoadError(path, f"no such model folder or model name (known models: {known})")


def list_models() -> list[ModelEntry]:
    """Every model in the bundled and user folders, read from ``config.json`` only.

    Folders whose ``config.json`` is unreadable are left out with a logged warning.
    """
    entries = []
    for source, root in (("bundled", bundled_models_dir()), ("user", user_models_dir())):
        for folder in _model_dirs(root):
            try:
                meta = read_model_meta(folder)
            except ModelLoadError as err:
                log.warning("skipping model %s: %s", folder, err)
                continue
            metrics = meta.get("metrics")
            entries.append(ModelEntry(
                name=folder.name, path=folder, arch=meta["arch"], source=source,
                latent_shape=tuple(int(d) for d in meta.get("latent_shape", ())),
                metrics=metrics if isinstance(metrics, dict) else {}))
    return entries

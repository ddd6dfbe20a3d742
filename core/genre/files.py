"""Classifier folders: ``model.safetensors`` (the head only) + ``config.json``.

The encoder is not copied: ``config.json`` names the autoencoder folder (a path relative to the
classifier folder, the absolute path, and the model name) and the SHA-256 of its weights, so a
classifier saved beside its autoencoder moves with it, and a retrained autoencoder is detected
instead of silently feeding the head latents it never saw::

    {"format": "celae-genre-classifier", "format_version": 1, "genres": [...],
     "head": {...HeadConfig...}, "autoencoder": {"name", "path", "relative_path", "arch",
     "sha256"}, "sample_rate": 22050, "clip_samples": 110250, "metrics": {...},
     "extra": {...}, "created": "...", "weights_sha256": "..."}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from core.atomic import atomic_path, atomic_write_text
from core.audio.features import LATENT_STATS_VERSION
from core.bounded_read import read_json
from core.constants import MODEL_FORMAT_VERSION
from core.errors import CelaeError, ModelLoadError, TrainingError
from core.genre.model import HeadConfig, MusicGenreClassifier, build_head
from core.models.io import LoadedModel, load_model, resolve_model
from core.tensorfile import MAX_JSON_BYTES, read_safetensors_header, sha256_file, verify_sha256

FORMAT_NAME = "celae-genre-classifier"
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


@dataclass
class LoadedClassifier:
    """A classifier read from disk: the network (eval mode), its ``config.json``, its folder
    and the autoencoder it was built on."""

    classifier: MusicGenreClassifier
    meta: dict
    path: Path
    autoencoder: LoadedModel

    @property
    def genres(self) -> list[str]:
        """Genre names in probability order."""
        return self.classifier.genres


def autoencoder_reference(loaded: LoadedModel) -> dict:
    """What a classifier stores to find ``loaded`` again: name, absolute path, arch, hash."""
    sha = loaded.weights_sha256
    return {"name": loaded.name, "path": str(loaded.path.resolve()), "arch": loaded.arch,
            "sha256": sha}


def is_classifier_folder(path: str | os.PathLike) -> bool:
    """True if ``path`` is a folder whose ``config.json`` describes a genre classifier."""
    cfg = Path(path) / CONFIG_NAME
    try:
        return read_json(cfg, MAX_JSON_BYTES).get("format") == FORMAT_NAME
    except (CelaeError, AttributeError):
        return False


def save_classifier(classifier: MusicGenreClassifier, folder: str | os.PathLike, *,
                    metrics: dict | None = None, extra: dict | None = None) -> Path:
    """Write the head's weights and ``config.json`` to ``folder`` atomically.

    Parameters
    ----------
    classifier : MusicGenreClassifier
        Its ``autoencoder_ref`` (see :func:`autoencoder_reference`) must be set.
    folder : path-like
        Created if needed, e.g. ``<autoencoder folder>/classifier``.
    metrics, extra : dict, optional
        JSON-serialisable results stored in ``config.json``.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    TrainingError
        A weight is NaN or infinite (nothing is written).
    """
    folder = Path(folder)
    ref = dict(classifier.autoencoder_ref)
    if "sha256" not in ref:
        raise ValueError("classifier.autoencoder_ref lacks the autoencoder's hash")
    state = {k: v.detach().to("cpu").contiguous() for k, v in classifier.head.state_dict().items()}
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise TrainingError(f"{folder.name}: head tensor {bad[0]!r} holds NaN or infinite "
                            "values; refusing to save it")
    folder.mkdir(parents=True, exist_ok=True)
    if ref.get("path"):
        ref["relative_path"] = os.path.relpath(ref["path"], folder.resolve())
    ae = classifier.autoencoder
    meta = {"format": FORMAT_NAME, "format_version": MODEL_FORMAT_VERSION,
            "genres": classifier.genres, "head": classifier.head_config.as_dict(),
            "autoencoder": ref, "sample_rate": int(ae.sample_rate),
            "clip_samples": int(ae.clip_samples), "metrics": metrics or {},
            "extra": extra or {}, "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    json.dumps(meta)  # fail on unserialisable metrics before anything is written
    weights = folder / WEIGHTS_NAME
    with atomic_path(weights) as tmp:
        save_file(state, str(tmp), metadata={"format": FORMAT_NAME})
    meta["weights_sha256"] = sha256_file(weights)
    atomic_write_text(folder / CONFIG_NAME, json.dumps(meta, indent=2))
    return folder


def _find_autoencoder(folder: Path, ref: dict, cfg_path: Path) -> Path:
    candidates = []
    if ref.get("relative_path"):
        candidates.append(folder / ref["relative_path"])
    if ref.get("path"):
        candidates.append(Path(ref["path"]))
    for c in candidates:
        if (c / WEIGHTS_NAME).is_file():
            return c.resolve()
    if ref.get("name"):
        try:
            return resolve_model(ref["name"])
        except ModelLoadError:
            pass
    raise ModelLoadError(cfg_path, f"its autoencoder {ref.get('name')!r} was not found "
                                   f"(looked in {', '.join(map(str, candidates)) or 'nowhere'} "
                                   "and among the bundled and user models)")


def load_classifier(path: str | os.PathLike, device: str | torch.device = "cpu", *,
                    autoencoder: LoadedModel | None = None) -> LoadedClassifier:
    """Load a classifier folder and the autoencoder it references.

    Parameters
    ----------
    path : path-like
        The classifier folder.
    device : str or torch.device
    autoencoder : LoadedModel, optional
        Use this (already loaded) autoencoder; its hash must match the reference.

    Raises
    ------
    ModelLoadError
        Missing or corrupt files, another format, a newer version, an autoencoder that cannot
        be found or whose weights changed since the classifier was trained.
    """
    folder = Path(path)
    cfg_path = folder / CONFIG_NAME
    if not cfg_path.is_file():
        raise ModelLoadError(folder, f"not a classifier folder ({CONFIG_NAME} missing)")
    meta = read_json(cfg_path, MAX_JSON_BYTES, ModelLoadError, "classifier description")
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt != FORMAT_NAME:
        raise ModelLoadError(cfg_path, f"not a genre classifier description (format {fmt!r})")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > MODEL_FORMAT_VERSION:
        raise ModelLoadError(cfg_path, f"format_version {version!r} is not supported "
                                       f"(this program reads up to {MODEL_FORMAT_VERSION})")
    try:
        head_cfg = HeadConfig(**meta["head"])
        genres = [str(g) for g in meta["genres"]]
        ref = dict(meta["autoencoder"])
    except (KeyError, TypeError, ValueError) as err:
        raise ModelLoadError(cfg_path, f"incomplete classifier description ({err})") from None
    if head_cfg.kind == "stats" and head_cfg.feature_version != LATENT_STATS_VERSION:
        raise ModelLoadError(cfg_path, f"trained on latent statistics version "
                                       f"{head_cfg.feature_version}, but this program computes "
                                       f"version {LATENT_STATS_VERSION}; retrain the classifier")
    if not isinstance(ref.get("sha256"), str) or not ref["sha256"]:
        # Without the checksum nothing ties the head to the encoder it was trained on.
        raise ModelLoadError(cfg_path, "names no checksum of its autoencoder, so it cannot be "
                                       "matched to one; retrain the classifier")
    if autoencoder is None:
        autoencoder = load_model(_find_autoencoder(folder, ref, cfg_path), device)
    found_sha = autoencoder.weights_sha256
    if found_sha != ref["sha256"]:
        raise ModelLoadError(cfg_path, f"autoencoder {autoencoder.name!r} has changed since this "
                                       "classifier was trained (weights hash differs); retrain "
                                       "the classifier")
    weights = folder / WEIGHTS_NAME
    read_safetensors_header(weights)
    verify_sha256(weights, meta.get("weights_sha256") or None, CONFIG_NAME)
    head = build_head(head_cfg)
    try:
        head.load_state_dict(load_file(str(weights), device="cpu"), strict=True)
    except Exception as err:  # safetensors/torch raise assorted types for corrupt data
        raise ModelLoadError(weights, f"cannot load head weights ({err})") from None
    clf = MusicGenreClassifier(autoencoder.model, head, head_cfg, genres, ref)
    clf.metrics = meta.get("metrics", {})
    clf.to(device).eval()
    return LoadedClassifier(classifier=clf, meta=meta, path=folder, autoencoder=autoencoder)

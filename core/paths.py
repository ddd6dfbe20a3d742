"""Where the project keeps things: bundled resources, user models, the clip cache, logs.

Every location can be moved with an environment variable, which is how tests keep their files
under a temporary folder and never touch a user's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "celae-workbench"


def resources_dir() -> Path:
    """The ``resources/`` folder: beside the packages in a checkout, inside a PyInstaller bundle."""
    env = os.environ.get("CELAE_RESOURCES_DIR")
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def bundled_models_dir() -> Path:
    """Folder of the models shipped with the app (one sub-folder per model)."""
    return resources_dir() / "models"


def demo_songs_dir() -> Path:
    """Folder of the demo songs shipped with the app."""
    return resources_dir() / "demo"


def user_models_dir() -> Path:
    """Folder where trained models are kept by default (``CELAE_USER_MODELS_DIR`` overrides)."""
    env = os.environ.get("CELAE_USER_MODELS_DIR")
    return Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME)) / "models"


def cache_dir() -> Path:
    """Folder of the decoded-clip cache (``CELAE_CACHE_DIR`` overrides)."""
    env = os.environ.get("CELAE_CACHE_DIR")
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP_NAME))


def log_dir() -> Path:
    """Folder of the rotated log files (``CELAE_LOG_DIR`` overrides)."""
    env = os.environ.get("CELAE_LOG_DIR")
    return Path(env) if env else Path(platformdirs.user_log_dir(APP_NAME))


def default_classifier_dir(autoencoder_path: str | os.PathLike) -> Path:
    """Where a classifier of this autoencoder goes by default: ``<autoencoder>/classifier``,
    or, for a bundled (read-only) model, ``<user models>/classifiers/<name>``."""
    path = Path(autoencoder_path).resolve()
    if path.is_relative_to(bundled_models_dir().resolve()):
        return user_models_dir() / "classifiers" / path.name
    return path / "classifier"

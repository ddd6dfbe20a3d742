"""Persistent app settings (QSettings): window geometry, splitters, last folders, last model.

The organisation comes from ``CELAE_SETTINGS_ORG`` when set, so tests and benchmarks never touch
a user's settings.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings

ORGANISATION = "CELAE"
APPLICATION = "Workbench"


def app_settings() -> QSettings:
    """The app's QSettings object (organisation from ``CELAE_SETTINGS_ORG``, else "CELAE")."""
    org = os.environ.get("CELAE_SETTINGS_ORG") or ORGANISATION
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, org, APPLICATION)


def read_str(key: str, default: str = "") -> str:
    """A string setting, ``default`` when absent or of another type."""
    value = app_settings().value(key, default)
    return value if isinstance(value, str) else default


def write_value(key: str, value) -> None:
    """Store one setting and flush it to disk now (the app may be killed later)."""
    settings = app_settings()
    settings.setValue(key, value)
    settings.sync()


def start_folder(key: str) -> str:
    """Where a file dialog opens: the folder stored under ``key`` when it still exists, else
    the user's music folder, else their home (never the working directory, which with
    ``make run`` is the project's folder)."""
    from pathlib import Path

    from PySide6.QtCore import QStandardPaths

    stored = read_str(key)
    if stored and Path(stored).is_dir():
        return stored
    music = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MusicLocation)
    if music and Path(music).is_dir():
        return music
    return str(Path.home())

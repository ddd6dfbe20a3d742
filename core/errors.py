"""The project's error types.

Every public entry point that takes a file raises a subclass of :class:`CelaeError` whose message
names the file and the reason, so the CLI can print one line and the app can show it and carry on.
"""

from __future__ import annotations

import os


class CelaeError(Exception):
    """Base class of every error the project raises on purpose (user mistakes, bad files)."""


class FileError(CelaeError):
    """An error about one file: ``str(err)`` is ``"<file name>: <reason>"``."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{os.path.basename(self.path) or self.path}: {reason}")


class AudioLoadError(FileError):
    """An audio file could not be read (not audio, truncated, empty, unsupported...)."""


class TruncatedAudioError(AudioLoadError):
    """An audio file decodes only up to a point: truncated, or damaged part way through.

    ``decoded_seconds`` is how far from the start it decodes, ``total_seconds`` the length its
    header promises.
    """

    def __init__(self, path: str | os.PathLike, reason: str, decoded_seconds: float,
                 total_seconds: float):
        super().__init__(path, reason)
        self.decoded_seconds = decoded_seconds
        self.total_seconds = total_seconds


class AudioSaveError(FileError):
    """Audio could not be written."""


class WriteError(FileError, OSError):
    """A file could not be written (disk full, read-only folder...); the old file is intact.

    Also an ``OSError``, so code that already handles failed writes keeps doing so.
    """


class ModelLoadError(FileError):
    """A model folder or file is missing, corrupt, hostile or does not match its config."""


class DatasetError(CelaeError):
    """A dataset folder holds no usable audio, or its layout is not understood."""


class TrainingError(CelaeError):
    """Training could not go on (non-finite loss, bad settings, unusable checkpoint)."""


class DeviceError(CelaeError):
    """A compute device was asked for that this machine does not have."""

"""Log files a user can attach to a bug report.

:func:`setup_logging` sends every record at INFO and above to a rotated file under
:func:`core.paths.log_dir` (``app.log`` for the window, ``cli.log`` for ``celae``) and warnings
to stderr. Uncaught exceptions are written to the file too, so a crash leaves its traceback
where the About dialog says the log is.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import tempfile
from pathlib import Path

from core.paths import APP_NAME, log_dir

MAX_BYTES = 1_000_000
"""Size at which a log file is rotated."""

BACKUP_COUNT = 5
"""Rotated files kept beside the current one (``app.log.1`` ... ``app.log.5``)."""

KINDS = ("app", "cli")
"""Which front end is logging; each writes its own file, so two running at once never mix."""

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"
_MARK = "_celae_handler"


def setup_logging(kind: str = "app") -> Path:
    """Log to a rotated file (INFO and above) and to stderr (WARNING and above).

    Idempotent: a second call, with either kind, adds no handler and returns the file the first
    call chose. When the log folder cannot be written (a read-only home), the file goes to the
    temporary folder instead and a warning says so.

    Parameters
    ----------
    kind : str
        ``"app"`` or ``"cli"``: names the file (``app.log`` or ``cli.log``).

    Returns
    -------
    Path
        The log file being written.

    Raises
    ------
    ValueError
        ``kind`` is not one of :data:`KINDS`.
    """
    if kind not in KINDS:
        raise ValueError(f"setup_logging: kind must be one of {KINDS}, not {kind!r}")
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, _MARK, False) and isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)

    fallback_reason = None
    try:
        file_handler = _file_handler(log_dir() / f"{kind}.log")
    except OSError as err:
        fallback_reason = f"{log_dir()}: {err.strerror or err}"
        fallback = Path(tempfile.gettempdir()) / f"{APP_NAME}-logs" / f"{kind}.log"
        file_handler = _file_handler(fallback)
    handlers: list[logging.Handler] = [file_handler]
    # A windowed program on Windows has no stderr at all.
    if sys.stderr is not None:
        stream = _StderrHandler()
        stream.setLevel(logging.WARNING)
        stream.setFormatter(_OneLine("celae: %(levelname)s: %(message)s" if kind == "cli"
                                     else "%(levelname)s %(name)s: %(message)s"))
        handlers.append(stream)
    for handler in handlers:
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    _log_uncaught_exceptions()

    log = logging.getLogger(__name__)
    log.info("%s started (pid %d, python %s, %s)", kind, os.getpid(), sys.version.split()[0],
             "bundle" if getattr(sys, "frozen", False) else "source")
    if fallback_reason:
        log.warning("log folder not writable (%s); logging to %s", fallback_reason,
                    file_handler.baseFilename)
    return Path(file_handler.baseFilename)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (a test's capture, a redirected stream)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


class _OneLine(logging.Formatter):
    """No traceback on the terminal: it goes to the log file, and the message says where."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        return self.formatMessage(record)


def log_file() -> Path | None:
    """The file :func:`setup_logging` chose, or None before it ran."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, _MARK, False) and isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def _file_handler(path: Path) -> logging.handlers.RotatingFileHandler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8",
        errors="backslashreplace")  # a file name that is not UTF-8 must not break the log
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(_FORMAT))
    return handler


def _log_uncaught_exceptions() -> None:
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        # Ctrl-C is the user's choice, not a crash worth a traceback in the log.
        if not issubclass(exc_type, KeyboardInterrupt):
            logging.getLogger("celae").critical("uncaught exception", exc_info=(exc_type, exc, tb))
        previous(exc_type, exc, tb)

    if getattr(previous, _MARK, False):
        return
    setattr(hook, _MARK, True)
    sys.excepthook = hook

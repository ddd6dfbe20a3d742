"""Keep libmpg123's notes off the user's terminal.

libsndfile's MP3 reader lets libmpg123 print "Note: Illegal Audio-MPEG-Header ..." and
"[parse.c:...] error: ..." lines straight to file descriptor 2, below Python. The damage they
describe is already reported as an :class:`core.errors.AudioLoadError`, so while an MP3 is
decoded, fd 2 points at a temp file; afterwards the captured lines go to the log (INFO, so they
are there for a bug report) and anything else written to fd 2 meanwhile is passed back to the
real stderr. Several decoding threads share one redirection (counted), so the swap happens once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_users = 0
_saved_fd: int | None = None
_capture = None

_LIBRARY_MARKS = ("Note: ", "[src/libmpg123", "error: Giving up resync", "Warning: ")


def _flush_python_stderr() -> None:
    with contextlib.suppress(Exception):
        if sys.stderr is not None:
            sys.stderr.flush()


def _start() -> None:
    global _saved_fd, _capture
    _flush_python_stderr()
    capture = tempfile.TemporaryFile()  # noqa: SIM115  (closed in _stop)
    saved = os.dup(2)
    os.dup2(capture.fileno(), 2)
    _saved_fd, _capture = saved, capture


def _stop() -> None:
    global _saved_fd, _capture
    _flush_python_stderr()
    saved, capture = _saved_fd, _capture
    _saved_fd = _capture = None
    os.dup2(saved, 2)
    os.close(saved)
    capture.seek(0)
    text = capture.read(1 << 20).decode("utf-8", "replace")
    capture.close()
    passed = []
    for line in text.splitlines():
        if line.startswith(_LIBRARY_MARKS):
            log.info("libmpg123: %s", line)
        elif line:
            passed.append(line)
    if passed:
        with contextlib.suppress(OSError):
            os.write(2, ("\n".join(passed) + "\n").encode("utf-8", "replace"))


@contextlib.contextmanager
def quiet_native_stderr(enabled: bool = True) -> Iterator[None]:
    """Send what native code writes to fd 2 to the log while the body runs (see the module)."""
    global _users
    if not enabled:
        yield
        return
    try:
        with _LOCK:
            if _users == 0:
                _start()
            _users += 1
    except OSError:  # no fd 2 at all (a windowed program): nothing to keep quiet
        yield
        return
    try:
        yield
    finally:
        with _LOCK:
            _users -= 1
            if _users == 0:
                _stop()

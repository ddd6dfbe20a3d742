"""Reading files a user or an attacker handed us, with a size bound that holds for special files.

``st_size`` is 0 for ``/dev/zero`` and a FIFO, so a size check before ``read()`` bounds nothing:
a ``config.json`` symlinked to ``/dev/zero`` would be read until memory runs out, and a FIFO
named ``model.safetensors`` would block forever on ``open``. Here a file is opened without
blocking, must be a regular file (checked on the open descriptor, so a swap after the check does
not help), and is read in chunks that stop one byte past the limit.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Iterator
from typing import Any, BinaryIO

from core.errors import FileError

CHUNK_BYTES = 1 << 20


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "not a regular file"


def os_reason(err: OSError) -> str:
    """A user's words for why a file could not be opened."""
    if err.errno == errno.ENOENT:
        return "file not found"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.ELOOP:
        return "symlink loop (the link points back at itself)"
    if err.errno == errno.EISDIR:
        return "is a folder, not a file"
    if err.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return f"cannot read the file ({err.strerror or err})"


def regular_file_reason(path: str | os.PathLike) -> str | None:
    """Why ``path`` is not a readable regular file, or None when it is one (follows links)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        return os_reason(err)
    if not stat.S_ISREG(mode):
        return _kind(mode)
    return None


@contextlib.contextmanager
def open_regular(path: str | os.PathLike,
                 error: type[FileError] = FileError) -> Iterator[BinaryIO]:
    """Open ``path`` for binary reading; refuse anything but a regular file without blocking.

    Raises
    ------
    FileError (or the ``error`` subclass given)
        Missing, unreadable, a folder, FIFO, device, socket or symlink loop.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise error(path, os_reason(err)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(path, _kind(mode))
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh


def read_limited(fh: BinaryIO, limit: int) -> bytes | None:
    """Up to ``limit`` bytes from ``fh`` in bounded chunks; None when more than ``limit`` remain."""
    parts: list[bytes] = []
    held = 0
    while held <= limit:
        block = fh.read(min(CHUNK_BYTES, limit + 1 - held))
        if not block:
            return b"".join(parts)
        parts.append(block)
        held += len(block)
    return None


def read_bounded(path: str | os.PathLike, limit: int,
                 error: type[FileError] = FileError, what: str = "file") -> bytes:
    """The whole of regular file ``path``, refusing it when it holds more than ``limit`` bytes.

    Raises
    ------
    FileError (or the ``error`` subclass given)
        Not a readable regular file, a read error, or larger than ``limit``.
    """
    with open_regular(path, error) as fh:
        try:
            data = read_limited(fh, limit)
        except OSError as err:
            raise error(path, os_reason(err)) from None
    if data is None:
        raise error(path, f"larger than {limit} bytes: implausibly large for a {what}")
    return data


def parse_json(raw: bytes, path: str | os.PathLike, error: type[FileError] = FileError) -> Any:
    """Parse UTF-8 JSON read from ``path``; a hostile document (deeply nested) is a FileError."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise error(path, "invalid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as err:
        raise error(path, f"invalid JSON ({err})") from None
    except RecursionError:
        raise error(path, "invalid JSON (nested too deeply)") from None


def read_json(path: str | os.PathLike, limit: int, error: type[FileError] = FileError,
              what: str = "JSON file") -> Any:
    """Read and parse a bounded JSON file (see :func:`read_bounded` and :func:`parse_json`)."""
    return parse_json(read_bounded(path, limit, error, what), path, error)

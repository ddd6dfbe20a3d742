"""Atomic file writes: a temp file in the same folder, flushed and fsynced, then ``os.replace``d.

A process killed at any moment leaves either the old file or the new one under the final name,
never half of one. Temp files carry a recognisable prefix so the next save can sweep away those a
killed writer left behind. Files that only make sense together (weights and the config that
holds their checksum) are staged with :func:`atomic_group` and replace their targets together.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from core.errors import FileError, WriteError

TEMP_PREFIX = ".celae-tmp-"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _writer_alive(name: str) -> bool:
    """Whether the process that made temp file ``name`` (pid after the target name) still runs."""
    try:
        pid = int(name.rsplit(".", 3)[-3])
    except (ValueError, IndexError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _umask() -> int:
    """The process umask, read without changing it (``os.umask`` would, racing other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _final_mode(path: Path) -> int:
    """Mode the written file should get: the replaced file's, else the usual 0666 & ~umask.

    ``mkstemp`` makes private 0600 files, which would leave a user's exports unreadable to the
    rest of their system.
    """
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def sweep_stale_temps(folder: str | os.PathLike, target_name: str | None = None) -> int:
    """Delete temp files a killed writer left in ``folder``; return how many were removed.

    With ``target_name`` only the temps of that final file name are removed. Temps of writers
    that are still running (another process filling the same cache entry, say) are left alone.
    """
    folder = Path(folder)
    removed = 0
    if not folder.is_dir():
        return 0
    stem = TEMP_PREFIX + (target_name + "." if target_name else "")
    for entry in folder.iterdir():
        if entry.name.startswith(stem) and entry.is_file() and not _writer_alive(entry.name):
            with contextlib.suppress(OSError):
                entry.unlink()
                removed += 1
    return removed


def _temp_beside(path: Path) -> Path:
    """A new empty temp file in ``path``'s folder (created if needed), named after ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale_temps(path.parent, path.name)
        # The writer's pid is part of the name so a sweep can tell a dead writer's temp from a
        # live one's: <prefix><name>.<pid>.<random><suffix>.
        fd, tmp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.{os.getpid()}.",
                                        suffix=path.suffix or ".tmp", dir=path.parent)
    except OSError as err:
        raise WriteError(path, write_reason(err)) from err
    os.close(fd)
    return Path(tmp_name)


def _is_write_failure(err: BaseException) -> bool:
    # safetensors reports a full disk as its own SafetensorError, not an OSError.
    return ((isinstance(err, OSError) and not isinstance(err, FileError))
            or type(err).__name__ == "SafetensorError")


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Turn a failed write inside the block into a WriteError that names ``path``."""
    try:
        yield
    except BaseException as err:
        if _is_write_failure(err):
            raise WriteError(path, write_reason(err)) from err
        raise


class AtomicGroup:
    """Files staged side by side that replace their targets only once all of them are written.

    A model is ``model.safetensors`` plus a ``config.json`` holding the weights' checksum;
    replacing the weights and then failing to write the config (a full disk) would leave a new
    folder with weights and no config, or an old config that no longer matches. Staged here,
    a failure in any file leaves every target as it was. Use through :func:`atomic_group`.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    @contextlib.contextmanager
    def path(self, target: str | os.PathLike) -> Iterator[Path]:
        """Yield a temp path for ``target``; a failed write in the block names ``target``."""
        target = Path(target)
        tmp = _temp_beside(target)
        self._staged.append((target, tmp))
        with _naming(target):
            yield tmp

    def _commit(self) -> None:
        for target, tmp in self._staged:
            with _naming(target):
                with open(tmp, "rb+") as fh:
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, _final_mode(target))
        for target, tmp in self._staged:
            with _naming(target):
                os.replace(tmp, target)
        for folder in dict.fromkeys(target.parent for target, _ in self._staged):
            _fsync_dir(folder)

    def _discard(self) -> None:
        for _target, tmp in self._staged:
            with contextlib.suppress(OSError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_group() -> Iterator[AtomicGroup]:
    """Stage several files with :meth:`AtomicGroup.path`; all replace their targets at the end.

    On any error every temp is removed and every target is left untouched; a failed write
    (full disk, read-only folder, file-size limit) is a :class:`core.errors.WriteError` naming
    the file being written.
    """
    group = AtomicGroup()
    try:
        yield group
        group._commit()
    except BaseException:
        group._discard()
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success it replaces ``path`` atomically.

    For writers that want a file name (``soundfile.write``, ``safetensors.save_file``). The temp
    keeps ``path``'s suffix so format detection by extension still works. On error the temp is
    removed and ``path`` is untouched.
    """
    with atomic_group() as group, group.path(path) as tmp:
        yield tmp


def write_reason(err: BaseException) -> str:
    """A one-line reason for a failed write."""
    code = getattr(err, "errno", None)
    text = str(err)
    if code == errno.ENOSPC or "No space left" in text or "StorageFull" in text:
        return "could not write: no space left on device (the previous file, if any, is intact)"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"could not write: the folder is not writable ({os.strerror(code)})"
    reason = getattr(err, "strerror", None) or text.splitlines()[0][:200] if text else repr(err)
    return f"could not write ({reason})"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):  # a symlink loop resolves to nothing
        pass
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def ensure_not_input(out_path: str | os.PathLike, *input_paths: str | os.PathLike | None) -> None:
    """Refuse to write ``out_path`` when it is one of ``input_paths``.

    An atomic replace of a user's original by a lossy output is a silent data loss, so the
    output is compared with each input by resolved path and by inode (a hard link or a second
    mount of the same file has another path). ``None`` inputs are ignored.

    Raises
    ------
    FileError
        Naming both files when the output would replace an input.
    """
    out = Path(out_path)
    for given in input_paths:
        if given is None:
            continue
        src = Path(given)
        if _same_file(out, src):
            raise FileError(out, f"the output would replace the input {os.fspath(src)}; "
                                 "choose another output name (an input is never overwritten)")

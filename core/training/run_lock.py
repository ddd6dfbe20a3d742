"""One training run per output folder.

Two runs writing the same ``--out`` both finished "successfully" while one silently replaced the
other's model and checkpoints. A run now holds an exclusive ``flock`` on ``OUT/.celae-train.lock``
for its whole life; a second run is refused at once, naming the first one's pid. The kernel drops
the lock when the process dies, however it dies, so a killed run never leaves a stale lock.

Taking the lock also proves the folder is writable before any data is decoded or any epoch is
spent.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from core.errors import TrainingError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, runs are not guarded
    fcntl = None

LOCK_NAME = ".celae-train.lock"


def _holder(fh) -> str:
    fh.seek(0)
    text = fh.read(64).strip()
    return f"pid {text}" if text.isdigit() else "another process"


@contextlib.contextmanager
def run_lock(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold the training lock of ``out_dir`` (created if needed) for the ``with`` body.

    Raises
    ------
    TrainingError
        The folder cannot be created or written, or another run holds its lock.
    """
    out = Path(out_dir)
    path = out / LOCK_NAME
    try:
        out.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a+", encoding="ascii")  # noqa: SIM115  (held for the whole run)
    except OSError as err:
        raise TrainingError(f"{out}: cannot write the model folder "
                            f"({err.strerror or err}); choose another --out") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TrainingError(f"{out}: another training run ({_holder(fh)}) is writing "
                                    "to this folder; wait for it to finish or choose another "
                                    "--out") from None
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
        except OSError as err:
            raise TrainingError(f"{out}: cannot write the model folder "
                                f"({err.strerror or err}); choose another --out") from None
        yield path
    finally:
        fh.close()

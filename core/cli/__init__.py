"""The ``celae`` command line: argument parsing (:mod:`core.cli.main`), one function per
sub-command (:mod:`core.cli.commands`, :mod:`core.cli.analysis`) and the progress bar.

Nothing else in ``core`` imports this package (an import-linter contract).
"""

import os

# numpy's OpenBLAS spins a thread per core for every small product; on a machine whose cores
# are busy a 100k-sample dot product then takes 20 ms instead of 0.1 ms. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from core.cli.main import main  # noqa: E402

__all__ = ["main"]

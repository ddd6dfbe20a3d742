"""The ``celae`` command line: argument parsing (:mod:`core.cli.main`), one function per
sub-command (:mod:`core.cli.commands`, :mod:`core.cli.analysis`) and the progress bar.

Nothing else in ``core`` imports this package (an import-linter contract).
"""

from core.cli.main import main

__all__ = ["main"]

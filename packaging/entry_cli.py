"""Entry script of the bundled ``celae`` executable (see ``entry_workbench.py`` for why)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from core.logs import setup_logging

    setup_logging("cli")

    from core.cli.main import main

    sys.exit(main())

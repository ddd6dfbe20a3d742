"""Entry script of the bundled ``celae-workbench`` executable.

``freeze_support`` must run before anything else in a frozen program: a DataLoader worker or a
process pool re-executes this file, and without it the child would open a second window.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from core.logs import setup_logging

    setup_logging("app")

    from celae_gui.app import main

    sys.exit(main())

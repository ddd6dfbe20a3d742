"""``python -m core.cli ...``, the same as ``celae ...``."""

import sys

from core.cli.main import main

sys.exit(main())

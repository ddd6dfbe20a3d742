"""``python -m core.training DATA --out MODEL`` (and ``torchrun ... -m core.training``)."""

import sys

from core.training.ddp import main

sys.exit(main())

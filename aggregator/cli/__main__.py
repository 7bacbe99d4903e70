"""``python -m aggregator.cli``: the same as the ``aggregator`` command."""

import sys

from .main import main

sys.exit(main())

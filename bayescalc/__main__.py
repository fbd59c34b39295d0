"""``python -m bayescalc`` is the ``bayescalc`` command."""

import sys

from .cli import main

sys.exit(main())

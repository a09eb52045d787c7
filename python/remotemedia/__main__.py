"""``python -m remotemedia``: the ``remotemedia`` command."""

import sys

from remotemedia.cli import main

sys.exit(main())

"""``python -m modelpact`` is the same as the ``modelpact`` command."""

from __future__ import annotations

import sys

from modelpact.cli import main

sys.exit(main())

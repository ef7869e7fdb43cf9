"""Coordinator and participant workflows, local state and deployment records.

These modules sit between the pure core and the CLI: they use the chain adapter
(:mod:`modelpact.chain`) but no CLI library, so tests and the demo call them directly.
"""

from __future__ import annotations

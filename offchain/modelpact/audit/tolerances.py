"""The audit's stated tolerances and defaults (a light module: the CLI reads its defaults at
start-up without loading numpy, eth-abi or the chain adapter)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_ACCURACY_TOLERANCE", "DEFAULT_SAMPLE_ROWS", "Tolerances"]

DEFAULT_ACCURACY_TOLERANCE = 1e-6
"""Re-measured minus posted accuracy, absolute. Models are deterministic, so the only slack
needed is the WAD floor of the posted value (1e-18); 1e-6 also covers a last-digit float
difference across platforms while catching any overstatement by a single test row of 1e6."""

DEFAULT_SAMPLE_ROWS = 32
"""Rows of each delivered dataset drawn for rule validation (all rows when fewer)."""


@dataclass(frozen=True)
class Tolerances:
    """The stated tolerances of the audit.

    ``accuracy``: |re-measured - posted| model accuracy (absolute, in [0, 1]).
    ``menu_rows``: on-chain dataCount versus the re-solved integer menu, relative (rows differ by
    at most max(1, menu_rows * m)).
    ``menu_value``: on-chain t, t_bar and ratio versus the re-solve, relative to t_bar_K.
    ``optimality``: the optimum's expected accuracy minus the on-chain menu's, absolute.
    ``constraint``: IR / IC / budget slack allowed, in value units (WAD rounding of the menu).
    """

    accuracy: float = DEFAULT_ACCURACY_TOLERANCE
    menu_rows: float = 1e-3
    menu_value: float = 1e-4
    optimality: float = 1e-4
    constraint: float = 1e-6

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form."""
        return {
            "accuracy": self.accuracy,
            "menu_rows": self.menu_rows,
            "menu_value": self.menu_value,
            "optimality": self.optimality,
            "constraint": self.constraint,
        }

"""The published rows of a menu from a solved (m, t, t_bar)."""

from __future__ import annotations

from modelpact.menu import MenuOption
from modelpact.optimizer.economy import Economy
from modelpact.optimizer.types import BoolArray, FloatArray

__all__ = ["menu_options"]


def menu_options(
    econ: Economy, served: BoolArray, m: FloatArray, t: FloatArray, tbar: FloatArray
) -> tuple[MenuOption, ...]:
    """One :class:`MenuOption` per type, in type order (ratio = t / t_bar, at most 1)."""
    options = []
    for i, spec in enumerate(econ.scenario.types):
        ratio = float(t[i] / tbar[i]) if served[i] and tbar[i] > 0 else 0.0
        options.append(
            MenuOption(
                type=i + 1,
                cost=spec.cost,
                probability=spec.probability,
                served=bool(served[i]),
                m=float(m[i]),
                t=float(t[i]),
                t_bar=float(tbar[i]),
                ratio=min(ratio, 1.0),
                reservation_utility=float(econ.reservation[i]),
                utility=float(t[i] - spec.cost * m[i]) if served[i] else 0.0,
            )
        )
    return tuple(options)

"""Security rules that depend on the menu: the participant bond that makes withholding pointless.

Pure core module (no web3, no CLI). The argument behind :func:`minimum_participant_bond` is in
``SECURITY.md`` ("What a last revealer can gain"):

* Inside a round, withholding a reveal changes no other participant's draw (each draw seed depends
  only on the coordinator's secret and the participant's own) and forfeits the withholder's reward
  and bond, so the in-round gain of a last revealer is at most 0 for any bond >= 0.
* The one thing a withholder buys is a *re-roll*: it knows its draw before revealing (the
  coordinator's secret is public by then), so after a low draw it could walk away and join a later
  round under the same menu. Given a low draw, the expected gain of a re-roll is
  ``target - lo <= target = ratio * collective accuracy <= ratio * 1`` in accuracy units, i.e. at
  most ``ratio * v(1)`` in value units under a linear valuation. A bond at least that large, in
  wei, makes the re-roll a loss for every option of the menu.

Money units: the scenario's valuation is a money-equivalent value; ``wei_per_value_unit`` states
how many wei one value unit is worth (deployments default to :data:`DEFAULT_WEI_PER_VALUE_UNIT`,
overridable with ``$MODELPACT_WEI_PER_VALUE_UNIT``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction

from modelpact.errors import ModelpactError

__all__ = [
    "DEFAULT_WEI_PER_VALUE_UNIT",
    "BondRuleError",
    "bond_warning",
    "minimum_participant_bond",
    "wei_per_value_unit_from_env",
]

WAD = 10**18
#: One value unit (the paper's v(r) = 100 r gives 100 units for a perfect model) = 1e-4 ether.
DEFAULT_WEI_PER_VALUE_UNIT = 10**14
_ENV = "MODELPACT_WEI_PER_VALUE_UNIT"


class BondRuleError(ModelpactError, ValueError):
    """The inputs of the bond rule are malformed (negative scale, ratio above one, ...)."""


def minimum_participant_bond(
    ratios_wad: Sequence[int],
    *,
    max_model_value: float | Fraction,
    wei_per_value_unit: int = DEFAULT_WEI_PER_VALUE_UNIT,
) -> int:
    """The smallest participant bond (wei) that makes withholding a reveal unprofitable.

    ``ratios_wad``: each option's ratio t/t_bar in WAD (<= 1e18). ``max_model_value``: value of the
    best possible collective model in value units (``v(1)``, the linear valuation's scale).
    Returns ``ceil(max(ratio) * max_model_value * wei_per_value_unit)``; exact rational arithmetic.
    """
    if not ratios_wad:
        raise BondRuleError("the menu has no options", hint="pass the menu's ratios")
    for i, r in enumerate(ratios_wad):
        if not 0 <= int(r) <= WAD:
            raise BondRuleError(
                f"option {i} has ratio {r} outside [0, 1e18]", hint="pass ratios in WAD units"
            )
    value = Fraction(max_model_value)
    if value < 0:
        raise BondRuleError(
            f"max_model_value must be >= 0, got {max_model_value}", hint="pass v(1) in value units"
        )
    if wei_per_value_unit < 0:
        raise BondRuleError(
            f"wei_per_value_unit must be >= 0, got {wei_per_value_unit}",
            hint=f"set {_ENV} to a non-negative integer",
        )
    bound = Fraction(max(int(r) for r in ratios_wad), WAD) * value * wei_per_value_unit
    return -((-bound.numerator) // bound.denominator)  # ceil


def wei_per_value_unit_from_env() -> int:
    """``$MODELPACT_WEI_PER_VALUE_UNIT`` as an integer, else :data:`DEFAULT_WEI_PER_VALUE_UNIT`."""
    raw = os.environ.get(_ENV)
    if raw is None or raw.strip() == "":
        return DEFAULT_WEI_PER_VALUE_UNIT
    try:
        value = int(raw)
    except ValueError:
        raise BondRuleError(
            f"{_ENV}={raw!r} is not an integer", hint=f"set {_ENV} to wei per value unit"
        ) from None
    if value < 0:
        raise BondRuleError(f"{_ENV}={raw!r} is negative", hint="use a non-negative integer")
    return value


def bond_warning(
    participant_bond_wei: int,
    ratios_wad: Sequence[int],
    *,
    max_model_value: float | Fraction,
    wei_per_value_unit: int | None = None,
) -> str | None:
    """One warning line when the bond is below :func:`minimum_participant_bond`, else ``None``."""
    per_unit = wei_per_value_unit_from_env() if wei_per_value_unit is None else wei_per_value_unit
    minimum = minimum_participant_bond(
        ratios_wad, max_model_value=max_model_value, wei_per_value_unit=per_unit
    )
    if participant_bond_wei >= minimum:
        return None
    return (
        f"warning: participant bond {participant_bond_wei} wei is below {minimum} wei, the bond "
        f"that makes withholding a reveal unprofitable for this menu (SECURITY.md; "
        f"{per_unit} wei per value unit, set {_ENV} to change)"
    )

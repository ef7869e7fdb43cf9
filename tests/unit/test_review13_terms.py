"""Hostile review of issue 13: a stated curve tolerance that leaves nothing to compensate."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpact.compensation import compensation_terms
from modelpact.errors import ScenarioError
from modelpact.menu import Menu
from modelpact.optimizer import integerize_menu, solve
from modelpact.scenario import Scenario, parse_scenario

DEMO = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"


def _stated(tolerance: str) -> tuple[Scenario, Menu]:
    text = DEMO.read_text().replace(
        "alpha = 0.81775545008625", f"alpha = 0.81775545008625\ntolerance = {tolerance}"
    )
    scenario = parse_scenario(text)
    return scenario, integerize_menu(scenario, solve(scenario, benchmarks=False))


@pytest.mark.parametrize("tolerance", ["1.0", "0.98"])
def test_a_tolerance_above_the_curve_is_a_round_without_compensation(tolerance: str) -> None:
    """`[accuracy] tolerance = 1.0` (or anything at or above the curve's best prediction,
    0.9785 for the demo) makes max(0, predicted - tau - measured) zero whatever the collective
    model measures: the round compensates nothing. Before, it deployed with rho = 1e16 and
    tau = 1 without --no-compensation, no WARNING, and the audit's curve.terms passed (the
    NO CURVE COMPENSATION statement keys on tau = 1 AND rho = 0). It must be refused like a
    scenario without terms, and deploy with tau = 1, rho = 0 under --no-compensation."""
    scenario, menu = _stated(tolerance)
    with pytest.raises(ScenarioError, match="no shortfall could ever be compensated"):
        compensation_terms(scenario, menu=menu)


def test_a_tolerance_below_the_curve_keeps_its_terms() -> None:
    """A stated tolerance below the curve (0.02) is the scenario's to state: kept exactly."""
    scenario, menu = _stated("0.02")
    assert compensation_terms(scenario, menu=menu).tolerance_wad == 2 * 10**16

"""The menu checker finds every kind of violation, with its size."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from modelpact.checker import check_menu
from modelpact.optimizer import solve
from modelpact.scenario import load_scenario

CASE1 = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/paper_case1.toml"


@pytest.fixture(scope="module")
def solved():
    scenario = load_scenario(CASE1)
    return scenario, solve(scenario, benchmarks=False)


def _with(menu, index: int, **changes):
    options = list(menu.options)
    options[index] = replace(options[index], **changes)
    return replace(menu, options=tuple(options))


def test_optimal_menu_is_clean(solved) -> None:
    """The solver's bayes menu has no violation above 1e-7."""
    scenario, menu = solved
    report = check_menu(scenario, menu)
    assert report.ok
    assert report.worst <= 1e-7
    assert report.exact


def test_ir_violation_has_its_size(solved) -> None:
    """Lowering type 1's ratio by d t_bar costs it exactly that much utility: IR violated by d."""
    scenario, menu = solved
    o = menu.options[0]
    cut = 0.5
    bad = _with(menu, 0, ratio=(o.t - cut) / o.t_bar, t=o.t - cut)
    report = check_menu(scenario, bad)
    ir = [v for v in report.violations if v.kind == "IR" and v.i == 1]
    assert not report.ok
    assert ir
    assert ir[0].size == pytest.approx(cut, rel=1e-6)


def test_ic_and_budget_violations(solved) -> None:
    """Promising type 4 the full model breaks BC for it and makes type 5 envy option 4."""
    scenario, menu = solved
    o = menu.options[3]
    bad = _with(menu, 3, ratio=1.0, t=o.t_bar + 1.0)
    kinds = {(v.kind, v.i, v.j) for v in check_menu(scenario, bad).above_tolerance()}
    assert ("BC", 4, None) in kinds
    assert ("IC", 5, 4) in kinds


def test_ratio_above_one_and_exclusion(solved) -> None:
    """A ratio above 1 is reported; an excluded type that prefers an option is an EX violation."""
    scenario, menu = solved
    bad = _with(menu, 4, ratio=1.01)
    assert any(v.kind == "ratio" for v in check_menu(scenario, bad).above_tolerance())
    excluded = _with(menu, 4, served=False)
    assert any(
        v.kind == "EX" and v.i == 5 for v in check_menu(scenario, excluded).above_tolerance()
    )

"""Robust promises ([solver] robust) and strict incentive compatibility ([solver] ic_margin).

A robust menu budgets against the learned curve's lower confidence band (parameter and residual
uncertainty) with the nominal outside options, so IR holds with the stated confidence; a strict
menu makes every type prefer its own option by the margin. Both cost a little expected accuracy,
measured here on the digits demo scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelpact.checker import check_menu
from modelpact.errors import ScenarioError
from modelpact.optimizer import economy_model, integerize_menu, solve
from modelpact.optimizer.robust import lower_band, tbar_under
from modelpact.scenario import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"


@pytest.fixture(scope="module")
def digits() -> Scenario:
    return load_scenario(SCENARIOS / "digits_demo.toml")


@pytest.fixture(scope="module")
def nominal(digits):
    return solve(digits, benchmarks=False)


def _ir_holds(scenario: Scenario, menu, curves: np.ndarray, shifts: np.ndarray) -> float:
    """Fraction of drawn 'true' curves (parameters, plus a residual shift) under which every
    type's expected value ratio x E v(a_true) still meets its nominal outside option."""
    model = economy_model(scenario, belief="bayes")
    m = np.array([o.m for o in menu.options])
    ratio = np.array([o.ratio for o in menu.options])
    f = np.array([o.reservation_utility for o in menu.options])
    s = model.pooled(m)
    held = 0
    for (a_max, b, alpha), shift in zip(curves, shifts, strict=True):
        a = np.clip(a_max - b * np.maximum(s, 1.0) ** -alpha + shift, 0.0, 1.0)
        held += bool(np.all(ratio * tbar_under(scenario, model, m, a) - scenario.costs * m >= f))
    return held / len(curves)


def test_robust_menu_keeps_ir_with_the_stated_confidence(digits, nominal) -> None:
    """Curves drawn from the fit's own uncertainty (parameters ~ N(fit, covariance), plus a
    residual shift ~ N(0, residual_sd^2)): the 0.95-robust integer menu keeps IR for every type
    under at least 94% of them (0.95 minus sampling error), the nominal menu under far fewer."""
    unc = digits.curve.uncertainty
    acc = digits.accuracy
    rng = np.random.default_rng(0)
    theta = np.array([acc.a_max, acc.b, acc.alpha])  # type: ignore[attr-defined]
    curves = rng.multivariate_normal(theta, np.array(unc.covariance), size=2000)
    shifts = rng.normal(0.0, unc.residual_sd, size=2000)
    robust = digits.with_solver(robust=0.95)
    menu = integerize_menu(robust, solve(robust, benchmarks=False))
    assert _ir_holds(digits, menu, curves, shifts) >= 0.94
    assert _ir_holds(digits, integerize_menu(digits, nominal), curves, shifts) < 0.7


def test_robust_menu_publishes_the_band_budget_and_costs_little(digits, nominal) -> None:
    """The robust menu's t_bar is E[v(a_low(S))] (the band, not the curve), ratio = t / t_bar,
    the checker passes it under the robust scenario, and it gives up between 1e-4 and 2e-3 of
    expected accuracy at 0.95 (parameter + residual uncertainty) on the digits demo."""
    robust = digits.with_solver(robust=0.95)
    menu = solve(robust, benchmarks=False)
    model = economy_model(robust, belief="bayes")
    m = np.array([o.m for o in menu.options])
    band = tbar_under(robust, model, m, lower_band(robust, model.pooled(m)))
    np.testing.assert_allclose([o.t_bar for o in menu.options], band, rtol=1e-12)
    assert all(o.t <= o.t_bar + 1e-9 for o in menu.options)
    assert check_menu(robust, menu).ok
    assert check_menu(robust, integerize_menu(robust, menu)).ok
    cost = nominal.expected_accuracy - menu.expected_accuracy
    assert 1e-4 < cost < 2e-3
    assert "robust" in menu.certification


def test_robust_needs_exact_expectations(digits) -> None:
    """The sampled solve shades the budget for its own error; robust refuses to mix with it."""
    sampled = digits.with_solver(robust=0.9, expectation="sampled", samples=500)
    with pytest.raises(ScenarioError, match="robust needs exact expectations"):
        solve(sampled, benchmarks=False)


def test_ic_margin_makes_every_type_strictly_prefer_its_option(digits, nominal) -> None:
    """With ic_margin = d (the demo's 0.01, and 0.2) each type's utility of its own option beats
    every other option by at least d, on the values the chain delivers, after integerization;
    the continuous cost in expected accuracy stays below 1e-4 x (d / 0.05) + 1e-6."""
    base = solve(digits.with_solver(ic_margin=0.0), benchmarks=False)
    for d in (0.01, 0.2):
        strict = digits.with_solver(ic_margin=d)
        continuous = solve(strict, benchmarks=False)
        menu = integerize_menu(strict, continuous)
        report = check_menu(strict, menu)
        assert report.ok
        delivered = np.array(report.delivered)
        m = np.array([o.m for o in menu.options])
        utility = delivered[None, :] - digits.costs[:, None] * m[None, :]
        for i in range(digits.n_types):
            assert utility[i, i] >= np.delete(utility[i], i).max() + d - 1e-9
        assert base.expected_accuracy - continuous.expected_accuracy < 1e-4 * d / 0.05 + 1e-6
    assert nominal.expected_accuracy <= base.expected_accuracy + 1e-12


def test_ic_margin_is_checked_by_the_checker(digits) -> None:
    """A menu solved without the margin fails the checker of a scenario that demands one (its
    downward ICs bind exactly), by about the margin."""
    loose = digits.with_solver(ic_margin=0.0)
    menu = solve(loose, benchmarks=False)
    report = check_menu(digits.with_solver(ic_margin=0.05), menu)
    assert not report.ok
    assert {v.kind for v in report.above_tolerance()} == {"IC"}
    assert report.worst == pytest.approx(0.05, abs=1e-6)


def test_strict_margin_never_publishes_an_ic_violating_menu() -> None:
    """Found by fuzzing: three nearly equal high costs under the paper belief pool at 21.65
    rows without a margin; with ic_margin = 0.1 no separated menu is feasible, and the solver
    must not publish the pooled m with t that breaks the margin (it returned t_3 = t_1 + 0.1,
    IC short by 0.2). It publishes the empty menu instead, which the checker accepts (one
    option shared by everyone needs no margin) and integerize_menu refuses to deploy."""
    from modelpact.errors import InfeasibleScenarioError
    from modelpact.scenario import parse_scenario

    text = "participants = 6\n" + "".join(
        f"[[types]]\ncost = {c}\nprobability = {p}\n\n"
        for c, p in (
            (1.4229380350846883, 0.312),
            (1.3698090959724145, 0.261),
            (0.673372638141833, 0.427),
        )
    )
    text += '[accuracy]\nkind = "sgb"\n\n[valuation]\nkind = "linear"\nscale = 100.0\n\n'
    text += '[solver]\nbelief = "paper"\nserve = "optimal"\n'
    loose = parse_scenario(text)
    assert solve(loose, benchmarks=False).expected_accuracy > 0.4
    strict = parse_scenario(text + "ic_margin = 0.1\n")
    menu = solve(strict, benchmarks=False)
    assert check_menu(strict, menu).ok
    assert all(o.m == 0.0 and o.t == 0.0 for o in menu.options)
    with pytest.raises(InfeasibleScenarioError, match="asks no type for any row"):
        integerize_menu(strict, menu)

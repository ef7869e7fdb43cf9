"""Derivatives the SQP relies on, other curves and valuations, greedy selection, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from modelpact.checker import check_menu
from modelpact.optimizer import _economy, _evaluate, integerize_menu, solve
from modelpact.scenario import parse_scenario


def _text(n: int, costs: list[float], accuracy: str, valuation: str, solver: str = "") -> str:
    probs = [1.0 / len(costs)] * len(costs)
    probs[-1] = 1.0 - sum(probs[:-1])
    types = "".join(
        f"[[types]]\ncost = {c!r}\nprobability = {p!r}\n" for c, p in zip(costs, probs, strict=True)
    )
    return (
        f"participants = {n}\n{types}[accuracy]\n{accuracy}\n[valuation]\n{valuation}\n"
        f"[solver]\n{solver}\n"
    )


SGB = 'kind = "sgb"'
LINEAR = 'kind = "linear"\nscale = 100.0'


@pytest.mark.parametrize("belief", ["bayes", "paper"])
def test_objective_and_budget_derivatives_match_finite_differences(belief: str) -> None:
    """Gradient and Hessian of E a(n.m) and of every t_bar_i agree with finite differences."""
    scenario = parse_scenario(_text(6, [0.2, 0.12, 0.05], SGB, LINEAR, f'belief = "{belief}"'))
    econ = _economy(scenario, belief)  # type: ignore[arg-type]
    m = np.array([300.0, 340.0, 420.0])
    base = _evaluate(scenario, econ.model, m)
    h = 1e-3
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        up, dn = _evaluate(scenario, econ.model, m + e), _evaluate(scenario, econ.model, m - e)
        assert (up.objective - dn.objective) / (2 * h) == pytest.approx(
            base.objective_grad[j], rel=1e-5
        )
        np.testing.assert_allclose((up.tbar - dn.tbar) / (2 * h), base.tbar_grad[:, j], rtol=1e-5)
        np.testing.assert_allclose(
            (up.objective_grad - dn.objective_grad) / (2 * h),
            base.objective_hess[:, j],  # type: ignore[index]
            rtol=1e-4,
            atol=1e-13,
        )
        np.testing.assert_allclose(
            (up.tbar_grad - dn.tbar_grad) / (2 * h),
            base.tbar_hess[:, :, j],  # type: ignore[index]
            rtol=1e-4,
            atol=1e-10,
        )


@pytest.mark.parametrize(
    ("accuracy", "valuation"),
    [
        ('kind = "power"\na_max = 0.95\nb = 4.0\nalpha = 0.6', LINEAR),
        (
            'kind = "table"\ndata = [20, 50, 100, 200, 400, 800]\n'
            "accuracy = [0.3, 0.55, 0.7, 0.8, 0.86, 0.9]",
            LINEAR,
        ),
        (SGB, 'kind = "exponential"\nscale = 100.0\nrate = 2.0'),
    ],
    ids=["power", "table", "exponential-valuation"],
)
def test_other_curves_and_valuations_solve_clean(accuracy: str, valuation: str) -> None:
    """power and table curves and the concave valuation give certified, checker-clean menus."""
    scenario = parse_scenario(_text(5, [0.3, 0.15, 0.05], accuracy, valuation))
    menu = solve(scenario, benchmarks=False)
    assert check_menu(scenario, menu).ok
    assert 0.0 <= menu.upper_bound - menu.expected_accuracy < 1e-6
    assert menu.expected_accuracy > 0.0


def test_greedy_selection_beyond_exact_limit() -> None:
    """K = 9 uses the greedy heuristic, says so, and is at least as good as serving everyone."""
    costs = [0.2 - 0.02 * i for i in range(9)]
    scenario = parse_scenario(_text(3, costs, SGB, LINEAR, 'serve = "optimal"'))
    menu = solve(scenario, benchmarks=False)
    assert menu.method.startswith("greedy")
    everyone = solve(scenario, serve="all", benchmarks=False)
    assert menu.expected_accuracy >= everyone.expected_accuracy - 1e-12
    assert check_menu(scenario, menu).ok


def test_sampled_paper_belief_and_integer_menu() -> None:
    """Sampled paper-belief solves certify BC on fresh draws; the integer menu stays clean."""
    scenario = parse_scenario(
        _text(
            8,
            [0.2, 0.1, 0.05],
            SGB,
            LINEAR,
            'belief = "paper"\nexpectation = "sampled"\nsamples = 3000\nseed = 5',
        )
    )
    menu = solve(scenario, benchmarks=False)
    assert menu.accuracy_ci is not None
    exact = scenario.with_solver(expectation="exact")
    report = check_menu(exact, menu, belief="paper")
    assert not [v for v in report.violations if v.kind == "BC" and v.size > 1e-9]
    integer = integerize_menu(scenario, menu)
    assert all(float(o.m).is_integer() for o in integer.options)
    assert not [
        v
        for v in check_menu(exact, integer, belief="paper").violations
        if v.kind == "BC" and v.size > 1e-9
    ]

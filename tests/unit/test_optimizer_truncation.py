"""Truncated exact solves, the small-problem fast path and the sampled certified bound."""

from __future__ import annotations

import numpy as np
import pytest

from modelpact.checker import check_menu
from modelpact.optimizer import conditional_values, economy_model, solve
from modelpact.scenario import Scenario, parse_scenario


def _scenario(n: int, costs: list[float], solver: str = "") -> Scenario:
    probs = [1.0 / len(costs)] * len(costs)
    probs[-1] = 1.0 - sum(probs[:-1])
    types = "".join(
        f"[[types]]\ncost = {c!r}\nprobability = {p!r}\n" for c, p in zip(costs, probs, strict=True)
    )
    return parse_scenario(
        f'participants = {n}\n{types}[accuracy]\nkind = "sgb"\na_opt = 1.0\nk = 1.0\n'
        f'[valuation]\nkind = "linear"\nscale = 100.0\n[solver]\n{solver}\n'
    )


C4 = [0.2, 0.14, 0.08, 0.04]


@pytest.fixture(scope="module", params=["bayes", "paper"])
def pair(request: pytest.FixtureRequest):
    """(scenario, full solve, solve truncated at 1e-7: a dropped mass near 1e-4, large enough
    that a certificate ignoring it would be caught)."""
    scenario = _scenario(30, C4, f'belief = "{request.param}"')
    full = solve(scenario, benchmarks=False, truncation=0.0)
    truncated = solve(scenario, benchmarks=False, truncation=1e-7)
    return scenario, full, truncated


def test_truncated_menu_passes_the_full_distribution_checker(pair) -> None:
    """The truncated solve's menu meets BC and IR exactly and IC/exclusion within the reported
    tolerance under the FULL distribution."""
    scenario, _, truncated = pair
    assert truncated.extra["dropped_mass"] > 1e-6
    report = check_menu(scenario, truncated, tolerance=truncated.extra["ic_tolerance"] + 1e-12)
    assert report.ok, [v.describe() for v in report.above_tolerance()]
    assert not [v for v in report.violations if v.kind in ("BC", "IR") and v.size > 1e-12]


def test_truncated_gap_is_an_upper_bound(pair) -> None:
    """The truncated upper bound is above the full optimum; the published accuracy is below the
    full expected accuracy of the published m, so the printed gap bounds the true gap."""
    scenario, full, truncated = pair
    m = np.array([o.m for o in truncated.options])
    belief = truncated.belief
    _, achieved, _ = conditional_values(
        scenario, m, belief=belief, model=economy_model(scenario, belief=belief, truncation=0.0)
    )
    assert truncated.upper_bound >= full.expected_accuracy
    assert truncated.expected_accuracy <= achieved + 1e-12
    assert truncated.gap >= full.expected_accuracy - achieved - 1e-12
    assert truncated.gap < 1e-4  # and it is still informative


def test_truncation_is_automatic_beyond_the_exact_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond EXACT_LIMIT outcomes the exact mode truncates and says so; a smaller limit forces
    it on a small scenario with the same menu up to the certified gap."""
    import modelpact.optimizer.economy as economy

    scenario = _scenario(12, C4)
    full = solve(scenario, benchmarks=False)
    monkeypatch.setattr(economy, "EXACT_LIMIT", 10)
    auto = solve(scenario, benchmarks=False)
    assert "dropped probability" in auto.certification
    assert "dropped_mass" not in full.extra
    assert abs(auto.expected_accuracy - full.expected_accuracy) <= auto.gap + full.gap + 1e-12


@pytest.mark.parametrize("belief", ["bayes", "paper"])
def test_fast_path_agrees_with_general_path(belief: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two, three and (on a small belief model) five types: the SLSQP fast path and the
    trust-region SQP reach the same optimum within their certified gaps, and both menus are
    checker clean."""
    import modelpact.optimizer.sqp as sqp

    five = [0.2, 0.16, 0.12, 0.08, 0.04]
    for costs, n in (
        ([0.02, 0.01], 20),
        ([0.02, 0.01], 2),
        ([0.2, 0.1, 0.05], 6),
        (five, 10),
        (five, 3),
    ):
        scenario = _scenario(n, costs, f'belief = "{belief}"')
        fast = solve(scenario, benchmarks=False)
        with monkeypatch.context() as patch:
            patch.setattr(sqp, "FAST_MAX_K", 0)
            patch.setattr(sqp, "FAST_MAX_K_SMALL_MODEL", 0)
            general = solve(scenario, benchmarks=False)
        assert abs(fast.expected_accuracy - general.expected_accuracy) <= (
            fast.gap + general.gap + 1e-12
        )
        # K = 5: SLSQP may decline (gap above 1e-9), and then the general path answers
        assert fast.gap <= (1e-9 if len(costs) <= 3 else max(1e-9, general.gap))
        assert check_menu(scenario, fast).ok
        assert check_menu(scenario, general).ok


def test_sampled_solve_reports_a_certified_bound() -> None:
    """The deterministic (Jensen) bound of a sampled solve is above the exact optimum."""
    scenario = _scenario(8, [0.2, 0.1, 0.05], 'expectation = "sampled"\nsamples = 3000\nseed = 3')
    sampled = solve(scenario, benchmarks=False)
    exact = solve(scenario, expectation="exact", benchmarks=False)
    assert sampled.extra["certified_upper_bound"] >= exact.expected_accuracy
    assert "certified (deterministic) upper bound" in sampled.certification

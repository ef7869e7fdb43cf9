"""Hypothesis properties of the optimizer over random small scenarios."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelpact.checker import check_menu
from modelpact.optimizer import menu_for_m, solve
from modelpact.scenario import Scenario, parse_scenario

PROPERTY_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Random small economies that are "concave where it matters": every type would train alone
    (f_i > 0), so pooled data sizes sit on the concave part of the curve and the optimum is
    certifiable. (Economies where collaboration barely pays are covered in test_optimizer.)"""
    k = draw(st.integers(2, 3))
    n = draw(st.integers(2, 6))
    if draw(st.booleans()):
        accuracy = 'kind = "sgb"\na_opt = 1.0\nk = 1.0'
        top = 0.2
    else:
        b = draw(st.floats(1.0, 4.0))
        alpha = draw(st.floats(0.5, 0.8))
        accuracy = f'kind = "power"\na_max = 0.95\nb = {b!r}\nalpha = {alpha!r}'
        top = 0.25
    costs = sorted(
        draw(st.lists(st.floats(0.02, top), min_size=k, max_size=k, unique=True)), reverse=True
    )
    if min(a - b for a, b in itertools.pairwise(costs)) < 1e-3:
        costs = [costs[0] * (1.0 - 0.2 * i) for i in range(k)]
    weights = draw(st.lists(st.integers(1, 5), min_size=k, max_size=k))
    probs = [w / sum(weights) for w in weights]
    probs[-1] = 1.0 - sum(probs[:-1])
    belief = draw(st.sampled_from(["bayes", "paper"]))
    types = "".join(
        f"[[types]]\ncost = {c!r}\nprobability = {p!r}\n" for c, p in zip(costs, probs, strict=True)
    )
    text = (
        f"participants = {n}\n{types}[accuracy]\n{accuracy}\n"
        f'[valuation]\nkind = "linear"\nscale = 100.0\n[solver]\nbelief = "{belief}"\n'
    )
    return parse_scenario(text, source="hypothesis")


@PROPERTY_SETTINGS
@given(scenario=scenarios())
def test_optimal_menu_is_monotone_clean_and_certified(scenario: Scenario) -> None:
    """m and t non-decreasing by type, checker clean at 1e-7, ratio <= 1, gap >= 0 and tiny."""
    menu = solve(scenario, benchmarks=False)
    m = np.array([o.m for o in menu.options])
    t = np.array([o.t for o in menu.options])
    assert np.all(np.diff(m) >= -1e-7 * max(1.0, m.max()))
    assert np.all(np.diff(t) >= -1e-7 * max(1.0, t.max()))
    assert all(o.ratio <= 1.0 for o in menu.options)
    report = check_menu(scenario, menu)
    assert report.ok, [v.describe() for v in report.above_tolerance()]
    assert menu.upper_bound >= menu.expected_accuracy
    assert menu.upper_bound - menu.expected_accuracy < 1e-8


def _feasible_perturbations(scenario: Scenario, menu_m: np.ndarray, extra: list[np.ndarray]):
    """Perturbed menus (m moved along each coordinate and the extra directions, t re-solved)
    that pass the checker."""
    k = len(menu_m)
    directions = [sign * np.eye(k)[j] for j in range(k) for sign in (1.0, -1.0)] + extra
    for d in directions:
        for scale in (1e-4, 1e-2):
            trial = np.maximum(menu_m * (1.0 + scale * d), 0.0)
            perturbed = menu_for_m(scenario, trial)
            if check_menu(scenario, perturbed, tolerance=1e-9).ok:
                yield perturbed


@PROPERTY_SETTINGS
@given(scenario=scenarios(), direction=st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=3))
def test_no_feasible_perturbed_menu_does_better(scenario: Scenario, direction: list[float]) -> None:
    """Any perturbed m whose best t passes the checker reaches at most the certified bound."""
    menu = solve(scenario, benchmarks=False)
    m = np.array([o.m for o in menu.options])
    extra = [np.array(direction[: len(m)])]
    for perturbed in _feasible_perturbations(scenario, m, extra):
        assert perturbed.expected_accuracy <= menu.upper_bound + 1e-12


def test_perturbation_check_is_not_vacuous() -> None:
    """On paper Scenario 1 some perturbations are feasible, and none beats the bound."""
    from pathlib import Path

    from modelpact.scenario import load_scenario

    path = (
        Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/paper_case1.toml"
    )
    scenario = load_scenario(path)
    menu = solve(scenario, benchmarks=False)
    m = np.array([o.m for o in menu.options])
    feasible = list(_feasible_perturbations(scenario, m, []))
    assert len(feasible) >= 2
    assert all(p.expected_accuracy <= menu.upper_bound + 1e-12 for p in feasible)
    assert all(p.expected_accuracy < menu.expected_accuracy for p in feasible)

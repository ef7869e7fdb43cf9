"""The optimizer: paper reproduction, certified gap, the belief flaw, type selection, integers."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from modelpact.checker import check_menu
from modelpact.menu import MenuOption
from modelpact.optimizer import integerize_menu, solve
from modelpact.scenario import load_scenario, parse_scenario, scenario_sha256

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain" / "modelpact" / "data" / "scenarios"
DEMO_SCENARIO = SCENARIOS / "digits_demo.toml"
# The paper's published Section 6.2 values, kept as the project's own test data (never skipped).
REFERENCE = json.loads((Path(__file__).parents[1] / "data" / "paper_sec6_2.json").read_text())


@pytest.fixture(scope="module")
def case1():
    return load_scenario(SCENARIOS / "paper_case1.toml")


@pytest.fixture(scope="module")
def case2():
    return load_scenario(SCENARIOS / "paper_case2.toml")


@pytest.mark.parametrize("case", ["case1", "case2"])
def test_paper_belief_reproduces_section_6_2(case: str, case1, case2) -> None:
    """paper belief: accuracy >= reference - 1e-6 and >= the certified optimum's feasible value,
    our upper bound is within 1e-8 of it, and m, t agree with the certified optimum.

    The published m, t (reference solver stopped early) differ from the certified optimum in the
    fourth significant digit; the objective is so flat there that m on the optimal face is only
    pinned to ~3 digits (case 1), so m, t are compared to the certified optimum at rtol 2.5e-3;
    case 2 pools completely and matches to 4 significant digits.
    """
    scenario = case1 if case == "case1" else case2
    ref = REFERENCE["scenarios"][case]
    cert = REFERENCE["certified_optimum"][case]
    menu = solve(scenario, belief="paper")
    assert menu.expected_accuracy >= ref["expected_accuracy"] - 1e-6
    assert menu.expected_accuracy >= cert["expected_accuracy_feasible"] - 1e-9
    assert menu.upper_bound >= menu.expected_accuracy
    assert menu.upper_bound - menu.expected_accuracy < 1e-8
    m = [o.m for o in menu.options]
    t = [o.t for o in menu.options]
    rtol = 2.5e-3 if case == "case1" else 5e-5
    np.testing.assert_allclose(m, cert["m"], rtol=rtol)
    np.testing.assert_allclose(t, cert["t"], rtol=rtol)
    np.testing.assert_allclose(
        [o.reservation_utility for o in menu.options], ref["reserv_u"], atol=1e-6
    )
    assert check_menu(scenario, menu, belief="paper").ok


@pytest.mark.parametrize("name", ["paper_case1.toml", "paper_case2.toml"])
def test_bayes_menu_is_checker_clean(name: str) -> None:
    """bayes belief: no IR/IC/budget violation above 1e-7 under bayes, gap below 1e-8."""
    scenario = load_scenario(SCENARIOS / name)
    menu = solve(scenario, belief="bayes")
    report = check_menu(scenario, menu, belief="bayes", tolerance=1e-7)
    assert report.ok, [v.describe() for v in report.above_tolerance()]
    assert 0 <= menu.upper_bound - menu.expected_accuracy < 1e-8
    assert menu.scenario_sha256 == scenario_sha256(scenario)


def test_paper_menu_violates_ir_under_bayes(case1) -> None:
    """Scenario 1: the published paper-belief menu, executed by ratio, is not IR for a Bayesian."""
    ref = REFERENCE["scenarios"]["case1"]
    base = solve(case1, belief="paper", benchmarks=False)
    options = tuple(
        MenuOption(
            i + 1,
            ref["c"][i],
            0.2,
            True,
            ref["m"][i],
            ref["t"][i],
            ref["t_bar"][i],
            ref["t"][i] / ref["t_bar"][i],
            ref["reserv_u"][i],
            0.0,
        )
        for i in range(5)
    )
    from dataclasses import replace

    published = replace(base, options=options)
    assert check_menu(case1, published, belief="paper").ok
    report = check_menu(case1, published, belief="bayes")
    assert not report.ok
    assert any(v.kind == "IR" and v.i == 1 and v.size > 1e-3 for v in report.violations)
    # and our own paper-belief optimum shows the same flaw
    assert any(v.kind == "IR" for v in check_menu(case1, base, belief="bayes").above_tolerance())


def test_structure_monotone_and_full_model_to_cheapest(case1) -> None:
    """m, t non-decreasing by type, the cheapest type gets the full model, ratio <= 1."""
    menu = solve(case1, benchmarks=False)
    m = np.array([o.m for o in menu.options])
    t = np.array([o.t for o in menu.options])
    assert np.all(np.diff(m) >= -1e-9)
    assert np.all(np.diff(t) >= -1e-9)
    assert menu.options[-1].ratio == pytest.approx(1.0, abs=1e-9)
    assert all(o.ratio <= 1.0 for o in menu.options)


def test_benchmarks_bracket_the_menu(case1) -> None:
    """complete information >= menu >= no collaboration (expected accuracy)."""
    menu = solve(case1)
    b = menu.benchmarks
    assert b is not None
    assert b.complete_information_accuracy >= menu.expected_accuracy - 1e-9
    assert menu.expected_accuracy >= b.no_collaboration_accuracy


def test_strict_ic_margin_leaves_the_complete_information_benchmark_defined() -> None:
    """The complete-information benchmark has no IC constraints, so a scenario's IC margin does
    not make it infeasible (the IC residual was judged there too: the digits demo's benchmark
    was NaN and paid cvxpy's import for it). The benchmark brackets the menu, and the demo
    scenario's whole solve (menu and benchmarks) runs without cvxpy."""
    import subprocess
    import sys

    scenario = load_scenario(DEMO_SCENARIO)
    assert scenario.solver.ic_margin > 0.0
    menu = solve(scenario)
    b = menu.benchmarks
    assert b is not None
    assert np.isfinite(b.complete_information_accuracy)
    assert b.complete_information_accuracy >= menu.expected_accuracy - 1e-9
    assert menu.expected_accuracy >= b.no_collaboration_accuracy
    code = (
        "import sys; from modelpact.scenario import load_scenario; "
        "from modelpact.optimizer import solve; "
        f"solve(load_scenario(__import__('pathlib').Path({str(DEMO_SCENARIO)!r}))); "
        "print('cvxpy' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "False", done.stdout


def test_excluded_types_prefer_their_outside_option(case1) -> None:
    """Serving types 1 and 5 only: the excluded types 2-4 must not want either option, which
    forces type 5 to contribute a lot; the menu is checker clean (EX included)."""
    menu = solve(case1, serve=(1, 5), benchmarks=False)
    assert [o.served for o in menu.options] == [True, False, False, False, True]
    report = check_menu(case1, menu)
    assert report.ok, [v.describe() for v in report.above_tolerance()]
    for j in (1, 2, 3):  # 0-based excluded types
        o = menu.options[j]
        for i in (0, 4):
            offered = menu.options[i]
            assert offered.t - o.cost * offered.m <= o.reservation_utility + 1e-7


def test_impossible_exact_request_is_refused(case1) -> None:
    """Exact expectations beyond the enumeration limit are refused with a ScenarioError."""
    big = case1.with_solver(expectation="exact")
    from dataclasses import replace

    from modelpact.errors import ScenarioError

    with pytest.raises(ScenarioError, match="exact expectation needs"):
        solve(replace(big, participants=1000), benchmarks=False)


def test_type_selection_is_at_least_serve_all() -> None:
    """serve=optimal is exact for small K, never worse than serving everyone, and checker clean."""
    text = (
        (SCENARIOS / "paper_case1.toml")
        .read_text()
        .replace("participants = 10", "participants = 3")
    )
    scenario = parse_scenario(text)
    k3 = parse_scenario(
        text.replace("[[types]]\ncost = 0.12000000000000001\nprobability = 0.2\n\n", "")
        .replace("[[types]]\ncost = 0.08000000000000002\nprobability = 0.2\n\n", "")
        .replace(
            "probability = 0.2\n\n[[types]]\ncost = 0.04\nprobability = 0.2",
            "probability = 0.2\n\n[[types]]\ncost = 0.04\nprobability = 0.6",
        )
    )
    assert k3.n_types == 3
    best = solve(k3, serve="optimal", benchmarks=False)
    everyone = solve(k3, serve="all", benchmarks=False)
    assert best.method.startswith("exact search over 7")
    assert best.expected_accuracy >= everyone.expected_accuracy - 1e-12
    assert check_menu(k3, best).ok
    assert scenario.n_types == 5


@pytest.mark.parametrize("belief", ["bayes", "paper"])
def test_integer_menu_passes_checker(case1, belief: str) -> None:
    """Integerized m are whole rows, monotone, >= 1, and the re-solved t passes the checker."""
    menu = solve(case1, belief=belief, benchmarks=False)
    integer = integerize_menu(case1, menu)
    m = [o.m for o in integer.options]
    assert integer.integer
    assert all(float(x).is_integer() and x >= 1 for x in m)
    assert all(a <= b for a, b in itertools.pairwise(m))
    assert check_menu(case1, integer, belief=belief).ok
    assert integer.expected_accuracy >= menu.expected_accuracy - 1e-5


def test_sampled_expectation_certifies_budget_out_of_sample(case1) -> None:
    """Sampled solve: CI reported; BC holds under exact expectations, not just on the sample."""
    sampled = case1.with_solver(expectation="sampled", samples=4000, seed=11)
    menu = solve(sampled, benchmarks=False)
    assert menu.accuracy_ci is not None
    lo, hi = menu.accuracy_ci
    exact = solve(case1, benchmarks=False)
    assert lo - 1e-4 <= exact.expected_accuracy <= hi + 1e-4
    report = check_menu(case1, menu, belief="bayes")  # exact expectations
    assert not [v for v in report.violations if v.kind == "BC" and v.size > 1e-9]
    assert "certified" in menu.certification


def test_collaboration_that_cannot_pay_gives_the_empty_menu() -> None:
    """N=2, costs 1 and 0.5 per row, sgb: no data size pays for itself even pooled, so the
    optimum asks nothing and promises nothing, and the bound certifies it (upper bound 0)."""
    text = (SCENARIOS / "paper_case1.toml").read_text()
    head, _, _ = text.partition("[[types]]")
    types = (
        "[[types]]\ncost = 1.0\nprobability = 0.5\n\n[[types]]\ncost = 0.5\nprobability = 0.5\n\n"
    )
    tail = text[text.index("[accuracy]") :]
    scenario = parse_scenario(head.replace("participants = 10", "participants = 2") + types + tail)
    menu = solve(scenario, benchmarks=False)
    assert all(o.m == 0.0 and o.t == 0.0 for o in menu.options)
    assert menu.expected_accuracy == 0.0
    assert menu.upper_bound <= 1e-9
    assert check_menu(scenario, menu).ok

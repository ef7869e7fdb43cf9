"""Adversarial scenarios found by fuzzing ``solve`` (hostile review of the hand-written small-K
path): the fast path's menus pass the checker with a tight certified bound, and the general
trust-region SQP (the anchor bench/grid.py compares against, reached by setting
``FAST_MAX_K = FAST_MAX_K_SMALL_MODEL = 0``) must reach the same optimum. The general-path
tests are xfail(strict): they document open bugs of that path and turn into failures the day
it is fixed, so the xfail is then removed."""

from __future__ import annotations

import numpy as np
import pytest

import modelpact.optimizer.sqp as sqp_module
from modelpact.checker import check_menu
from modelpact.errors import InfeasibleScenarioError
from modelpact.optimizer import solve
from modelpact.optimizer.economy import make_economy
from modelpact.optimizer.smallk import solve_small
from modelpact.scenario import Scenario, parse_scenario

# two types, one nearly certain (p = 0.998), a small IC margin: the fast path pools them
POOLED_TWO_TYPE = """participants = 20
[[types]]
cost = 0.2424141482957458
probability = 0.998495
[[types]]
cost = 0.018688520132015527
probability = 0.001505
[accuracy]
kind = "sgb"
a_opt = 0.9675937711107929
k = 8.739165574322575
[valuation]
kind = "linear"
scale = 31.449595543158928
[solver]
belief = "bayes"
expectation = "exact"
serve = "all"
ic_margin = 6.571592246293664e-06
"""
POOLED_OPTIMUM = 0.5747403411688525

# four types, a served list skipping type 3, power accuracy, N = 2
SERVED_LIST_FOUR_TYPE = """participants = 2
[[types]]
cost = 0.10335620772191627
probability = 0.000161
[[types]]
cost = 0.006687471022242216
probability = 0.443631
[[types]]
cost = 0.00018680230008784318
probability = 0.321668
[[types]]
cost = 0.00016965340444862156
probability = 0.23454
[accuracy]
kind = "power"
a_max = 0.6821290339563348
b = 0.3686168921890699
alpha = 1.8492165732579362
[valuation]
kind = "linear"
scale = 14.818285048382807
[solver]
belief = "paper"
expectation = "exact"
serve = [1, 2, 4]
"""
SERVED_LIST_OPTIMUM = 0.61090559282633

# two types, a large IC margin (0.0045 of v_sup 657) and a cheap rare type
MARGIN_TWO_TYPE = """participants = 3
[[types]]
cost = 0.4436839946993707
probability = 0.985535
[[types]]
cost = 0.00034485691148476374
probability = 0.014465
[accuracy]
kind = "sgb"
a_opt = 0.9811104292373809
k = 0.05570652418160583
[valuation]
kind = "linear"
scale = 656.7639314045193
[solver]
belief = "bayes"
expectation = "exact"
serve = "all"
ic_margin = 0.004522643520597144
"""
MARGIN_OPTIMUM = 0.8568723390734088

CASES = [
    (POOLED_TWO_TYPE, POOLED_OPTIMUM),
    (SERVED_LIST_FOUR_TYPE, SERVED_LIST_OPTIMUM),
    (MARGIN_TWO_TYPE, MARGIN_OPTIMUM),
]


def _scenario(text: str) -> Scenario:
    return parse_scenario(text, source="adversarial.toml")


@pytest.mark.parametrize(("text", "optimum"), CASES)
def test_fast_path_menu_is_feasible_and_certified(text: str, optimum: float) -> None:
    """The default solve: a menu the checker passes (IR, IC with the margin, BC, exclusion, to
    its 1e-7), expected accuracy at the optimum to 1e-9, and an upper bound no lower than it."""
    scenario = _scenario(text)
    menu = solve(scenario, benchmarks=False)
    assert check_menu(scenario, menu).ok
    assert menu.expected_accuracy == pytest.approx(optimum, abs=1e-9)
    assert menu.upper_bound >= menu.expected_accuracy
    assert menu.upper_bound - menu.expected_accuracy <= 1e-9


@pytest.mark.xfail(strict=True, reason="general SQP's restart keeps a worse stalled point")
def test_general_path_reaches_the_pooled_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the fast path, solve must reach the optimum the fast path certifies (to 1e-6).
    It returns 0.01196 with upper bound 0.666: the first trust-region run does not converge,
    the restart from the stand-alone contributions stalls, and its result is returned without
    comparing it with the first run's (``sqp(..., restart=False)`` alone reaches 0.574740)."""
    monkeypatch.setattr(sqp_module, "FAST_MAX_K", 0)
    monkeypatch.setattr(sqp_module, "FAST_MAX_K_SMALL_MODEL", 0)
    menu = solve(_scenario(POOLED_TWO_TYPE), benchmarks=False)
    assert menu.expected_accuracy == pytest.approx(POOLED_OPTIMUM, abs=1e-6)


@pytest.mark.xfail(strict=True, reason="general SQP declares feasible served sets infeasible")
@pytest.mark.parametrize("text", [SERVED_LIST_FOUR_TYPE, MARGIN_TWO_TYPE])
def test_general_path_does_not_call_a_feasible_scenario_infeasible(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A menu passing the checker exists (test_fast_path_menu_is_feasible_and_certified), so
    the general path must not raise InfeasibleScenarioError. It does: the user sees "no menu
    satisfies IR, IC and exclusion" whenever the fast path is skipped (K > 3 with a belief
    model over 5,000 outcomes, or K > 5)."""
    monkeypatch.setattr(sqp_module, "FAST_MAX_K", 0)
    monkeypatch.setattr(sqp_module, "FAST_MAX_K_SMALL_MODEL", 0)
    try:
        menu = solve(_scenario(text), benchmarks=False)
    except InfeasibleScenarioError as error:
        pytest.fail(f"feasible scenario called infeasible: {error}")
    assert check_menu(_scenario(text), menu).ok


# served = [2] with a margin: type 1 excluded must prefer its outside option by d, which with
# the table curve flat above 11.557 leaves IR of type 2 short by 7.07e-6 value units
MARGIN_EXCLUSION_TABLE = """participants = 2
[[types]]
cost = 0.0003254161552834798
probability = 0.041618
[[types]]
cost = 0.00010909398887083864
probability = 0.958382
[accuracy]
kind = "table"
data = [0.339, 2.422, 11.557]
accuracy = [0.4489, 0.5244, 0.6531]
[valuation]
kind = "linear"
scale = 424.41745958766194
[solver]
belief = "paper"
expectation = "exact"
serve = [2]
ic_margin = 7.095304562981369e-06
"""


@pytest.mark.xfail(strict=True, reason="solve tolerates 1e-7 * v_sup, check 1e-7")
@pytest.mark.parametrize("fast", [True, False])
def test_solved_menu_passes_the_checker_or_solve_says_infeasible(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``modelpact solve`` returns, ``modelpact check`` accepts: IR of every served type
    to the checker's 1e-7, else InfeasibleScenarioError. Both paths return a menu whose type 2
    gets 7.07e-6 less than its reservation utility: the solver accepts IR shortfalls up to
    FEASIBILITY_TOL * v_sup = 2.8e-5 (v_sup = 277), the checker only 1e-7 absolute."""
    if not fast:
        monkeypatch.setattr(sqp_module, "FAST_MAX_K", 0)
        monkeypatch.setattr(sqp_module, "FAST_MAX_K_SMALL_MODEL", 0)
    scenario = _scenario(MARGIN_EXCLUSION_TABLE)
    try:
        menu = solve(scenario, benchmarks=False)
    except InfeasibleScenarioError:
        return
    assert check_menu(scenario, menu).ok


# five types, the last two with costs equal to 4e-8 relative; types 1-3 pool at one m
NEAR_EQUAL_COSTS_FIVE_TYPE = """participants = 10
[[types]]
cost = 0.11310939859189822
probability = 0.225394
[[types]]
cost = 0.06221843891590527
probability = 0.010164
[[types]]
cost = 0.035105846287526214
probability = 0.002528
[[types]]
cost = 0.009228355473146623
probability = 0.32111
[[types]]
cost = 0.009228355071115071
probability = 0.440804
[accuracy]
kind = "sgb"
a_opt = 0.5977139123965777
k = 0.2403541219067268
[valuation]
kind = "linear"
scale = 34.99864005078847
[solver]
belief = "paper"
expectation = "exact"
serve = "all"
"""


@pytest.mark.xfail(strict=True, reason="fast path buys 3.4e-6 accuracy with 7.9e-10 IR slack")
def test_paths_agree_and_each_bound_covers_the_other_objective() -> None:
    """The invariant test_optimizer_smallk checks on the paper's scenarios: both paths reach
    the same optimum (1e-6 here) and each certified bound lies above the other's objective.
    Here the fast path returns 0.5324381891 and the general SQP 0.5324347889 with upper bound
    0.5324347889: the fast menu violates IR/IC rows by 7.9e-10 (value units; the checker and
    FEASIBILITY_TOL * v_sup accept that) and the rows' multipliers are ~3e4 (types 1-3 pool,
    types 4-5 nearly share a cost), so the slack is worth 3.6e-6 of expected accuracy. Either
    the fast path must meet the rows to ~1e-12 here, or bounds must account for the tolerance."""
    scenario = _scenario(NEAR_EQUAL_COSTS_FIVE_TYPE)
    econ = make_economy(scenario, "paper")
    served = np.ones(5, dtype=bool)
    fast = solve_small(econ, served, True, None)
    general = sqp_module.sqp(econ, served, True, restart=False)
    assert fast is not None
    assert abs(fast.vals.objective - general.objective) <= 1e-6
    assert general.upper_bound >= fast.vals.objective - 1e-9


# the served types cannot train alone (f = 0): the solver falls back to the empty menu m = t = 0
EMPTY_MENU_WITH_MARGIN = """participants = 20
[[types]]
cost = 0.613279871168447
probability = 0.096048
[[types]]
cost = 0.4692682483758472
probability = 0.476167
[[types]]
cost = 0.0031256434671824546
probability = 0.427785
[accuracy]
kind = "sgb"
a_opt = 0.6379424654920384
k = 8.256644495079973
[valuation]
kind = "linear"
scale = 3.626092372899334
[solver]
belief = "paper"
expectation = "exact"
serve = [1, 3]
ic_margin = 1.9042143228692097e-06
"""


@pytest.mark.xfail(strict=True, reason="empty-menu fallback ignores ic_margin for exclusion")
@pytest.mark.parametrize("fast", [True, False])
def test_empty_menu_fallback_meets_the_exclusion_margin(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ic_margin d > 0 an excluded type must prefer its outside option by d. Serving
    [1, 3] returns the empty menu (m = t = 0, accuracy 0) and type 2, excluded, is indifferent
    between it and its outside option (0 = 0): the checker reports EX violations of exactly d
    (1.9e-6 > its 1e-7). Solve must return a menu check accepts or raise InfeasibleScenarioError.
    Both paths share the fallback (sqp._finish)."""
    if not fast:
        monkeypatch.setattr(sqp_module, "FAST_MAX_K", 0)
        monkeypatch.setattr(sqp_module, "FAST_MAX_K_SMALL_MODEL", 0)
    scenario = _scenario(EMPTY_MENU_WITH_MARGIN)
    try:
        menu = solve(scenario, benchmarks=False)
    except InfeasibleScenarioError:
        return
    assert check_menu(scenario, menu).ok

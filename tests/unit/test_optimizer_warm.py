"""Warm and cold starts and the fast path's own multipliers (issue 17, the two-type grid in
<= 5 s): a warm-started solve gives the cold solve's menu to within the certified gap, a bad
warm start changes nothing, the bound from the SQP's multipliers is a true bound, and the cold
start near the IR frontier reaches the pooled start's optimum."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from modelpact.menu import Menu
from modelpact.optimizer import solve
from modelpact.optimizer.certificate import Candidate, certified_bound
from modelpact.optimizer.constraints import greatest_t, least_t
from modelpact.optimizer.economy import make_economy, pooled_start
from modelpact.optimizer.expectations import evaluate
from modelpact.optimizer.smallk import (
    ACCEPT_GAP,
    WARM_GAP,
    _cold_start,
    _duals,
    _Problem,
    _sqp_small,
    _start_t,
    solve_small,
)
from modelpact.optimizer.sqp import sqp
from modelpact.optimizer.subproblem import frame
from modelpact.optimizer.types import Belief
from modelpact.scenario import Scenario, load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain" / "modelpact" / "data" / "scenarios"
SAME = 1e-9  # objectives of two certified solves of one problem agree to this


def _scenario(n: int, p1: float, belief: str) -> Scenario:
    """A point of bench/grid.py's two-type grid."""
    return parse_scenario(
        f"participants = {n}\n[[types]]\ncost = 0.02\nprobability = {p1!r}\n"
        f"[[types]]\ncost = 0.01\nprobability = {1.0 - p1!r}\n"
        '[accuracy]\nkind = "sgb"\na_opt = 1.0\nk = 1.0\n'
        f'[valuation]\nkind = "linear"\nscale = 100.0\n[solver]\nbelief = "{belief}"\n'
    )


def _same_optimum(a: Menu, b: Menu) -> None:
    assert abs(a.expected_accuracy - b.expected_accuracy) <= SAME
    assert a.gap <= ACCEPT_GAP
    assert b.gap <= ACCEPT_GAP
    # each bound is a true bound: above the other solve's objective (to 1e-9: a menu may fall
    # short of IR by FEASIBILITY_TOL, which can be worth ~1e-10 of objective)
    assert a.upper_bound >= b.expected_accuracy - SAME
    assert b.upper_bound >= a.expected_accuracy - SAME


@pytest.mark.parametrize("belief", ["paper", "bayes"])
def test_a_warm_started_sweep_gives_the_cold_menus(belief: str) -> None:
    """A serpentine walk over grid rows (as bench/grid.py walks it), each solve warm-started
    from the one before: every menu has the cold solve's objective to 1e-9 and is certified
    by the same rule, never less tightly than WARM_GAP (or the cold solve, which then runs);
    the iterations counted by the menus go down."""
    points = [(n, p1) for n in (2, 24, 60) for p1 in np.linspace(0.01, 0.99, 8)]
    warm: Menu | None = None
    iterations = {"warm": 0, "cold": 0}
    for n, p1 in points:
        scenario = _scenario(n, float(p1), belief)
        cold = solve(scenario, benchmarks=False)
        warm = solve(scenario, benchmarks=False, warm_start=warm)
        _same_optimum(warm, cold)
        assert warm.gap <= max(WARM_GAP, cold.gap)  # never a looser certificate than that
        assert warm.scenario_sha256 == cold.scenario_sha256
        iterations["warm"] += int(warm.extra["sqp_iterations"])
        iterations["cold"] += int(cold.extra["sqp_iterations"])
    assert iterations["warm"] < iterations["cold"]


def test_a_bad_warm_start_changes_nothing() -> None:
    """A menu with another number of types is ignored (the very same menu); a far-away menu
    (m a thousand times too large, or all zero) still gives the cold optimum, certified."""
    scenario = _scenario(40, 0.3, "paper")
    cold = solve(scenario, benchmarks=False)
    five = solve(load_scenario(SCENARIOS / "paper_case1.toml"), benchmarks=False)
    ignored = solve(scenario, benchmarks=False, warm_start=five)
    assert ignored.expected_accuracy == cold.expected_accuracy
    assert ignored.upper_bound == cold.upper_bound
    far = solve(_scenario(2, 0.9, "bayes"), benchmarks=False)
    for start in (far, _scaled(cold, 1e3), _scaled(cold, 0.0)):
        _same_optimum(solve(scenario, benchmarks=False, warm_start=start), cold)


def _scaled(menu: Menu, factor: float) -> Menu:
    return replace(menu, options=tuple(replace(o, m=o.m * factor) for o in menu.options))


@pytest.mark.parametrize("belief", ["paper", "bayes"])
def test_the_fast_paths_own_multipliers_give_a_true_and_tight_bound(belief: Belief) -> None:
    """The SQP's last QP multipliers, mapped to the certificate's units, bound the optimum
    the general SQP finds (a mapping error would show as a bound below it, or as a loose one:
    they certify within the acceptance gap wherever the fast path is accepted)."""
    for n, p1 in itertools.product((2, 10, 38, 100), (0.01, 0.35, 0.69, 0.92)):
        econ = make_economy(_scenario(n, p1, belief), belief)
        served = np.ones(2, dtype=bool)
        fr = frame(econ, served, True)
        prob = _Problem(econ, fr)
        z0 = np.concatenate([np.full(2, 1.0), np.zeros(2)])
        upper = np.concatenate(
            [fr.upper_m[prob.idx] / fr.m_scale, fr.upper_t[prob.idx] / fr.t_scale]
        )
        found = _sqp_small(prob, np.clip(z0, 0.0, upper), upper)
        assert found is not None
        m = prob.m_of(found.z)
        vals = evaluate(econ.scenario, econ.model, m, hessians=False)
        budget = vals.tbar - econ.margin
        t = greatest_t(econ, served, m, budget, True)
        at = Candidate(m=m, t=t, vals=vals, budget=budget)
        duals = _duals(econ, fr, prob, found.multipliers)
        bound = certified_bound(econ, fr, at=at, duals=duals, enough=math.inf)
        general = sqp(econ, served, True, restart=False)
        assert bound >= general.objective - SAME
        assert bound - vals.objective <= ACCEPT_GAP


@pytest.mark.parametrize("belief", ["paper", "bayes"])
def test_the_cold_start_moves_up_from_the_pooled_start_and_finds_the_same_optimum(
    belief: Belief,
) -> None:
    """The fast path's cold start is the pooled start shifted up by one common amount on the
    served types (unserved stay 0, separation offsets are kept), at most to where the
    costliest served type's pooled value stops covering its cost; from there and from the
    pooled start the SQP reaches the same certified optimum, the former in fewer iterations."""
    fewer = 0
    for n, p1 in itertools.product((2, 10, 38, 100), (0.01, 0.35, 0.69, 0.92)):
        econ = make_economy(_scenario(n, p1, belief), belief)
        for served in ([True, True], [True, False], [False, True]):
            mask = np.array(served)
            pooled = pooled_start(econ, mask)
            cold = _cold_start(econ, mask)
            assert np.all(cold[~mask] == 0.0)
            shift = cold[mask] - pooled[mask]
            assert np.all(shift >= 0.0)
            assert np.allclose(shift, shift[0], rtol=0.0, atol=1e-9 * max(1.0, shift[0]))
            ours = solve_small(econ, mask, True, None)
            theirs = solve_small(econ, mask, True, pooled)
            assert ours is not None
            assert theirs is not None
            assert abs(ours.vals.objective - theirs.vals.objective) <= SAME
            fewer += ours.iterations < theirs.iterations
    assert fewer > 0


def test_a_warm_starts_t_meets_ir_and_ic_and_the_budget_where_it_can() -> None:
    """The t a warm start begins with is the least t (IR and IC) or, when the greatest t under
    the budget still meets IR, that greatest t: never below IR, and then within the budget."""
    for n, p1 in itertools.product((2, 24, 100), (0.05, 0.5, 0.95)):
        econ = make_economy(_scenario(n, p1, "paper"), "paper")
        served = np.ones(2, dtype=bool)
        for m in (pooled_start(econ, served), _cold_start(econ, served), np.array([5e3, 1e2])):
            t = _start_t(econ, served, m, True)
            least = least_t(econ, served, m, True)
            assert np.all(t >= least)
            if not np.array_equal(t, least):
                budget = evaluate(econ.scenario, econ.model, m, hessians=False).tbar
                assert np.all(t <= budget + 1e-12)

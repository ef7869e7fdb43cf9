"""Integer menus for the chain: m rounded to whole rows, t re-solved for a given m."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import norm

from modelpact.errors import InfeasibleScenarioError, SolverError
from modelpact.menu import Menu
from modelpact.optimizer.constraints import greatest_t, ir_violation
from modelpact.optimizer.economy import Economy, economy_model, make_economy, single_blas_thread
from modelpact.optimizer.expectations import evaluate, tbar_spread
from modelpact.optimizer.menu_rows import menu_options
from modelpact.optimizer.types import Belief, BoolArray, FloatArray
from modelpact.outcomes import BeliefModel
from modelpact.scenario import Scenario, scenario_sha256

__all__ = ["integerize_menu", "menu_for_m"]


@dataclass(frozen=True)
class _Rounded:
    """A feasible integer m with its re-solved t and what it achieves."""

    objective: float
    m: FloatArray
    t: FloatArray
    tbar: FloatArray
    value: float


def _roundings(m_cont: FloatArray, idx: list[int]) -> Iterable[tuple[float, ...]]:
    """0/1 increments over the floors: all of them for <= 10 served types, else nearest
    rounding then ceilings one by one."""
    if len(idx) <= 10:
        return itertools.product((0.0, 1.0), repeat=len(idx))
    floors = np.floor(m_cont[idx])
    base = np.round(m_cont[idx]) - floors
    return [tuple(base)] + [
        tuple(np.maximum(base, (np.arange(len(idx)) >= j).astype(float))) for j in range(len(idx))
    ]


def _best_rounding(
    econ: Economy, model: BeliefModel, served: BoolArray, m_cont: FloatArray, *, z_one: float
) -> _Rounded | None:
    """The feasible monotone rounding with the highest expected accuracy (None if none)."""
    scenario = econ.scenario
    sampled = scenario.solver.expectation == "sampled"
    k = scenario.n_types
    idx = [int(i) for i in np.flatnonzero(served)]
    floors = np.floor(m_cont[idx])
    best: _Rounded | None = None
    for choice in _roundings(m_cont, idx):
        m = np.zeros(k)
        m[idx] = np.maximum(floors + np.array(choice), 1.0)
        if np.any(np.diff(m[idx]) < 0):
            continue
        vals = evaluate(scenario, model, m, hessians=False)
        budget = vals.tbar
        if sampled:
            se, _ = tbar_spread(scenario, model, m)
            budget = vals.tbar - z_one * se
        t = greatest_t(econ, served, m, budget, True)
        if ir_violation(econ, served, m, t) > 0.0:
            continue
        if best is None or vals.objective > best.objective:
            best = _Rounded(objective=vals.objective, m=m, t=t, tbar=vals.tbar, value=vals.value)
    return best


@single_blas_thread
def integerize_menu(scenario: Scenario, menu: Menu) -> Menu:
    """Round m to integer rows (monotone, >= 1 for served) and re-solve t for those rows.

    For fixed m, the t-problem is an LP whose greatest solution is the shortest-path vector of
    :func:`~modelpact.optimizer.constraints.greatest_t`; it is feasible iff IR holds there. Among
    the floor/ceil roundings that keep m non-decreasing (all of them for <= 10 served types, else
    nearest rounding then ceilings one by one), the feasible one with the highest expected
    accuracy wins.
    """
    started = time.perf_counter()
    belief: Belief = "paper" if menu.belief == "paper" else "bayes"
    effective = scenario.with_solver(belief=belief, expectation=menu.expectation)
    if len(menu.options) != effective.n_types:
        raise SolverError(
            f"menu has {len(menu.options)} options but the scenario has {effective.n_types} types",
            hint="integerize the menu solved from this scenario",
        )
    econ = make_economy(effective, belief)
    served = np.array([o.served for o in menu.options], dtype=bool)
    m_cont = np.array([o.m for o in menu.options])
    sampled = effective.solver.expectation == "sampled"
    model = economy_model(effective, belief=belief, stream=1) if sampled else econ.model
    z_one = float(norm.ppf(1.0 - (1.0 - effective.solver.confidence) / effective.n_types))
    best = _best_rounding(econ, model, served, m_cont, z_one=z_one)
    if best is None:
        raise InfeasibleScenarioError(
            "no integer rounding of the menu satisfies IR with the re-solved t",
            hint="scale the data unit so that m is larger than a few rows",
        )
    accuracy_ci = menu.accuracy_ci
    if sampled:
        _, se_f = tbar_spread(effective, model, best.m)
        half = float(norm.ppf(0.5 + effective.solver.confidence / 2.0)) * se_f
        accuracy_ci = (best.objective - half, best.objective + half)
    return replace(
        menu,
        accuracy_ci=accuracy_ci,
        options=menu_options(econ, served, best.m, best.t, best.tbar),
        expected_accuracy=best.objective,
        expected_value=best.value,
        upper_bound=max(menu.upper_bound, best.objective),
        integer=True,
        solve_seconds=menu.solve_seconds + (time.perf_counter() - started),
        extra={**menu.extra, "continuous_m": [float(x) for x in m_cont]},
    )


@single_blas_thread
def menu_for_m(
    scenario: Scenario,
    m: FloatArray,
    *,
    belief: Belief | None = None,
    served: BoolArray | None = None,
) -> Menu:
    """The menu with data vector ``m`` and the greatest t meeting BC, IC and exclusion.

    IR is not enforced (check the result with :func:`modelpact.checker.check_menu`): this is the
    t-re-solve used by :func:`integerize_menu`, exposed for auditors and property tests. Exact
    expectations only (a sampled scenario is evaluated on its solve sample).
    """
    chosen: Belief = belief if belief is not None else scenario.solver.belief
    effective = scenario.with_solver(belief=chosen)
    econ = make_economy(effective, chosen)
    k = effective.n_types
    mask = np.ones(k, dtype=bool) if served is None else np.asarray(served, dtype=bool)
    m_arr = np.where(mask, np.asarray(m, dtype=np.float64), 0.0)
    vals = evaluate(effective, econ.model, m_arr, hessians=False)
    t = greatest_t(econ, mask, m_arr, vals.tbar, True)
    return Menu(
        options=menu_options(econ, mask, m_arr, t, vals.tbar),
        expected_accuracy=vals.objective,
        expected_value=vals.value,
        upper_bound=math.nan,
        belief=chosen,
        expectation=effective.solver.expectation,
        scenario_sha256=scenario_sha256(effective),
        solve_seconds=0.0,
        participants=effective.participants,
        method="t re-solved for a given m",
    )

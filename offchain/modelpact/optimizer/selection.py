"""Which types to serve: all, a requested set, or the best set (exhaustive for small K, greedy
add/drop beyond), and the benchmarks a menu is compared with."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from modelpact.errors import InfeasibleScenarioError, SolverError
from modelpact.menu import Benchmarks
from modelpact.optimizer.economy import Economy
from modelpact.optimizer.sqp import Solution, sqp
from modelpact.optimizer.types import BoolArray, FloatArray, Serve

__all__ = ["EXACT_SEARCH_MAX_K", "Selection", "benchmarks", "select"]

EXACT_SEARCH_MAX_K = 8  # type selection: exhaustive up to this many types, greedy beyond


@dataclass(frozen=True)
class Selection:
    """The chosen served set's solution, how it was chosen, and an upper bound over the sets
    searched (for the greedy heuristic: of the chosen set only)."""

    solution: Solution
    method: str
    bound: float


def select(econ: Economy, mode: Serve, ic: bool, *, warm: FloatArray | None = None) -> Selection:
    """Solve for the requested served set (``"optimal"``: search the sets); ``warm``: m of a
    nearby solved problem, tried first by the fast path (:func:`~modelpact.optimizer.sqp.sqp`)."""
    k = econ.scenario.n_types
    if mode == "all":
        sol = sqp(econ, np.ones(k, dtype=bool), ic, warm=warm)
        return Selection(solution=sol, method="all types served", bound=sol.upper_bound)
    if isinstance(mode, tuple):
        served = np.zeros(k, dtype=bool)
        served[[s - 1 for s in mode]] = True
        sol = sqp(econ, served, ic, warm=warm)
        method = f"served types {list(mode)} as requested"
        return Selection(solution=sol, method=method, bound=sol.upper_bound)
    if k <= EXACT_SEARCH_MAX_K:
        return _exhaustive(econ, ic, warm)
    return _greedy(econ, ic, warm)


def _attempt(
    econ: Economy, served: BoolArray, ic: bool, warm: FloatArray | None = None
) -> Solution | None:
    try:
        return sqp(econ, served, ic, warm=warm)
    except InfeasibleScenarioError:
        return None


def _exhaustive(econ: Economy, ic: bool, warm: FloatArray | None) -> Selection:
    k = econ.scenario.n_types
    best: Solution | None = None
    bound = 0.0
    for size in range(k, 0, -1):
        for combo in itertools.combinations(range(k), size):
            served = np.zeros(k, dtype=bool)
            served[list(combo)] = True
            found = _attempt(econ, served, ic, warm)
            if found is None:
                continue
            bound = max(bound, found.upper_bound)
            if best is None or found.objective > best.objective:
                best = found
    if best is None:
        raise InfeasibleScenarioError(
            f"{econ.scenario.source}: no set of served types admits a feasible menu",
            hint="check costs, probabilities and the accuracy curve",
        )
    return Selection(solution=best, method=f"exact search over {2**k - 1} served sets", bound=bound)


def _greedy(econ: Economy, ic: bool, warm: FloatArray | None) -> Selection:
    """Start from all types, drop (or re-add) the type that helps most, until no gain."""
    k = econ.scenario.n_types
    served = np.ones(k, dtype=bool)
    current = _attempt(econ, served, ic, warm)
    evaluated = 1
    while True:
        candidates = []
        for j in range(k):
            trial = served.copy()
            trial[j] = not trial[j]
            if not trial.any():
                continue
            found = _attempt(econ, trial, ic, warm)
            evaluated += 1
            if found is not None:
                candidates.append(found)
        better = [
            s for s in candidates if current is None or s.objective > current.objective + 1e-12
        ]
        if not better:
            break
        current = max(better, key=lambda s: s.objective)
        served = current.served
    if current is None:
        raise InfeasibleScenarioError(
            f"{econ.scenario.source}: greedy type selection found no feasible served set",
            hint="check costs, probabilities and the accuracy curve",
        )
    method = f"greedy add/drop heuristic ({evaluated} sets; bound for chosen set only)"
    return Selection(solution=current, method=method, bound=current.upper_bound)


def benchmarks(econ: Economy, start: FloatArray) -> Benchmarks:
    """Complete information (every type served, no IC) and no collaboration."""
    k = econ.scenario.n_types
    try:
        full = sqp(econ, np.ones(k, dtype=bool), ic=False, start=start)
        ci_acc, ci_val = full.objective, full.value
    except (InfeasibleScenarioError, SolverError):
        ci_acc = ci_val = math.nan
    p = econ.scenario.probabilities
    alone = econ.scenario.accuracy(econ.reservation_m)
    return Benchmarks(
        complete_information_accuracy=ci_acc,
        complete_information_value=ci_val,
        no_collaboration_accuracy=float(p @ alone),
        no_collaboration_value=float(p @ econ.scenario.valuation(alone)),
    )

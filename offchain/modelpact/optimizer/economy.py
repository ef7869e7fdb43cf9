"""The economy of one solve: costs, reservation utilities, the outcome model, and t_bar at an m.

:func:`economy_model` decides how expectations are taken (exact enumeration or a seeded sample);
every other module of the optimizer receives an :class:`Economy` and never rebuilds outcomes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from modelpact.economics import reservation_utilities
from modelpact.errors import ScenarioError
from modelpact.optimizer.expectations import evaluate
from modelpact.optimizer.types import Belief, BoolArray, FloatArray
from modelpact.outcomes import BeliefModel, belief_model, count_outcomes
from modelpact.scenario import Scenario

__all__ = [
    "EXACT_LIMIT",
    "FEASIBILITY_TOL",
    "Economy",
    "conditional_values",
    "economy_model",
    "make_economy",
    "pooled_start",
    "single_blas_thread",
]

EXACT_LIMIT = 3_000_000  # outcomes; beyond this exact enumeration is refused
FEASIBILITY_TOL = 1e-7  # IR shortfall accepted, relative to the largest model value

_P = ParamSpec("_P")
_R = TypeVar("_R")


def single_blas_thread(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run with one BLAS thread: our matrices are thin (K or K*K columns), and multithreaded
    OpenBLAS on them was measured up to 6x slower on a busy 2-core machine."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class Economy:
    """Everything a solve of ``scenario`` under ``belief`` needs besides the served set."""

    scenario: Scenario
    belief: Belief
    model: BeliefModel
    costs: FloatArray
    reservation: FloatArray
    reservation_m: FloatArray
    v_sup: float
    margin: FloatArray  # subtracted from tbar in the solve (sampled: confidence shading)
    cache: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)


def economy_model(scenario: Scenario, *, belief: Belief, stream: int = 0) -> BeliefModel:
    """The outcome model the solver and checker use for ``scenario`` under ``belief``.

    Exact enumeration when ``scenario.solver.expectation == "exact"`` (refused beyond
    :data:`EXACT_LIMIT` outcomes); otherwise ``samples`` draws from stream ``stream`` of the
    scenario's seed (0 = solve, 1 = out-of-sample certification, 2 = checker).
    """
    n, k = scenario.participants, scenario.n_types
    if scenario.solver.expectation == "exact":
        count = count_outcomes(n - 1 if belief == "bayes" else n, k)
        if count > EXACT_LIMIT:
            raise ScenarioError(
                f"{scenario.source}: exact expectation needs {count:,} outcomes "
                f"(N={n}, K={k}), more than {EXACT_LIMIT:,}",
                hint='set expectation = "sampled" in [solver]',
            )
        return belief_model(belief, n, scenario.probabilities)
    seeds = np.random.SeedSequence(scenario.solver.seed).spawn(stream + 1)
    rng = np.random.default_rng(seeds[stream])
    return belief_model(
        belief, n, scenario.probabilities, sampled=True, samples=scenario.solver.samples, rng=rng
    )


def make_economy(scenario: Scenario, belief: Belief, model: BeliefModel | None = None) -> Economy:
    """The economy of ``scenario`` (outcomes from :func:`economy_model` unless ``model``)."""
    f, r = reservation_utilities(scenario.accuracy, scenario.valuation, scenario.costs)
    v_sup = float(scenario.valuation(np.array([scenario.accuracy.supremum]))[0])
    return Economy(
        scenario=scenario,
        belief=belief,
        model=model if model is not None else economy_model(scenario, belief=belief),
        costs=scenario.costs,
        reservation=f,
        reservation_m=r,
        v_sup=v_sup,
        margin=np.zeros(scenario.n_types),
    )


@single_blas_thread
def conditional_values(
    scenario: Scenario, m: FloatArray, *, belief: Belief, model: BeliefModel | None = None
) -> tuple[FloatArray, float, float]:
    """(tbar(m), expected accuracy, expected value) of data vector ``m`` under ``belief``."""
    mdl = model if model is not None else economy_model(scenario, belief=belief)
    values = evaluate(scenario, mdl, np.asarray(m, dtype=np.float64), hessians=False)
    return values.tbar, values.objective, values.value


def pooled_start(econ: Economy, served: BoolArray) -> FloatArray:
    """A pooled m (same for every served type) maximising the top served type's pooled surplus."""
    n = econ.scenario.participants
    share = float(econ.scenario.probabilities[served].sum())
    top = float(econ.costs[served].max())
    hi = econ.v_sup / top
    grid = np.geomspace(hi * 1e-6, hi, 400)
    pooled = np.maximum(1.0, n * share) * grid
    gains = econ.scenario.valuation(econ.scenario.accuracy(pooled)) - top * grid
    x0 = float(grid[int(np.argmax(gains))])
    if gains.max() <= 0:
        x0 = float(max(econ.reservation_m.max(), econ.scenario.accuracy.tangent_point / n, 1.0))
    return np.where(served, x0, 0.0)

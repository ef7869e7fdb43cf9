"""The economy of one solve: costs, reservation utilities, the outcome model, and t_bar at an m.

:func:`economy_model` decides how expectations are taken (exact enumeration or a seeded sample);
every other module of the optimizer receives an :class:`Economy` and never rebuilds outcomes.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import numpy as np
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from modelpact.economics import AccuracyFunction, Valuation, reservation_utilities
from modelpact.errors import ScenarioError
from modelpact.optimizer.expectations import evaluate
from modelpact.optimizer.types import Belief, BoolArray, FloatArray
from modelpact.outcomes import BeliefModel, TooManyOutcomesError, belief_model, count_outcomes
from modelpact.participation import scenario_participation_model
from modelpact.scenario import Scenario

__all__ = [
    "EXACT_LIMIT",
    "FEASIBILITY_TOL",
    "START_GRID",
    "TRUNCATED_LIMIT",
    "TRUNCATION_THRESHOLD",
    "Economy",
    "conditional_values",
    "economy_model",
    "make_economy",
    "pooled_start",
    "single_blas_thread",
]

EXACT_LIMIT = 3_000_000  # outcomes; beyond this exact expectations are truncated
TRUNCATION_THRESHOLD = 1e-13  # probability below which an outcome is dropped (beyond the limit)
TRUNCATED_LIMIT = 8_000_000  # kept outcomes of a truncated enumeration (~1 GiB at K = 5)
FEASIBILITY_TOL = 1e-7  # IR shortfall accepted, relative to the largest model value

_P = ParamSpec("_P")
_R = TypeVar("_R")


_CONTROLLER: list[ThreadpoolController] = []  # created on first use: it scans loaded libraries


def single_blas_thread(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run with one BLAS thread: our matrices are thin (K or K*K columns), and multithreaded
    OpenBLAS on them was measured up to 6x slower on a busy 2-core machine. One controller
    serves every call (``threadpool_limits`` rescans the process's libraries each time, ~20 ms,
    more than a two-type solve)."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not _CONTROLLER:
            _CONTROLLER.append(ThreadpoolController())
        with _CONTROLLER[0].limit(limits=1, user_api="blas"):
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
    ic_margin: float = 0.0  # value units each type must prefer its own option by (strict IC)
    cache: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)


def economy_model(
    scenario: Scenario, *, belief: Belief, stream: int = 0, truncation: float | None = None
) -> BeliefModel:
    """The outcome model the solver and checker use for ``scenario`` under ``belief``.

    Exact expectations enumerate the outcomes of all N participants (bayes by the pooled
    identity, :mod:`modelpact.outcomes`): every outcome up to :data:`EXACT_LIMIT` of them, beyond
    that only those with probability >= :data:`TRUNCATION_THRESHOLD` (at most
    :data:`TRUNCATED_LIMIT`), with the dropped mass carried for the certificate. ``truncation``
    overrides: 0 = every outcome (refused beyond the limit), > 0 = that probability threshold.
    Sampled: ``samples`` draws from stream ``stream`` of the scenario's seed (0 = solve,
    1 = out-of-sample certification, 2 = checker). A scenario with ``[participation]`` gets the
    mixture over participant counts
    (:func:`modelpact.participation.scenario_participation_model`).
    """
    if scenario.participation is not None:  # the mixture over participant counts
        return scenario_participation_model(
            scenario, belief=belief, stream=stream, exact_limit=EXACT_LIMIT
        )
    n = scenario.participants
    if scenario.solver.expectation != "exact":
        seeds = np.random.SeedSequence(scenario.solver.seed).spawn(stream + 1)
        rng = np.random.default_rng(seeds[stream])
        samples = scenario.solver.samples
        return belief_model(
            belief, n, scenario.probabilities, sampled=True, samples=samples, rng=rng
        )
    count = count_outcomes(n, scenario.n_types)
    threshold = truncation
    if threshold is None:
        threshold = 0.0 if count <= EXACT_LIMIT else TRUNCATION_THRESHOLD
    if threshold <= 0.0 and count > EXACT_LIMIT:
        raise _too_many(scenario, f"{count:,} outcomes")
    try:
        return belief_model(
            belief,
            n,
            scenario.probabilities,
            pooled_once=True,
            threshold=threshold,
            limit=TRUNCATED_LIMIT,
        )
    except TooManyOutcomesError as error:
        raise _too_many(scenario, f"{error}") from error


def _too_many(scenario: Scenario, what: str) -> ScenarioError:
    limit = f"{EXACT_LIMIT:,} (all outcomes) or {TRUNCATED_LIMIT:,} (truncated)"
    return ScenarioError(
        f"{scenario.source}: exact expectation needs {what} (N={scenario.participants}, "
        f"K={scenario.n_types}), more than {limit}",
        hint='set expectation = "sampled" in [solver]',
    )


def make_economy(
    scenario: Scenario,
    belief: Belief,
    model: BeliefModel | None = None,
    *,
    truncation: float | None = None,
) -> Economy:
    """The economy of ``scenario`` (outcomes from :func:`economy_model` unless ``model``)."""
    f, r = _reservation(scenario.accuracy, scenario.valuation, tuple(scenario.costs.tolist()))
    v_sup = float(scenario.valuation(np.array([scenario.accuracy.supremum]))[0])
    return Economy(
        scenario=scenario,
        belief=belief,
        model=(
            model
            if model is not None
            else economy_model(scenario, belief=belief, truncation=truncation)
        ),
        costs=scenario.costs,
        reservation=f,
        reservation_m=r,
        v_sup=v_sup,
        margin=np.zeros(scenario.n_types),
        ic_margin=scenario.solver.ic_margin,
    )


_RESERVATIONS: dict[str, tuple[FloatArray, FloatArray]] = {}


def _reservation(
    accuracy: AccuracyFunction, valuation: Valuation, costs: tuple[float, ...]
) -> tuple[FloatArray, FloatArray]:
    """Reservation utilities, cached by the curves' parameters and the costs: a grid of small
    solves repeats them, and they cost more than a two-type solve."""
    key = repr((accuracy.params(), valuation.params(), costs))
    if key not in _RESERVATIONS:
        if len(_RESERVATIONS) >= 1024:
            _RESERVATIONS.clear()
        f, r = reservation_utilities(accuracy, valuation, np.array(costs))
        f.setflags(write=False)
        r.setflags(write=False)
        _RESERVATIONS[key] = (f, r)
    return _RESERVATIONS[key]


@single_blas_thread
def conditional_values(
    scenario: Scenario, m: FloatArray, *, belief: Belief, model: BeliefModel | None = None
) -> tuple[FloatArray, float, float]:
    """(tbar(m), expected accuracy, expected value) of data vector ``m`` under ``belief``."""
    mdl = model if model is not None else economy_model(scenario, belief=belief)
    values = evaluate(scenario, mdl, np.asarray(m, dtype=np.float64), hessians=False)
    return values.tbar, values.objective, values.value


START_GRID = np.geomspace(1e-6, 1.0, 400)  # pooled_start's grid, in units of its upper end
START_GRID.setflags(write=False)


def pooled_start(econ: Economy, served: BoolArray) -> FloatArray:
    """A pooled m (same for every served type) maximising the top served type's pooled surplus."""
    n = econ.scenario.participants
    share = float(econ.scenario.probabilities[served].sum())
    top = float(econ.costs[served].max())
    hi = econ.v_sup / top
    grid = hi * START_GRID
    pooled = np.maximum(1.0, n * share) * grid
    gains = econ.scenario.valuation(econ.scenario.accuracy(pooled)) - top * grid
    x0 = float(grid[int(np.argmax(gains))])
    if gains.max() <= 0:
        x0 = float(max(econ.reservation_m.max(), econ.scenario.accuracy.tangent_point / n, 1.0))
    start = np.where(served, x0, 0.0)
    if econ.ic_margin > 0.0:  # strict IC forbids pooling: start already separated
        start = start + _separation(econ, served)
    return start


def _separation(econ: Economy, served: BoolArray) -> FloatArray:
    """Offsets that separate the served types enough for strict IC: consecutive served types
    i < j need m_j - m_i >= 2 d / (c_i - c_j) (IC_ij plus IC_ji); twice that, cumulated."""
    idx = [int(i) for i in np.flatnonzero(served)]
    offsets = np.zeros(len(served))
    for a, b in itertools.pairwise(idx):
        gap = 4.0 * econ.ic_margin / float(econ.costs[a] - econ.costs[b])
        offsets[b] = offsets[a] + gap
    return offsets

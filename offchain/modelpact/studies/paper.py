"""The paper's two studies (Sec. 6.1 two types over (N, p1); Sec. 6.2 three five-type cases).

Both use the paper's economy: sgb accuracy with a_opt = 1, k = 1 and v(r) = 100 r. The two-type
study runs on the grid engine (:mod:`.grid`); the multi-type cases are six solves, done here,
with each type's reward distribution over the outcomes and its data contribution split into the
stand-alone base, the incentivised addition and the incentivised reduction.
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from modelpact.outcomes import enumerate_outcomes
from modelpact.scenario import Scenario, scenario_from_document
from modelpact.studies.complete import type_weights
from modelpact.studies.grid import GridSpec, Workers, run_grid
from modelpact.studies.point import PointResult, solve_point

__all__ = [
    "MULTI_TYPE_CASES",
    "TWO_TYPE_P1",
    "TWO_TYPE_PARTICIPANTS",
    "MultiTypeCase",
    "MultiTypeResult",
    "RewardDistribution",
    "TwoTypeStudy",
    "base_document",
    "case_scenario",
    "multi_type_case",
    "two_type_spec",
    "two_type_study",
]

Belief = Literal["bayes", "paper"]
FloatArray = NDArray[np.float64]

TWO_TYPE_PARTICIPANTS: tuple[int, ...] = tuple(range(2, 101, 2))
TWO_TYPE_P1: tuple[float, ...] = tuple(float(x) for x in np.linspace(0.01, 0.99, 30))
_REWARD_GRID = 400  # points of the reward-density grid


@dataclass(frozen=True)
class MultiTypeCase:
    """One Sec. 6.2 collaboration: N = 10, five equally likely types with these costs."""

    key: str
    title: str
    costs: tuple[float, ...]


MULTI_TYPE_CASES: tuple[MultiTypeCase, ...] = (
    MultiTypeCase(
        "case1", "big-firm cooperation", tuple(float(c) for c in np.linspace(0.2, 0.04, 5))
    ),
    MultiTypeCase(
        "case2", "small-party teamwork", tuple(float(c) for c in np.linspace(1.0, 0.4, 5))
    ),
    MultiTypeCase("case3", "big-and-small collaboration", (0.5, 0.4, 0.03, 0.02, 0.001)),
)


def base_document() -> dict[str, Any]:
    """The shipped two-type scenario (N = 10, p1 = 0.5) as a TOML document: every study's base."""
    text = (
        importlib.resources.files("modelpact")
        .joinpath("data/scenarios/paper_two_type.toml")
        .read_text(encoding="utf-8")
    )
    return tomllib.loads(text)


def two_type_spec(
    *,
    beliefs: Sequence[Belief],
    participants: Sequence[int] = TWO_TYPE_PARTICIPANTS,
    p1: Sequence[float] = TWO_TYPE_P1,
) -> GridSpec:
    """The Sec. 6.1 grid: c = (0.02, 0.01), p = (p1, 1 - p1), N outer, p1 inner."""
    return GridSpec(
        base=base_document(),
        parameters=(("participants", tuple(participants)), ("p1", tuple(p1))),
        beliefs=tuple(beliefs),
        source="paper Sec. 6.1",
    )


@dataclass(frozen=True)
class TwoTypeStudy:
    """The two-type grid under one belief, as arrays over (N, p1) (axis 0 = N, axis 1 = p1).

    Per type arrays have a last axis of 2; failed points are NaN (``failed`` counts them).
    """

    belief: Belief
    participants: tuple[int, ...]
    p1: tuple[float, ...]
    m: FloatArray
    t: FloatArray
    complete_m: FloatArray
    complete_t: FloatArray
    expected_value: FloatArray
    complete_value: FloatArray
    information_cost: FloatArray
    information_rent: FloatArray
    bayes_ir_shortfall: FloatArray | None
    failed: int


def _array(
    points: Sequence[PointResult], shape: tuple[int, ...], get: Callable[[PointResult], Any]
) -> FloatArray:
    out = np.full(shape, np.nan)
    flat = out.reshape(len(points), -1)
    for row, point in enumerate(points):
        value = get(point)
        if value is not None and (not isinstance(value, tuple) or value):
            flat[row] = value
    return out


def two_type_study(
    *,
    belief: Belief,
    participants: Sequence[int],
    p1: Sequence[float],
    points: Sequence[PointResult],
) -> TwoTypeStudy:
    """Arrange one belief's grid points (index order, N outer) into arrays."""
    chosen = [p for p in points if p.belief == belief]
    n, q = len(participants), len(p1)
    assert len(chosen) == n * q, "one result per grid point"
    pair = (n, q, 2)
    shortfall = _array(chosen, pair, lambda r: r.bayes_ir_shortfall) if belief == "paper" else None
    return TwoTypeStudy(
        belief=belief,
        participants=tuple(participants),
        p1=tuple(p1),
        m=_array(chosen, pair, lambda r: r.m),
        t=_array(chosen, pair, lambda r: r.t),
        complete_m=_array(chosen, pair, lambda r: r.complete_m),
        complete_t=_array(chosen, pair, lambda r: r.complete_t),
        expected_value=_array(chosen, (n, q), lambda r: r.expected_value),
        complete_value=_array(chosen, (n, q), lambda r: r.complete_value),
        information_cost=_array(chosen, (n, q), lambda r: r.information_cost),
        information_rent=_array(chosen, pair, lambda r: r.information_rent),
        bayes_ir_shortfall=shortfall,
        failed=sum(p.status != "ok" for p in chosen),
    )


def run_two_type(
    *,
    beliefs: Sequence[Belief],
    participants: Sequence[int] = TWO_TYPE_PARTICIPANTS,
    p1: Sequence[float] = TWO_TYPE_P1,
    pool: Workers | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[Belief, TwoTypeStudy]:
    """Solve the Sec. 6.1 grid for each belief (on ``pool``, else in this process)."""
    spec = two_type_spec(beliefs=beliefs, participants=participants, p1=p1)
    points = run_grid(spec=spec, pool=pool, progress=progress)
    return {
        b: two_type_study(belief=b, participants=participants, p1=p1, points=points)
        for b in beliefs
    }


# ------------------------------------------------------------------------------------------
# Sec. 6.2: multi-type cases
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RewardDistribution:
    """v(r_i) over the outcomes as a type-i participant sees them (its belief's weights).

    ``density[i]`` is a weighted Gaussian kernel density of type i's rewards on the shared grid
    ``x`` (bandwidth ``bandwidth[i]``, Silverman's rule on the effective sample size);
    ``mean[i]`` is the exact expectation (the promised t_i under the menu's own belief) and
    ``low``/``high`` the support.
    """

    x: tuple[float, ...]
    density: tuple[tuple[float, ...], ...]
    bandwidth: tuple[float, ...]
    mean: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


@dataclass(frozen=True)
class MultiTypeResult:
    """One Sec. 6.2 case under one belief: the grid point plus rewards and contributions.

    Contributions per type: ``base`` = min(m_i, stand-alone m) for a type that would train alone
    (f_i > 0), ``additional`` = max(m_i - stand-alone m, 0), ``reduction`` = max(stand-alone m -
    m_i, 0); for a type that would not train alone (``alone`` False) all of m_i is additional.
    """

    case: MultiTypeCase
    point: PointResult
    rewards: RewardDistribution
    alone: tuple[bool, ...]
    base: tuple[float, ...]
    additional: tuple[float, ...]
    reduction: tuple[float, ...]


def _bandwidth(values: FloatArray, weights: FloatArray) -> float:
    """Silverman's rule with the weighted spread and the effective sample size (a floor keeps a
    degenerate distribution, e.g. a fully pooled case, drawable)."""
    mean = float(weights @ values)
    spread = math.sqrt(max(float(weights @ (values - mean) ** 2), 0.0))
    n_eff = 1.0 / max(float(weights @ weights), 1e-300)
    return max(1.06 * spread * float(n_eff ** (-0.2)), 1e-4 * max(abs(mean), 1.0))


def _kde(values: FloatArray, weights: FloatArray, x: FloatArray, width: float) -> FloatArray:
    z = (x[:, None] - values[None, :]) / width
    density: FloatArray = (np.exp(-0.5 * z * z) @ weights) / (width * math.sqrt(2.0 * math.pi))
    return density


def _rewards(scenario: Scenario, point: PointResult, belief: Belief) -> RewardDistribution:
    outcomes = enumerate_outcomes(scenario.participants, scenario.probabilities)
    seen = type_weights(outcomes.counts, outcomes.weights, scenario.probabilities, belief=belief)
    collective = scenario.valuation(scenario.accuracy(outcomes.counts @ np.array(point.m)))
    rewards = np.array(point.ratio)[:, None] * collective[None, :]  # (K, M)
    present = seen > 0.0
    low = np.where(present, rewards, np.inf).min(axis=1)
    high = np.where(present, rewards, -np.inf).max(axis=1)
    widths = [_bandwidth(rewards[i][present[i]], seen[i][present[i]]) for i in range(len(rewards))]
    reach = 4.0 * max(widths)  # the grid holds every kernel's bulk: densities integrate to ~1
    x = np.linspace(float(low.min()) - reach, float(high.max()) + reach, _REWARD_GRID)
    density = [
        _kde(rewards[i][present[i]], seen[i][present[i]], x, widths[i]) for i in range(len(rewards))
    ]
    # a weighted mean lies in [low, high]; its floating sum can stray by an ulp (a point mass
    # whose weights sum to 1 - 1e-16 falls below its own value)
    mean = np.clip((seen * rewards).sum(axis=1), low, high)
    return RewardDistribution(
        x=tuple(float(v) for v in x),
        density=tuple(tuple(float(v) for v in d) for d in density),
        bandwidth=tuple(widths),
        mean=tuple(float(v) for v in mean),
        low=tuple(float(v) for v in low),
        high=tuple(float(v) for v in high),
    )


def case_scenario(case: MultiTypeCase) -> Scenario:
    """The scenario of a Sec. 6.2 case: the paper's economy, N = 10, equally likely types."""
    document = base_document()
    document["participants"] = 10
    document["types"] = [{"cost": c, "probability": 1.0 / len(case.costs)} for c in case.costs]
    return scenario_from_document(document, source=f"paper Sec. 6.2 {case.key}")


def multi_type_case(*, case: MultiTypeCase, belief: Belief) -> MultiTypeResult:
    """Solve one Sec. 6.2 case (N = 10, p_i = 1/5) and derive its figures' numbers."""
    scenario = case_scenario(case)
    point = solve_point(scenario=scenario, belief=belief, params={"case": case.key})
    m = np.array(point.m) if point.status == "ok" else np.full(5, np.nan)
    alone = np.array(point.reservation) > 0.0
    stand = np.where(alone, np.array(point.reservation_m), 0.0)
    return MultiTypeResult(
        case=case,
        point=point,
        rewards=_rewards(scenario, point, belief)
        if point.status == "ok"
        else RewardDistribution((), (), (), (), (), ()),
        alone=tuple(bool(a) for a in alone),
        base=tuple(float(x) for x in np.minimum(m, stand)),
        additional=tuple(float(x) for x in np.maximum(m - stand, 0.0)),
        reduction=tuple(float(x) for x in np.maximum(stand - m, 0.0)),
    )

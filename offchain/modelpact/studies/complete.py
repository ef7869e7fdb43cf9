"""The paper's complete-information contract, solved outcome by outcome.

With complete information the coordinator observes the realised types n = (n_1..n_K). It asks
each present type i for m_i(n) units of data and gives everyone the collective model, so
t_i(n) = v(a(S)), with IR binding for every present type: t_i(n) - c_i m_i(n) = f_i. Then
m_i(n) = (v(a(S)) - f_i) / c_i and the pooled data must satisfy

    S = sum_i n_i (v(a(S)) - f_i) / c_i  =  A(n) u(S) - B(n),   u = v o a,

with A = sum_i n_i / c_i and B = sum_i n_i f_i / c_i. The coordinator wants the most data, so S
is the LARGEST root (0 when there is none, which happens only when no present type could train
alone: then nobody contributes and nobody gains). This is not the menu problem without IC (what
``modelpact solve`` prints as its no-IC benchmark): it needs no belief, only the expectation of
its outcomes does.

Root finding, vectorised over outcomes: h(S) = A u(S) - B - S is negative at 0 and at
S_hi = A u_sup - B, concave where u is concave and convex (with h < 0 at its left end) where u
is convex, so the positive set of h is one interval. A geometric grid of h brackets its upper end,
bisection refines it to machine precision; when no grid point is positive a golden-section search
refines the grid's maximum first, so a narrow positive interval is not missed, nor a maximum that
only touches 0 (a lone participant: the root is its stand-alone m, not 0).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from modelpact.economics import AccuracyFunction, Valuation, reservation_utilities
from modelpact.errors import SolverError
from modelpact.outcomes import count_outcomes, enumerate_outcomes, sample_outcomes
from modelpact.scenario import Scenario

__all__ = [
    "CompleteInformation",
    "collective_roots",
    "complete_information",
    "type_weights",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Belief = Literal["bayes", "paper"]

_GRID = 256  # geometric grid points per outcome bracketing the largest root
_BLOCK = 16_384  # outcomes per vectorised block (bounds memory: _BLOCK x _GRID floats)
_GRID_LOW = 1e-9  # grid starts at this fraction of S_hi
_TANGENT = 1e-9  # a grid maximum within this fraction of S of 0 touches 0: a double root
_EXACT_LIMIT = (
    3_000_000  # outcomes, as the optimizer's: past it enumerating all would exhaust memory
)
_SAMPLED_STREAM = 3  # seed stream of the scenario used for sampled complete-information outcomes


def _utility(accuracy: AccuracyFunction, valuation: Valuation, s: FloatArray) -> FloatArray:
    return valuation(accuracy(s))


def _bisect(
    h: functools.partial[FloatArray], lo: FloatArray, hi: FloatArray, iterations: int = 200
) -> FloatArray:
    """Largest-root bisection: h(lo) >= 0 > h(hi) is kept; stops at machine precision."""
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if np.all((mid <= lo) | (mid >= hi)):
            break
        keep = h(mid) >= 0.0
        lo = np.where(keep, mid, lo)
        hi = np.where(keep, hi, mid)
    return lo


def _golden_max(
    h: functools.partial[FloatArray], lo: FloatArray, hi: FloatArray, iterations: int = 80
) -> tuple[FloatArray, FloatArray]:
    """(argmax, max) of a unimodal h on [lo, hi], vectorised golden-section search."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo.copy(), hi.copy()
    for _ in range(iterations):
        x1 = b - ratio * (b - a)
        x2 = a + ratio * (b - a)
        left = h(x1) >= h(x2)
        b = np.where(left, x2, b)
        a = np.where(left, a, x1)
    x = 0.5 * (a + b)
    return x, h(x)


def _h(
    s: FloatArray,
    *,
    slope: FloatArray,
    offset: FloatArray,
    accuracy: AccuracyFunction,
    valuation: Valuation,
) -> FloatArray:
    """h(S) = A u(S) - B - S, broadcasting S (M,) or (M, G) against A, B (M,)."""
    extra = (slice(None),) + (None,) * (s.ndim - 1)
    return slope[extra] * _utility(accuracy, valuation, s) - offset[extra] - s


def _roots_block(
    accuracy: AccuracyFunction, valuation: Valuation, slope: FloatArray, offset: FloatArray
) -> FloatArray:
    u_sup = float(valuation(np.array([accuracy.supremum]))[0])
    top = slope * u_sup - offset  # h(top) = A (u(top) - u_sup) < 0
    roots = np.zeros(len(slope))
    live = top > 0.0
    if not live.any():
        return roots
    a, b, s_hi = slope[live], offset[live], top[live]
    grid = s_hi[:, None] * np.geomspace(_GRID_LOW, 1.0, _GRID)[None, :]
    h = functools.partial(_h, accuracy=accuracy, valuation=valuation)
    values = h(grid, slope=a, offset=b)
    rows = np.arange(len(a))
    nonneg = values >= 0.0
    found = np.asarray(nonneg.any(axis=1), dtype=bool)
    last = _GRID - 1 - np.argmax(nonneg[:, ::-1], axis=1)  # last grid index with h >= 0
    lo = grid[rows, last]
    hi = grid[rows, np.minimum(last + 1, _GRID - 1)]
    missed = ~found
    if missed.any():  # refine the grid maximum: is h positive between two grid points?
        best = np.argmax(values[missed], axis=1)
        sub = rows[missed]
        left = grid[sub, np.maximum(best - 1, 0)]
        right = grid[sub, np.minimum(best + 1, _GRID - 1)]
        h_sub = functools.partial(h, slope=a[missed], offset=b[missed])
        peak, height = _golden_max(h_sub, left, right)
        # a maximum of 0 is a tangent root (one participant alone: S = its stand-alone m),
        # which rounding puts a hair either side of 0
        rescued = height >= -_TANGENT * np.maximum(peak, 1.0)
        lo[sub[rescued]] = peak[rescued]
        hi[sub[rescued]] = right[rescued]
        found[sub[rescued]] = True
    out = np.zeros(len(a))
    if found.any():
        h_found = functools.partial(h, slope=a[found], offset=b[found])
        out[found] = _bisect(h_found, lo[found], hi[found])
    roots[live] = out
    return roots


def collective_roots(
    *,
    accuracy: AccuracyFunction,
    valuation: Valuation,
    slope: FloatArray,
    offset: FloatArray,
) -> FloatArray:
    """Largest root S >= 0 of S = slope * v(a(S)) - offset, per entry (0 where none exists).

    ``slope`` (A = sum n_i / c_i) and ``offset`` (B = sum n_i f_i / c_i) have shape (M,).
    """
    slope = np.asarray(slope, dtype=np.float64)
    offset = np.asarray(offset, dtype=np.float64)
    parts = [
        _roots_block(accuracy, valuation, slope[i : i + _BLOCK], offset[i : i + _BLOCK])
        for i in range(0, len(slope), _BLOCK)
    ]
    return np.concatenate(parts) if parts else np.zeros(0)


def type_weights(
    counts: IntArray, weights: FloatArray, probabilities: FloatArray, *, belief: Belief
) -> FloatArray:
    """(K, M) weights of the outcomes as seen by a participant who knows it is of type i.

    Outcomes are draws of n ~ Multinomial(N, p) with probabilities ``weights``. ``paper``:
    condition on n_i >= 1. ``bayes``: the participant is one of the N, the others are
    Multinomial(N-1, p), which reweights outcome n by n_i / (N p_i).
    """
    n = counts.sum(axis=1)
    if belief == "paper":
        raw = (counts >= 1).T * weights[None, :]
    else:
        raw = counts.T * weights[None, :] / (n[None, :] * probabilities[:, None])
    mass = raw.sum(axis=1, keepdims=True)
    result: FloatArray = raw / np.where(mass > 0.0, mass, 1.0)
    return result


@dataclass(frozen=True)
class CompleteInformation:
    """The complete-information contract of one scenario: per outcome and in expectation.

    Per outcome (rows of ``counts``, probabilities ``weights``): ``pooled`` S(n), ``value``
    v(a(S(n))) (every present type's reward t_i(n)), ``m`` (M, K) with m_i(n) for present types
    (0 where n_i = 0). Expectations: ``expected_value`` and ``expected_accuracy`` of the
    collective model over n ~ Multinomial(N, p) (no belief needed); ``expected_m`` and
    ``expected_t`` (K,) as a participant of each type expects them under ``belief``.
    """

    belief: Belief
    costs: FloatArray
    counts: IntArray
    weights: FloatArray
    pooled: FloatArray
    value: FloatArray
    m: FloatArray
    reservation: FloatArray
    reservation_m: FloatArray
    expected_value: float
    expected_accuracy: float
    expected_m: FloatArray
    expected_t: FloatArray
    exact: bool

    @property
    def utility(self) -> FloatArray:
        """(M, K) t_i(n) - c_i m_i(n) for present types (NaN where n_i = 0): f_i by design."""
        util = self.value[:, None] - self.costs[None, :] * self.m
        return np.where(self.counts >= 1, util, np.nan)


_ROOTS: dict[str, tuple[IntArray, FloatArray, FloatArray, FloatArray]] = {}
_ROOTS_MAX = 64  # cached economies per process (a grid varies p fastest within a chunk)


def _exact_roots(
    accuracy: AccuracyFunction, valuation: Valuation, costs: FloatArray, participants: int
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """Outcome counts, S(n), f and m_res for exact enumeration (independent of p, so cached)."""
    key = json.dumps(
        [accuracy.params(), valuation.params(), [float(c) for c in costs], participants],
        sort_keys=True,
    )
    if key not in _ROOTS:
        if len(_ROOTS) >= _ROOTS_MAX:
            _ROOTS.clear()
        f, r = reservation_utilities(accuracy, valuation, costs)
        counts = enumerate_outcomes(participants, np.full(len(costs), 1.0 / len(costs))).counts
        pooled = collective_roots(
            accuracy=accuracy,
            valuation=valuation,
            slope=counts @ (1.0 / costs),
            offset=counts @ (f / costs),
        )
        _ROOTS[key] = (counts, pooled, f, r)
    return _ROOTS[key]


def complete_information(*, scenario: Scenario, belief: Belief) -> CompleteInformation:
    """Solve the complete-information contract of ``scenario`` for every outcome.

    Exact scenarios enumerate every outcome (the roots depend on n, c and the curves only, so they
    are cached across probabilities); sampled scenarios use ``solver.samples`` draws of a
    dedicated stream of ``solver.seed``.
    """
    acc, val = scenario.accuracy, scenario.valuation
    c, p = scenario.costs, scenario.probabilities
    exact = scenario.solver.expectation == "exact"
    if exact:
        count = count_outcomes(scenario.participants, len(c))
        if count > _EXACT_LIMIT:
            raise SolverError(
                f"complete information would enumerate {count:,} outcomes "
                f"(N={scenario.participants}, K={len(c)}), more than {_EXACT_LIMIT:,}",
                hint='use [solver] expectation = "sampled", or fewer participants or types',
            )
        counts, pooled, f, r = _exact_roots(acc, val, c, scenario.participants)
        weights = enumerate_outcomes(scenario.participants, p).weights
    else:
        f, r = reservation_utilities(acc, val, c)
        seeds = np.random.SeedSequence(scenario.solver.seed).spawn(_SAMPLED_STREAM + 1)
        drawn = sample_outcomes(
            scenario.participants,
            p,
            scenario.solver.samples,
            np.random.default_rng(seeds[_SAMPLED_STREAM]),
        )
        counts, weights = drawn.counts, drawn.weights
        pooled = collective_roots(
            accuracy=acc, valuation=val, slope=counts @ (1.0 / c), offset=counts @ (f / c)
        )
    value = val(acc(pooled))
    m = np.where(counts >= 1, (value[:, None] - f[None, :]) / c[None, :], 0.0)
    seen = type_weights(counts, weights, p, belief=belief)
    return CompleteInformation(
        belief=belief,
        costs=c,
        counts=counts,
        weights=weights,
        pooled=pooled,
        value=value,
        m=m,
        reservation=f,
        reservation_m=r,
        expected_value=float(weights @ value),
        expected_accuracy=float(weights @ acc(pooled)),
        expected_m=np.einsum("io,oi->i", seen, m),
        expected_t=seen @ value,
        exact=exact,
    )

"""The curve check's numbers: tolerance tau and the wei rate rho the contract is deployed with.

At posting the contract compares the measured collective accuracy A with the committed curve's
prediction P for the rows actually delivered, and owes every deliverer i
``ratio_i x rho x max(0, P - tau - A)`` wei (capped by its share of the coordinator's bond;
contract design, section 5). This module derives the two numbers from the scenario:

**tau (accuracy units).** The measured accuracy of one honest round scatters around the curve
with sd ``sd_round(S)`` at S delivered rows (parameter covariance, residual error and one model's
spread, :mod:`modelpact.curve_record`). tau is the smallest value with

    P(A < a(S) - tau) = sum_o w_o Phi(-tau / sd_round(S_o)) <= 1 - gamma,

the mixture over the round's outcomes o (the scenario's type law, and participation law when
declared, S_o = n_o . m for the menu's m, weights w_o), at the stated one-sided confidence gamma
(``[accuracy] tolerance_confidence``, default 0.99). So with an honest curve the coordinator
pays compensation in at most a fraction 1 - gamma of rounds, ex ante; a curve inflated by delta
pays in most rounds once delta exceeds tau. The prediction the contract uses is the piecewise
linear interpolation of the committed knots, which lies below a concave curve, so the honest
rate is lower still. ``[accuracy] tolerance`` states tau outright instead.
``tolerance_wad`` is tau (its shortest decimal) in WAD rounded UP (never below the stated
confidence).

**rho (wei per 1.0 of ratio-weighted accuracy shortfall).** A linear valuation v(r) = scale r
says one unit of accuracy is worth ``scale`` value units; ``[valuation] unit_wei`` (the
scenario's choice, hashed with it, so every participant sees it before joining) prices one value
unit in wei. rho = floor(scale x unit_wei): a participant promised t_i = ratio_i E v(a) is paid
back, in wei, exactly the value units the curve over-promised it beyond tau.

Decision: the price is a scenario field, not a deployment option, because it is part of what a
participant accepts when it joins (an auditor re-derives rho from the scenario hash).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from modelpact.curve_record import sd_round
from modelpact.errors import ScenarioError
from modelpact.menu import Menu
from modelpact.scenario import Scenario

__all__ = [
    "CompensationTerms",
    "CurveTolerance",
    "committed_knot_values",
    "compensation_terms",
    "curve_tolerance",
]

FloatArray = NDArray[np.float64]
WAD = 10**18


class CompensationTerms(NamedTuple):
    """The two constructor arguments of the curve check (module doc)."""

    tolerance_wad: int
    shortfall_wei_per_wad: int


@dataclass(frozen=True)
class CurveTolerance:
    """tau and how it was obtained (``stated``: the scenario's explicit value)."""

    tolerance: float
    confidence: float | None  # None when stated outright
    expected_rows: float
    stated: bool


def _rows_distribution(scenario: Scenario, m: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(S_o, w_o): the total delivered rows of every outcome of the round and its probability."""
    from modelpact.optimizer import economy_model  # cvxpy stays out of scenario-only callers

    # The paper model's row 0 of objective_weights is P(n) over the outcomes of the round
    # itself. An exact model without a participation law holds the same counts and P(n) under
    # either belief (both enumerate the outcomes of all N, bit for bit; tested), so the one the
    # solve built and keeps is used: building the other cost 0.3 s at N = 1,000.
    belief = scenario.solver.belief
    if scenario.solver.expectation != "exact" or scenario.participation is not None:
        belief = "paper"
    model = economy_model(scenario.with_solver(belief=belief), belief=belief)
    rows = model.base @ m
    weights = model.objective_weights[0]
    return rows, weights / weights.sum()


def curve_tolerance(scenario: Scenario, *, menu: Menu) -> CurveTolerance:
    """tau for ``menu`` (its rows per type) under ``scenario`` (module doc)."""
    m = np.array([o.m if o.served else 0.0 for o in menu.options], dtype=np.float64)
    rows, weights = _rows_distribution(scenario, m)
    from modelpact.optimizer.economy import single_blas_thread  # loaded by the line above

    # One BLAS thread: threaded OpenBLAS split each bisection step's dot over the round's
    # outcomes across the cores (7 ms a step on a busy 2-core machine at N = 1,000 against
    # 0.2 ms on one thread), and its last bits depended on how many threads it used.
    return single_blas_thread(_tolerance)(scenario, rows, weights)


def _tolerance(scenario: Scenario, rows: FloatArray, weights: FloatArray) -> CurveTolerance:
    """:func:`curve_tolerance` from the round's row distribution (module doc)."""
    expected = float(weights @ rows)
    record = scenario.curve
    if record.tolerance is not None:
        return CurveTolerance(record.tolerance, None, expected, stated=True)
    gamma = record.tolerance_confidence
    # sd depends on an outcome's rows only, and whole rows repeat across outcomes: sd is taken
    # once per distinct row total, and each bisection step evaluates ndtr once per distinct sd
    # and spreads it (elementwise functions: the same arrays as over every outcome, bit for bit)
    sizes, where = np.unique(rows, return_inverse=True)
    sd = sd_round(scenario, sizes)
    levels, spread = np.unique(np.maximum(sd, 1e-300), return_inverse=True)
    spread = spread[where]

    # lazy: scipy costs the CLI start. ndtr / ndtri are what scipy.stats.norm.cdf / .ppf
    # compute (the same values, tested) without rv_continuous's argument handling around them,
    # which cost as much again at each bisection step over every outcome of the round.
    from scipy.special import ndtr, ndtri

    def excess(tau: float) -> float:
        return float(weights @ ndtr(-tau / levels)[spread]) - (1.0 - gamma)

    hi = float(ndtri(gamma)) * float(sd.max()) + 1e-12
    lo = 0.0
    for _ in range(200):  # bisection: excess decreases in tau
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if excess(mid) > 0.0 else (lo, mid)
        if hi - lo <= 1e-15:
            break
    return CurveTolerance(hi, gamma, expected, stated=False)


def compensation_terms(
    scenario: Scenario, *, menu: Menu, unit_wei: int | None = None
) -> CompensationTerms:
    """(tolerance_wad, shortfall_wei_per_wad) for deploying ``menu`` of ``scenario``.

    ``unit_wei`` overrides ``[valuation] unit_wei``. Raises :class:`ScenarioError` when the
    valuation is not linear, no price is stated, or the curve has neither a stated tolerance
    nor an uncertainty record.
    """
    scale = scenario.valuation.params().get("scale")
    if scenario.valuation.params().get("kind") != "linear" or not isinstance(scale, float):
        raise ScenarioError(
            f"{scenario.source}: curve compensation needs a linear valuation v(r) = scale r",
            hint='use [valuation] kind = "linear"',
        )
    price = unit_wei if unit_wei is not None else scenario.unit_wei
    if price is None or price < 1:
        raise ScenarioError(
            f"{scenario.source}: no wei price of a value unit for curve compensation",
            hint="add unit_wei = <wei per value unit> to [valuation]",
        )
    tau = curve_tolerance(scenario, menu=menu).tolerance
    _require_a_possible_shortfall(scenario, menu, tau)
    # decimal values as written (0.02 is 2e16 WAD, not the binary float's 2e16 + 1)
    tolerance_wad = min(math.ceil(Fraction(repr(tau)) * WAD), WAD)
    rho = math.floor(Fraction(repr(scale)) * price)
    return CompensationTerms(tolerance_wad=tolerance_wad, shortfall_wei_per_wad=rho)


def _require_a_possible_shortfall(scenario: Scenario, menu: Menu, tau: float) -> None:
    """A tolerance at or above the curve's best prediction over the round (every seat on the
    largest option) leaves no measured accuracy short of it: no compensation is possible, which
    is a round without terms, refused unless --no-compensation says so (review 13)."""
    rows = float(scenario.participants) * max((o.m for o in menu.options if o.served), default=0.0)
    best = float(np.asarray(scenario.accuracy(np.array([rows])), dtype=np.float64)[0])
    if tau >= best:
        raise ScenarioError(
            f"{scenario.source}: the curve tolerance {tau:g} is at least the curve's best "
            f"prediction {best:.4f}, so no shortfall could ever be compensated",
            hint="state a tolerance below the curve (or none: tau then follows the curve's "
            "uncertainty at its confidence)",
        )


def committed_knot_values(
    accuracy: Callable[[FloatArray], FloatArray], xs: FloatArray
) -> FloatArray:
    """The accuracies committed at the knots ``xs`` (ascending, > 0): the curve a(x) lifted so
    that the contract's prediction, the chords between knots (and from (0, 0) to the first),
    is at least a(S) at every whole number of rows S up to the last knot.

    A concave curve lies above its chords, so knots taken on the curve would hold the
    coordinator to less than the curve the promises were computed with (review of issue 13:
    up to 2.7e-3 of accuracy below capacity on the demo). Each chord is raised by the largest
    gap on its segment, by raising both of its knots (a knot takes the larger of its two
    segments' gaps); the first knot also covers the segment from the origin. The lift costs the
    coordinator at most that gap and never lowers a prediction. Shared by planning (what is
    committed) and the audit (``curve.matches_scenario``)."""
    x = np.asarray(xs, dtype=np.float64)
    a = np.clip(np.asarray(accuracy(x), dtype=np.float64), 0.0, 1.0)
    grid = np.arange(1.0, float(x[-1]) + 1.0)
    curve = np.clip(np.asarray(accuracy(grid), dtype=np.float64), 0.0, 1.0)
    lift = np.zeros_like(a)
    head = grid < x[0]  # from the origin: y0 * S / x0 >= a(S)
    if head.any():
        lift[0] = max(0.0, float(np.max(curve[head] * x[0] / grid[head])) - a[0])
    segment = np.searchsorted(x, grid, side="right") - 1  # knot on the left of each S
    inside = (segment >= 0) & (segment < len(x) - 1)
    left = segment[inside]
    chord = a[left] + (a[left + 1] - a[left]) * (grid[inside] - x[left]) / (x[left + 1] - x[left])
    gaps = np.zeros(len(x))
    np.maximum.at(gaps, left, np.maximum(curve[inside] - chord, 0.0))
    lift = np.maximum(lift, gaps)  # a segment's gap raises its left knot ...
    lift[1:] = np.maximum(lift[1:], gaps[:-1])  # ... and its right knot
    values = np.clip(a + lift, 0.0, 1.0)
    return _under_the_cap(values, x, grid[inside], curve[inside], left)


def _under_the_cap(
    values: FloatArray, x: FloatArray, s: FloatArray, curve: FloatArray, left: NDArray[np.intp]
) -> FloatArray:
    """``values`` with the knots of any chord still below the curve raised just enough.

    Only the clip at 1 loses part of a lift: a curve that reaches 1 inside a segment (a table
    curve, review 13b: [20, 21, 800] -> [0.3, 0.99999, 1.0] predicted 0.011 below it at 25 rows)
    leaves the chord from a knot below 1 to a clipped knot under the curve. The left knot is
    raised to the least value that puts the chord at or above the curve, or to 1 and then the
    right knot; raising a knot only raises its other chord, so one pass suffices."""
    out = values.copy()
    t = (s - x[left]) / (x[left + 1] - x[left])  # in [0, 1): s lies before the right knot
    chord = out[left] + (out[left + 1] - out[left]) * t
    short = chord < curve
    if not short.any():
        return out
    left, t, curve = left[short], t[short], curve[short]
    need_left = (curve - out[left + 1] * t) / (1.0 - t)
    np.maximum.at(out, left, np.minimum(need_left, 1.0))
    over = need_left > 1.0  # even a left knot at 1 is short: the right knot rises too
    need_right = (curve[over] - (1.0 - t[over])) / t[over]
    np.maximum.at(out, left[over] + 1, need_right)
    return np.clip(out, 0.0, 1.0)

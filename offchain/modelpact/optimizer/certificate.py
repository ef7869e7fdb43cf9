"""The certified upper bound on the optimum, by weak duality.

For any multipliers lambda, y >= 0,
    OPT <= sup_{box} F^(m) + sum_i lambda_i (tbar^_i(m) - t_i) - y'(A x - b),
where ^ marks the concave majorants of the curves (:mod:`modelpact.economics`) and the box
0 <= m_i <= (v_max - f_i)/c_i, 0 <= t_i <= v_max is implied by IR and BC. The sup is computed by
projected Newton and bounded above by the tangent plane over the box, so the bound is rigorous
(for exact expectations) whatever the accuracy of the multipliers: the SQP's duals and small
KKT multipliers found by NNLS both give valid bounds, and the tighter one is kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from modelpact.optimizer.economy import Economy
from modelpact.optimizer.expectations import Expectations, evaluate
from modelpact.optimizer.lsq import nnls
from modelpact.optimizer.subproblem import Frame
from modelpact.optimizer.types import BoolArray, FloatArray

__all__ = [
    "Candidate",
    "Multipliers",
    "certified_bound",
    "kkt_multipliers",
    "truncation_slack",
    "upper_bound",
]


@dataclass(frozen=True)
class Candidate:
    """The menu a bound is certified at: data ``m`` and promises ``t`` (per type), the
    expectations at ``m`` and the budget (t_bar less the margin) that ``t`` must respect."""

    m: FloatArray
    t: FloatArray
    vals: Expectations
    budget: FloatArray


_Dual = Callable[[FloatArray], tuple[float, FloatArray, FloatArray]]


@dataclass(frozen=True)
class Multipliers:
    """Budget (``lam``) and linear-row (``y``) multipliers in the subproblem's scaled units."""

    lam: FloatArray
    y: FloatArray


def kkt_multipliers(econ: Economy, fr: Frame, *, at: Candidate) -> Multipliers | None:
    """Small nonnegative multipliers for the constraints active at (m, t), by regularised NNLS
    on the stationarity conditions, returned in the subproblem's scaled units.

    When constraints are degenerate (e.g. IR and BC of one type both bind) the solver's
    multipliers can be huge along a direction that cancels at the optimum but not in the
    Lagrangian's sup over the box; minimal multipliers give a much tighter bound.
    """
    m, t, vals, budget = at.m, at.t, at.vals, at.budget
    served = fr.served
    k = len(served)
    x = np.concatenate([m, t])
    a_mat, b_vec = fr.a_matrix, fr.b_vector
    scale = max(1.0, econ.v_sup)
    rows_on = fr.active & (a_mat @ x >= b_vec - 1e-7 * scale)
    bc_on = served & (t >= budget - 1e-7 * scale)
    free_m = served & (m > 1e-9 * max(1.0, float(m.max(initial=0.0))))
    free_t = served & (t > 1e-9 * scale) & (t < fr.upper_t - 1e-9 * scale)
    a_on = a_mat[rows_on]
    lam_idx = np.flatnonzero(bc_on)
    # unknowns z = [lambda (active BC), y (active rows)] >= 0, original units:
    #   grad F + sum lambda_i grad tbar_i - A_m' y = 0   (free m)
    #   -lambda - A_t' y = 0                             (free t)
    mat_m = np.hstack([vals.tbar_grad[lam_idx].T, -a_on[:, :k].T])[free_m]
    mat_t = np.hstack([-np.eye(k)[:, lam_idx], -a_on[:, k:].T])[free_t]
    matrix = np.vstack([mat_m, mat_t])
    rhs = np.concatenate([-vals.objective_grad[free_m], np.zeros(int(free_t.sum()))])
    n = matrix.shape[1]
    if n == 0 or matrix.shape[0] == 0:
        return None
    reg = 1e-9 * max(1.0, float(np.abs(matrix).max()))
    # any z >= 0 gives a valid bound (module doc), so the hand-written NNLS (no scipy import)
    # can only cost tightness, never validity
    z = nnls(np.vstack([matrix, reg * np.eye(n)]), np.concatenate([rhs, np.zeros(n)]))
    lam = np.zeros(k)
    lam[lam_idx] = z[: len(lam_idx)]
    y = np.zeros(len(b_vec))
    y[np.flatnonzero(rows_on)] = z[len(lam_idx) :]
    # back to the scaled units upper_bound expects (lam_s = lam * sigma * ts, y_s = y * sigma)
    sigma = econ.v_sup
    return Multipliers(lam=lam * sigma * fr.t_scale, y=y * sigma)


def certified_bound(
    econ: Economy,
    fr: Frame,
    *,
    at: Candidate,
    duals: Multipliers | None,
    enough: float | None = None,
) -> float:
    """The tightest of the weak-duality bounds from the solver's ``duals`` (if any) and from
    small KKT multipliers at (m, t), capped by the curve's supremum (inf if neither exists).

    ``enough``: a gap (bound less F(m)) at or below which the bound from ``duals`` is returned
    as it is, without the KKT refinement (the caller accepts any bound that close: both are
    valid, the refined one is only tighter)."""
    sigma = econ.v_sup
    bound = math.inf
    if duals is not None:
        bound = upper_bound(econ, fr, m_start=at.m, duals=duals, sigma=sigma)
        capped = min(bound, econ.scenario.accuracy.supremum)
        if enough is not None and max(capped, at.vals.objective) - at.vals.objective <= enough:
            return capped
    refined = kkt_multipliers(econ, fr, at=at)
    if refined is not None:  # any multipliers give a valid bound: keep the tighter one
        bound = min(bound, upper_bound(econ, fr, m_start=at.m, duals=refined, sigma=sigma))
    return min(bound, econ.scenario.accuracy.supremum)


def upper_bound(
    econ: Economy, fr: Frame, *, m_start: FloatArray, duals: Multipliers, sigma: float
) -> float:
    """Weak-duality bound on F using the subproblem's duals (converted to original units)."""
    served = fr.served
    k = len(served)
    # scaled problem: sigma*F - lam_s*(tau - tbar/ts) - y_s*(A D z - b)
    #   == sigma*(F - lam*(t - tbar) - y*(A x - b)) with lam = lam_s/(sigma*ts), y = y_s/sigma.
    lam = duals.lam / (sigma * fr.t_scale)
    y = duals.y / sigma
    a_mat, b_vec = fr.a_matrix, fr.b_vector
    a_m = a_mat[:, :k] if len(a_mat) else np.zeros((0, k))
    a_t = a_mat[:, k:] if len(a_mat) else np.zeros((0, k))
    lin_m = a_m.T @ y if len(y) else np.zeros(k)
    # t enters linearly: raise lambda just enough that t's coefficient is <= 0 (any lambda >= 0
    # is a valid multiplier), so solver round-off in the duals costs nothing times t's box
    lam = np.where(served, np.maximum(lam, -(a_t.T @ y)), 0.0)
    coef_t = -lam - (a_t.T @ y if len(y) else np.zeros(k))
    t_part = float(np.sum(np.maximum(coef_t, 0.0) * fr.upper_t))
    const = float(y @ b_vec) if len(y) else 0.0
    margin = econ.margin

    def dual(m: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        vals = evaluate(econ.scenario, econ.model, m, envelope=True)
        assert vals.objective_hess is not None
        assert vals.tbar_hess is not None
        value = vals.objective + float(lam @ (vals.tbar - margin)) - float(lin_m @ m)
        grad = vals.objective_grad + lam @ vals.tbar_grad - lin_m
        hess = vals.objective_hess + np.einsum("i,ijk->jk", lam, vals.tbar_hess)
        return value, grad, hess

    sup = _sup_over_box(dual, served, m_start, fr.upper_m)
    return sup + t_part + const + truncation_slack(econ, lam)


def truncation_slack(econ: Economy, lam: FloatArray) -> float:
    """What the outcomes dropped by a truncated enumeration can add to the dual function:
    F by at most dropped_objective * a_sup, each t_bar_i by dropped_tbar_i * v_sup (weighted
    by lam_i >= 0, original units). 0 for a full enumeration or a sample."""
    model = econ.model
    if model.dropped_tbar is None:
        return 0.0
    a_sup = econ.scenario.accuracy.supremum
    return model.dropped_objective * a_sup + float(lam @ model.dropped_tbar) * econ.v_sup


def _sup_over_box(dual: _Dual, served: BoolArray, m_start: FloatArray, upper: FloatArray) -> float:
    """An upper bound on sup of the concave ``dual`` over 0 <= m <= upper: projected Newton to
    near the maximiser, then the tangent plane's maximum over the box (valid by concavity)."""
    k = len(served)
    lower = np.zeros(k)
    m = np.clip(m_start, lower, upper)
    value, grad, hess = dual(m)
    for _ in range(30):  # projected Newton on the concave dual function
        at_low = (m <= lower + 1e-12) & (grad <= 0)
        at_high = (m >= upper - 1e-12) & (grad >= 0)
        free = served & ~at_low & ~at_high
        if not free.any():
            break
        hf = hess[np.ix_(free, free)]
        gf = grad[free]
        reg = 1e-12 * max(1.0, float(np.max(np.abs(np.diag(hf)))))
        try:
            step_f = np.linalg.solve(-hf + reg * np.eye(len(gf)), gf)
        except np.linalg.LinAlgError:
            step_f = gf
        decrement = float(gf @ step_f)
        if not decrement > 1e-18:
            break
        step = np.zeros(k)
        step[free] = step_f
        found = _line_search(dual, m, step, value, lower, upper)
        if found is None:
            break
        m, value, grad, hess = found
        if decrement < 1e-24:
            break
    tangent = float(
        np.sum(np.where(served, np.maximum(grad * (lower - m), grad * (upper - m)), 0.0))
    )
    return value + tangent


def _line_search(
    dual: _Dual,
    m: FloatArray,
    step: FloatArray,
    value: float,
    lower: FloatArray,
    upper: FloatArray,
) -> tuple[FloatArray, float, FloatArray, FloatArray] | None:
    """The first halving of ``step`` that does not decrease the dual (None if none of 20)."""
    alpha = 1.0
    for _ls in range(20):
        cand = np.clip(m + alpha * step, lower, upper)
        c_value, c_grad, c_hess = dual(cand)
        # accept any non-decrease (the bound below is valid at every point; Newton only
        # makes it tighter), and full steps whose change is lost in rounding
        if c_value >= value or (alpha == 1.0 and c_value >= value - 1e-14 * abs(value)):
            return cand, c_value, c_grad, c_hess
        alpha *= 0.5
    return None

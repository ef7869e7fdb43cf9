"""The menu's constraints apart from the budget: IR, IC and exclusion, as rows A [m; t] <= b,
and the componentwise greatest / least t that meets them for a fixed m.

    IR_i : t_i - c_i m_i >= f_i                  (served i)
    IC_ij: t_i - c_i m_i >= t_j - c_i m_j + d    (all served pairs)
    EX_j : t_i - c_j m_i <= f_j - d              (unserved j, served i)

d = ``econ.ic_margin`` (value units, default 0): strict incentive compatibility, every type
prefers what is meant for it (its option, or its outside option when excluded) by at least d, so
a participant that picks by utility never lands on another type's option through a tie or a
rounding of its private cost. With d > 0 two served types cannot share an option (IC_ij and
IC_ji together need (c_i - c_j)(m_j - m_i) >= 2d), so the solver separates pooled types; the
checker only asks the margin between distinct options.

A new linear menu constraint is a row in :func:`linear_constraints` (the SQP, the certificate and
the KKT multipliers read A and b from there); if it bounds t for a fixed m, :func:`greatest_t`
must respect it too. The budget constraint t_i <= t_bar_i(m) is the nonlinear one
(:mod:`modelpact.optimizer.subproblem`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelpact.optimizer.economy import Economy
from modelpact.optimizer.types import BoolArray, FloatArray

__all__ = ["LinearConstraints", "greatest_t", "ir_violation", "least_t", "linear_constraints"]


@dataclass(frozen=True)
class LinearConstraints:
    """Rows ``a_matrix @ [m; t] <= b_vector``; ``active`` marks the rows of one served set."""

    a_matrix: FloatArray  # (rows, 2K)
    b_vector: FloatArray  # (rows,)
    active: BoolArray  # (rows,)


def linear_constraints(econ: Economy, served: BoolArray, ic: bool) -> LinearConstraints:
    """IR, IC and exclusion rows for ``served``.

    The matrix holds every row any served set could need (IR_i; IC_ij for all pairs if ``ic``;
    EX_ji for all pairs), so the compiled subproblem is shared by all served sets; ``active``
    marks the rows of this served set.
    """
    k = len(served)
    c, f, d = econ.costs, econ.reservation, econ.ic_margin
    rows: list[FloatArray] = []
    rhs: list[float] = []
    active: list[bool] = []

    def add(entries: dict[int, float], bound: float, on: bool) -> None:
        row = np.zeros(2 * k)
        for column, coefficient in entries.items():
            row[column] = coefficient
        rows.append(row)
        rhs.append(bound)
        active.append(on)

    for i in range(k):  # IR: -t_i + c_i m_i <= -f_i
        add({k + i: -1.0, i: c[i]}, -f[i], bool(served[i]))
    if ic:
        for i in range(k):  # type i weakly prefers its own option to j's
            for j in range(k):
                if i != j:
                    on = bool(served[i] and served[j])
                    add({k + j: 1.0, j: -c[i], k + i: -1.0, i: c[i]}, -d, on)
    for j in range(k):  # excluded j prefers its outside option to every offered option
        for i in range(k):
            if i != j:
                add({k + i: 1.0, i: -c[j]}, f[j] - d, bool(served[i] and not served[j]))
    return LinearConstraints(
        a_matrix=np.array(rows), b_vector=np.array(rhs), active=np.array(active, dtype=bool)
    )


def _relax_ic(
    t: FloatArray,
    m: FloatArray,
    c: FloatArray,
    idx: list[int],
    *,
    down: bool,
    margin: float = 0.0,
) -> None:
    """Bellman-Ford over the IC graph of the served types ``idx``, in place.

    ``down``: lower t until t_j <= t_i + c_i (m_j - m_i) - margin (a shortest path: the greatest
    t); otherwise raise t until t_i >= t_j + c_i (m_i - m_j) + margin (a longest path: the least
    t). With margin > 0 a positive cycle has no solution; the loop stops after |idx| + 1 passes
    and the caller's IR check then fails.
    """
    sign = 1.0 if down else -1.0
    for _ in range(len(idx) + 1):
        changed = False
        for i in idx:
            for j in idx:
                if i == j:
                    continue
                target, other = (j, i) if down else (i, j)
                bound = t[other] + c[i] * (m[target] - m[other]) - sign * margin
                if sign * (t[target] - bound) > 1e-15 * max(1.0, abs(t[target])):
                    t[target] = bound
                    changed = True
        if not changed:
            break


def greatest_t(
    econ: Economy, served: BoolArray, m: FloatArray, budget: FloatArray, ic: bool
) -> FloatArray:
    """Componentwise greatest t with t_i <= budget_i, IC among served, and exclusion bounds."""
    c, f, d = econ.costs, econ.reservation, econ.ic_margin
    k = len(m)
    upper = np.where(served, budget, 0.0).astype(np.float64)
    for j in range(k):
        if not served[j]:
            upper = np.where(served, np.minimum(upper, f[j] - d + c[j] * m), upper)
    t = upper.copy()
    if ic:
        _relax_ic(t, m, c, [i for i in range(k) if served[i]], down=True, margin=d)
    return np.where(served, t, 0.0)


def least_t(econ: Economy, served: BoolArray, m: FloatArray, ic: bool) -> FloatArray:
    """Componentwise least t with IR and IC among served types (a longest-path computation)."""
    t = np.where(served, econ.costs * m + econ.reservation, 0.0)
    if ic:
        idx = [i for i in range(len(m)) if served[i]]
        _relax_ic(t, m, econ.costs, idx, down=False, margin=econ.ic_margin)
    return t


def ir_violation(
    econ: Economy, served: BoolArray, m: FloatArray, t: FloatArray, *, ic: bool = True
) -> float:
    """Largest IR shortfall (or negative t) among served types, 0 if none; with an ic_margin,
    also the IC residual of t when the problem has IC (the margin can leave no IC-consistent t
    for some m, and :func:`greatest_t` then returns a t that still violates IC). Without IC
    (``ic=False``, the complete-information benchmark) there is no IC residual to judge."""
    slack = t - econ.costs * m - econ.reservation
    worst = float(np.max(np.where(served, -slack, -np.inf)))
    short = max(0.0, worst, float(np.max(np.where(served, -t, -np.inf))))
    if ic and econ.ic_margin > 0.0:
        short = max(short, _ic_residual(econ, served, m, t))
    return short


def _ic_residual(econ: Economy, served: BoolArray, m: FloatArray, t: FloatArray) -> float:
    """Largest IC_ij violation among served pairs (margin included), 0 below rounding."""
    c, d = econ.costs, econ.ic_margin
    own = t - c * m
    other = t[None, :] - c[:, None] * m[None, :]  # [i, j]: type i takes option j
    pairs = served[:, None] & served[None, :] & ~np.eye(len(c), dtype=bool)
    worst = float(np.max(np.where(pairs, other - own[:, None] + d, -np.inf), initial=-np.inf))
    return worst if worst > 1e-9 * max(1.0, econ.v_sup) else 0.0

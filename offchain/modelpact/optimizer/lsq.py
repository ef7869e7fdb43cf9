"""Nonnegative least squares and the small dense QPs of the fast path, in numpy only.

Hand-written rather than taken from ``scipy.optimize`` (``nnls``, SLSQP) because importing
``scipy.optimize`` costs ``modelpact solve`` 0.2-0.4 s of CPU at start, ten times a Sec. 6.2
solve, and SLSQP's Python wrapper costs more than the math on a two-type problem. These are the
textbook algorithms of Lawson and Hanson, *Solving Least Squares Problems* (1974), which SLSQP
itself is built on:

* :func:`nnls`: active-set NNLS (ch. 23, algorithm NNLS);
* :func:`ldp`: least distance programming min ||u|| s.t. G u >= h, by one NNLS (ch. 23);
* :func:`qp`: min 1/2 d'Bd + g'd s.t. C d >= h with B positive definite, reduced to an LDP
  through the Cholesky factor of B.

Nothing here has to be exact for the menus to stay certified: the fast path's result is checked
by the weak-duality bound (:mod:`~modelpact.optimizer.certificate`), which is valid for any
nonnegative multipliers, and is discarded if the gap exceeds 1e-9. tests/unit/test_lsq.py checks
:func:`nnls` against scipy's on random and degenerate problems.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelpact.optimizer.types import BoolArray, FloatArray, IntArray

__all__ = ["QpStep", "ldp", "nnls", "qp"]


def nnls(a: FloatArray, b: FloatArray, *, max_iter: int | None = None) -> FloatArray:
    """argmin ||a x - b|| over x >= 0 (Lawson-Hanson active set; unique when a has full
    column rank). Stops after ``max_iter`` (default 3 n) steps with the current iterate.

    Tests are scale-free, so columns of very different norms (the QPs' Cholesky factors give
    such) are handled alike: a column enters when its gradient exceeds rounding relative to its
    norm and the residual's, and is refused (L-H's test) when its least-squares value is not
    positive."""
    n = a.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    refused = np.zeros(n, dtype=bool)
    norms = np.linalg.norm(a, axis=0)
    for _ in range(3 * n if max_iter is None else max_iter):
        residual = b - a @ x
        w = a.T @ residual
        enter = ~passive & ~refused & (w > 1e-13 * norms * float(np.linalg.norm(residual)))
        if not enter.any():
            break
        j = int(np.argmax(np.where(enter, w / np.where(norms > 0, norms, 1.0), -np.inf)))
        passive[j] = True
        z = _passive_lstsq(a, b, passive)
        if not z[j] > 0.0:  # rounding: the column cannot enter
            passive[j], refused[j] = False, True
            continue
        refused[:] = False
        while np.any(z[passive] <= 0.0):  # step back to the boundary, drop what hits it
            going = passive & (z <= 0.0)
            ratios = np.where(going, x / np.where(going, x - z, 1.0), np.inf)
            leaving = int(np.argmin(ratios))
            x = x + float(ratios[leaving]) * (z - x)
            passive &= x > 0.0
            passive[leaving] = False
            x[~passive] = 0.0
            z = _passive_lstsq(a, b, passive)
        x = z
    return x


def _passive_lstsq(a: FloatArray, b: FloatArray, passive: BoolArray) -> FloatArray:
    z = np.zeros(a.shape[1])
    if passive.any():
        # lstsq's rank cut-off is relative to the largest singular value, so unscaled it drops
        # a column 1e-15 the norm of another as dependent (and the column is then refused
        # although its gradient says it must enter); on unit columns the cut-off is scale-free
        cols = a[:, passive]
        norms = np.linalg.norm(cols, axis=0)
        norms = np.where(norms > 0.0, norms, 1.0)
        z[passive] = np.linalg.lstsq(cols / norms, b, rcond=None)[0] / norms
    return z


def ldp(g: FloatArray, h: FloatArray) -> tuple[FloatArray, FloatArray] | None:
    """min ||u|| s.t. g u >= h: (u, multipliers >= 0), or None when infeasible."""
    n = g.shape[1]
    e = np.vstack([g.T, h[None, :]])
    f = np.zeros(n + 1)
    f[n] = 1.0
    z = nnls(e, f)
    r = e @ z - f
    if -r[n] <= 1e-12:  # ||E z - f|| = 1 with z = 0: no point meets the constraints
        return None
    return -r[:n] / r[n], z / -r[n]


@dataclass(frozen=True)
class QpStep:
    """The QP's minimiser ``d`` and the multipliers of C d >= h (>= 0)."""

    d: FloatArray
    multipliers: FloatArray


def qp(
    b_mat: FloatArray,
    g: FloatArray,
    c: FloatArray,
    h: FloatArray,
    *,
    guess: IntArray | None = None,
) -> QpStep | None:
    """min 1/2 d'Bd + g'd s.t. c d >= h (B positive definite), or None when infeasible.

    ``guess``: constraints likely active (an SQP's last active set; by default those active
    or violated at d = 0). Up to :data:`ACTIVE_SET_ROUNDS` times the KKT equations are solved
    on a working set, which then drops its most negative multiplier or adds the most violated
    constraint. When a working set gives a feasible step with nonnegative multipliers, that
    step is the minimiser (the QP is strictly convex) and no LDP is solved. Otherwise, with
    B = L L' and u = L' d + L^-1 g, the objective is 1/2 ||u||^2 less a constant and the
    constraints read (c L'^-1) u >= h + c L'^-1 L^-1 g: an LDP, whose step is then polished
    the same way."""
    if guess is None:  # the constraints active or violated at d = 0
        guess = np.flatnonzero(h >= -1e-9 * max(1.0, float(np.max(np.abs(h), initial=0.0))))
    warm = _working_set_step(b_mat, g, c, h, guess)
    if warm is not None:
        return warm
    try:
        low = np.linalg.cholesky(b_mat)
    except np.linalg.LinAlgError:
        return None
    shift = np.linalg.solve(low, g)  # L^-1 g
    g_ldp = np.linalg.solve(low, c.T).T  # c L'^-1, since (L^-1 c')' = c L'^-1
    found = ldp(g_ldp, h + g_ldp @ shift)
    if found is None:
        return None
    u, multipliers = found
    # the LDP's d inherits the conditioning of L^-1; the KKT equations on its active set do not
    polished = _kkt_step(b_mat, g, c, h, np.flatnonzero(multipliers > 0.0))
    if polished is not None:
        return polished
    return QpStep(d=np.linalg.solve(low.T, u - shift), multipliers=multipliers)


ACTIVE_SET_ROUNDS = 4  # working sets tried before the LDP (most SQP steps need 1-2)


def _working_set_step(
    b_mat: FloatArray, g: FloatArray, c: FloatArray, h: FloatArray, guess: IntArray
) -> QpStep | None:
    """The QP's minimiser by the KKT equations on a few working sets from ``guess`` (see
    :func:`qp`), or None. Only a step that :func:`_kkt_step` accepts (feasible, multipliers
    >= 0, equations solved) is returned, so the heuristic can cost time, never correctness."""
    active = np.unique(guess)
    tried: set[bytes] = set()
    for _ in range(ACTIVE_SET_ROUNDS):
        key = active.tobytes()
        if key in tried:  # cycling: the LDP decides
            return None
        tried.add(key)
        found, raw = _kkt_attempt(b_mat, g, c, h, active)
        if found is not None:
            return found
        if raw is None:
            return None
        d, mu = raw
        if len(mu) and float(np.min(mu)) < 0.0:
            active = np.delete(active, int(np.argmin(mu)))
            continue
        slack = c @ d - h
        slack[active] = np.inf
        j = int(np.argmin(slack))
        if not slack[j] < 0.0:
            return None  # feasible with mu >= 0 yet refused: the equations are not solved
        active = np.sort(np.append(active, j))
    return None


def _kkt_step(
    b_mat: FloatArray, g: FloatArray, c: FloatArray, h: FloatArray, active: IntArray
) -> QpStep | None:
    """The solution of the KKT equations with ``active`` constraints held as equalities
    (B d - C_a' mu = -g, C_a d = h_a), or None unless it is feasible, has mu >= 0 and solves
    the equations: then it is the QP's minimiser."""
    return _kkt_attempt(b_mat, g, c, h, active)[0]


def _kkt_attempt(
    b_mat: FloatArray, g: FloatArray, c: FloatArray, h: FloatArray, active: IntArray
) -> tuple[QpStep | None, tuple[FloatArray, FloatArray] | None]:
    """:func:`_kkt_step`'s answer, and the first finite (d, mu) it computed (to guide the
    next working set; None when neither solve nor lstsq gave one)."""
    n, k = len(g), len(active)
    c_a = c[active]
    kkt = np.zeros((n + k, n + k))
    kkt[:n, :n], kkt[:n, n:], kkt[n:, :n] = b_mat, -c_a.T, c_a
    rhs = np.concatenate([-g, h[active]])
    scale = 1e-12 * max(1.0, float(np.max(np.abs(h), initial=0.0)))
    tolerance = 1e-9 * (1.0 + float(np.max(np.abs(g))))
    first: tuple[FloatArray, FloatArray] | None = None
    for method in ("solve", "lstsq"):  # lstsq when active rows are dependent (pooled types
        # bind IC both ways): solve then fails, or its multipliers are one of many
        try:
            if method == "solve":
                solution = np.linalg.solve(kkt, rhs)
            else:
                solution = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
        except np.linalg.LinAlgError:
            continue
        if not np.all(np.isfinite(solution)):
            continue
        d, mu = solution[:n], solution[n:]
        first = (d, mu) if first is None else first
        residual = float(np.max(np.abs(kkt @ solution - rhs)))
        if residual <= tolerance and np.all(mu >= 0.0) and np.all(c @ d >= h - scale):
            multipliers = np.zeros(len(h))
            multipliers[active] = mu
            return QpStep(d=d, multipliers=multipliers), first
    return None, first

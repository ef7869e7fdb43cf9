"""The SQP's convex subproblem: linear constraints kept exactly, F and every t_bar_i replaced by
concave quadratic models, an l1-penalised (elastic) budget so it is always feasible, and a
box trust region. Built once with cvxpy Parameters and re-solved by Clarabel.

Scaled variables: m = m_scale * y, t = t_scale * tau; objective in value units.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from modelpact.optimizer.constraints import LinearConstraints, linear_constraints
from modelpact.optimizer.economy import Economy, pooled_start
from modelpact.optimizer.expectations import Expectations
from modelpact.optimizer.types import BoolArray, FloatArray

if TYPE_CHECKING:  # cvxpy costs 0.3-0.9 s to import: only a general SQP solve pays it
    import cvxpy as cp

__all__ = [
    "Frame",
    "Subproblem",
    "SubproblemStep",
    "frame",
    "load_model",
    "read_step",
    "solve_subproblem",
    "subproblem",
]

_CLARABEL_SETTINGS: dict[str, float] = {}  # defaults: tighter settings gave worse duals here
_INACTIVE = 1e6  # right-hand side of a switched-off linear row (scaled units; never binds)
_SHARED_MAX_K = 10  # up to here one compiled problem per (K, IC) serves every economy


@dataclass(frozen=True)
class _Compiled:
    """The cvxpy problem with its variables, parameters and the constraints whose duals we read."""

    problem: cp.Problem
    m: cp.Variable
    t: cp.Variable
    slack: cp.Variable
    grad_f: cp.Parameter
    root_f: cp.Parameter
    shift_f: cp.Parameter
    grad_t: cp.Parameter
    roots_t: list[cp.Parameter]
    shifts_t: list[cp.Parameter]
    const_t: cp.Parameter
    center: cp.Parameter
    radius: cp.Parameter
    penalty: cp.Parameter
    rhs: cp.Parameter
    bound_m: cp.Parameter
    bound_t: cp.Parameter
    budget_rows: list[cp.Constraint]
    linear: cp.Constraint
    matrix_m: cp.Parameter | None  # the constraint matrix, when it is a Parameter (shared)
    matrix_t: cp.Parameter | None


@dataclass(frozen=True)
class Frame:
    """What the solvers and the certificate share for one economy and served set: the linear
    rows, the scales, and the box implied by IR and BC (0 <= m <= upper_m, 0 <= t <= upper_t)."""

    constraints: LinearConstraints
    m_scale: float
    t_scale: float
    served: BoolArray
    upper_m: FloatArray
    upper_t: FloatArray

    @property
    def a_matrix(self) -> FloatArray:
        return self.constraints.a_matrix

    @property
    def b_vector(self) -> FloatArray:
        return self.constraints.b_vector

    @property
    def active(self) -> BoolArray:
        return self.constraints.active


def frame(econ: Economy, served: BoolArray, ic: bool) -> Frame:
    """The :class:`Frame` of ``served`` (m_scale: the pooled start, cached per economy)."""
    k = econ.scenario.n_types
    if "m_scale" not in econ.cache:
        start = pooled_start(econ, np.ones(k, dtype=bool))
        econ.cache["m_scale"] = float(max(np.max(start), 1.0))
    return Frame(
        constraints=linear_constraints(econ, served, ic),
        m_scale=float(econ.cache["m_scale"]),
        t_scale=econ.v_sup,
        served=served.copy(),
        upper_m=np.where(
            served, np.maximum((econ.v_sup - econ.reservation) / econ.costs, 0.0), 0.0
        ),
        upper_t=np.where(served, econ.v_sup, 0.0),
    )


@dataclass(frozen=True)
class Subproblem:
    """A compiled problem configured for one economy and served set."""

    compiled: _Compiled
    frame: Frame


_SHARED: dict[tuple[int, bool], _Compiled] = {}


def subproblem(econ: Economy, served: BoolArray, ic: bool) -> Subproblem:
    """The compiled subproblem, configured for ``econ`` and ``served``.

    For K <= 10 the linear constraint matrix is a Parameter too, so a single compiled problem per
    (K, IC) is reused by every solve in the process (compiling dominates small solves); beyond,
    the problem is compiled once per economy with a constant matrix (a parameter matrix with
    thousands of entries compiles slowly). Not thread-safe: solve from one thread at a time.
    """
    k = econ.scenario.n_types
    shared = k <= _SHARED_MAX_K
    fr = frame(econ, served, ic)
    compiled = _SHARED.get((k, ic)) if shared else econ.cache.get(("subproblem", ic))
    if compiled is None:
        compiled = _build(econ, ic, fr.m_scale, shared=shared)
        if shared:
            _SHARED[(k, ic)] = compiled
        else:
            econ.cache[("subproblem", ic)] = compiled
    rows = fr.constraints
    if compiled.matrix_m is not None and compiled.matrix_t is not None:
        compiled.matrix_m.value = rows.a_matrix[:, :k] * fr.m_scale
        compiled.matrix_t.value = rows.a_matrix[:, k:] * fr.t_scale
    compiled.rhs.value = np.where(rows.active, rows.b_vector, _INACTIVE)
    compiled.bound_m.value = fr.upper_m / fr.m_scale
    compiled.bound_t.value = fr.upper_t / fr.t_scale
    return Subproblem(compiled=compiled, frame=fr)


def _build(econ: Economy, ic: bool, m_scale: float, *, shared: bool) -> _Compiled:
    k = econ.scenario.n_types
    t_scale = econ.v_sup
    a_mat = linear_constraints(econ, np.ones(k, dtype=bool), ic).a_matrix
    import cvxpy as cp

    y = cp.Variable(k, name="m_scaled")
    tau = cp.Variable(k, name="t_scaled")
    slack = cp.Variable(k, nonneg=True, name="budget_slack")
    grad_f, root_f, shift_f = cp.Parameter(k), cp.Parameter((k, k)), cp.Parameter(k)
    grad_t, const_t = cp.Parameter((k, k)), cp.Parameter(k)
    roots_t = [cp.Parameter((k, k)) for _ in range(k)]
    shifts_t = [cp.Parameter(k) for _ in range(k)]
    center, radius = cp.Parameter(k), cp.Parameter(nonneg=True)
    penalty, rhs = cp.Parameter(nonneg=True), cp.Parameter(len(a_mat))
    bound_m, bound_t = cp.Parameter(k, nonneg=True), cp.Parameter(k, nonneg=True)
    budget_rows = [
        tau[i]
        <= const_t[i]
        + grad_t[i] @ y
        - 0.5 * cp.sum_squares(roots_t[i] @ y - shifts_t[i])  # type: ignore[attr-defined]
        + slack[i]
        for i in range(k)
    ]
    matrix_m = matrix_t = None
    if shared:
        matrix_m = cp.Parameter(a_mat[:, :k].shape)
        matrix_t = cp.Parameter(a_mat[:, k:].shape)
        linear = matrix_m @ y + matrix_t @ tau <= rhs
    else:
        linear = (a_mat[:, :k] * m_scale) @ y + (a_mat[:, k:] * t_scale) @ tau <= rhs
    box = [y >= 0, y <= bound_m, tau >= 0, tau <= bound_t]
    trust = cp.abs(y - center) <= radius  # type: ignore[attr-defined]
    objective = grad_f @ y - 0.5 * cp.sum_squares(root_f @ y - shift_f) - penalty * cp.sum(slack)  # type: ignore[attr-defined]
    problem = cp.Problem(cp.Maximize(objective), [*budget_rows, linear, *box, trust])
    return _Compiled(
        problem=problem,
        m=y,
        t=tau,
        slack=slack,
        grad_f=grad_f,
        root_f=root_f,
        shift_f=shift_f,
        grad_t=grad_t,
        roots_t=roots_t,
        shifts_t=shifts_t,
        const_t=const_t,
        center=center,
        radius=radius,
        penalty=penalty,
        rhs=rhs,
        bound_m=bound_m,
        bound_t=bound_t,
        budget_rows=budget_rows,
        linear=linear,
        matrix_m=matrix_m,
        matrix_t=matrix_t,
    )


def sqrt_nsd(h: FloatArray) -> FloatArray:
    """L with L'L = -proj_NSD(h): the concave part of a symmetric matrix, as a square root."""
    w, vecs = np.linalg.eigh(0.5 * (h + h.T))
    root: FloatArray = np.sqrt(np.maximum(-w, 0.0))[:, None] * vecs.T
    return root


def load_model(
    sub: Subproblem,
    *,
    vals: Expectations,
    m: FloatArray,
    budget: FloatArray,
    radius: float,
    penalty: float,
    sigma: float,
) -> FloatArray:
    """Set the quadratic models of F (times ``sigma``) and of every budget row around ``m``;
    returns the square root of F's model curvature (scaled units) for the predicted gain."""
    assert vals.objective_hess is not None
    assert vals.tbar_hess is not None
    c, served, m_scale, ts = sub.compiled, sub.frame.served, sub.frame.m_scale, sub.frame.t_scale
    k = len(served)
    c.center.value = m / m_scale
    c.radius.value = radius
    c.penalty.value = penalty * ts  # per unit of slack in tau
    c.grad_f.value = sigma * vals.objective_grad * m_scale
    root = sqrt_nsd(sigma * vals.objective_hess) * m_scale
    c.root_f.value = root
    c.shift_f.value = root @ (m / m_scale)
    # unserved rows: tau_j = 0 <= 1, a model that never binds
    c.grad_t.value = np.where(served[:, None], vals.tbar_grad * m_scale / ts, 0.0)
    c.const_t.value = np.where(served, (budget - vals.tbar_grad @ m) / ts, 1.0)
    for i in range(k):
        r_i = (
            sqrt_nsd(vals.tbar_hess[i]) * m_scale / math.sqrt(ts) if served[i] else np.zeros((k, k))
        )
        c.roots_t[i].value = r_i
        c.shifts_t[i].value = r_i @ (m / m_scale)
    return root


def solve_subproblem(sub: Subproblem) -> str:
    """Solve with Clarabel; the cvxpy status (``"solver_error"`` when Clarabel raises)."""
    import cvxpy as cp

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # inaccurate status is gated below
            sub.compiled.problem.solve(solver=cp.CLARABEL, warm_start=False, **_CLARABEL_SETTINGS)  # type: ignore[no-untyped-call]
    except cp.error.SolverError:
        return "solver_error"
    return str(sub.compiled.problem.status)


@dataclass(frozen=True)
class SubproblemStep:
    """The subproblem's solution in original units, with its multipliers (scaled units)."""

    m: FloatArray
    t: FloatArray
    slack: FloatArray  # budget slack, in units of t_scale
    lam: FloatArray  # budget rows' duals
    duals: FloatArray  # linear rows' duals (0 on inactive rows)


def read_step(sub: Subproblem) -> SubproblemStep:
    """The solved subproblem's point and multipliers."""
    c, fr = sub.compiled, sub.frame
    served = fr.served
    y_new = np.asarray(c.m.value, dtype=np.float64)
    lam = np.where(
        served, [max(float(np.ravel(row.dual_value)[0]), 0.0) for row in c.budget_rows], 0.0
    )
    duals = np.where(
        fr.active, np.maximum(np.asarray(c.linear.dual_value, dtype=np.float64), 0.0), 0.0
    )
    return SubproblemStep(
        m=np.where(served, np.maximum(y_new * fr.m_scale, 0.0), 0.0),
        t=np.where(served, np.asarray(c.t.value, dtype=np.float64) * fr.t_scale, 0.0),
        slack=np.asarray(c.slack.value, dtype=np.float64),
        lam=lam,
        duals=duals,
    )

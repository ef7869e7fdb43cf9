"""The first-moment problem, solved to a certified optimum.

    maximise   F(m) = E_n[a(n . m)]
    subject to IR_i : t_i - c_i m_i >= f_i                  (served i)
               IC_ij: t_i - c_i m_i >= t_j - c_i m_j        (all served pairs)
               BC_i : t_i <= tbar_i(m)                       (served i)
               EX_j : t_i - c_j m_i <= f_j                   (unserved j, served i)
               m, t >= 0; unserved types have m = t = 0

F and every tbar_i are smooth concave functions of only K variables. We evaluate value, gradient
and Hessian vectorised over the outcomes (:mod:`modelpact.outcomes`) and solve a small convex
model with cvxpy (built once per served set from Parameters, solved by Clarabel): a trust-region
SQP whose subproblem keeps the linear constraints exactly and replaces F and tbar_i by concave
quadratic models (elastic, so it is always feasible), with an l1 merit function.

Certificate: for any multipliers lambda, y >= 0, weak duality gives
    OPT <= sup_{box} F^(m) + sum_i lambda_i (tbar^_i(m) - t_i) - y'(A x - b),
where ^ marks the concave majorants of the curves (:mod:`modelpact.economics`) and the box
0 <= m_i <= (v_max - f_i)/c_i, 0 <= t_i <= v_max is implied by IR and BC. With the SQP's duals
the sup is computed by projected Newton and bounded above by the tangent plane over the box, so
``upper_bound`` is rigorous (for exact expectations) whatever the solver's accuracy.

Published t: for the optimal m, t is the greatest vector with BC, IC and EX (a shortest-path
computation over the IC graph): the lowest-cost type gets t_K = tbar_K and the local downward ICs
bind, as in the paper; then IR is checked.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, ParamSpec, TypeVar

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import nnls
from scipy.stats import norm
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from modelpact.economics import reservation_utilities
from modelpact.errors import InfeasibleScenarioError, ScenarioError, SolverError
from modelpact.menu import Benchmarks, Menu, MenuOption
from modelpact.outcomes import BeliefModel, belief_model, count_outcomes
from modelpact.scenario import Scenario, scenario_sha256

__all__ = [
    "EXACT_LIMIT",
    "conditional_values",
    "economy_model",
    "integerize_menu",
    "menu_for_m",
    "solve",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Belief = Literal["bayes", "paper"]

EXACT_LIMIT = 3_000_000  # outcomes; beyond this exact enumeration is refused
_EXACT_SEARCH_MAX_K = 8  # type selection: exhaustive up to this many types, greedy beyond
_FEASIBILITY_TOL = 1e-7


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _single_blas_thread(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run with one BLAS thread: our matrices are thin (K or K*K columns), and multithreaded
    OpenBLAS on them was measured up to 6x slower on a busy 2-core machine."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return wrapper


# ------------------------------------------------------------------------------------------
# Evaluation of F and tbar with derivatives, vectorised over outcomes
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Values:
    objective: float  # F(m), expected accuracy
    objective_grad: FloatArray  # (K,)
    objective_hess: FloatArray | None  # (K, K)
    tbar: FloatArray  # (K,)
    tbar_grad: FloatArray  # (K, K), row i = grad tbar_i
    tbar_hess: FloatArray | None  # (K, K, K)
    value: float  # E v(a(n . m))


def _weighted_hessian(base: FloatArray, d: FloatArray, i: int | None) -> FloatArray:
    """sum_o d_o x_o x_o' with x_o = base_o (+ e_i when i is given)."""
    h: FloatArray = (base * d[:, None]).T @ base
    if i is not None:
        bd = base.T @ d
        h[i, :] += bd
        h[:, i] += bd
        h[i, i] += d.sum()
    return h


def _evaluate(
    scenario: Scenario,
    model: BeliefModel,
    m: FloatArray,
    *,
    envelope: bool = False,
    hessians: bool = True,
) -> _Values:
    k = len(m)
    # paper belief: every type sees the same pooled data, so evaluate one column and broadcast
    s = model.pooled(m) if model.shifted else (model.base @ m)[:, None]
    a, a1, a2 = scenario.accuracy.evaluate(s, envelope=envelope)
    v, v1, v2 = scenario.valuation.evaluate(a)
    u1 = v1 * a1
    u2 = v2 * a1**2 + v1 * a2
    ow, tw = model.objective_weights, model.tbar_weights
    base = model.base
    if model.shifted:
        objective = float(np.einsum("io,oi->", ow, a))
        value = float(np.einsum("io,oi->", ow, v))
        tbar = np.einsum("io,oi->i", tw, v)
    else:
        objective = float(ow[0] @ a[:, 0])
        value = float(ow[0] @ v[:, 0])
        tbar = tw @ v[:, 0]
    if model.shifted:
        wa1 = ow.T * a1  # (M, K)
        grad_f = base.T @ wa1.sum(axis=1) + wa1.sum(axis=0)
        wu1 = tw.T * u1
        grad_t = (base.T @ wu1).T + np.diag(wu1.sum(axis=0))
    else:
        grad_f = base.T @ (ow[0] * a1[:, 0])
        grad_t = (base.T @ (tw.T * u1[:, :1])).T
    hess_f = hess_t = None
    if hessians:
        outer = model.outer  # (M, K*K)
        if model.shifted:
            d_f = ow.T * a2  # (M, K): weight of outcome o in type i's term
            d_t = tw.T * u2
            hess_f = (outer.T @ d_f.sum(axis=1)).reshape(k, k)
            bd_f = base.T @ d_f  # column i = B' d_i
            hess_f += bd_f + bd_f.T + np.diag(d_f.sum(axis=0))
            hess_t = (outer.T @ d_t).T.reshape(k, k, k)  # (d_t.T @ outer) hits a slow BLAS path
            bd_t = base.T @ d_t
            diag = np.arange(k)
            hess_t[diag, diag, :] += bd_t.T
            hess_t[diag, :, diag] += bd_t.T
            hess_t[diag, diag, diag] += d_t.sum(axis=0)
        else:
            hess_f = (outer.T @ (ow[0] * a2[:, 0])).reshape(k, k)
            hess_t = (outer.T @ (tw * u2[:, 0][None, :]).T).T.reshape(k, k, k)
    return _Values(objective, grad_f, hess_f, tbar, grad_t, hess_t, value)


def _tbar_spread(scenario: Scenario, model: BeliefModel, m: FloatArray) -> tuple[FloatArray, float]:
    """Sampled standard errors: of each tbar_i estimate, and of the expected-accuracy estimate."""
    s = model.pooled(m)
    a = scenario.accuracy(s)
    v = scenario.valuation(a)
    size = model.size
    se = np.zeros(len(m))
    for i in range(len(m)):
        w = model.tbar_weights[i]
        mask = w > 0
        count = int(mask.sum())
        vals = v[mask, i] if model.shifted else v[mask, 0]
        se[i] = float(np.std(vals, ddof=1) / math.sqrt(count)) if count > 1 else math.inf
    per_outcome = np.einsum("io,oi->o", model.objective_weights, a) * size
    se_f = float(np.std(per_outcome, ddof=1) / math.sqrt(size))
    return se, se_f


# ------------------------------------------------------------------------------------------
# The economy for one solve: costs, reservation utilities, outcomes
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Economy:
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


def _economy(scenario: Scenario, belief: Belief, model: BeliefModel | None = None) -> _Economy:
    f, r = reservation_utilities(scenario.accuracy, scenario.valuation, scenario.costs)
    v_sup = float(scenario.valuation(np.array([scenario.accuracy.supremum]))[0])
    return _Economy(
        scenario=scenario,
        belief=belief,
        model=model if model is not None else economy_model(scenario, belief=belief),
        costs=scenario.costs,
        reservation=f,
        reservation_m=r,
        v_sup=v_sup,
        margin=np.zeros(scenario.n_types),
    )


@_single_blas_thread
def conditional_values(
    scenario: Scenario, m: FloatArray, *, belief: Belief, model: BeliefModel | None = None
) -> tuple[FloatArray, float, float]:
    """(tbar(m), expected accuracy, expected value) of data vector ``m`` under ``belief``."""
    mdl = model if model is not None else economy_model(scenario, belief=belief)
    values = _evaluate(scenario, mdl, np.asarray(m, dtype=np.float64), hessians=False)
    return values.tbar, values.objective, values.value


# ------------------------------------------------------------------------------------------
# Linear constraints and the greatest feasible t for a given m
# ------------------------------------------------------------------------------------------


def _linear_constraints(
    econ: _Economy, served: BoolArray, ic: bool
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """A, b, active with A @ [m; t] <= b on the active rows: IR, IC, exclusion.

    A and b hold every row any served set could need (IR_i; IC_ij for all pairs if ``ic``;
    EX_ji for all pairs), so the compiled subproblem is shared by all served sets; ``active``
    marks the rows of this served set.
    """
    k = len(served)
    c, f = econ.costs, econ.reservation
    rows: list[FloatArray] = []
    rhs: list[float] = []
    active: list[bool] = []
    for i in range(k):  # IR: -t_i + c_i m_i <= -f_i
        row = np.zeros(2 * k)
        row[k + i], row[i] = -1.0, c[i]
        rows.append(row)
        rhs.append(-f[i])
        active.append(bool(served[i]))
    if ic:
        for i in range(k):  # type i weakly prefers its own option to j's
            for j in range(k):
                if i != j:
                    row = np.zeros(2 * k)
                    row[k + j], row[j] = 1.0, -c[i]
                    row[k + i], row[i] = -1.0, c[i]
                    rows.append(row)
                    rhs.append(0.0)
                    active.append(bool(served[i] and served[j]))
    for j in range(k):  # excluded j prefers its outside option to every offered option
        for i in range(k):
            if i != j:
                row = np.zeros(2 * k)
                row[k + i], row[i] = 1.0, -c[j]
                rows.append(row)
                rhs.append(f[j])
                active.append(bool(served[i] and not served[j]))
    return np.array(rows), np.array(rhs), np.array(active, dtype=bool)


def _greatest_t(
    econ: _Economy, served: BoolArray, m: FloatArray, budget: FloatArray, ic: bool
) -> FloatArray:
    """Componentwise greatest t with t_i <= budget_i, IC among served, and exclusion bounds."""
    c, f = econ.costs, econ.reservation
    k = len(m)
    upper = np.where(served, budget, 0.0).astype(np.float64)
    for j in range(k):
        if not served[j]:
            upper = np.where(served, np.minimum(upper, f[j] + c[j] * m), upper)
    t = upper.copy()
    if ic:
        idx = [i for i in range(k) if served[i]]
        for _ in range(len(idx) + 1):  # Bellman-Ford: t_j <= t_i + c_i (m_j - m_i)
            changed = False
            for i in idx:
                for j in idx:
                    bound = t[i] + c[i] * (m[j] - m[i])
                    if i != j and bound < t[j] - 1e-15 * max(1.0, abs(t[j])):
                        t[j] = bound
                        changed = True
            if not changed:
                break
    return np.where(served, t, 0.0)


def _least_t(econ: _Economy, served: BoolArray, m: FloatArray, ic: bool) -> FloatArray:
    """Componentwise least t with IR and IC among served types (a longest-path computation)."""
    c = econ.costs
    t = np.where(served, c * m + econ.reservation, 0.0)
    idx = [i for i in range(len(m)) if served[i]]
    if ic:
        for _ in range(len(idx) + 1):  # t_i >= t_j + c_i (m_i - m_j)
            changed = False
            for i in idx:
                for j in idx:
                    bound = t[j] + c[i] * (m[i] - m[j])
                    if i != j and bound > t[i] + 1e-15 * max(1.0, abs(t[i])):
                        t[i] = bound
                        changed = True
            if not changed:
                break
    return t


def _ir_violation(econ: _Economy, served: BoolArray, m: FloatArray, t: FloatArray) -> float:
    slack = t - econ.costs * m - econ.reservation
    worst = float(np.max(np.where(served, -slack, -np.inf)))
    return max(0.0, worst, float(np.max(np.where(served, -t, -np.inf))))


# ------------------------------------------------------------------------------------------
# The convex subproblem, built once per (served set, IC) from Parameters
# ------------------------------------------------------------------------------------------


def _sqrt_nsd(h: FloatArray) -> FloatArray:
    """L with L'L = -proj_NSD(h): the concave part of a symmetric matrix, as a square root."""
    w, vecs = np.linalg.eigh(0.5 * (h + h.T))
    root: FloatArray = np.sqrt(np.maximum(-w, 0.0))[:, None] * vecs.T
    return root


_CLARABEL_SETTINGS: dict[str, float] = {}  # defaults: tighter settings gave worse duals here
_INACTIVE = 1e6  # right-hand side of a switched-off linear row (scaled units; never binds)
_MAX_PENALTY = 1e5  # l1 merit weight cap (x objective scale): beyond it Clarabel loses accuracy


@dataclass
class _Subproblem:
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
    a_matrix: FloatArray
    b_vector: FloatArray
    m_scale: float
    t_scale: float
    ic: bool
    matrix_m: cp.Parameter | None
    matrix_t: cp.Parameter | None
    active: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    served: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    upper_m: FloatArray = field(default_factory=lambda: np.zeros(0))
    upper_t: FloatArray = field(default_factory=lambda: np.zeros(0))


_SHARED_MAX_K = 10  # up to here one compiled problem per (K, IC) serves every economy
_SHARED: dict[tuple[int, bool], _Subproblem] = {}


def _subproblem(econ: _Economy, served: BoolArray, ic: bool) -> _Subproblem:
    """The compiled subproblem, configured for ``econ`` and ``served``.

    Scaled variables: m = m_scale * y, t = t_scale * tau; objective in value units. For
    K <= 10 the linear constraint matrix is a Parameter too, so a single compiled problem per
    (K, IC) is reused by every solve in the process (compiling dominates small solves); beyond,
    the problem is compiled once per economy with a constant matrix (a parameter matrix with
    thousands of entries compiles slowly). Not thread-safe: solve from one thread at a time.
    """
    k = econ.scenario.n_types
    shared = k <= _SHARED_MAX_K
    if "m_scale" not in econ.cache:
        start = _pooled_start(econ, np.ones(k, dtype=bool))
        econ.cache["m_scale"] = float(max(np.max(start), 1.0))
    m_scale = float(econ.cache["m_scale"])
    cached = _SHARED.get((k, ic)) if shared else econ.cache.get(("subproblem", ic))
    if cached is None:
        cached = _build(econ, ic, m_scale, shared=shared)
        if shared:
            _SHARED[(k, ic)] = cached
        else:
            econ.cache[("subproblem", ic)] = cached
    sub = cached
    a_mat, b_vec, active = _linear_constraints(econ, served, ic)
    sub.m_scale, sub.t_scale = m_scale, econ.v_sup
    sub.a_matrix, sub.b_vector = a_mat, b_vec
    if sub.matrix_m is not None and sub.matrix_t is not None:
        sub.matrix_m.value = a_mat[:, :k] * m_scale
        sub.matrix_t.value = a_mat[:, k:] * sub.t_scale
    sub.active = active
    sub.served = served.copy()
    sub.rhs.value = np.where(active, b_vec, _INACTIVE)
    sub.upper_m = np.where(
        served, np.maximum((econ.v_sup - econ.reservation) / econ.costs, 0.0), 0.0
    )
    sub.upper_t = np.where(served, econ.v_sup, 0.0)
    sub.bound_m.value = sub.upper_m / sub.m_scale
    sub.bound_t.value = sub.upper_t / sub.t_scale
    return sub


def _build(econ: _Economy, ic: bool, m_scale: float, *, shared: bool) -> _Subproblem:
    k = econ.scenario.n_types
    t_scale = econ.v_sup
    a_mat, b_vec, _ = _linear_constraints(econ, np.ones(k, dtype=bool), ic)
    y = cp.Variable(k, name="m_scaled")
    tau = cp.Variable(k, name="t_scaled")
    slack = cp.Variable(k, nonneg=True, name="budget_slack")
    grad_f = cp.Parameter(k)
    root_f = cp.Parameter((k, k))
    shift_f = cp.Parameter(k)
    grad_t = cp.Parameter((k, k))
    roots_t = [cp.Parameter((k, k)) for _ in range(k)]
    shifts_t = [cp.Parameter(k) for _ in range(k)]
    const_t = cp.Parameter(k)
    center = cp.Parameter(k)
    radius = cp.Parameter(nonneg=True)
    penalty = cp.Parameter(nonneg=True)
    rhs = cp.Parameter(len(b_vec))
    bound_m = cp.Parameter(k, nonneg=True)
    bound_t = cp.Parameter(k, nonneg=True)
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
    constraints: list[cp.Constraint] = [
        *budget_rows,
        linear,
        y >= 0,
        y <= bound_m,
        tau >= 0,
        tau <= bound_t,
        cp.abs(y - center) <= radius,  # type: ignore[attr-defined]
    ]
    objective = grad_f @ y - 0.5 * cp.sum_squares(root_f @ y - shift_f) - penalty * cp.sum(slack)  # type: ignore[attr-defined]
    problem = cp.Problem(cp.Maximize(objective), constraints)
    return _Subproblem(
        problem,
        y,
        tau,
        slack,
        grad_f,
        root_f,
        shift_f,
        grad_t,
        roots_t,
        shifts_t,
        const_t,
        center,
        radius,
        penalty,
        rhs,
        bound_m,
        bound_t,
        budget_rows,
        linear,
        a_mat,
        b_vec,
        m_scale,
        t_scale,
        ic,
        matrix_m,
        matrix_t,
    )


def _solve_sub(sub: _Subproblem) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # inaccurate status is gated below
            sub.problem.solve(solver=cp.CLARABEL, warm_start=False, **_CLARABEL_SETTINGS)  # type: ignore[no-untyped-call]
    except cp.error.SolverError:
        return "solver_error"
    return str(sub.problem.status)


@dataclass(frozen=True)
class _Solution:
    served: BoolArray
    m: FloatArray
    t: FloatArray
    tbar: FloatArray
    objective: float
    value: float
    upper_bound: float
    iterations: int


def _merit_violation(t: FloatArray, tbar: FloatArray, served: BoolArray) -> float:
    return float(np.sum(np.where(served, np.maximum(t - tbar, 0.0), 0.0)))


def _pooled_start(econ: _Economy, served: BoolArray) -> FloatArray:
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


def _sqp(
    econ: _Economy,
    served: BoolArray,
    ic: bool,
    *,
    start: FloatArray | None = None,
    tol: float = 1e-12,
    max_iter: int = 200,
    restart: bool = True,
) -> _Solution:
    scenario, model = econ.scenario, econ.model
    m = _pooled_start(econ, served) if start is None else np.where(served, start, 0.0)
    sub = _subproblem(econ, served, ic)
    m_scale = sub.m_scale
    sigma = econ.v_sup  # objective in value units
    vals = _evaluate(scenario, model, m)
    budget = vals.tbar - econ.margin
    t = _least_t(econ, served, m, ic)  # meets IR and IC, so the merit only measures BC
    rho = 10.0 * sigma
    radius = 0.5
    lam = np.zeros(len(served))
    duals_y = np.zeros(len(sub.b_vector))
    iterations = 0
    converged = False
    for iterations in range(1, max_iter + 1):  # noqa: B007
        assert vals.objective_hess is not None
        assert vals.tbar_hess is not None
        sub.center.value = m / m_scale
        sub.radius.value = radius
        sub.penalty.value = rho * sub.t_scale  # per unit of slack in tau
        sub.grad_f.value = sigma * vals.objective_grad * m_scale
        root = _sqrt_nsd(sigma * vals.objective_hess) * m_scale
        sub.root_f.value = root
        sub.shift_f.value = root @ (m / m_scale)
        # unserved rows: tau_j = 0 <= 1, a model that never binds
        sub.grad_t.value = np.where(served[:, None], vals.tbar_grad * m_scale / sub.t_scale, 0.0)
        sub.const_t.value = np.where(served, (budget - vals.tbar_grad @ m) / sub.t_scale, 1.0)
        for i in range(len(served)):
            r_i = (
                _sqrt_nsd(vals.tbar_hess[i]) * m_scale / math.sqrt(sub.t_scale)
                if served[i]
                else np.zeros((len(served), len(served)))
            )
            sub.roots_t[i].value = r_i
            sub.shifts_t[i].value = r_i @ (m / m_scale)
        status = _solve_sub(sub)
        if status not in ("optimal", "optimal_inaccurate"):
            if radius < 1e3:
                radius = 1e6  # maybe the trust region cut off the linear constraints
                continue
            raise InfeasibleScenarioError(
                f"{scenario.source}: no menu satisfies IR, IC and exclusion for served types "
                f"{[int(i) + 1 for i in np.flatnonzero(served)]} (subproblem {status})",
                hint='serve other types (e.g. serve = "optimal") or change costs',
            )
        y_new = np.asarray(sub.m.value, dtype=np.float64)
        m_new = np.where(served, np.maximum(y_new * m_scale, 0.0), 0.0)
        t_new = np.where(served, np.asarray(sub.t.value, dtype=np.float64) * sub.t_scale, 0.0)
        slack_val = np.asarray(sub.slack.value, dtype=np.float64)
        lam_sub = np.where(
            served,
            [max(float(np.ravel(c.dual_value)[0]), 0.0) for c in sub.budget_rows],
            0.0,
        )
        y_sub = np.where(
            sub.active, np.maximum(np.asarray(sub.linear.dual_value, dtype=np.float64), 0.0), 0.0
        )
        d = (m_new - m) / m_scale
        model_gain = float(sub.grad_f.value @ d - 0.5 * np.sum((root @ d) ** 2))
        viol_now = _merit_violation(t, budget, served)
        pred = model_gain + rho * viol_now - rho * float(slack_val.sum()) * sub.t_scale
        new_vals = _evaluate(scenario, model, m_new)
        new_budget = new_vals.tbar - econ.margin
        viol_new = _merit_violation(t_new, new_budget, served)
        actual = sigma * (new_vals.objective - vals.objective) + rho * (viol_now - viol_new)
        step = float(np.max(np.abs(d))) if len(d) else 0.0
        if np.max(lam_sub, initial=0.0) > 0.5 * rho * sub.t_scale:
            rho = min(10.0 * rho, _MAX_PENALTY * sigma)
        if pred <= tol * sigma and viol_now <= 1e-10 * sigma:
            converged = True
            lam, duals_y = lam_sub, y_sub
            break
        ratio = actual / pred if pred > 0 else -1.0
        if ratio > 0.1 or (pred <= 1e-14 * sigma and actual >= -1e-13 * sigma):
            m, vals, budget = m_new, new_vals, new_budget
            t = t_new
            lam, duals_y = lam_sub, y_sub
            if ratio > 0.75 and step > 0.9 * radius:
                radius = min(2.0 * radius, 1e6)
        else:
            radius = max(0.25 * step, 1e-12)
            if radius <= 1e-9:
                break  # stagnated: judged by feasibility below
    t_final = _greatest_t(econ, served, m, budget, ic)
    violation = _ir_violation(econ, served, m, t_final)
    alone = np.where(served, econ.reservation_m, 0.0)
    failed = violation > _FEASIBILITY_TOL * max(1.0, econ.v_sup) or not converged
    if failed and restart and np.any(alone > 0):
        # The SQP can stall at an infeasible point (the curve is flat near 0, so the model
        # sees no way back). Restart where every type contributes what it would train on
        # alone, which is often feasible: under bayes tbar_i there is at least v(a(r_i)).
        try:
            return _sqp(econ, served, ic, start=alone, tol=tol, max_iter=max_iter, restart=False)
        except (InfeasibleScenarioError, SolverError):
            pass
    if violation > _FEASIBILITY_TOL * max(1.0, econ.v_sup) and np.all(
        econ.reservation[served] <= 0.0
    ):
        # Stuck at an infeasible point while nobody could train alone: the menu m = t = 0 is
        # feasible (collaboration does not pay for these types). Publish it with the valid,
        # possibly loose, weak-duality bound from the multipliers at hand.
        m = np.zeros(len(served))
        vals = _evaluate(scenario, model, m)
        budget = vals.tbar - econ.margin
        t_final = np.zeros(len(served))
        violation = 0.0
    elif not converged and iterations >= max_iter:
        raise SolverError(
            f"{scenario.source}: SQP did not converge in {max_iter} iterations",
            hint="report this scenario; try the other belief or fewer types",
        )
    if violation > _FEASIBILITY_TOL * max(1.0, econ.v_sup):
        raise InfeasibleScenarioError(
            f"{scenario.source}: no feasible menu serves types "
            f"{[int(i) + 1 for i in np.flatnonzero(served)]} (IR short by {violation:.3g})",
            hint='serve other types (serve = "optimal") or check costs and the accuracy curve',
        )
    upper = _upper_bound(econ, served, ic, m, lam, duals_y, sigma, sub)
    refined = _kkt_multipliers(econ, served, m, t_final, vals, budget, sub)
    if refined is not None:  # any multipliers give a valid bound: keep the tighter one
        lam_r, y_r = refined
        upper = min(upper, _upper_bound(econ, served, ic, m, lam_r, y_r, sigma, sub))
    upper = min(upper, scenario.accuracy.supremum)
    return _Solution(
        served=served,
        m=m,
        t=t_final,
        tbar=vals.tbar,
        objective=vals.objective,
        value=vals.value,
        upper_bound=max(upper, vals.objective),
        iterations=iterations,
    )


# ------------------------------------------------------------------------------------------
# Certified upper bound by weak duality (see module doc)
# ------------------------------------------------------------------------------------------


def _kkt_multipliers(
    econ: _Economy,
    served: BoolArray,
    m: FloatArray,
    t: FloatArray,
    vals: _Values,
    budget: FloatArray,
    sub: _Subproblem,
) -> tuple[FloatArray, FloatArray] | None:
    """Small nonnegative multipliers for the constraints active at (m, t), by regularised NNLS
    on the stationarity conditions, returned in the subproblem's scaled units.

    When constraints are degenerate (e.g. IR and BC of one type both bind) the solver's
    multipliers can be huge along a direction that cancels at the optimum but not in the
    Lagrangian's sup over the box; minimal multipliers give a much tighter bound.
    """
    k = len(served)
    sigma, ts = econ.v_sup, sub.t_scale
    x = np.concatenate([m, t])
    a_mat, b_vec = sub.a_matrix, sub.b_vector
    scale = max(1.0, econ.v_sup)
    rows_on = sub.active & (a_mat @ x >= b_vec - 1e-7 * scale)
    bc_on = served & (t >= budget - 1e-7 * scale)
    free_m = served & (m > 1e-9 * max(1.0, float(m.max(initial=0.0))))
    free_t = served & (t > 1e-9 * scale) & (t < sub.upper_t - 1e-9 * scale)
    a_on = a_mat[rows_on]
    lam_idx = np.flatnonzero(bc_on)
    # unknowns z = [lambda (active BC), y (active rows)] >= 0, original units:
    #   grad F + sum lambda_i grad tbar_i - A_m' y = 0   (free m)
    #   -lambda - A_t' y = 0                             (free t)
    cols_lam_m = vals.tbar_grad[lam_idx].T  # (K, n_lam)
    cols_lam_t = -np.eye(k)[:, lam_idx]
    mat_m = np.hstack([cols_lam_m, -a_on[:, :k].T])[free_m]
    mat_t = np.hstack([cols_lam_t, -a_on[:, k:].T])[free_t]
    matrix = np.vstack([mat_m, mat_t])
    rhs = np.concatenate([-vals.objective_grad[free_m], np.zeros(int(free_t.sum()))])
    n = matrix.shape[1]
    if n == 0 or matrix.shape[0] == 0:
        return None
    reg = 1e-9 * max(1.0, float(np.abs(matrix).max()))
    z, _ = nnls(np.vstack([matrix, reg * np.eye(n)]), np.concatenate([rhs, np.zeros(n)]))
    lam = np.zeros(k)
    lam[lam_idx] = z[: len(lam_idx)]
    y = np.zeros(len(b_vec))
    y[np.flatnonzero(rows_on)] = z[len(lam_idx) :]
    # back to the scaled units _upper_bound expects (lam_s = lam * sigma * ts, y_s = y * sigma)
    return lam * sigma * ts, y * sigma


def _upper_bound(
    econ: _Economy,
    served: BoolArray,
    ic: bool,
    m_start: FloatArray,
    lam_scaled: FloatArray,
    y_scaled: FloatArray,
    sigma: float,
    sub: _Subproblem,
) -> float:
    """Weak-duality bound on F using the subproblem's duals (converted to original units)."""
    k = len(served)
    # scaled problem: sigma*F - lam_s*(tau - tbar/ts) - y_s*(A D z - b)
    #   == sigma*(F - lam*(t - tbar)
    # - y*(A x - b)) with lam = lam_s/(sigma*ts), y = y_s/sigma.
    lam = lam_scaled / (sigma * sub.t_scale)
    y = y_scaled / sigma
    a_mat, b_vec = sub.a_matrix, sub.b_vector
    a_m = a_mat[:, :k] if len(a_mat) else np.zeros((0, k))
    a_t = a_mat[:, k:] if len(a_mat) else np.zeros((0, k))
    lin_m = a_m.T @ y if len(y) else np.zeros(k)
    # t enters linearly: raise lambda just enough that t's coefficient is <= 0 (any lambda >= 0
    # is a valid multiplier), so solver round-off in the duals costs nothing times t's box
    lam = np.where(served, np.maximum(lam, -(a_t.T @ y)), 0.0)
    coef_t = -lam - (a_t.T @ y if len(y) else np.zeros(k))
    t_part = float(np.sum(np.maximum(coef_t, 0.0) * sub.upper_t))
    const = float(y @ b_vec) if len(y) else 0.0
    lower, upper = np.zeros(k), sub.upper_m
    margin = econ.margin

    def h(m: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        vals = _evaluate(econ.scenario, econ.model, m, envelope=True)
        assert vals.objective_hess is not None
        assert vals.tbar_hess is not None
        value = vals.objective + float(lam @ (vals.tbar - margin)) - float(lin_m @ m)
        grad = vals.objective_grad + lam @ vals.tbar_grad - lin_m
        hess = vals.objective_hess + np.einsum("i,ijk->jk", lam, vals.tbar_hess)
        return value, grad, hess

    m = np.clip(m_start, lower, upper)
    value, grad, hess = h(m)
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
        alpha = 1.0
        improved = False
        for _ls in range(20):
            cand = np.clip(m + alpha * step, lower, upper)
            c_value, c_grad, c_hess = h(cand)
            # accept any non-decrease (the bound below is valid at every point; Newton only
            # makes it tighter), and full steps whose change is lost in rounding
            if c_value >= value or (alpha == 1.0 and c_value >= value - 1e-14 * abs(value)):
                m, value, grad, hess = cand, c_value, c_grad, c_hess
                improved = True
                break
            alpha *= 0.5
        if not improved or decrement < 1e-24:
            break
    tangent = float(
        np.sum(np.where(served, np.maximum(grad * (lower - m), grad * (upper - m)), 0.0))
    )
    return value + tangent + t_part + const


# ------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------


def _options(
    econ: _Economy, served: BoolArray, m: FloatArray, t: FloatArray, tbar: FloatArray
) -> tuple[MenuOption, ...]:
    options = []
    for i, spec in enumerate(econ.scenario.types):
        ratio = float(t[i] / tbar[i]) if served[i] and tbar[i] > 0 else 0.0
        options.append(
            MenuOption(
                type=i + 1,
                cost=spec.cost,
                probability=spec.probability,
                served=bool(served[i]),
                m=float(m[i]),
                t=float(t[i]),
                t_bar=float(tbar[i]),
                ratio=min(ratio, 1.0),
                reservation_utility=float(econ.reservation[i]),
                utility=float(t[i] - spec.cost * m[i]) if served[i] else 0.0,
            )
        )
    return tuple(options)


def _select(
    econ: _Economy, mode: Literal["all", "optimal"] | tuple[int, ...], ic: bool
) -> tuple[_Solution, str, float]:
    """Solve for the requested served set; returns (solution, method, upper bound over sets)."""
    k = econ.scenario.n_types
    if mode == "all":
        sol = _sqp(econ, np.ones(k, dtype=bool), ic)
        return sol, "all types served", sol.upper_bound
    if isinstance(mode, tuple):
        served = np.zeros(k, dtype=bool)
        served[[s - 1 for s in mode]] = True
        sol = _sqp(econ, served, ic)
        return sol, f"served types {list(mode)} as requested", sol.upper_bound

    def attempt(served: BoolArray) -> _Solution | None:
        try:
            return _sqp(econ, served, ic)
        except InfeasibleScenarioError:
            return None

    if k <= _EXACT_SEARCH_MAX_K:
        best: _Solution | None = None
        bound = 0.0
        for size in range(k, 0, -1):
            for combo in itertools.combinations(range(k), size):
                served = np.zeros(k, dtype=bool)
                served[list(combo)] = True
                found = attempt(served)
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
        return best, f"exact search over {2**k - 1} served sets", bound
    # greedy: start from all types, drop (or re-add) the type that helps most, until no gain
    served = np.ones(k, dtype=bool)
    current = attempt(served)
    evaluated = 1
    while True:
        candidates = []
        for j in range(k):
            trial = served.copy()
            trial[j] = not trial[j]
            if not trial.any():
                continue
            found = attempt(trial)
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
    return (
        current,
        f"greedy add/drop heuristic ({evaluated} sets; bound for chosen set only)",
        (current.upper_bound),
    )


def _benchmarks(econ: _Economy, start: FloatArray) -> Benchmarks:
    k = econ.scenario.n_types
    try:
        full = _sqp(econ, np.ones(k, dtype=bool), ic=False, start=start)
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


@_single_blas_thread
def solve(
    scenario: Scenario,
    *,
    belief: Belief | None = None,
    serve: Literal["all", "optimal"] | tuple[int, ...] | None = None,
    expectation: Literal["exact", "sampled"] | None = None,
    benchmarks: bool = True,
) -> Menu:
    """Solve the first-moment problem of ``scenario`` and return the certified optimal menu.

    Keyword arguments override the scenario's ``[solver]`` options; the menu's
    ``scenario_sha256`` hashes the scenario with those overrides applied (what was solved).
    Raises :class:`InfeasibleScenarioError` when no menu exists for the requested served set
    and :class:`SolverError` when the optimum cannot be certified.
    """
    started = time.perf_counter()
    effective = scenario.with_solver(belief=belief, serve=serve, expectation=expectation)
    chosen: Belief = effective.solver.belief
    econ = _economy(effective, chosen)
    ic = True
    sampled = effective.solver.expectation == "sampled"
    sol, method, bound = _select(econ, effective.solver.serve, ic)
    accuracy_ci: tuple[float, float] | None = None
    certification = "exact expectations; upper bound by weak duality with concave majorants"
    tbar_pub = sol.tbar
    t_pub = sol.t
    objective, value = sol.objective, sol.value
    if sampled:
        sol, tbar_pub, t_pub, objective, value, accuracy_ci, certification, bound = _certify(
            econ, sol, ic, bound
        )
    if max(bound, objective) - objective > 1e-6:
        certification += (
            f"; WARNING gap {max(bound, objective) - objective:.2g} > 1e-6: optimum not certified "
            "(the curve is not concave over the pooled data sizes in play)"
        )
    options = _options(econ, sol.served, sol.m, t_pub, tbar_pub)
    bench = _benchmarks(econ, sol.m) if benchmarks else None
    serve_text = (
        effective.solver.serve
        if isinstance(effective.solver.serve, str)
        else ",".join(str(s) for s in effective.solver.serve)
    )
    return Menu(
        options=options,
        expected_accuracy=objective,
        expected_value=value,
        upper_bound=max(bound, objective),
        belief=chosen,
        expectation=effective.solver.expectation,
        scenario_sha256=scenario_sha256(effective),
        solve_seconds=time.perf_counter() - started,
        participants=effective.participants,
        serve=serve_text,
        method=method,
        integer=False,
        accuracy_ci=accuracy_ci,
        certification=certification,
        benchmarks=bench,
        extra={"outcomes": econ.model.size, "sqp_iterations": sol.iterations},
    )


def _certify(
    econ: _Economy, sol: _Solution, ic: bool, bound: float
) -> tuple[_Solution, FloatArray, FloatArray, float, float, tuple[float, float], str, float]:
    """Sampled expectations: shade the budget, re-solve, and certify BC on a fresh sample.

    The solve sample A gives m; the budget is shaded by 2 z se_i (z one-sided with a Bonferroni
    split of 1 - confidence over the K types), the problem re-solved, and then an independent
    sample B estimates tbar(m): t is the greatest feasible vector under tbar_B - z se_B, so each
    t_i <= tbar_i(m) holds jointly with probability >= confidence. If IR fails under the
    certified budget, the shading doubles (at most 4 times) before giving up.
    """
    scenario = econ.scenario
    k = scenario.n_types
    conf = scenario.solver.confidence
    z_one = float(norm.ppf(1.0 - (1.0 - conf) / k))
    z_two = float(norm.ppf(0.5 + conf / 2.0))
    fresh = economy_model(scenario, belief=econ.belief, stream=1)
    factor = 2.0
    current = sol
    for _attempt in range(5):
        se_a, _ = _tbar_spread(scenario, econ.model, current.m)
        shaded = replace(econ, margin=np.where(current.served, factor * z_one * se_a, 0.0))
        current = _sqp(shaded, current.served, ic, start=current.m)
        vals_b = _evaluate(scenario, fresh, current.m, hessians=False)
        se_b, se_f = _tbar_spread(scenario, fresh, current.m)
        lcb = vals_b.tbar - z_one * se_b
        t = _greatest_t(econ, current.served, current.m, lcb, ic)
        if _ir_violation(econ, current.served, current.m, t) <= _FEASIBILITY_TOL * econ.v_sup:
            half = z_two * se_f
            text = (
                f"sampled: solved on {econ.model.size} draws with budget shaded by "
                f"{factor:g} z se; BC certified on {fresh.size} fresh draws at one-sided "
                f"{conf:g} (Bonferroni over {k} types); accuracy CI at {conf:g}; upper bound "
                f"is of the sample-average problem plus z se"
            )
            return (
                current,
                vals_b.tbar,
                t,
                vals_b.objective,
                vals_b.value,
                (vals_b.objective - half, vals_b.objective + half),
                text,
                bound + half,  # the unshaded sample problem is the relaxation
            )
        factor *= 2.0
    raise SolverError(
        f"{scenario.source}: the budget constraint could not be certified out of sample",
        hint="increase solver.samples",
    )


@_single_blas_thread
def integerize_menu(scenario: Scenario, menu: Menu) -> Menu:
    """Round m to integer rows (monotone, >= 1 for served) and re-solve t for those rows.

    For fixed m, the t-problem is an LP whose greatest solution is the shortest-path vector of
    :func:`_greatest_t`; it is feasible iff IR holds there. Among the floor/ceil roundings that
    keep m non-decreasing (all of them for <= 10 served types, else nearest rounding then
    ceilings one by one), the feasible one with the highest expected accuracy wins.
    """
    started = time.perf_counter()
    belief: Belief = "paper" if menu.belief == "paper" else "bayes"
    effective = scenario.with_solver(belief=belief, expectation=menu.expectation)
    if len(menu.options) != effective.n_types:
        raise SolverError(
            f"menu has {len(menu.options)} options but the scenario has {effective.n_types} types",
            hint="integerize the menu solved from this scenario",
        )
    econ = _economy(effective, belief)
    served = np.array([o.served for o in menu.options], dtype=bool)
    m_cont = np.array([o.m for o in menu.options])
    sampled = effective.solver.expectation == "sampled"
    model = economy_model(effective, belief=belief, stream=1) if sampled else econ.model
    k = effective.n_types
    z_one = float(norm.ppf(1.0 - (1.0 - effective.solver.confidence) / k))
    idx = list(np.flatnonzero(served))
    floors = np.floor(m_cont[idx])
    if len(idx) <= 10:
        choices: Any = itertools.product((0.0, 1.0), repeat=len(idx))
    else:
        base = np.round(m_cont[idx]) - floors
        choices = [tuple(base)] + [
            tuple(np.maximum(base, (np.arange(len(idx)) >= j).astype(float)))
            for j in range(len(idx))
        ]
    best: tuple[float, FloatArray, FloatArray, FloatArray, float] | None = None
    for choice in choices:
        m = np.zeros(k)
        m[idx] = np.maximum(floors + np.array(choice), 1.0)
        if np.any(np.diff(m[idx]) < 0):
            continue
        vals = _evaluate(effective, model, m, hessians=False)
        budget = vals.tbar
        if sampled:
            se, _ = _tbar_spread(effective, model, m)
            budget = vals.tbar - z_one * se
        t = _greatest_t(econ, served, m, budget, True)
        if _ir_violation(econ, served, m, t) > 0.0:
            continue
        if best is None or vals.objective > best[0]:
            best = (vals.objective, m, t, vals.tbar, vals.value)
    if best is None:
        raise InfeasibleScenarioError(
            "no integer rounding of the menu satisfies IR with the re-solved t",
            hint="scale the data unit so that m is larger than a few rows",
        )
    objective, m, t, tbar, value = best
    accuracy_ci = menu.accuracy_ci
    if sampled:
        _, se_f = _tbar_spread(effective, model, m)
        half = float(norm.ppf(0.5 + effective.solver.confidence / 2.0)) * se_f
        accuracy_ci = (objective - half, objective + half)
    return replace(
        menu,
        accuracy_ci=accuracy_ci,
        options=_options(econ, served, m, t, tbar),
        expected_accuracy=objective,
        expected_value=value,
        upper_bound=max(menu.upper_bound, objective),
        integer=True,
        solve_seconds=menu.solve_seconds + (time.perf_counter() - started),
        extra={**menu.extra, "continuous_m": [float(x) for x in m_cont]},
    )


@_single_blas_thread
def menu_for_m(
    scenario: Scenario,
    m: FloatArray,
    *,
    belief: Belief | None = None,
    served: BoolArray | None = None,
) -> Menu:
    """The menu with data vector ``m`` and the greatest t meeting BC, IC and exclusion.

    IR is not enforced (check the result with :func:`modelpact.checker.check_menu`): this is the
    t-re-solve used by :func:`integerize_menu`, exposed for auditors and property tests. Exact
    expectations only (a sampled scenario is evaluated on its solve sample).
    """
    chosen: Belief = belief if belief is not None else scenario.solver.belief
    effective = scenario.with_solver(belief=chosen)
    econ = _economy(effective, chosen)
    k = effective.n_types
    mask = np.ones(k, dtype=bool) if served is None else np.asarray(served, dtype=bool)
    m_arr = np.where(mask, np.asarray(m, dtype=np.float64), 0.0)
    vals = _evaluate(effective, econ.model, m_arr, hessians=False)
    t = _greatest_t(econ, mask, m_arr, vals.tbar, True)
    return Menu(
        options=_options(econ, mask, m_arr, t, vals.tbar),
        expected_accuracy=vals.objective,
        expected_value=vals.value,
        upper_bound=math.nan,
        belief=chosen,
        expectation=effective.solver.expectation,
        scenario_sha256=scenario_sha256(effective),
        solve_seconds=0.0,
        participants=effective.participants,
        method="t re-solved for a given m",
    )

"""The small-problem fast path: K <= 3 types solved by a dense SQP on the nonlinear problem.

A two-type solve through the convex subproblem pays cvxpy's per-solve overhead at every SQP
iteration (about 16 ms in all against a floor under 1 ms). Here a line-search SQP works on
(m, t) of the served types directly, with exact gradients and Hessians (the Lagrangian's,
floored to positive definite), each step a small dense QP (:func:`~modelpact.optimizer.lsq.qp`,
Lawson and Hanson's reduction to NNLS, as in SLSQP) and an l1 merit line search. It replaced
scipy's SLSQP, whose import cost ``modelpact solve`` 0.2-0.4 s of CPU and whose wrapper cost
more than the math on two-type problems; it needs fewer iterations (exact Hessians). t is then
re-solved as the greatest feasible vector and the result is certified exactly as the general
path certifies it (:func:`~modelpact.optimizer.certificate.certified_bound`): first with the
last QP's own multipliers (free at this point), and with small KKT multipliers by NNLS only
when that bound's gap exceeds :data:`DUALS_GAP`. The caller falls back to the general SQP
whenever this returns None: the QP infeasible, IR not met, no multipliers, or a gap above
:data:`ACCEPT_GAP`. On a smooth sweep (the paper's grid) the caller may start from a solved
neighbour's m (``solve(..., warm_start=...)``): about two SQP iterations instead of eight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelpact.optimizer.certificate import Candidate, Multipliers, certified_bound
from modelpact.optimizer.constraints import greatest_t, ir_violation, least_t
from modelpact.optimizer.economy import FEASIBILITY_TOL, START_GRID, Economy, pooled_start
from modelpact.optimizer.expectations import Expectations, evaluate
from modelpact.optimizer.lsq import qp
from modelpact.optimizer.subproblem import Frame, frame
from modelpact.optimizer.types import BoolArray, FloatArray, IntArray

__all__ = [
    "ACCEPT_GAP",
    "FAST_MAX_K",
    "FAST_MAX_K_SMALL_MODEL",
    "FAST_SMALL_MODEL",
    "WARM_GAP",
    "FastResult",
    "solve_small",
]

FAST_MAX_K = 3
FAST_MAX_K_SMALL_MODEL = 5
"""Up to this many types the fast path is also tried when the belief model has at most
:data:`FAST_SMALL_MODEL` outcomes: the paper's Sec. 6.2 scenarios (K = 5, N = 10) then solve
without cvxpy (a 30-70 ms solve, and 0.3-0.9 s less to import for ``modelpact solve``), to an
equal or better certified gap. On large models the trust-region SQP's few Hessian passes beat
the fast path's many evaluations (measured with SLSQP, the fast path's solver before issue 17:
N = 40, K = 5, 123,410 outcomes, 3.0 s CPU by SLSQP, 0.34 s by the trust-region SQP)."""
FAST_SMALL_MODEL = 5_000
SLOPE_TOL = 1e-15  # predicted merit decrease (expected accuracy) below which the SQP stops
MAX_ITER = 100  # SQP iterations before the iterate is judged as it stands
STEP_TOL = 1e-8  # the SQP stops at an m step this short (scaled units: near-quadratic
# convergence makes the objective exact to ~1e-15 by then; t is re-solved as the greatest t)
ACCEPT_GAP = 1e-9  # certified gap (expected accuracy) at or below which the fast path is kept
DUALS_GAP = 1e-11  # gap at or below which the bound from the SQP's own multipliers is kept
# without the NNLS refinement (both are valid bounds; below this the published gaps stay at
# the level the refinement reached on the paper's grid, worst ~1e-11)
WARM_GAP = 1e-11  # gap at or below which a warm-started result is kept (else the cold path
# runs as without the warm start: warm starts never publish a looser certificate than that)


@dataclass(frozen=True)
class FastResult:
    """m, the greatest feasible t, the expectations at m, the bound and the SQP's iterations."""

    m: FloatArray
    t: FloatArray
    vals: Expectations
    bound: float
    iterations: int


class _Problem:
    """Objective and constraints in scaled served coordinates z = [m_S / m_scale; t_S / t_scale],
    with the last evaluation cached (the SQP asks for the same point several times)."""

    def __init__(self, econ: Economy, fr: Frame) -> None:
        self.econ, self.fr = econ, fr
        self.idx = np.flatnonzero(fr.served)
        k = len(fr.served)
        cols = np.concatenate([self.idx, k + self.idx])
        rows = fr.active
        s = len(self.idx)
        scale = np.concatenate([np.full(s, fr.m_scale), np.full(s, fr.t_scale)])
        self.a = fr.a_matrix[np.ix_(rows, cols)] * scale[None, :]
        self.b = fr.b_vector[rows]
        eye = np.eye(2 * s)
        self._fixed_jac = np.vstack([-self.a, eye, -eye])  # linear rows and the box
        self._at: bytes | None = None
        self._vals: Expectations | None = None

    def m_of(self, z: FloatArray) -> FloatArray:
        m = np.zeros(len(self.fr.served))
        m[self.idx] = np.maximum(z[: len(self.idx)], 0.0) * self.fr.m_scale
        return m

    def vals(self, z: FloatArray) -> Expectations:
        key = z.tobytes()
        if key != self._at or self._vals is None:
            self._vals = evaluate(self.econ.scenario, self.econ.model, self.m_of(z))
            self._at = key
        return self._vals

    def objective(self, z: FloatArray) -> float:
        return -self.vals(z).objective

    def objective_grad(self, z: FloatArray) -> FloatArray:
        g = np.zeros(len(z))
        g[: len(self.idx)] = -self.vals(z).objective_grad[self.idx] * self.fr.m_scale
        return g

    def budget(self, z: FloatArray) -> FloatArray:
        vals, s = self.vals(z), len(self.idx)
        tbar = (vals.tbar - self.econ.margin)[self.idx]
        return (tbar - z[s:] * self.fr.t_scale) / self.fr.t_scale

    def budget_jac(self, z: FloatArray) -> FloatArray:
        vals, s = self.vals(z), len(self.idx)
        jac = np.zeros((s, 2 * s))
        jac[:, :s] = vals.tbar_grad[np.ix_(self.idx, self.idx)] * self.fr.m_scale / self.fr.t_scale
        jac[:, s:] = -np.eye(s)
        return jac

    def constraints(self, z: FloatArray, upper: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Every constraint as c(z) >= 0 with its Jacobian: budgets, linear rows, the box."""
        values = np.concatenate([self.budget(z), self.b - self.a @ z, z, upper - z])
        return values, np.vstack([self.budget_jac(z), self._fixed_jac])

    def violation(self, z: FloatArray, upper: FloatArray) -> float:
        """The l1 norm of the violated constraints at z (the merit function's penalty term)."""
        values = np.concatenate([self.budget(z), self.b - self.a @ z, z, upper - z])
        return float(np.sum(np.maximum(-values, 0.0)))

    def lagrangian_hessian(self, z: FloatArray, lam: FloatArray) -> FloatArray:
        """Hessian in z of -F - sum lam_i budget_i (budget multipliers ``lam`` >= 0)."""
        vals, s = self.vals(z), len(self.idx)
        assert vals.objective_hess is not None
        assert vals.tbar_hess is not None
        sub = np.ix_(self.idx, self.idx)
        curvature = (
            vals.objective_hess[sub]
            + np.einsum("i,ijk->jk", lam, vals.tbar_hess[self.idx][:, self.idx][:, :, self.idx])
            / self.fr.t_scale
        )
        hess = np.zeros((2 * s, 2 * s))
        hess[:s, :s] = -curvature * self.fr.m_scale**2
        return hess


def _positive_definite(hess: FloatArray) -> FloatArray:
    """``hess`` with its eigenvalues floored at a small positive value (t enters linearly and
    the curve is flat where it is clipped, so the raw Hessian is often singular)."""
    eig, vec = np.linalg.eigh(0.5 * (hess + hess.T))
    floor = 1e-8 * max(1.0, float(np.max(np.abs(eig))))
    return np.asarray((vec * np.maximum(eig, floor)) @ vec.T, dtype=np.float64)


def _violation(values: FloatArray) -> float:
    return float(np.sum(np.maximum(-values, 0.0)))


@dataclass(frozen=True)
class _Found:
    """Where the SQP stopped, after how many iterations, and its last QP's multipliers (of
    the budgets, then the linear rows, then the box, as :meth:`_Problem.constraints`)."""

    z: FloatArray
    iterations: int
    multipliers: FloatArray


def _sqp_small(prob: _Problem, z: FloatArray, upper: FloatArray) -> _Found | None:
    """The line-search SQP from ``z`` (inside the box); None when a QP is infeasible."""
    s = len(prob.idx)
    lam = np.zeros(s)
    rho = 0.0
    active: IntArray | None = None
    multipliers = np.zeros(0)
    for iteration in range(1, MAX_ITER + 1):
        values, jac = prob.constraints(z, upper)
        grad = prob.objective_grad(z)
        hess_pd = _positive_definite(prob.lagrangian_hessian(z, lam))
        step = qp(hess_pd, grad, jac, -values, guess=active)
        if step is None:
            return None
        multipliers = step.multipliers
        active = np.flatnonzero(multipliers > 0.0)
        lam = multipliers[:s]
        rho = max(rho, 2.0 * float(np.max(step.multipliers, initial=0.0)))
        viol = _violation(values)
        slope = float(grad @ step.d) - rho * viol  # l1 merit's derivative along d
        if float(np.max(np.abs(step.d[:s]))) <= STEP_TOL:
            return _Found(z, iteration, multipliers)
        if slope >= -SLOPE_TOL:  # no merit decrease left at working precision: judged afterwards
            return _Found(z, iteration, multipliers)
        merit = prob.objective(z) + rho * viol
        soc = (hess_pd, grad, jac)
        trial = _line_search(prob, z, step.d, upper, merit=merit, rho=rho, slope=slope, soc=soc)
        if trial is None:
            return _Found(z, iteration, multipliers)
        z = trial
    return _Found(z, MAX_ITER, multipliers)


def _merit(prob: _Problem, z: FloatArray, upper: FloatArray, rho: float) -> float:
    return prob.objective(z) + rho * prob.violation(z, upper)


def _line_search(
    prob: _Problem,
    z: FloatArray,
    d: FloatArray,
    upper: FloatArray,
    *,
    merit: float,
    rho: float,
    slope: float,
    soc: tuple[FloatArray, FloatArray, FloatArray],
) -> FloatArray | None:
    """The next iterate: the full step, else the full step with a second-order correction
    (near the solution a full step can raise the l1 merit through the budgets' curvature, the
    Maratos effect, and halving would then crawl), else the first halving that decreases the
    merit enough; None when none of 40 does."""
    trial = np.clip(z + d, 0.0, upper)
    if _merit(prob, trial, upper, rho) <= merit + 1e-4 * slope:
        return trial
    hess, grad, jac = soc
    values_trial, _ = prob.constraints(trial, upper)
    corrected = qp(hess, grad, jac, jac @ d - values_trial)
    if corrected is not None:
        trial = np.clip(z + corrected.d, 0.0, upper)
        if _merit(prob, trial, upper, rho) <= merit + 1e-4 * slope:
            return trial
    alpha = 0.5
    for _ in range(40):
        trial = np.clip(z + alpha * d, 0.0, upper)
        if _merit(prob, trial, upper, rho) <= merit + 1e-4 * alpha * slope:
            return trial
        alpha *= 0.5
    return None


FRONTIER_SHARE = 0.8  # how far the cold start moves from the pooled start to the IR frontier


def _cold_start(econ: Economy, served: BoolArray) -> FloatArray:
    """:func:`~modelpact.optimizer.economy.pooled_start` moved :data:`FRONTIER_SHARE` of the
    way up to the largest pooled m at which the costliest served type still covers its cost
    and reservation utility (pooled estimate, v(a(N p_S m)) - c m >= f).

    The optimum usually sits near that frontier (IR binds, the budget is spent), while the
    pooled start maximises the surplus, some 4-12 times lower on the paper's grid: Newton
    steps then grow m by ~1.7x each, 8 iterations instead of 4-5. Not all the way: the
    estimate evaluates the curve at the mean data size, which overstates a concave curve's
    expected value."""
    start = pooled_start(econ, served)
    first = int(np.flatnonzero(served)[0])
    x0 = float(start[first])
    n = econ.scenario.participants
    share = float(econ.scenario.probabilities[served].sum())
    top = float(econ.costs[served].max())
    reservation = float(econ.reservation[served].max())
    grid = econ.v_sup / top * START_GRID
    pooled = max(1.0, n * share) * grid
    value = econ.scenario.valuation(econ.scenario.accuracy(pooled))
    willing = np.flatnonzero(value - top * grid >= reservation)
    if len(willing) == 0 or float(grid[willing[-1]]) <= x0:
        return start
    shift = FRONTIER_SHARE * (float(grid[willing[-1]]) - x0)
    return np.where(served, start + shift, 0.0)


def _start_t(econ: Economy, served: BoolArray, m: FloatArray, ic: bool) -> FloatArray:
    """t to start from at a given m (a warm start, near the optimum): the greatest t under
    the budget when it meets IR, as at the optimum (the budgets bind), else the least t.
    Then the constraints active at the start are those active at the optimum, the first
    QP's working set is right, and its LDP is skipped (302 LDPs in 500 warm solves -> 52)."""
    least = least_t(econ, served, m, ic)
    vals = evaluate(econ.scenario, econ.model, m, hessians=False)
    greatest = greatest_t(econ, served, m, vals.tbar - econ.margin, ic)
    return greatest if bool(np.all(greatest >= least)) else least


def solve_small(
    econ: Economy, served: BoolArray, ic: bool, start: FloatArray | None
) -> FastResult | None:
    """The SQP and the certificate for ``served`` (K <= :data:`FAST_MAX_K`); None to fall back."""
    fr = frame(econ, served, ic)
    prob = _Problem(econ, fr)
    if start is None:
        m0 = _cold_start(econ, served)
        t0 = least_t(econ, served, m0, ic)
    else:
        m0 = np.where(served, start, 0.0)
        t0 = _start_t(econ, served, m0, ic)
    z0 = np.concatenate([m0[prob.idx] / fr.m_scale, t0[prob.idx] / fr.t_scale])
    upper = np.concatenate([fr.upper_m[prob.idx] / fr.m_scale, fr.upper_t[prob.idx] / fr.t_scale])
    found = _sqp_small(prob, np.clip(z0, 0.0, upper), upper)
    if found is None:
        return None
    z, iterations = found.z, found.iterations
    m = prob.m_of(z)
    vals = prob.vals(z)  # the SQP's last evaluation, at this very m
    budget = vals.tbar - econ.margin
    t = greatest_t(econ, served, m, budget, ic)
    if ir_violation(econ, served, m, t, ic=ic) > FEASIBILITY_TOL * max(1.0, econ.v_sup):
        return None
    at = Candidate(m=m, t=t, vals=vals, budget=budget)
    duals = _duals(econ, fr, prob, found.multipliers)
    bound = certified_bound(econ, fr, at=at, duals=duals, enough=DUALS_GAP)
    if max(bound, vals.objective) - vals.objective > ACCEPT_GAP:
        return None
    return FastResult(m=m, t=t, vals=vals, bound=bound, iterations=iterations)


def _duals(econ: Economy, fr: Frame, prob: _Problem, multipliers: FloatArray) -> Multipliers:
    """The SQP's last QP multipliers in the certificate's units: the QP minimises -F subject
    to (t_bar - t) / t_scale >= 0 and b - A x >= 0, so lam = mu_budget / t_scale and y = mu_rows
    in original units, i.e. lam_s = mu_budget * sigma and y_s = mu_rows * sigma (any
    nonnegative multipliers give a valid bound, so their accuracy only costs tightness)."""
    s, k = len(prob.idx), len(fr.served)
    mu = np.maximum(multipliers, 0.0) if len(multipliers) else np.zeros(s + len(prob.b))
    lam = np.zeros(k)
    lam[prob.idx] = mu[:s]
    y = np.zeros(len(fr.b_vector))
    y[np.flatnonzero(fr.active)] = mu[s : s + len(prob.b)]
    return Multipliers(lam=lam * econ.v_sup, y=y * econ.v_sup)

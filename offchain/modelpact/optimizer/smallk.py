"""The small-problem fast path: K <= 3 types solved by SLSQP on the nonlinear problem itself.

A two-type solve through the convex subproblem pays cvxpy's per-solve overhead at every SQP
iteration (about 16 ms in all against a floor under 1 ms). Here scipy's SLSQP works on
(m, t) of the served types directly, with exact gradients; t is then re-solved as the greatest
feasible vector and the result is certified exactly as the general path certifies it
(:func:`~modelpact.optimizer.certificate.certified_bound`, with KKT multipliers). The caller
falls back to the general SQP whenever this returns None: not converged, IR not met, no
multipliers, or a gap above :data:`ACCEPT_GAP`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from modelpact.optimizer.certificate import Candidate, certified_bound
from modelpact.optimizer.constraints import greatest_t, ir_violation, least_t
from modelpact.optimizer.economy import FEASIBILITY_TOL, Economy, pooled_start
from modelpact.optimizer.expectations import Expectations, evaluate
from modelpact.optimizer.subproblem import Frame, frame
from modelpact.optimizer.types import BoolArray, FloatArray

__all__ = [
    "ACCEPT_GAP",
    "FAST_MAX_K",
    "FAST_MAX_K_SMALL_MODEL",
    "FAST_SMALL_MODEL",
    "FastResult",
    "solve_small",
]

FAST_MAX_K = 3
FAST_MAX_K_SMALL_MODEL = 5
"""Up to this many types the fast path is also tried when the belief model has at most
:data:`FAST_SMALL_MODEL` outcomes: the paper's Sec. 6.2 scenarios (K = 5, N = 10) then solve
without cvxpy (a 30-70 ms solve, and 0.3-0.9 s less to import for ``modelpact solve``), to an
equal or better certified gap. On large models the SQP's few Hessian passes beat SLSQP's many
gradient passes (N = 40, K = 5, 123,410 outcomes: 3.0 s CPU by SLSQP, 0.34 s by the SQP)."""
FAST_SMALL_MODEL = 5_000
FTOL = 1e-12  # SLSQP stopping tolerance on the objective (expected accuracy)
ACCEPT_GAP = 1e-9  # certified gap (expected accuracy) at or below which the fast path is kept


@dataclass(frozen=True)
class FastResult:
    """m, the greatest feasible t, the expectations at m, the bound and SLSQP's iterations."""

    m: FloatArray
    t: FloatArray
    vals: Expectations
    bound: float
    iterations: int


class _Problem:
    """Objective and constraints in scaled served coordinates z = [m_S / m_scale; t_S / t_scale],
    with the last evaluation cached (SLSQP asks for the same point several times)."""

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
        self._at: bytes | None = None
        self._vals: Expectations | None = None

    def m_of(self, z: FloatArray) -> FloatArray:
        m = np.zeros(len(self.fr.served))
        m[self.idx] = np.maximum(z[: len(self.idx)], 0.0) * self.fr.m_scale
        return m

    def vals(self, z: FloatArray) -> Expectations:
        key = z.tobytes()
        if key != self._at or self._vals is None:
            self._vals = evaluate(self.econ.scenario, self.econ.model, self.m_of(z), hessians=False)
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


def solve_small(
    econ: Economy, served: BoolArray, ic: bool, start: FloatArray | None
) -> FastResult | None:
    """SLSQP and the certificate for ``served`` (K <= :data:`FAST_MAX_K`); None to fall back."""
    fr = frame(econ, served, ic)
    prob = _Problem(econ, fr)
    m0 = pooled_start(econ, served) if start is None else np.where(served, start, 0.0)
    t0 = least_t(econ, served, m0, ic)
    z0 = np.concatenate([m0[prob.idx] / fr.m_scale, t0[prob.idx] / fr.t_scale])
    upper = np.concatenate([fr.upper_m[prob.idx] / fr.m_scale, fr.upper_t[prob.idx] / fr.t_scale])
    constraints = [
        {"type": "ineq", "fun": prob.budget, "jac": prob.budget_jac},
        {"type": "ineq", "fun": lambda z: prob.b - prob.a @ z, "jac": lambda z: -prob.a},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        from scipy.optimize import minimize  # lazy: scipy costs the CLI start

        found = minimize(
            prob.objective,
            np.clip(z0, 0.0, upper),
            jac=prob.objective_grad,
            bounds=list(zip(np.zeros(len(upper)), upper, strict=True)),
            constraints=constraints,
            method="SLSQP",
            options={"ftol": FTOL, "maxiter": 100},
        )
    if found.status not in (0, 8):  # 8: no descent left at working precision (judged below)
        return None
    m = prob.m_of(np.asarray(found.x, dtype=np.float64))
    vals = evaluate(econ.scenario, econ.model, m, hessians=False)
    budget = vals.tbar - econ.margin
    t = greatest_t(econ, served, m, budget, ic)
    if ir_violation(econ, served, m, t) > FEASIBILITY_TOL * max(1.0, econ.v_sup):
        return None
    at = Candidate(m=m, t=t, vals=vals, budget=budget)
    bound = certified_bound(econ, fr, at=at, duals=None)
    if max(bound, vals.objective) - vals.objective > ACCEPT_GAP:
        return None
    return FastResult(m=m, t=t, vals=vals, bound=bound, iterations=int(found.nit))

"""The trust-region SQP for one served set, with an l1 merit function, and its certified result.

Each iteration solves the convex subproblem (:mod:`modelpact.optimizer.subproblem`) around the
current m, accepts or rejects the step by the ratio of actual to predicted merit gain, and
adapts the trust region and the penalty. At the end t is the greatest vector meeting BC, IC and
exclusion for the final m (:func:`~modelpact.optimizer.constraints.greatest_t`), IR is checked,
and the weak-duality bound is computed (:mod:`modelpact.optimizer.certificate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelpact.errors import InfeasibleScenarioError, SolverError
from modelpact.optimizer.certificate import Candidate, Multipliers, certified_bound
from modelpact.optimizer.constraints import greatest_t, ir_violation, least_t
from modelpact.optimizer.economy import FEASIBILITY_TOL, Economy, pooled_start
from modelpact.optimizer.expectations import Expectations, evaluate
from modelpact.optimizer.smallk import (
    FAST_MAX_K,
    FAST_MAX_K_SMALL_MODEL,
    FAST_SMALL_MODEL,
    WARM_GAP,
    solve_small,
)
from modelpact.optimizer.subproblem import (
    Subproblem,
    SubproblemStep,
    load_model,
    read_step,
    solve_subproblem,
    subproblem,
)
from modelpact.optimizer.types import BoolArray, FloatArray

__all__ = ["Solution", "sqp"]

_MAX_PENALTY = 1e5  # l1 merit weight cap (x objective scale): beyond it Clarabel loses accuracy


@dataclass(frozen=True)
class Solution:
    """A certified solution for one served set: m, the greatest feasible t, F and the bound."""

    served: BoolArray
    m: FloatArray
    t: FloatArray
    tbar: FloatArray
    objective: float
    value: float
    upper_bound: float
    iterations: int


@dataclass
class _State:
    """The SQP's iterate and the multipliers of the last accepted subproblem."""

    m: FloatArray
    t: FloatArray
    vals: Expectations
    budget: FloatArray
    duals: Multipliers
    radius: float = 0.5
    rho: float = 0.0
    iterations: int = 0
    converged: bool = False


def _merit_violation(t: FloatArray, tbar: FloatArray, served: BoolArray) -> float:
    return float(np.sum(np.where(served, np.maximum(t - tbar, 0.0), 0.0)))


def _infeasible_subproblem(econ: Economy, served: BoolArray, status: str) -> None:
    raise InfeasibleScenarioError(
        f"{econ.scenario.source}: no menu satisfies IR, IC and exclusion for served types "
        f"{[int(i) + 1 for i in np.flatnonzero(served)]} (subproblem {status})",
        hint='serve other types (e.g. serve = "optimal") or change costs',
    )


def _iterate(econ: Economy, sub: Subproblem, state: _State, *, tol: float, max_iter: int) -> None:
    """Run the trust-region iterations on ``state`` in place."""
    served, sigma, fr = sub.frame.served, econ.v_sup, sub.frame  # objective in value units
    for iterations in range(1, max_iter + 1):
        state.iterations = iterations
        root = load_model(
            sub,
            vals=state.vals,
            m=state.m,
            budget=state.budget,
            radius=state.radius,
            penalty=state.rho,
            sigma=sigma,
        )
        status = solve_subproblem(sub)
        if status == "solver_error" and state.radius > 1e-9:
            # Clarabel gave up numerically (not a verdict on feasibility): a smaller trust
            # region gives it a better-scaled model, as after a rejected step
            state.radius *= 0.25
            continue
        if status not in ("optimal", "optimal_inaccurate"):
            if state.radius < 1e3:
                state.radius = 1e6  # maybe the trust region cut off the linear constraints
                continue
            _infeasible_subproblem(econ, served, status)
        step = read_step(sub)
        d = (step.m - state.m) / fr.m_scale
        grad_scaled = sigma * state.vals.objective_grad * fr.m_scale
        model_gain = float(grad_scaled @ d - 0.5 * np.sum((root @ d) ** 2))
        viol_now = _merit_violation(state.t, state.budget, served)
        pred = model_gain + state.rho * viol_now - state.rho * float(step.slack.sum()) * fr.t_scale
        if np.max(step.lam, initial=0.0) > 0.5 * state.rho * fr.t_scale:
            rho_next = min(10.0 * state.rho, _MAX_PENALTY * sigma)
        else:
            rho_next = state.rho
        if pred <= tol * sigma and viol_now <= 1e-10 * sigma:
            state.converged = True
            state.duals = Multipliers(lam=step.lam, y=step.duals)
            return
        if not _accept_or_shrink(econ, served, state, step, pred=pred, viol_now=viol_now, d=d):
            return  # stagnated: judged by feasibility afterwards
        state.rho = rho_next


def _accept_or_shrink(
    econ: Economy,
    served: BoolArray,
    state: _State,
    step: SubproblemStep,
    *,
    pred: float,
    viol_now: float,
    d: FloatArray,
) -> bool:
    """Accept the step (and maybe widen the region) or shrink the region; False if stagnated."""
    sigma = econ.v_sup
    new_vals = evaluate(econ.scenario, econ.model, step.m)
    new_budget = new_vals.tbar - econ.margin
    viol_new = _merit_violation(step.t, new_budget, served)
    actual = sigma * (new_vals.objective - state.vals.objective) + state.rho * (viol_now - viol_new)
    length = float(np.max(np.abs(d))) if len(d) else 0.0
    ratio = actual / pred if pred > 0 else -1.0
    if ratio > 0.1 or (pred <= 1e-14 * sigma and actual >= -1e-13 * sigma):
        state.m, state.vals, state.budget, state.t = step.m, new_vals, new_budget, step.t
        state.duals = Multipliers(lam=step.lam, y=step.duals)
        if ratio > 0.75 and length > 0.9 * state.radius:
            state.radius = min(2.0 * state.radius, 1e6)
        return True
    state.radius = max(0.25 * length, 1e-12)
    return state.radius > 1e-9


def sqp(
    econ: Economy,
    served: BoolArray,
    ic: bool,
    *,
    start: FloatArray | None = None,
    tol: float = 1e-12,
    max_iter: int = 200,
    restart: bool = True,
    warm: FloatArray | None = None,
) -> Solution:
    """Solve the first-moment problem for ``served`` and certify it (see the module doc).

    Up to :data:`~modelpact.optimizer.smallk.FAST_MAX_K` types (up to
    :data:`~modelpact.optimizer.smallk.FAST_MAX_K_SMALL_MODEL` on a small belief model) the
    dense SQP fast path is tried first (certified the same way); the trust-region SQP runs when it
    declines.

    ``warm``: m of a nearby solved problem (a grid neighbour), where the fast path starts
    first; when that declines or certifies a gap above
    :data:`~modelpact.optimizer.smallk.WARM_GAP`, the solve goes on exactly as without
    ``warm``."""
    k = len(served)
    small = k <= FAST_MAX_K_SMALL_MODEL and econ.model.size <= FAST_SMALL_MODEL
    if restart and (k <= FAST_MAX_K or small):
        fast = None
        if warm is not None and warm.shape == served.shape and np.all(np.isfinite(warm)):
            fast = solve_small(econ, served, ic, np.maximum(warm, 0.0))
            if fast is not None and fast.bound - fast.vals.objective > WARM_GAP:
                fast = None  # certified, but less tightly than a warm start must be
        if fast is None:
            fast = solve_small(econ, served, ic, start)
        if fast is not None:
            return Solution(
                served=served,
                m=fast.m,
                t=fast.t,
                tbar=fast.vals.tbar,
                objective=fast.vals.objective,
                value=fast.vals.value,
                upper_bound=max(fast.bound, fast.vals.objective),
                iterations=fast.iterations,
            )
    m = pooled_start(econ, served) if start is None else np.where(served, start, 0.0)
    sub = subproblem(econ, served, ic)
    vals = evaluate(econ.scenario, econ.model, m)
    state = _State(
        m=m,
        t=least_t(econ, served, m, ic),  # meets IR and IC, so the merit only measures BC
        vals=vals,
        budget=vals.tbar - econ.margin,
        duals=Multipliers(lam=np.zeros(len(served)), y=np.zeros(len(sub.frame.b_vector))),
        rho=10.0 * econ.v_sup,
    )
    _iterate(econ, sub, state, tol=tol, max_iter=max_iter)
    t_final = greatest_t(econ, served, state.m, state.budget, ic)
    violation = ir_violation(econ, served, state.m, t_final, ic=ic)
    alone = np.where(served, econ.reservation_m, 0.0)
    tolerance = FEASIBILITY_TOL * max(1.0, econ.v_sup)
    if (violation > tolerance or not state.converged) and restart and np.any(alone > 0):
        # The SQP can stall at an infeasible point (the curve is flat near 0, so the model
        # sees no way back). Restart where every type contributes what it would train on
        # alone, which is often feasible: under bayes tbar_i there is at least v(a(r_i)).
        try:
            return sqp(econ, served, ic, start=alone, tol=tol, max_iter=max_iter, restart=False)
        except (InfeasibleScenarioError, SolverError):
            pass
    return _finish(econ, sub, ic, state, t_final=t_final, violation=violation, max_iter=max_iter)


def _finish(
    econ: Economy,
    sub: Subproblem,
    ic: bool,
    state: _State,
    *,
    t_final: FloatArray,
    violation: float,
    max_iter: int,
) -> Solution:
    """Judge feasibility (falling back to the empty menu where it is the answer) and certify."""
    served, scenario, fr = sub.frame.served, econ.scenario, sub.frame
    tolerance = FEASIBILITY_TOL * max(1.0, econ.v_sup)
    if violation > tolerance and np.all(econ.reservation[served] <= 0.0):
        # Stuck at an infeasible point while nobody could train alone: the menu m = t = 0 is
        # feasible (collaboration does not pay for these types). Publish it with the valid,
        # possibly loose, weak-duality bound from the multipliers at hand.
        state.m = np.zeros(len(served))
        state.vals = evaluate(scenario, econ.model, state.m)
        state.budget = state.vals.tbar - econ.margin
        t_final = np.zeros(len(served))
        violation = 0.0
    elif not state.converged and state.iterations >= max_iter:
        raise SolverError(
            f"{scenario.source}: SQP did not converge in {max_iter} iterations",
            hint="report this scenario; try the other belief or fewer types",
        )
    if violation > tolerance:
        raise InfeasibleScenarioError(
            f"{scenario.source}: no feasible menu serves types "
            f"{[int(i) + 1 for i in np.flatnonzero(served)]} (IR short by {violation:.3g})",
            hint='serve other types (serve = "optimal") or check costs and the accuracy curve',
        )
    at = Candidate(m=state.m, t=t_final, vals=state.vals, budget=state.budget)
    bound = certified_bound(econ, fr, at=at, duals=state.duals)
    return Solution(
        served=served,
        m=state.m,
        t=t_final,
        tbar=state.vals.tbar,
        objective=state.vals.objective,
        value=state.vals.value,
        upper_bound=max(bound, state.vals.objective),
        iterations=state.iterations,
    )

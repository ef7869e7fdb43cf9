"""F(m) = E[a(n . m)] and every t_bar_i(m), with gradients and Hessians, vectorised over outcomes.

Both are sums over the outcomes of a :class:`~modelpact.outcomes.BeliefModel`; the derivatives
follow by the chain rule through the accuracy curve and the valuation (u = v o a).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from modelpact.optimizer.types import FloatArray
from modelpact.outcomes import BeliefModel
from modelpact.scenario import Scenario

__all__ = ["Expectations", "evaluate", "tbar_spread"]


@dataclass(frozen=True)
class Expectations:
    """F, t_bar and E v at one m, with derivatives (Hessians omitted when not asked for)."""

    objective: float  # F(m), expected accuracy
    objective_grad: FloatArray  # (K,)
    objective_hess: FloatArray | None  # (K, K)
    tbar: FloatArray  # (K,)
    tbar_grad: FloatArray  # (K, K), row i = grad tbar_i
    tbar_hess: FloatArray | None  # (K, K, K)
    value: float  # E v(a(n . m))


def evaluate(
    scenario: Scenario,
    model: BeliefModel,
    m: FloatArray,
    *,
    envelope: bool = False,
    hessians: bool = True,
) -> Expectations:
    """F, t_bar and E v at ``m`` (``envelope``: with the accuracy curve's concave majorant)."""
    # paper belief: every type sees the same pooled data, so evaluate one column and broadcast
    s = model.pooled(m) if model.shifted else (model.base @ m)[:, None]
    a, a1, a2 = scenario.accuracy.evaluate(s, envelope=envelope)
    v, v1, v2 = scenario.valuation.evaluate(a)
    u1 = v1 * a1
    ow, tw = model.objective_weights, model.tbar_weights
    if model.shifted:
        objective = float(np.einsum("io,oi->", ow, a))
        value = float(np.einsum("io,oi->", ow, v))
        tbar = np.einsum("io,oi->i", tw, v)
        wa1 = ow.T * a1  # (M, K)
        grad_f = model.base.T @ wa1.sum(axis=1) + wa1.sum(axis=0)
        wu1 = tw.T * u1
        grad_t = (model.base.T @ wu1).T + np.diag(wu1.sum(axis=0))
    else:
        objective = float(ow[0] @ a[:, 0])
        value = float(ow[0] @ v[:, 0])
        tbar = tw @ v[:, 0]
        grad_f = model.base.T @ (ow[0] * a1[:, 0])
        grad_t = (model.base.T @ (tw.T * u1[:, :1])).T
    hess_f = hess_t = None
    if hessians:
        u2 = v2 * a1**2 + v1 * a2
        hess_f, hess_t = _hessians(model, len(m), a2, u2)
    return Expectations(
        objective=objective,
        objective_grad=grad_f,
        objective_hess=hess_f,
        tbar=tbar,
        tbar_grad=grad_t,
        tbar_hess=hess_t,
        value=value,
    )


def _hessians(
    model: BeliefModel, k: int, a2: FloatArray, u2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(Hessian of F (K, K), Hessians of every t_bar_i (K, K, K)) from the second derivatives
    a'' and u'' at every outcome: sum_o d_o x_o x_o' with x_o = base_o (+ e_i when shifted)."""
    outer = model.outer  # (M, K*K)
    ow, tw, base = model.objective_weights, model.tbar_weights, model.base
    if not model.shifted:
        hess_f = (outer.T @ (ow[0] * a2[:, 0])).reshape(k, k)
        hess_t = (outer.T @ (tw * u2[:, 0][None, :]).T).T.reshape(k, k, k)
        return hess_f, hess_t
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
    return hess_f, hess_t


def tbar_spread(scenario: Scenario, model: BeliefModel, m: FloatArray) -> tuple[FloatArray, float]:
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

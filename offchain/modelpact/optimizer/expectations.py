"""F(m) = E[a(n . m)] and every t_bar_i(m), with gradients and Hessians, vectorised over outcomes.

Both are sums over the outcomes of a :class:`~modelpact.outcomes.BeliefModel`; the derivatives
follow by the chain rule through the accuracy curve and the valuation (u = v o a).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from modelpact.optimizer.types import FloatArray, IntArray
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


_CHUNK = 1 << 15  # outcomes per pass: temporaries stay small and in cache (2^15 measured best)


def evaluate(
    scenario: Scenario,
    model: BeliefModel,
    m: FloatArray,
    *,
    envelope: bool = False,
    hessians: bool = True,
) -> Expectations:
    """F, t_bar and E v at ``m`` (``envelope``: with the accuracy curve's concave majorant).

    Every quantity is a sum over outcomes, taken in chunks of outcomes so that memory stays
    O(chunk * K) whatever the number of outcomes."""
    k = len(m)
    if model.size <= _CHUNK:  # one pass, no running sums (small problems pay per call)
        total = _chunk(scenario, model, m, slice(None), envelope=envelope, hessians=hessians)
    else:
        total = _Sums.zero(k, hessians)
        for start in range(0, model.size, _CHUNK):
            part = slice(start, start + _CHUNK)
            total.add(_chunk(scenario, model, m, part, envelope=envelope, hessians=hessians))
    return Expectations(
        objective=total.objective,
        objective_grad=total.grad_f,
        objective_hess=total.hess_f if hessians else None,
        tbar=total.tbar,
        tbar_grad=total.grad_t,
        tbar_hess=total.hess_t if hessians else None,
        value=total.value,
    )


@dataclass
class _Sums:
    """Running sums over outcome chunks."""

    objective: float
    value: float
    tbar: FloatArray
    grad_f: FloatArray
    grad_t: FloatArray
    hess_f: FloatArray
    hess_t: FloatArray

    @staticmethod
    def zero(k: int, hessians: bool) -> _Sums:
        h = k if hessians else 0
        return _Sums(
            objective=0.0,
            value=0.0,
            tbar=np.zeros(k),
            grad_f=np.zeros(k),
            grad_t=np.zeros((k, k)),
            hess_f=np.zeros((h, h)),
            hess_t=np.zeros((h, h, h)),
        )

    def add(self, other: _Sums) -> None:
        self.objective += other.objective
        self.value += other.value
        self.tbar += other.tbar
        self.grad_f += other.grad_f
        self.grad_t += other.grad_t
        self.hess_f += other.hess_f
        self.hess_t += other.hess_t


def _chunk(
    scenario: Scenario,
    model: BeliefModel,
    m: FloatArray,
    part: slice,
    *,
    envelope: bool,
    hessians: bool,
) -> _Sums:
    """The sums of :func:`evaluate` over the outcomes in ``part``."""
    if not model.shifted:
        return _pooled_chunk(scenario, model, m, part, envelope=envelope, hessians=hessians)
    base = model.base[part]
    ow, tw = model.objective_weights[:, part], model.tbar_weights[:, part]
    s = base @ m
    s = s[:, None] + m[None, :]  # bayes over the N-1 others: each type adds its own m_i
    a, a1, a2 = scenario.accuracy.evaluate(s, envelope=envelope)
    v, v1, v2 = scenario.valuation.evaluate(a)
    u1 = v1 * a1
    objective = float(np.einsum("io,oi->", ow, a))
    value = float(np.einsum("io,oi->", ow, v))
    tbar = np.einsum("io,oi->i", tw, v)
    wa1 = ow.T * a1  # (M, K)
    grad_f = base.T @ wa1.sum(axis=1) + wa1.sum(axis=0)
    wu1 = tw.T * u1
    grad_t = (base.T @ wu1).T + np.diag(wu1.sum(axis=0))
    hess_f, hess_t = np.zeros((0, 0)), np.zeros((0, 0, 0))
    if hessians:
        u2 = v2 * a1**2 + v1 * a2
        pairs = model.pair_products
        hess_f, hess_t = _shifted_hessians(
            base, None if pairs is None else pairs[part], ow, tw, a2, u2
        )
    return _Sums(
        objective=objective,
        value=value,
        tbar=tbar,
        grad_f=grad_f,
        grad_t=grad_t,
        hess_f=hess_f,
        hess_t=hess_t,
    )


def _pooled_chunk(
    scenario: Scenario,
    model: BeliefModel,
    m: FloatArray,
    part: slice,
    *,
    envelope: bool,
    hessians: bool,
) -> _Sums:
    """:func:`_chunk` when every type sees the same pooled data (paper, and bayes by the pooled
    identity): the curve once per outcome, and every sum as one product with the stacked
    weights W = [objective | t_bar_1..K] (M, 1 + K)."""
    base = model.base[part]
    w = model.stacked_weights[part]
    a, a1, a2 = scenario.accuracy.evaluate((base @ m)[:, None], envelope=envelope)
    v, v1, v2 = scenario.valuation.evaluate(a)
    sums = w.T @ np.hstack([a, v])  # (1 + K, 2)
    d1 = w * (v1 * a1)  # u' for the t_bar columns ...
    d1[:, 0] = w[:, 0] * a1[:, 0]  # ... a' for the objective's
    grads = base.T @ d1  # (K, 1 + K)
    hess_f, hess_t = np.zeros((0, 0)), np.zeros((0, 0, 0))
    if hessians:
        d2 = w * (v2 * a1**2 + v1 * a2)
        d2[:, 0] = w[:, 0] * a2[:, 0]
        pairs = model.pair_products
        grams = _grams(base, d2, None if pairs is None else pairs[part])
        hess_f, hess_t = grams[0], grams[1:]
    return _Sums(
        objective=float(sums[0, 0]),
        value=float(sums[0, 1]),
        tbar=sums[1:, 1].copy(),
        grad_f=grads[:, 0].copy(),
        grad_t=grads[:, 1:].T.copy(),
        hess_f=hess_f,
        hess_t=hess_t,
    )


@functools.cache
def _upper_triangle(k: int) -> tuple[IntArray, IntArray]:
    """np.triu_indices(k), computed once per K (small solves call it thousands of times)."""
    rows, cols = np.triu_indices(k)
    rows.setflags(write=False)  # shared by every caller
    cols.setflags(write=False)
    return rows, cols


def _grams(base: FloatArray, d: FloatArray, pairs: FloatArray | None) -> FloatArray:
    """sum_o d[o, g] base_o base_o' for every column g of ``d`` (M, G): (G, K, K).

    One matrix product over the outcomes' pairwise count products (upper triangle, K(K+1)/2
    columns; ``pairs`` when the model caches them) instead of one skinny product per gram:
    the Hessians were 55% of an exact solve."""
    k = base.shape[1]
    rows, cols = _upper_triangle(k)
    if pairs is None:
        pairs = base[:, rows] * base[:, cols]
    packed = d.T @ pairs.astype(np.float64, copy=False)  # (G, K(K+1)/2)
    grams = np.empty((d.shape[1], k, k))
    grams[:, rows, cols] = packed
    grams[:, cols, rows] = packed
    return grams


def _shifted_hessians(
    base: FloatArray,
    pairs: FloatArray | None,
    ow: FloatArray,
    tw: FloatArray,
    a2: FloatArray,
    u2: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """(Hessian of F (K, K), Hessians of every t_bar_i (K, K, K)) from the second derivatives
    a'' and u'' at every outcome: sum_o d_o x_o x_o' with x_o = base_o (+ e_i when shifted)."""
    k = base.shape[1]
    d_f = ow.T * a2  # (M, K): weight of outcome o in type i's term
    d_t = tw.T * u2
    grams = _grams(base, np.column_stack([d_f.sum(axis=1), d_t]), pairs)
    hess_f = grams[0]
    bd_f = base.T @ d_f  # column i = B' d_i
    hess_f += bd_f + bd_f.T + np.diag(d_f.sum(axis=0))
    hess_t = grams[1:]
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

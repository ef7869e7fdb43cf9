"""Multinomial type outcomes and the two belief models behind t_bar.

``n = (n_1..n_K) ~ Multinomial(N, p)`` counts the participants of each type. Expectations are
exact (every composition of N into K parts, C(N+K-1, K-1) of them) or sampled (seeded).

A :class:`BeliefModel` turns a data vector m (shape (K,)) into the pooled data of every outcome as
seen by every type, ``S[o, i] = base[o] . m + (m_i if shifted)``, plus two weight matrices:

* ``tbar_weights[i, o]``: t_bar_i(m) = sum_o tbar_weights[i, o] * v(a(S[o, i]));
* ``objective_weights[i, o]``: E_n[a(n . m)] = sum_{i, o} objective_weights[i, o] * a(S[o, i]).

Beliefs:

* ``bayes``: a participant who knows it is of type i sees the other N-1 as
  Multinomial(N-1, p), so ``base`` holds those outcomes and S adds its own m_i (shifted).
  E_n a(n.m) = sum_i p_i E[a(m_i + n'.m)], so the objective reuses the same outcomes.
* ``paper``: condition on n_i >= 1 with weights proportional to P(n) over Multinomial(N, p).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

__all__ = [
    "BeliefModel",
    "OutcomeSet",
    "belief_model",
    "count_outcomes",
    "enumerate_outcomes",
    "sample_outcomes",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class OutcomeSet:
    """Outcomes ``counts`` (M, K) with probability ``weights`` (M,) summing to 1."""

    counts: IntArray
    weights: FloatArray
    exact: bool


def count_outcomes(participants: int, n_types: int) -> int:
    """C(N+K-1, K-1): how many outcomes exact enumeration visits."""
    return math.comb(participants + n_types - 1, n_types - 1)


def enumerate_outcomes(participants: int, probabilities: FloatArray) -> OutcomeSet:
    """Every composition n of N into K parts with its multinomial probability."""
    k = len(probabilities)
    if participants == 0:
        return OutcomeSet(np.zeros((1, k), dtype=np.int64), np.ones(1), exact=True)
    # stars and bars: K-1 bar positions among N+K-1 slots
    bars = np.array(
        list(itertools.combinations(range(participants + k - 1), k - 1)), dtype=np.int64
    ).reshape(-1, k - 1)
    edges = np.hstack(
        [
            np.full((len(bars), 1), -1, dtype=np.int64),
            bars,
            np.full((len(bars), 1), participants + k - 1, dtype=np.int64),
        ]
    )
    counts = np.diff(edges, axis=1) - 1
    logp = (
        gammaln(participants + 1)
        - gammaln(counts + 1).sum(axis=1)
        + (counts * np.log(probabilities)).sum(axis=1)
    )
    weights = np.exp(logp)
    return OutcomeSet(counts, weights / weights.sum(), exact=True)


def sample_outcomes(
    participants: int, probabilities: FloatArray, samples: int, rng: np.random.Generator
) -> OutcomeSet:
    """``samples`` independent draws of Multinomial(N, p), equally weighted."""
    counts = rng.multinomial(participants, probabilities, size=samples).astype(np.int64)
    return OutcomeSet(counts, np.full(samples, 1.0 / samples), exact=False)


@dataclass(frozen=True)
class BeliefModel:
    """Outcomes and weights that define t_bar_i(m) and E a(n.m) under one belief (module doc)."""

    belief: Literal["bayes", "paper"]
    base: FloatArray  # (M, K) outcome counts
    shifted: bool  # bayes: S[:, i] adds the participant's own m_i
    tbar_weights: FloatArray  # (K, M)
    objective_weights: FloatArray  # (K, M)
    exact: bool

    @property
    def size(self) -> int:
        """M, the number of outcomes."""
        return int(self.base.shape[0])

    @cached_property
    def outer(self) -> FloatArray:
        """(M, K*K) outer products base_o base_o', so sum_o d_o x_o x_o' is one matmul."""
        m, k = self.base.shape
        return (self.base[:, :, None] * self.base[:, None, :]).reshape(m, k * k)

    def pooled(self, m: FloatArray) -> FloatArray:
        """S, shape (M, K): pooled data of each outcome as seen by each type."""
        s = self.base @ m
        if self.shifted:
            return s[:, None] + m[None, :]
        return np.repeat(s[:, None], len(m), axis=1)


def belief_model(
    belief: Literal["bayes", "paper"],
    participants: int,
    probabilities: FloatArray,
    *,
    sampled: bool = False,
    samples: int = 20000,
    rng: np.random.Generator | None = None,
) -> BeliefModel:
    """Build the outcomes and weights of ``belief`` (exact, or ``samples`` draws from ``rng``)."""
    p = np.asarray(probabilities, dtype=np.float64)
    k = len(p)
    if sampled and rng is None:
        raise ValueError("sampled outcomes need an rng")
    if belief == "bayes":
        others = participants - 1
        out = (
            sample_outcomes(others, p, samples, rng)
            if sampled and rng is not None
            else enumerate_outcomes(others, p)
        )
        w = out.weights
        return BeliefModel(
            belief="bayes",
            base=out.counts.astype(np.float64),
            shifted=True,
            tbar_weights=np.tile(w, (k, 1)),
            objective_weights=p[:, None] * w[None, :],
            exact=out.exact,
        )
    out = (
        sample_outcomes(participants, p, samples, rng)
        if sampled and rng is not None
        else enumerate_outcomes(participants, p)
    )
    w = out.weights
    present = (out.counts >= 1).T.astype(np.float64)  # (K, M)
    masses = present @ w
    if np.any(masses <= 0.0):
        raise ValueError("a type never appears in the sampled outcomes; use more samples")
    tbar_weights = present * w[None, :] / masses[:, None]
    objective_weights = np.zeros((k, len(w)))
    objective_weights[0] = w
    return BeliefModel(
        belief="paper",
        base=out.counts.astype(np.float64),
        shifted=False,
        tbar_weights=tbar_weights,
        objective_weights=objective_weights,
        exact=out.exact,
    )

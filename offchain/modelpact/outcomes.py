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

Pooled identity (``pooled_once``): P_N(n) n_i / (N p_i) = P_{N-1}(n - e_i), so the bayes t_bar_i
is also an expectation over the outcomes n of all N participants with weights P_N(n) n_i/(N p_i)
at the pooled data n . m, the same for every type: the curve is evaluated once per outcome
instead of once per outcome and type.

Truncation (``threshold > 0``): only outcomes with P(n) >= threshold are enumerated (a prefix of
counts is pruned as soon as its marginal probability falls below it). Weights are the true
probabilities, not renormalised, so every truncated sum of a nonnegative function is a lower
bound on the full one, and ``dropped_*`` bound what is missing: the full value lies within
``[truncated, truncated + dropped * sup]``.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ROUNDING_ALLOWANCE",
    "BeliefModel",
    "OutcomeSet",
    "TooManyOutcomesError",
    "belief_model",
    "count_outcomes",
    "enumerate_outcomes",
    "enumerate_truncated",
    "log_factorials",
    "mean_field_model",
    "sample_outcomes",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

PAIR_CACHE_BYTES = 512 * 2**20
"""The most :attr:`BeliefModel.pair_products` may hold (an N=200, K=5 truncated solve keeps
5 million outcomes: 300 MiB in float32)."""

# Absolute allowance for rounding in a truncated set's kept mass (log-gamma sums carry a relative
# error near 1e-13 at N in the hundreds), added to every dropped mass so that it stays a bound.
ROUNDING_ALLOWANCE = 1e-11


class TooManyOutcomesError(ValueError):
    """Even the truncated enumeration would exceed the requested number of outcomes."""


@dataclass(frozen=True)
class OutcomeSet:
    """Outcomes ``counts`` (M, K) with probability ``weights`` (M,) summing to 1 - ``dropped``.

    ``dropped`` is 0 for a full enumeration (weights normalised) and a sample, and bounds the
    probability of the outcomes left out of a truncated enumeration (rounding included).
    """

    counts: IntArray
    weights: FloatArray
    exact: bool
    dropped: float = 0.0


def count_outcomes(participants: int, n_types: int) -> int:
    """C(N+K-1, K-1): how many outcomes exact enumeration visits."""
    return math.comb(participants + n_types - 1, n_types - 1)


def log_factorials(n: int) -> FloatArray:
    """``[log 0!, log 1!, ..., log n!]`` by :func:`math.lgamma` (scipy.special's gammaln gives the
    same values; importing it costs ``modelpact solve`` about 0.2 s of its start)."""
    return np.array([math.lgamma(i + 1.0) for i in range(n + 1)], dtype=np.float64)


def enumerate_outcomes(participants: int, probabilities: FloatArray) -> OutcomeSet:
    """Every composition n of N into K parts with its multinomial probability."""
    k = len(probabilities)
    if participants == 0:
        return OutcomeSet(np.zeros((1, k), dtype=np.int64), np.ones(1), exact=True)
    # stars and bars: K-1 bar positions among N+K-1 slots
    # (one type: one composition, no bars; reshape(-1, 0) cannot infer that one row)
    combos = list(itertools.combinations(range(participants + k - 1), k - 1))
    bars = np.array(combos, dtype=np.int64).reshape(len(combos), k - 1)
    edges = np.hstack(
        [
            np.full((len(bars), 1), -1, dtype=np.int64),
            bars,
            np.full((len(bars), 1), participants + k - 1, dtype=np.int64),
        ]
    )
    counts = np.diff(edges, axis=1) - 1
    log_factorial = log_factorials(participants)
    logp = (
        log_factorial[participants]
        - log_factorial[counts].sum(axis=1)
        + (counts * np.log(probabilities)).sum(axis=1)
    )
    weights = np.exp(logp)
    return OutcomeSet(counts, weights / weights.sum(), exact=True)


def enumerate_truncated(
    participants: int, probabilities: FloatArray, threshold: float, *, limit: int
) -> OutcomeSet:
    """The outcomes with probability >= ``threshold`` with their true (unnormalised)
    probabilities and the dropped mass; :class:`TooManyOutcomesError` beyond ``limit`` kept.

    Counts are chosen type by type: n_1 ~ Bin(N, p_1), n_j | n_<j ~ Bin(remaining, p_j / (1 -
    p_1 - ... - p_{j-1})), and a prefix whose probability is below ``threshold`` is pruned (each
    of its completions is at most as likely). Children are generated only near the conditional
    mode; whatever is skipped is counted in the dropped mass, which is 1 - kept mass.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    level = _Level(
        prefix=np.zeros((1, 0), dtype=np.int32),  # int32: half the copying of int64
        logp=np.zeros(1),
        remaining=np.array([participants], dtype=np.int64),
    )
    log_threshold = math.log(threshold)
    log_factorial = log_factorials(participants)  # [n] = log n!
    left = 1.0
    for j in range(len(p) - 1):
        q = min(p[j] / left, 1.0) if left > 0 else 1.0
        parts, kept = [], 0
        for start in range(0, len(level.logp), _BLOCK):
            block = level.block(start, start + _BLOCK)
            parts.append(_expand(block, q, log_threshold, log_factorial))
            kept += len(parts[-1].logp)
            if kept > limit:  # checked per block: refusing N in the thousands stays quick
                raise TooManyOutcomesError(f"more than {limit:,} outcomes above {threshold:g}")
        level = _Level.concatenate(parts)
        left -= p[j]
    counts = np.hstack([level.prefix, level.remaining[:, None]]).astype(np.int64)
    weights = np.exp(level.logp)
    dropped = max(0.0, 1.0 - float(weights.sum())) + ROUNDING_ALLOWANCE
    return OutcomeSet(counts, weights, exact=True, dropped=dropped)  # deterministic, bounded


_BLOCK = 1 << 14  # prefixes expanded at once (bounds the candidate arrays' memory)


@dataclass(frozen=True)
class _Level:
    """Kept count prefixes (P, j), their log-probabilities and the participants left."""

    prefix: NDArray[np.int32]
    logp: FloatArray
    remaining: IntArray

    def block(self, start: int, stop: int) -> _Level:
        return _Level(self.prefix[start:stop], self.logp[start:stop], self.remaining[start:stop])

    @staticmethod
    def concatenate(parts: list[_Level]) -> _Level:
        return _Level(
            prefix=np.vstack([x.prefix for x in parts]),
            logp=np.concatenate([x.logp for x in parts]),
            remaining=np.concatenate([x.remaining for x in parts]),
        )


def _expand(level: _Level, q: float, log_threshold: float, log_factorial: FloatArray) -> _Level:
    """The children of ``level`` (next count ~ Bin(remaining, q)) that reach the threshold.

    Candidates lie in a window around remaining * q wide enough for the Gaussian approximation of
    a child to reach the threshold; what it misses is dropped mass, never an error."""
    remaining = level.remaining
    sd = np.sqrt(remaining * q * (1.0 - q))
    headroom = np.maximum(level.logp - log_threshold, 0.0)
    width = np.ceil(np.sqrt(2.0 * headroom + 2.0) * sd + 3.0).astype(np.int64)
    center = np.floor(remaining * q).astype(np.int64)
    lo = np.clip(center - width, 0, remaining)
    reps = np.clip(center + width, 0, remaining) - lo + 1
    parent = np.repeat(np.arange(len(remaining)), reps)
    starts = np.cumsum(reps) - reps
    n = np.arange(int(reps.sum()), dtype=np.int64) - np.repeat(starts - lo, reps)
    r = remaining[parent]
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = (
            log_factorial[r]
            - log_factorial[n]
            - log_factorial[r - n]
            + np.where(n > 0, n * math.log(q) if q > 0 else -np.inf, 0.0)
            + np.where(r - n > 0, (r - n) * (math.log1p(-q) if q < 1 else -np.inf), 0.0)
        )
    child = level.logp[parent] + cond
    keep = child >= log_threshold
    return _Level(
        prefix=np.hstack([level.prefix[parent[keep]], n[keep, None].astype(np.int32)]),
        logp=child[keep],
        remaining=(r - n)[keep],
    )


def sample_outcomes(
    participants: int, probabilities: FloatArray, samples: int, rng: np.random.Generator
) -> OutcomeSet:
    """``samples`` independent draws of Multinomial(N, p), equally weighted."""
    counts = rng.multinomial(participants, probabilities, size=samples).astype(np.int64)
    return OutcomeSet(counts, np.full(samples, 1.0 / samples), exact=False)


@dataclass(frozen=True)
class BeliefModel:
    """Outcomes and weights that define t_bar_i(m) and E a(n.m) under one belief (module doc).

    For a truncated enumeration the weights miss at most ``dropped_tbar[i]`` of t_bar_i's total
    weight and ``dropped_objective`` of the objective's (both 0 otherwise): with 0 <= a <= a_sup
    and 0 <= v <= v_sup, the full t_bar_i lies in [t_bar_i, t_bar_i + dropped_tbar[i] v_sup] and
    the full objective in [F, F + dropped_objective a_sup].
    """

    belief: Literal["bayes", "paper"]
    base: FloatArray  # (M, K) outcome counts
    shifted: bool  # bayes over N-1 others: S[:, i] adds the participant's own m_i
    tbar_weights: FloatArray  # (K, M)
    objective_weights: FloatArray  # (K, M), or (1, M): only row 0 is used when not shifted
    exact: bool
    dropped_objective: float = 0.0
    dropped_tbar: FloatArray | None = None  # (K,), None: nothing dropped

    @property
    def size(self) -> int:
        """M, the number of outcomes."""
        return int(self.base.shape[0])

    @property
    def truncated(self) -> bool:
        """Outcomes below a probability threshold were left out."""
        return self.dropped_tbar is not None

    @functools.cached_property
    def pair_products(self) -> FloatArray | None:
        """base[:, i] * base[:, j] for i <= j (``numpy.triu_indices`` order), (M, K(K+1)/2):
        every Hessian is a weighted sum of these, and the outcomes do not change between the
        solver's evaluations. Float32 (counts up to 4,096 multiply exactly) when float64 would
        pass :data:`PAIR_CACHE_BYTES`; None (computed per chunk) when even float32 would."""
        k = self.base.shape[1]
        rows, cols = np.triu_indices(k)
        cells = self.size * len(rows)
        exact32 = float(self.base.max(initial=0.0)) <= 4096.0
        if cells * 8 <= PAIR_CACHE_BYTES:
            dtype: type[np.floating[Any]] = np.float64
        elif cells * 4 <= PAIR_CACHE_BYTES and exact32:
            dtype = np.float32
        else:
            return None
        pairs = np.empty((self.size, len(rows)), dtype=dtype)
        step = 1 << 16
        for start in range(0, self.size, step):  # in chunks: no (M, P) float64 temporary
            part = self.base[start : start + step]
            pairs[start : start + step] = part[:, rows] * part[:, cols]
        return pairs

    @functools.cached_property
    def stacked_weights(self) -> FloatArray:
        """(M, 1 + K), C-contiguous: column 0 the objective's weights (row 0 of
        ``objective_weights``), columns 1..K every type's t_bar weights. The unshifted
        expectations are products of these with per-outcome values, one pass per chunk."""
        return np.ascontiguousarray(np.vstack([self.objective_weights[:1], self.tbar_weights]).T)

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
    pooled_once: bool = False,
    threshold: float = 0.0,
    limit: int = 10_000_000,
) -> BeliefModel:
    """Build the outcomes and weights of ``belief`` (exact, or ``samples`` draws from ``rng``).

    Exact only: ``pooled_once`` writes bayes over the outcomes of all N by the pooled identity
    (module doc); ``threshold > 0`` truncates the enumeration (at most ``limit`` outcomes).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if sampled and rng is None:
        raise ValueError("sampled outcomes need an rng")
    if not sampled and (pooled_once or threshold > 0.0):
        return _exact_pooled(belief, participants, p, threshold=threshold, limit=limit)
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
            tbar_weights=np.tile(w, (len(p), 1)),
            objective_weights=p[:, None] * w[None, :],
            exact=out.exact,
        )
    out = (
        sample_outcomes(participants, p, samples, rng)
        if sampled and rng is not None
        else enumerate_outcomes(participants, p)
    )
    return _paper(out, p, participants, normalise=True)


def _paper(out: OutcomeSet, p: FloatArray, participants: int, *, normalise: bool) -> BeliefModel:
    """Condition on n_i >= 1: by the observed mass (``normalise``) or by the exact
    P(n_i >= 1) = 1 - (1 - p_i)^N (a truncated set: the weights stay lower bounds)."""
    w = out.weights
    present = (out.counts >= 1).T.astype(np.float64)  # (K, M)
    if normalise:
        masses = present @ w
    else:
        masses = -np.expm1(participants * np.log1p(-np.minimum(p, 1.0 - 1e-300)))
        masses = np.where(p >= 1.0, 1.0, masses)
    if np.any(masses <= 0.0):
        raise ValueError("a type never appears in the sampled outcomes; use more samples")
    tbar_weights = present * w[None, :] / masses[:, None]
    objective_weights = np.zeros((len(p), len(w)))
    objective_weights[0] = w
    return BeliefModel(
        belief="paper",
        base=out.counts.astype(np.float64),
        shifted=False,
        tbar_weights=tbar_weights,
        objective_weights=objective_weights,
        exact=out.exact,
        dropped_objective=out.dropped,
        dropped_tbar=None if normalise else _missing(tbar_weights),
    )


def _missing(tbar_weights: FloatArray) -> FloatArray:
    """What each row's weights miss of their exact total 1, plus the rounding allowance."""
    missing: FloatArray = np.maximum(0.0, 1.0 - tbar_weights.sum(axis=1)) + ROUNDING_ALLOWANCE
    return missing


_POOLED: dict[tuple[str, int, bytes, float, int], BeliefModel] = {}
_POOLED_MAX = 4  # models kept (a round plans and audits under two beliefs)
_POOLED_BYTES = 64 * 2**20  # larger models are rebuilt each time (memory over time)


def _exact_pooled(
    belief: Literal["bayes", "paper"],
    participants: int,
    p: FloatArray,
    *,
    threshold: float,
    limit: int,
) -> BeliefModel:
    """Exact beliefs over the outcomes of all N participants (truncated if ``threshold``),
    built once per (belief, N, probabilities, threshold, limit) in this process: a round
    solves, integerizes, prices the curve check and audits the same scenario, and at N = 1,000
    (half a million outcomes) each build cost ~0.4 s. The kept model's arrays are read-only,
    so no caller can change what the next one gets."""
    key = (belief, int(participants), np.asarray(p, dtype=np.float64).tobytes(), threshold, limit)
    model = _POOLED.get(key)
    if model is None:
        model = _build_exact_pooled(belief, participants, p, threshold=threshold, limit=limit)
        arrays = [model.base, model.tbar_weights, model.objective_weights, model.dropped_tbar]
        if sum(a.nbytes for a in arrays if a is not None) <= _POOLED_BYTES:
            for a in arrays:
                if a is not None:
                    a.flags.writeable = False
            if len(_POOLED) >= _POOLED_MAX:
                del _POOLED[next(iter(_POOLED))]
            _POOLED[key] = model
    return model


def _build_exact_pooled(
    belief: Literal["bayes", "paper"],
    participants: int,
    p: FloatArray,
    *,
    threshold: float,
    limit: int,
) -> BeliefModel:
    """:func:`_exact_pooled` without the memo."""
    if threshold > 0.0:
        out = enumerate_truncated(participants, p, threshold, limit=limit)
    else:
        out = enumerate_outcomes(participants, p)
    if belief == "paper":
        return _paper(out, p, participants, normalise=threshold <= 0.0)
    w = out.weights
    # P_N(n) n_i / (N p_i) = P_{N-1}(n - e_i): type i's view of the others, at pooled n . m
    tbar_weights = out.counts.T * (w[None, :] / (participants * p[:, None]))
    return BeliefModel(
        belief="bayes",
        base=out.counts.astype(np.float64),
        shifted=False,
        tbar_weights=tbar_weights,
        objective_weights=w[None, :],
        exact=True,
        dropped_objective=out.dropped,
        dropped_tbar=_missing(tbar_weights) if threshold > 0.0 else None,
    )


def mean_field_model(
    belief: Literal["bayes", "paper"], participants: int, probabilities: FloatArray
) -> BeliefModel:
    """Pseudo-outcomes at the (conditional) mean counts: with a concave curve, every expectation
    of this model is an upper bound on the true one (Jensen), deterministically, for any N and K.

    bayes: one outcome (N-1) p of the others, shifted by the type's own m_i. paper: type i's
    t_bar at E[n | n_i >= 1], the objective at E[n] = N p.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    k = len(p)
    if belief == "bayes":
        return BeliefModel(
            belief="bayes",
            base=((participants - 1) * p)[None, :],
            shifted=True,
            tbar_weights=np.ones((k, 1)),
            objective_weights=p[:, None],
            exact=False,
        )
    absent = (1.0 - p) ** participants  # P(n_i = 0)
    present = 1.0 - absent
    base = np.empty((k + 1, k))
    for i in range(k):
        others = participants * p - absent[i] * participants * p / max(1.0 - p[i], 1e-300)
        base[i] = others / present[i]
        base[i, i] = participants * p[i] / present[i]
    base[k] = participants * p
    objective_weights = np.zeros((k, k + 1))
    objective_weights[0, k] = 1.0
    return BeliefModel(
        belief="paper",
        base=base,
        shifted=False,
        tbar_weights=np.hstack([np.eye(k), np.zeros((k, 1))]),
        objective_weights=objective_weights,
        exact=False,
    )

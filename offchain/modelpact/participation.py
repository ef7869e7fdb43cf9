"""Uncertain participation: a quorum Q and a distribution of the number of participants n.

Scenario section (part of the canonical hash; absent = all N seats fill, the model of
:mod:`modelpact.outcomes`, bit for bit)::

    [participation]
    quorum = 6                      # Q: the contract cancels the round (full refunds) below it
    fill = 0.9                      # each of the N seats fills independently with probability q
    # or, instead of fill, an explicit law of n over Q..N:
    # counts = [8, 9, 10]
    # probabilities = [0.2, 0.3, 0.5]

**The law of n.** With ``fill = q``: P(n) proportional to C(N, n) q^n (1 - q)^(N - n) for
Q <= n <= N (Binomial(N, q) conditioned on the round running). With ``counts``: as given. The
contract runs the round at every count from Q to N, so the law must give each of them a positive
probability (``fill < 1`` unless Q = N; ``counts`` = Q..N), or be the worst case ``counts = [Q]``
(promises that hold at every count, since more participants only add rows): a promise computed
over a law that leaves out the count that runs would not be a promise for that round (review of
issue 13).
Types are i.i.d. p given n, so an outcome c = (c_1..c_K) has probability
P(c) = P(n = |c|) Multinomial(c; |c|, p).

**Why condition on n >= Q.** Below the quorum nothing is exchanged: bonds come back and the data
is unused, so every participant is where it would be without the contract (it can still train
alone and get f_i). Its expected utility is therefore P(run) E[u | run] + (1 - P(run)) f_i, which
is >= f_i exactly when E[u | run] >= f_i, and the comparison between options is likewise decided
on the event that the round runs. IR, IC and the budget are all stated conditional on n >= Q.

**Bayesian belief: the size-biased count.** A participant that knows it is in the round and of
type i conditions on that event. Seats are exchangeable and its own type does not change who else
came, so the chance that a given participant is among n is proportional to n:
P(n | in the round) = n P(n) / E[n] (the size-biased law). Given n, the other n - 1 are
Multinomial(n - 1, p). Hence

    tbar_i(m) = sum_n n P(n) / E[n] * E[ v(a(m_i + n'.m)) ],   n' ~ Multinomial(n - 1, p).

For ``fill = q`` this is exactly seat-level conditioning: given my seat is filled, the other
N - 1 seats fill independently with probability q, so the others number k ~ Binomial(N - 1, q)
conditioned on k + 1 >= Q, and n P(n) is proportional to C(N - 1, n - 1) q^(n-1) (1-q)^(N-n).
(The unit test enumerates seats and type sequences directly and finds the same numbers.)

Computation uses the pooled identity Multinomial(c; n, p) c_i / (n p_i) =
Multinomial(c - e_i; n - 1, p), which turns the line above into one expectation over the full
outcomes c, the same for every type:

    tbar_i(m) = E[ c_i v(a(c.m)) ] / E[ c_i ],          E[c_i] = p_i E[n],

so the outcome set is every composition of every n in the support (sum_n C(n+K-1, K-1)) and only
the weights differ by type. The objective is the accuracy of the round as it runs,
E[a(c.m) | n >= Q] = sum_c P(c) a(c.m).

**Paper belief.** As without participation: condition on c_i >= 1 with weights P(c).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

import numpy as np
from numpy.typing import NDArray

from modelpact.errors import ScenarioError
from modelpact.outcomes import BeliefModel, count_outcomes, enumerate_outcomes, log_factorials

if TYPE_CHECKING:
    from modelpact.scenario import Scenario

__all__ = [
    "Participation",
    "count_distribution",
    "parse_participation",
    "participation_model",
    "participation_outcome_count",
    "scenario_participation_model",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_PROBABILITY_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Participation:
    """Quorum Q and the law of the number of participants: ``fill`` or ``counts`` with
    ``probabilities`` (exactly one of the two forms)."""

    quorum: int
    fill: float | None = None
    counts: tuple[int, ...] = ()
    probabilities: tuple[float, ...] = ()

    def params(self) -> dict[str, object]:
        """Validated values for the canonical encoding."""
        if self.fill is not None:
            return {"quorum": self.quorum, "fill": self.fill}
        return {
            "quorum": self.quorum,
            "counts": list(self.counts),
            "probabilities": list(self.probabilities),
        }


def count_distribution(
    participants: int, participation: Participation
) -> tuple[IntArray, FloatArray]:
    """(n values, P(n)) over Q..N with positive mass, P summing to 1 (module doc)."""
    if participation.fill is None:
        counts = np.array(participation.counts, dtype=np.int64)
        probs = np.array(participation.probabilities, dtype=np.float64)
        return counts, probs / probs.sum()
    q, n_all = participation.fill, participants
    ns = np.arange(participation.quorum, n_all + 1, dtype=np.int64)
    if q >= 1.0:
        return np.array([n_all], dtype=np.int64), np.ones(1)
    log_factorial = log_factorials(n_all)
    logp = (
        log_factorial[n_all]
        - log_factorial[ns]
        - log_factorial[n_all - ns]
        + ns * math.log(q)
        + (n_all - ns) * math.log1p(-q)
    )
    weights = np.exp(logp - logp.max())
    keep = weights > 0.0
    return ns[keep], weights[keep] / weights[keep].sum()


def participation_outcome_count(participants: int, participation: Participation, k: int) -> int:
    """How many outcomes exact enumeration visits: sum over n of C(n + K - 1, K - 1)."""
    counts, _ = count_distribution(participants, participation)
    return sum(count_outcomes(int(n), k) for n in counts)


def _exact_outcomes(
    participants: int, participation: Participation, p: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Every composition c of every n in the support, with P(c) = P(n) Mult(c; n, p)."""
    ns, pn = count_distribution(participants, participation)
    bases, weights = [], []
    for n, mass in zip(ns.tolist(), pn.tolist(), strict=True):
        out = enumerate_outcomes(int(n), p)
        bases.append(out.counts.astype(np.float64))
        weights.append(mass * out.weights)
    return np.vstack(bases), np.concatenate(weights)


def _sampled_outcomes(
    participants: int,
    participation: Participation,
    p: FloatArray,
    samples: int,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """``samples`` draws of c: n from its law, then Multinomial(n, p); equally weighted."""
    ns, pn = count_distribution(participants, participation)
    drawn = rng.choice(ns, size=samples, p=pn)
    counts = rng.multinomial(drawn, p).astype(np.float64)
    return counts, np.full(samples, 1.0 / samples)


def participation_model(
    belief: Literal["bayes", "paper"],
    participants: int,
    probabilities: FloatArray,
    participation: Participation,
    *,
    samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> BeliefModel:
    """The :class:`~modelpact.outcomes.BeliefModel` over the participation mixture (module doc):
    pooled outcomes (not shifted), exact unless ``samples`` and ``rng`` are given."""
    p = np.asarray(probabilities, dtype=np.float64)
    if samples is not None and rng is not None:
        base, w = _sampled_outcomes(participants, participation, p, samples, rng)
    else:
        base, w = _exact_outcomes(participants, participation, p)
    # bayes: c_i P(c), size-biased by the participant's own type; paper: condition on c_i >= 1
    raw = (base.T if belief == "bayes" else (base.T >= 1.0)) * w[None, :]
    masses = raw.sum(axis=1)
    if np.any(masses <= 0.0):
        raise ValueError("a type never appears in the outcomes; use more samples")
    objective_weights = np.zeros((len(p), len(w)))
    objective_weights[0] = w / w.sum()
    return BeliefModel(
        belief=belief,
        base=base,
        shifted=False,
        tbar_weights=raw / masses[:, None],
        objective_weights=objective_weights,
        exact=samples is None or rng is None,
    )


def scenario_participation_model(
    scenario: Scenario, *, belief: Literal["bayes", "paper"], stream: int, exact_limit: int
) -> BeliefModel:
    """:func:`participation_model` for ``scenario`` as the solver and checker use it: exact up
    to ``exact_limit`` outcomes, or the scenario's sample on stream ``stream`` of its seed."""
    participation = scenario.participation
    assert participation is not None
    n, k = scenario.participants, scenario.n_types
    if scenario.solver.expectation == "exact":
        count = participation_outcome_count(n, participation, k)
        if count > exact_limit:
            raise ScenarioError(
                f"{scenario.source}: exact expectation over the participation law needs "
                f"{count:,} outcomes (N={n}, K={k}), more than {exact_limit:,}",
                hint='set expectation = "sampled" in [solver]',
            )
        return participation_model(belief, n, scenario.probabilities, participation)
    seeds = np.random.SeedSequence(scenario.solver.seed).spawn(stream + 1)
    rng = np.random.default_rng(seeds[stream])
    return participation_model(
        belief,
        n,
        scenario.probabilities,
        participation,
        samples=scenario.solver.samples,
        rng=rng,
    )


def _fail(source: str, what: str, hint: str) -> ScenarioError:
    return ScenarioError(f"{source}: {what}", hint=hint)


def parse_participation(table: object, participants: int, source: str) -> Participation:
    """Validate a ``[participation]`` table for N = ``participants`` (module doc)."""
    if not isinstance(table, dict):
        raise _fail(source, "participation must be a table", "write it as [participation]")
    allowed = {"quorum", "fill", "counts", "probabilities"}
    extra = sorted(set(table) - allowed)
    if extra:
        raise _fail(
            source,
            f"unknown field participation.{extra[0]}",
            f"allowed fields here: {', '.join(sorted(allowed))}",
        )
    quorum = table.get("quorum")
    if isinstance(quorum, bool) or not isinstance(quorum, int) or not 1 <= quorum <= participants:
        raise _fail(
            source,
            f"participation.quorum must be an integer in 1..{participants}, got {quorum!r}",
            f"e.g. quorum = {max(1, participants // 2)}",
        )
    has_fill = "fill" in table
    has_counts = "counts" in table or "probabilities" in table
    if has_fill == has_counts:
        raise _fail(
            source,
            "participation needs either fill or counts with probabilities (not both)",
            "e.g. fill = 0.9 (each seat fills with probability 0.9)",
        )
    if has_fill:
        fill = _fill(table["fill"], source)
        if fill == 1.0 and quorum < participants:
            raise _fail(
                source,
                f"participation.fill = 1 says all {participants} seats fill, but with quorum "
                f"{quorum} the contract also runs rounds of {quorum}..{participants - 1}: every "
                "promise would be computed for a round that may not be the one that runs",
                f"set fill below 1 (e.g. fill = 0.9) or quorum = {participants}",
            )
        return Participation(quorum=quorum, fill=fill)
    return _explicit(cast(Mapping[str, object], table), quorum, participants, source)


def _fill(value: object, source: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0.0 < float(value) <= 1.0
    ):
        raise _fail(source, f"participation.fill must be in (0, 1], got {value!r}", "e.g. 0.9")
    return float(value)


def _explicit(
    table: Mapping[str, object], quorum: int, participants: int, source: str
) -> Participation:
    counts, probs = table.get("counts"), table.get("probabilities")
    if (
        not isinstance(counts, list)
        or not counts
        or not all(isinstance(c, int) and not isinstance(c, bool) for c in counts)
        or any(b <= a for a, b in itertools.pairwise(counts))
        or not quorum <= counts[0] <= counts[-1] <= participants
    ):
        raise _fail(
            source,
            f"participation.counts must be increasing integers in {quorum}..{participants} "
            "(quorum..participants)",
            f"e.g. counts = [{quorum}, {participants}]",
        )
    if (
        not isinstance(probs, list)
        or len(probs) != len(counts)
        or not all(
            isinstance(x, int | float) and not isinstance(x, bool) and 0.0 < float(x) <= 1.0
            for x in probs
        )
        or abs(math.fsum(float(x) for x in probs) - 1.0) > _PROBABILITY_TOLERANCE
    ):
        raise _fail(
            source,
            "participation.probabilities must be one positive probability per count, summing to 1",
            "e.g. probabilities = [0.3, 0.7]",
        )
    # The whole range Q..N (a belief about every round the contract may run), or the quorum
    # alone: the worst case, whose promises hold at every larger count (more rows only help).
    if counts not in (list(range(quorum, participants + 1)), [quorum]):
        missing = sorted(set(range(quorum, participants + 1)) - set(cast(list[int], counts)))
        raise _fail(
            source,
            f"participation.counts gives no probability to {missing[0]} participants, a round "
            f"the contract runs (any count from the quorum {quorum} to {participants}): its "
            "promises would be computed without it",
            f"list every count from {quorum} to {participants}, or counts = [{quorum}] (the "
            "worst case: promises that hold at every count)",
        )
    return Participation(
        quorum=quorum,
        counts=tuple(cast(list[int], counts)),
        probabilities=tuple(float(x) for x in probs),
    )

"""Reward models on target: real models degraded to a requested accuracy, and reward tiers.

Degradation by data: a reward model is trained (same learner, same seed) on the first ``k`` rows
of a seed-chosen ordering of the collective model's training rows. Accuracy grows with ``k``
(noisily), so ``k`` is searched by bisection on the predicate "measured test accuracy <= target",
then a few neighbours of the boundary are tried, for each of a few orderings (default 3: on
digits this brings every miss within 0.01, against up to 0.045 with one ordering); the reward is
the evaluated model CLOSEST TO THE TARGET FROM BELOW.

Why not degrade the collective model itself (shrinking its coefficients towards a constant, or
mixing its scores with a prior)? Such a file still contains the collective model up to a known
transformation, so a participant could undo it and hold more than it was promised. A model
trained on fewer rows lacks the information; nothing in the file recovers it.

Every comparison uses integer counts of correct test rows of the canonical integer model files
(the bytes posted on chain and evaluated by ``ModelEval``), so "below the target" and "strictly
below the collective model" are exact, not floating-point judgements.

Guarantees of :func:`build_tiers`: tier accuracies are strictly ascending, strictly below the
collective model's (the contract's budget check ``postModels``), and each tier's accuracy is
at most its target (the miss is reported). The contract then draws between neighbouring rungs so
each participant's EXPECTED accuracy equals its target exactly; a tier close below the target
only reduces the variance of that draw.

Modes: ``deterministic`` builds one tier per distinct target (below the collective model), so
a participant whose target is hit exactly is assigned without randomness; ``lottery`` builds a
fixed small grid of tiers spanning the targets and lets the contract's draw mix between them,
which costs fewer models when there are many distinct targets. The plan reports the mode and the
number of models trained.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from modelpact.errors import ModelpactError
from modelpact.ml.datasets import Rows
from modelpact.ml.models import correct_count, encode_model, load_trainer, train_model

__all__ = [
    "RewardError",
    "RewardModel",
    "RewardSearch",
    "TierMode",
    "TierPlan",
    "build_tiers",
    "reward_for_target",
    "tiers_for",
]

TierMode = Literal["deterministic", "lottery"]
_Key = tuple[int, int]  # a model of the search: (ordering, prefix length)


class RewardError(ModelpactError, ValueError):
    """A reward model or tier set cannot be produced for the given targets and data."""


@dataclass(frozen=True)
class RewardModel:
    """A real model file and its measured accuracy on the test set, against its target.

    ``accuracy = correct / test_rows`` exactly; ``miss = accuracy - target`` (<= 0 for tiers).
    ``rows`` is how many of the collective rows (in the seeded order) it was trained on.
    """

    model: bytes
    target: float
    correct: int
    test_rows: int
    rows: int

    @property
    def accuracy(self) -> float:
        """Measured test accuracy in [0, 1]."""
        return self.correct / self.test_rows

    @property
    def accuracy_fraction(self) -> Fraction:
        """Measured test accuracy as an exact fraction (for WAD conversion, which floors)."""
        return Fraction(self.correct, self.test_rows)

    @property
    def miss(self) -> float:
        """Achieved minus target accuracy (negative: below the target)."""
        return self.accuracy - self.target


@dataclass(frozen=True)
class TierPlan:
    """Reward tiers for one round: the collective model and the tiers below it.

    ``tiers`` are strictly ascending in accuracy and strictly below ``collective``;
    ``unreachable`` lists targets no model could meet from below (the contract draws between the
    lowest tier and no model there); ``models_trained`` counts every model fitted, the
    collective one included.
    """

    mode: TierMode
    collective: RewardModel
    tiers: tuple[RewardModel, ...]
    targets: tuple[float, ...]
    unreachable: tuple[float, ...]
    models_trained: int
    seconds: float

    @property
    def max_abs_miss(self) -> float:
        """The largest |achieved - target| over the tiers (0 without tiers)."""
        return max((abs(t.miss) for t in self.tiers), default=0.0)


class RewardSearch:
    """Models trained on nested prefixes of ``orderings`` seeded orderings of the collective rows.

    Ordering ``o`` is ``numpy.random.default_rng([seed, o]).permutation``. Results are cached by
    (ordering, prefix length), so searching several targets shares the models; more orderings
    give more candidates near each target at a proportional cost in models trained.
    ``fit_ahead``: fit each ordering's first step next to the collective model in a forked
    worker (the same models and counts; see :meth:`_first_fits`).
    """

    def __init__(
        self,
        collective_rows: Rows,
        test: Rows,
        *,
        seed: int,
        orderings: int = 1,
        fit_ahead: bool = False,
    ) -> None:
        rows = np.asarray(collective_rows)
        if rows.ndim != 2 or rows.shape[0] < 2:
            raise RewardError(
                f"the collective model needs at least 2 training rows, got shape {rows.shape}",
                hint="deliver more data before building reward tiers",
            )
        if np.asarray(test).ndim != 2 or np.asarray(test).shape[0] == 0:
            raise RewardError("the test set is empty", hint="give the public test set rows")
        if orderings < 1:
            raise RewardError(f"orderings must be >= 1, got {orderings}", hint="e.g. 2")
        self.seed = seed
        self.test = test
        self.test_rows = int(test.shape[0])
        self._rows = rows
        self._orders = [
            np.random.default_rng([seed, o]).permutation(rows.shape[0]) for o in range(orderings)
        ]
        self._cache: dict[_Key, tuple[int, bytes]] = {}
        (correct, data), self._ahead = self._first_fits(fit_ahead)
        self.models_trained = 1
        self.collective = RewardModel(
            model=data, target=1.0, correct=correct, test_rows=self.test_rows, rows=self.size
        )

    def _first_fits(
        self, fit_ahead: bool
    ) -> tuple[tuple[int, bytes], dict[_Key, tuple[int, bytes]]]:
        """The collective model and, with ``fit_ahead`` and a second worker, each ordering's first
        bisection step fitted alongside it: its first n // 2 rows, where every search for a
        target below the collective model starts (worth a fork for a large search such as the
        coordinator's, not for many small ones). A model fitted ahead counts in
        ``models_trained`` only once a search evaluates it (as the serial search would fit it
        then); one that failed to train is left for that evaluation to train again and raise as
        the serial search does."""
        from modelpact.parallel import fork_map, usable_workers

        half = self.size // 2
        ahead = list(range(len(self._orders))) if fit_ahead and usable_workers(2) > 1 else []
        load_trainer()

        def fit(job: int | None) -> tuple[int, bytes] | None:
            rows = self._rows if job is None else self._rows[np.sort(self._orders[job][:half])]
            try:
                data = encode_model(train_model(rows, seed=self.seed))
            except ModelpactError:
                if job is None:
                    raise
                return None
            return correct_count(data, self.test), data

        first, *rest = fork_map(fit, [None, *ahead])
        assert first is not None
        return first, {(o, half): r for o, r in zip(ahead, rest, strict=True) if r is not None}

    @property
    def size(self) -> int:
        """Number of collective rows."""
        return int(self._rows.shape[0])

    def _train(self, subset: Rows) -> tuple[int, bytes]:
        # Measured on the canonical integer model: the file delivered and posted on chain.
        data = encode_model(train_model(subset, seed=self.seed))
        self.models_trained += 1
        return correct_count(data, self.test), data

    def evaluate(self, ordering: int, k: int) -> int:
        """Correct test rows of the model on the first ``k`` rows of ``ordering`` (1 <= k < n)."""
        key = (ordering, k)
        if key in self._ahead:
            self._cache[key] = self._ahead.pop(key)
            self.models_trained += 1
        if key not in self._cache:
            self._cache[key] = self._train(self._rows[np.sort(self._orders[ordering][:k])])
        return self._cache[key][0]

    def below(self, target: float, *, refine: int = 3) -> RewardModel | None:
        """The evaluated model closest to ``target`` with accuracy <= target and strictly
        below the collective model, or None when even one row's model is above the target."""
        cap = self._cap(target)
        if cap < 0:
            return None
        for o in range(len(self._orders)):
            self._walk(o, cap, refine)
        return self._best(target, cap, self._cache)

    def below_each(self, targets: Sequence[float], *, refine: int = 3) -> list[RewardModel | None]:
        """``[self.below(t, refine=refine) for t in targets]``: the same models and counts, the
        orderings searched in forked workers (:func:`modelpact.parallel.fork_map`).

        Why it is the same: a search's path depends only on the models' correct counts, which are
        deterministic, so each worker walks exactly the paths the serial loop would; the parent
        merges every model the workers evaluated into the cache and picks each target's model
        from what the serial loop's cache would hold at that point: the models evaluated before
        this call and on the paths of the targets up to this one. One task per ordering (its
        targets' paths share their largest fits: n/2, n/4, ... rows), so no model is fitted
        twice and ``models_trained`` counts what the serial loop fits."""
        from modelpact.parallel import fork_map

        caps = [self._cap(t) for t in targets]
        distinct = sorted({cap for cap in caps if cap >= 0})  # equal caps walk equal paths

        def walk(o: int) -> tuple[list[list[_Key]], dict[_Key, tuple[int, bytes]]]:
            paths = [self._walk(o, cap, refine) for cap in distinct]
            return paths, {key: self._cache[key] for path in paths for key in path}

        load_trainer()
        before = set(self._cache)
        reached: dict[int, set[_Key]] = {cap: set() for cap in distinct}
        for paths, models in fork_map(walk, range(len(self._orders))):
            for cap, path in zip(distinct, paths, strict=True):
                reached[cap].update(path)
            for key, value in models.items():
                if key not in self._cache:
                    self._ahead.pop(key, None)  # fitted ahead, evaluated by this search
                    self._cache[key] = value
                    self.models_trained += 1
        seen = set(before)
        found: list[RewardModel | None] = []
        for target, cap in zip(targets, caps, strict=True):
            seen |= reached.get(cap, set())
            view = {key: self._cache[key] for key in seen}
            found.append(None if cap < 0 else self._best(target, cap, view))
        return found

    def _cap(self, target: float) -> int:
        """The most correct test rows a model for ``target`` may have (< 0: none can)."""
        return min(_floor_correct(target, self.test_rows), self.collective.correct - 1)

    def _walk(self, o: int, cap: int, refine: int) -> list[_Key]:
        """Bisect ordering ``o`` for the longest prefix scoring <= ``cap``, then evaluate
        ``refine`` neighbours each side; returns every (ordering, prefix) evaluated, in order."""
        path: list[_Key] = []
        lo, hi = 0, self.size  # invariant: acc(lo) <= cap (0 rows: no model), acc(hi) > cap
        while hi - lo > 1:
            mid = (lo + hi) // 2
            path.append((o, mid))
            if self.evaluate(o, mid) <= cap:
                lo = mid
            else:
                hi = mid
        for k in range(max(1, lo - refine), min(self.size - 1, lo + refine) + 1):
            path.append((o, k))
            self.evaluate(o, k)
        return path

    def _best(
        self, target: float, cap: int, cache: dict[_Key, tuple[int, bytes]]
    ) -> RewardModel | None:
        """The model of ``cache`` closest below ``cap`` (ties: fewer rows, lower ordering)."""
        best = max(
            (key for key, (c, _) in cache.items() if c <= cap),
            key=lambda key: (cache[key][0], -key[1], -key[0]),
            default=None,
        )
        if best is None:
            return None
        correct, data = cache[best]
        return RewardModel(
            model=data, target=target, correct=correct, test_rows=self.test_rows, rows=best[1]
        )


def _floor_correct(target: float, test_rows: int) -> int:
    """The largest correct count whose accuracy does not exceed ``target``."""
    exact = Fraction(target).limit_denominator(10**12) * test_rows
    return math.floor(exact)


def reward_for_target(
    collective_rows: Rows,
    test: Rows,
    target: float,
    *,
    seed: int,
    refine: int = 3,
    orderings: int = 3,
) -> RewardModel:
    """One real model with test accuracy as close to ``target`` as found, never above it and
    strictly below the collective model trained on ``collective_rows``.

    Raises :class:`RewardError` if ``target`` is not below the collective model or no model
    (even one trained on a single row) stays at or below it.
    """
    search = RewardSearch(collective_rows, test, seed=seed, orderings=orderings)
    if not 0.0 < target < search.collective.accuracy:
        raise RewardError(
            f"target accuracy {target:.6f} is not strictly between 0 and the collective "
            f"model's {search.collective.accuracy:.6f}",
            hint="a participant promised the whole model gets the collective model itself",
        )
    found = search.below(target, refine=refine)
    if found is None:
        raise RewardError(
            f"no model reaches as low as {target:.6f}: even one training row scores higher",
            hint="the contract draws between the lowest tier and no model for such targets",
        )
    return found


def _checked_targets(targets: Sequence[float], *, mode: str, lottery_tiers: int) -> list[float]:
    """``targets`` as floats, once the mode, tier count and every target are valid."""
    if mode not in ("deterministic", "lottery"):
        raise RewardError(f"unknown tier mode {mode!r}", hint='use "deterministic" or "lottery"')
    if lottery_tiers < 1:
        raise RewardError(f"lottery_tiers must be >= 1, got {lottery_tiers}", hint="e.g. 4")
    clean = [float(t) for t in targets]
    if any(not math.isfinite(t) or t < 0.0 for t in clean):
        raise RewardError(
            f"targets must be finite accuracies >= 0, got {clean}", hint="pass accuracies in [0, 1]"
        )
    return clean


def build_tiers(
    collective_rows: Rows,
    test: Rows,
    targets: Sequence[float],
    *,
    mode: TierMode = "deterministic",
    seed: int = 0,
    lottery_tiers: int = 4,
    refine: int = 3,
    orderings: int = 3,
) -> TierPlan:
    """Build the collective model and reward tiers for ``targets`` (accuracies).

    Targets at or above the collective model's accuracy need no tier (those participants get
    the collective model). ``deterministic``: one tier per distinct remaining target.
    ``lottery``: ``lottery_tiers`` targets evenly spaced from the lowest to the highest
    remaining target. Tiers that land on the same accuracy are merged (the one closest to
    its target from below is kept), so accuracies are strictly ascending.
    """
    _checked_targets(targets, mode=mode, lottery_tiers=lottery_tiers)  # before any training
    started = time.perf_counter()
    search = RewardSearch(collective_rows, test, seed=seed, orderings=orderings)
    return tiers_for(
        search, targets, mode=mode, lottery_tiers=lottery_tiers, refine=refine, started=started
    )


def tiers_for(
    search: RewardSearch,
    targets: Sequence[float],
    *,
    mode: TierMode = "deterministic",
    lottery_tiers: int = 4,
    refine: int = 3,
    started: float | None = None,
) -> TierPlan:
    """:func:`build_tiers` on a search whose collective model is already trained: the
    coordinator trains it once, reads its accuracy to set the targets, then builds the tiers
    from the same search (the collective model is the largest fit of the round)."""
    started = time.perf_counter() if started is None else started
    clean = _checked_targets(targets, mode=mode, lottery_tiers=lottery_tiers)
    top = search.collective.accuracy
    wanted = sorted({t for t in clean if 0.0 < t < top})
    if mode == "lottery" and len(wanted) > 1:
        grid = np.linspace(wanted[0], wanted[-1], min(lottery_tiers, len(wanted)))
        wanted = sorted({float(g) for g in grid})
    chosen: dict[int, RewardModel] = {}
    unreachable: list[float] = []
    for target, found in zip(wanted, search.below_each(wanted, refine=refine), strict=True):
        if found is None:
            unreachable.append(target)
            continue
        kept = chosen.get(found.correct)
        if kept is None or abs(found.miss) < abs(kept.miss):
            chosen[found.correct] = found
    tiers = tuple(chosen[c] for c in sorted(chosen))
    return TierPlan(
        mode=mode,
        collective=search.collective,
        tiers=tiers,
        targets=tuple(wanted),
        unreachable=tuple(unreachable),
        models_trained=search.models_trained,
        seconds=time.perf_counter() - started,
    )

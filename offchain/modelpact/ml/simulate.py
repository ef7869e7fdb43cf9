"""Promises kept: many simulated rounds through the contract's own assignment rule.

Each round draws the N participants' private types i.i.d. from the scenario's probabilities.
Every participant picks its best option from the menu for its private cost
(:func:`modelpact.economics.take_option`) and joins if that beats its reservation utility (up to
``join_tolerance``); otherwise it stays out and trains alone. The collective accuracy is the
scenario's accuracy curve at the pooled data S (``accuracy = "curve"``), floored to WAD as the
coordinator posts it. Reward tiers are posted as the coordinator would (``tiers``):

- ``deterministic``: one tier exactly at each target below the collective model,
- ``lottery``: ``lottery_tiers`` tiers evenly spaced between the lowest and highest target,
- ``none``: no tiers, every draw is between no model and the collective model.

Each participant's draw seed is :func:`modelpact.encoding.draw_seed` of seeded random secrets,
and its rung is :func:`modelpact.encoding.assign_rung`, the Python twin of the contract's rule
(integer arithmetic, WAD fixed point). Received value = v(accuracy of the assigned rung).

Statistics per type: the mean received value over every participant-instance of that type
(pooling instances weights each round by how many participants of the type it holds, which is
exactly the Bayesian belief n = e_i + Multinomial(N-1, p)), with a cluster-robust (by round)
confidence interval of a ratio estimator; the mean realised utility against the reservation
utility; and the fraction of rounds in which the budget bound was tight (some participant
received the collective model itself, the most the budget allows).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from modelpact.economics import (
    option_utilities,
    reservation_utilities,
    take_option,
    worth_joining,
)
from modelpact.encoding import WAD, assign_rung, draw_seed, target_accuracy, to_wad
from modelpact.errors import ModelpactError
from modelpact.menu import Menu
from modelpact.ml.datasets import Split
from modelpact.scenario import Scenario

__all__ = [
    "BeliefGap",
    "SimulationError",
    "SimulationResult",
    "SimulationRun",
    "TierRule",
    "TypeStats",
    "belief_gap",
    "plot_rewards",
    "run_simulation",
    "simulate",
    "simulation_record",
]

TierRule = Literal["deterministic", "lottery", "none"]
_ROUND_ADDRESS = "0x000000000000000000000000000000000000dEaD"


class SimulationError(ModelpactError, ValueError):
    """A simulation cannot run with the given scenario, menu or options."""


@dataclass(frozen=True)
class TypeStats:
    """Outcomes of one type over all simulated rounds (values in valuation units)."""

    type: int
    cost: float
    option: int | None  # offered option id picked (None: stays out)
    m: float
    promised_t: float
    ratio: float
    instances: int
    mean_value: float
    ci_low: float
    ci_high: float
    mean_utility: float
    reservation_utility: float
    collective_fraction: float  # instances that received the collective model itself
    values: tuple[float, ...]

    @property
    def within_ci(self) -> bool:
        """Whether the promised t lies inside the confidence interval of the mean."""
        return bool(self.ci_low <= self.promised_t <= self.ci_high)


@dataclass(frozen=True)
class SimulationResult:
    """Per-type statistics and round-level facts of a simulation."""

    rounds: int
    participants: int
    seed: int
    tiers: TierRule
    lottery_tiers: int
    confidence: float
    accuracy: str
    types: tuple[TypeStats, ...]
    tight_fraction: float
    mean_collective_accuracy: float
    mean_pooled_data: float
    seconds: float

    @property
    def promises_kept(self) -> bool:
        """Every type that joined has its promised t inside its confidence interval."""
        return all(s.within_ci for s in self.types if s.option is not None and s.instances > 0)


@dataclass(frozen=True)
class BeliefGap:
    """Exact expected received value of each type under the TRUE (Bayesian) distribution for
    a given menu, against what the menu promised and the reservation utility."""

    type: int
    promised_t: float
    bayes_expected_value: float  # ratio_i * tbar_i under bayes, for the menu's m
    predicted_gap: float  # promised_t - bayes_expected_value = ratio_i (tbar_menu - tbar_bayes)
    bayes_utility: float  # bayes_expected_value - c_i m_i
    reservation_utility: float

    @property
    def shortfall(self) -> float:
        """How far the Bayesian utility falls below the reservation utility (> 0: IR fails)."""
        return self.reservation_utility - self.bayes_utility


def _tiers_for(
    rule: TierRule, targets: list[int], collective: int, lottery_tiers: int
) -> list[int]:
    below = sorted({t for t in targets if 0 < t < collective})
    if rule == "none" or not below:
        return []
    if rule == "deterministic":
        return below
    count = min(lottery_tiers, len(below))
    if count == 1:
        return [below[0]]
    lo, hi = below[0], below[-1]
    return sorted({lo + (hi - lo) * j // (count - 1) for j in range(count)})


@dataclass(frozen=True)
class _Posting:
    """What the coordinator posts for one round (WAD). A collective accuracy of 0 is no round:
    nobody joined, or the pooled data trained nothing."""

    collective: int
    tiers: tuple[int, ...]


_NO_ROUND = _Posting(collective=0, tiers=())


def _real_round(
    data: Split,
    counts: list[int],
    ratios_wad: list[int],
    rule: TierRule,
    lottery_tiers: int,
    *,
    seed: int,
) -> _Posting:
    """Train one real round: the collective model and the posted reward tiers, measured."""
    from modelpact.ml.datasets import shard_pool
    from modelpact.ml.rewards import RewardSearch

    if sum(counts) < 2:
        return _NO_ROUND
    rows = np.concatenate(shard_pool(data.pool, counts, seed))
    search = RewardSearch(rows, data.test, seed=seed, orderings=1)
    total = search.test_rows
    collective = search.collective.correct * WAD // total
    if collective == 0:
        return _NO_ROUND
    targets = [target_accuracy(r, collective) for r in ratios_wad]
    wanted = _tiers_for(rule, targets, collective, lottery_tiers)
    posted = set()
    for target in wanted:
        found = search.below(target / WAD)
        if found is not None and found.correct > 0:
            posted.add(found.correct * WAD // total)
    return _Posting(collective=collective, tiers=tuple(sorted(posted)))


def _pick(menu: Menu, type_number: int, cost: float, reservation: float, tol: float) -> int | None:
    """The offered option a participant of ``type_number`` takes
    (:func:`modelpact.economics.take_option`, knowing the option designed for its type), or
    None to stay out (:func:`modelpact.economics.worth_joining` against training alone)."""
    utilities = option_utilities(menu, cost)
    own = next((i for i, o in enumerate(menu.offered) if o.type == type_number), None)
    j = take_option(utilities, own=own, tolerance=tol)
    return j if worth_joining(float(utilities[j]), reservation, tolerance=tol) else None


@dataclass(frozen=True)
class _Plan:
    """What every participant of each type does; types are private but the menu is fixed, so
    this is decided once, before any round is drawn. Indexed by type - 1."""

    scale: float  # v(1): a linear valuation's scale
    costs: NDArray[np.float64]
    reservation: NDArray[np.float64]  # utility of training alone
    choice: tuple[int | None, ...]  # offered option index taken (None: stays out)
    m: NDArray[np.float64]  # data contributed (0 when out)
    ratio_wad: tuple[int, ...]  # promised share of the collective accuracy (0 when out)


@dataclass(frozen=True)
class _Rules:
    """How each round is measured and which reward tiers the coordinator posts."""

    tiers: TierRule
    lottery_tiers: int
    data: Split | None  # None: the scenario's curve; else real training on this split


@dataclass
class _Tally:
    """Running totals over the rounds; mutable because the round loop fills it in place."""

    sums: NDArray[np.float64]  # (rounds, types): value received
    counts: NDArray[np.float64]  # (rounds, types): participant-instances
    got_collective: NDArray[np.float64]  # (types,): instances given the collective model
    values: list[list[float]]  # every value received, per type
    collective_acc: NDArray[np.float64]  # (rounds,)
    pooled: NDArray[np.float64]  # (rounds,)
    tight: int = 0  # rounds in which someone received the collective model

    @classmethod
    def empty(cls, rounds: int, k: int) -> _Tally:
        return cls(
            sums=np.zeros((rounds, k)),
            counts=np.zeros((rounds, k)),
            got_collective=np.zeros(k),
            values=[[] for _ in range(k)],
            collective_acc=np.zeros(rounds),
            pooled=np.zeros(rounds),
        )


def _check_options(
    scenario: Scenario, menu: Menu, *, rounds: int, tiers: TierRule, confidence: float
) -> None:
    if scenario.valuation.kind != "linear":
        raise SimulationError(
            f"valuation {scenario.valuation.kind!r} cannot be executed by the contract",
            hint='use [valuation] kind = "linear"',
        )
    if rounds < 2:
        raise SimulationError(f"rounds must be at least 2, got {rounds}", hint="e.g. 2000")
    if tiers not in ("deterministic", "lottery", "none"):
        raise SimulationError(
            f"unknown tier rule {tiers!r}", hint='use "deterministic", "lottery" or "none"'
        )
    if not 0.5 <= confidence < 1.0:
        raise SimulationError(f"confidence must be in [0.5, 1), got {confidence}", hint="0.99")
    if menu.participants != scenario.participants:
        raise SimulationError(
            f"the menu is for {menu.participants} participants, the scenario has "
            f"{scenario.participants}",
            hint="solve this scenario to get its menu",
        )


def _plan(scenario: Scenario, menu: Menu, join_tolerance: float) -> _Plan:
    offered = menu.offered
    costs = scenario.costs
    f, _ = reservation_utilities(scenario.accuracy, scenario.valuation, costs)
    choice = tuple(
        _pick(menu, i + 1, float(costs[i]), float(f[i]), join_tolerance)
        for i in range(scenario.n_types)
    )
    return _Plan(
        scale=float(scenario.valuation(np.array([1.0]))[0]),  # linear: v(1) is the scale
        costs=costs,
        reservation=f,
        choice=choice,
        m=np.array([offered[j].m if j is not None else 0.0 for j in choice]),
        ratio_wad=tuple(to_wad(min(offered[j].ratio, 1.0)) if j is not None else 0 for j in choice),
    )


def _check_fits(plan: _Plan, data: Split, participants: int) -> None:
    """Real rounds shard whole rows from the pool, so even the worst draw (everyone taking
    the largest option) must fit it."""
    need = participants * float(plan.m.max(initial=0.0))
    if any(not float(v).is_integer() for v in plan.m) or need > data.pool.shape[0]:
        raise SimulationError(
            f"real rounds need whole-row options whose worst case ({need:g} rows) fits the "
            f"pool of {data.pool.shape[0]} rows",
            hint="simulate the integer menu (--integer) of a scenario sized for the data",
        )


def _post(
    scenario: Scenario,
    plan: _Plan,
    rules: _Rules,
    joined: list[int],
    pooled: float,
    rng: np.random.Generator,
) -> _Posting:
    """The round's collective accuracy and tiers, from the curve or from real training."""
    if rules.data is None:
        collective = to_wad(float(scenario.accuracy(np.array([pooled]))[0])) if pooled > 0 else 0
        targets = [target_accuracy(plan.ratio_wad[i], collective) for i in set(joined)]
        posted = _tiers_for(rules.tiers, targets, collective, rules.lottery_tiers)
        return _Posting(collective=collective, tiers=tuple(posted))
    counts_rows = [int(plan.m[i]) for i in joined]
    ratios = [plan.ratio_wad[i] for i in set(joined)]
    seed = int(rng.integers(2**31))
    return _real_round(rules.data, counts_rows, ratios, rules.tiers, rules.lottery_tiers, seed=seed)


def _assign(
    r: int,
    joined: list[int],
    posting: _Posting,
    plan: _Plan,
    tally: _Tally,
    rng: np.random.Generator,
) -> None:
    """Draw every joined participant's rung with the contract's own rule and record its value."""
    coordinator_secret = rng.bytes(32)
    top = len(posting.tiers) + 1
    any_top = False
    for index, i in enumerate(joined):
        seed_bytes = draw_seed(coordinator_secret, rng.bytes(32), _ROUND_ADDRESS, index)
        rung, acc_wad, _ = assign_rung(
            plan.ratio_wad[i], posting.collective, posting.tiers, seed_bytes
        )
        value = plan.scale * acc_wad / WAD
        tally.sums[r, i] += value
        tally.counts[r, i] += 1
        tally.values[i].append(value)
        if rung == top:
            tally.got_collective[i] += 1
            any_top = True
    tally.tight += int(any_top)


def _play_round(
    r: int,
    scenario: Scenario,
    plan: _Plan,
    rules: _Rules,
    tally: _Tally,
    rng: np.random.Generator,
) -> None:
    # The draws consume ``rng`` in a fixed order (types, training seed, secrets) so a seed
    # reproduces a simulation exactly.
    types = rng.choice(scenario.n_types, size=scenario.participants, p=scenario.probabilities)
    pooled = float(plan.m[types].sum())
    tally.pooled[r] = pooled
    joined = [int(i) for i in types if plan.choice[int(i)] is not None]
    posting = _post(scenario, plan, rules, joined, pooled, rng)
    tally.collective_acc[r] = posting.collective / WAD
    if posting.collective == 0:
        return  # nobody joined or no data: no round
    _assign(r, joined, posting, plan, tally, rng)


def _type_stats(i: int, plan: _Plan, tally: _Tally, menu: Menu, z: float) -> TypeStats:
    """Type i's mean received value with a cluster-robust (by round) interval of the ratio
    estimator: rounds, not participant-instances, are the independent draws."""
    j = plan.choice[i]
    rounds = tally.sums.shape[0]
    total = float(tally.counts[:, i].sum())
    promised = menu.offered[j].t if j is not None else 0.0
    if total == 0:
        mean = low = high = 0.0
    else:
        mean = float(tally.sums[:, i].sum() / total)
        resid = tally.sums[:, i] - mean * tally.counts[:, i]
        se = math.sqrt(float(resid @ resid) * rounds / (rounds - 1)) / total
        low, high = mean - z * se, mean + z * se
    cost, m, f = float(plan.costs[i]), float(plan.m[i]), float(plan.reservation[i])
    return TypeStats(
        type=i + 1,
        cost=cost,
        option=j,
        m=m,
        promised_t=float(promised),
        ratio=plan.ratio_wad[i] / WAD,
        instances=int(total),
        mean_value=mean,
        ci_low=low,
        ci_high=high,
        mean_utility=mean - float(plan.costs[i] * plan.m[i]) if j is not None else f,
        reservation_utility=f,
        collective_fraction=float(tally.got_collective[i] / total) if total else 0.0,
        values=tuple(tally.values[i]),
    )


def simulate(
    scenario: Scenario,
    menu: Menu,
    *,
    rounds: int = 2000,
    seed: int = 0,
    tiers: TierRule = "lottery",
    lottery_tiers: int = 3,
    confidence: float = 0.99,
    join_tolerance: float = 1e-6,
    data: Split | None = None,
) -> SimulationResult:
    """Run ``rounds`` rounds of ``menu`` in ``scenario``.

    Without ``data`` the collective accuracy is the scenario's curve at the pooled data
    (``accuracy = "curve"``). With ``data`` (a test set and a pool of integer rows, e.g. the
    digits split) every round is real (``accuracy = "real"``): the joined participants' shards
    (``m`` rows each, so m must be whole rows) are drawn from the pool, the collective model is
    trained and measured on the test set, and the tiers are real reward models
    (:class:`modelpact.ml.rewards.RewardSearch`, one ordering) measured the same way. Real
    rounds cost one training per model: use tens of rounds, not thousands.

    Raises :class:`SimulationError` for a non-linear valuation (the chain assigns in accuracy
    units), a menu for another number of participants, or bad options.
    """
    started = time.perf_counter()
    _check_options(scenario, menu, rounds=rounds, tiers=tiers, confidence=confidence)
    from scipy.stats import norm

    plan = _plan(scenario, menu, join_tolerance)
    if data is not None:
        _check_fits(plan, data, scenario.participants)
    rules = _Rules(tiers=tiers, lottery_tiers=lottery_tiers, data=data)
    rng = np.random.default_rng(seed)
    tally = _Tally.empty(rounds, scenario.n_types)
    for r in range(rounds):
        _play_round(r, scenario, plan, rules, tally, rng)
    z = float(norm.ppf(0.5 + confidence / 2.0))
    return SimulationResult(
        rounds=rounds,
        participants=scenario.participants,
        seed=seed,
        tiers=tiers,
        lottery_tiers=lottery_tiers,
        confidence=confidence,
        accuracy="curve" if data is None else "real",
        types=tuple(_type_stats(i, plan, tally, menu, z) for i in range(scenario.n_types)),
        tight_fraction=tally.tight / rounds,
        mean_collective_accuracy=float(tally.collective_acc.mean()),
        mean_pooled_data=float(tally.pooled.mean()),
        seconds=time.perf_counter() - started,
    )


def belief_gap(scenario: Scenario, menu: Menu) -> tuple[BeliefGap, ...]:
    """Exact (enumerated) expected received value of every served type under the Bayesian
    belief for ``menu``'s data vector, and the gap to what the menu promised.

    For a menu solved with the ``paper`` belief the promised t_i = ratio_i * tbar_i(paper), so
    the predicted gap is ratio_i * (tbar_i(paper) - tbar_i(bayes)), and a type whose IR binds
    falls short of its reservation utility by exactly that gap.
    """
    from modelpact.optimizer import conditional_values

    served = [o for o in menu.options if o.served]
    if len(served) != scenario.n_types:
        raise SimulationError(
            "belief_gap needs a menu that serves every type",
            hint='solve with serve = "all"',
        )
    m = np.array([o.m for o in menu.options], dtype=np.float64)
    tbar_bayes, _, _ = conditional_values(scenario, m, belief="bayes")
    out = []
    for i, option in enumerate(menu.options):
        expected = float(option.ratio * tbar_bayes[i])
        out.append(
            BeliefGap(
                type=option.type,
                promised_t=option.t,
                bayes_expected_value=expected,
                predicted_gap=option.t - expected,
                bayes_utility=expected - option.cost * option.m,
                reservation_utility=option.reservation_utility,
            )
        )
    return tuple(out)


def simulation_record(result: SimulationResult) -> dict[str, object]:
    """A JSON-ready summary (per-type statistics, no raw samples)."""
    return {
        "rounds": result.rounds,
        "participants": result.participants,
        "seed": result.seed,
        "tiers": result.tiers,
        "lottery_tiers": result.lottery_tiers,
        "confidence": result.confidence,
        "accuracy": result.accuracy,
        "promises_kept": result.promises_kept,
        "tight_fraction": result.tight_fraction,
        "mean_collective_accuracy": result.mean_collective_accuracy,
        "mean_pooled_data": result.mean_pooled_data,
        "seconds": round(result.seconds, 3),
        "types": [
            {
                "type": s.type,
                "cost": s.cost,
                "option": s.option,
                "m": s.m,
                "promised_t": s.promised_t,
                "ratio": s.ratio,
                "instances": s.instances,
                "mean_value": s.mean_value,
                "ci": [s.ci_low, s.ci_high],
                "within_ci": s.within_ci,
                "mean_utility": s.mean_utility,
                "reservation_utility": s.reservation_utility,
                "collective_fraction": s.collective_fraction,
            }
            for s in result.types
        ],
    }


def plot_rewards(result: SimulationResult, path: Path | str) -> Path:
    """Histogram of received values per type with the promised t and the measured mean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [s for s in result.types if s.instances > 0]
    target = Path(path)
    fig, axes = plt.subplots(
        len(shown), 1, figsize=(6.4, 1.9 * max(len(shown), 1) + 0.6), squeeze=False
    )
    try:
        for ax, s in zip(axes[:, 0], shown, strict=True):
            data: NDArray[np.float64] = np.asarray(s.values, dtype=np.float64)
            ax.hist(data, bins=40, color="C0", alpha=0.75)
            ax.axvline(s.promised_t, color="C3", label=f"promised t = {s.promised_t:.2f}")
            ax.axvline(s.mean_value, color="k", ls="--", label=f"mean = {s.mean_value:.2f}")
            ax.set_ylabel(f"type {s.type}")
            ax.legend(fontsize=7, loc="upper left")
        axes[-1, 0].set_xlabel("value of the model received")
        fig.suptitle(
            f"Rewards over {result.rounds} rounds ({result.tiers} tiers), promised vs received",
            fontsize=9,
        )
        fig.tight_layout()
        fig.savefig(target, dpi=110, metadata={"Software": None})
    finally:
        plt.close(fig)
    return target


@dataclass(frozen=True)
class SimulationRun:
    """What ``modelpact simulate`` computed: the menu used, the simulation, the belief gap."""

    menu: Menu
    result: SimulationResult
    gaps: tuple[BeliefGap, ...]

    def report(self) -> dict[str, object]:
        """The JSON report (``simulate --out`` / ``--json``): the simulation record, the menu's
        belief and whether it is integer, and the exact belief gap per type."""
        record = simulation_record(self.result)
        record["menu_belief"] = self.menu.belief
        record["menu_integer"] = self.menu.integer
        record["belief_gap"] = [
            {
                "type": g.type,
                "promised_t": g.promised_t,
                "bayes_expected_value": g.bayes_expected_value,
                "predicted_gap": g.predicted_gap,
                "bayes_utility": g.bayes_utility,
                "reservation_utility": g.reservation_utility,
                "shortfall": g.shortfall,
            }
            for g in self.gaps
        ]
        return record


def _menu_for(
    scenario: Scenario,
    menu_path: Path | str | None,
    belief: Literal["bayes", "paper"] | None,
    integer: bool,
) -> Menu:
    """The menu from ``menu_path``, or solved here (rounded to rows when ``integer``, as the
    chain publishes it)."""
    import json

    from modelpact.menu import menu_from_json

    if menu_path is None:
        from modelpact.optimizer import integerize_menu, solve

        menu = solve(scenario, belief=belief, benchmarks=False)
        return integerize_menu(scenario, menu) if integer else menu
    source = Path(menu_path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SimulationError(
            f"cannot read menu {source}: {exc}", hint="pass a menu written by `solve --out`"
        ) from None
    return menu_from_json(document, source=str(source))


def _write_outputs(
    run: SimulationRun, json_path: Path | str | None, plot_path: Path | str | None
) -> None:
    import json

    if json_path is not None:
        text = json.dumps(run.report(), indent=2, sort_keys=True)
        Path(json_path).write_text(text + "\n", encoding="utf-8")
    if plot_path is not None:
        plot_rewards(run.result, plot_path)


def run_simulation(
    scenario_path: Path | str,
    *,
    menu_path: Path | str | None = None,
    belief: Literal["bayes", "paper"] | None = None,
    integer: bool = True,
    rounds: int = 2000,
    seed: int = 0,
    tiers: TierRule = "lottery",
    lottery_tiers: int = 3,
    confidence: float = 0.99,
    json_path: Path | str | None = None,
    plot_path: Path | str | None = None,
    dataset: str | None = None,
    test_size: int = 360,
    split_seed: int = 0,
) -> SimulationRun:
    """Load the scenario, take the menu from ``menu_path`` or solve it (``belief`` overrides
    the scenario's; ``integer`` rounds m to rows as the chain publishes it), simulate, compute
    the exact Bayesian belief gap, and write the JSON report and the plot if asked.

    With ``dataset`` (``digits``, ``generated`` or a file) rounds are real: the dataset is split
    with ``split_test(test_size=test_size, seed=split_seed)`` and every round trains real
    models (see :func:`simulate`)."""
    from modelpact.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    menu = _menu_for(scenario, menu_path, belief, integer)
    data = None
    if dataset is not None:
        from modelpact.ml.datasets import load_dataset, split_test

        data = split_test(load_dataset(dataset), test_size=test_size, seed=split_seed)
    result = simulate(
        scenario,
        menu,
        data=data,
        rounds=rounds,
        seed=seed,
        tiers=tiers,
        lottery_tiers=lottery_tiers,
        confidence=confidence,
    )
    gaps = belief_gap(scenario, menu) if all(o.served for o in menu.options) else ()
    run = SimulationRun(menu=menu, result=result, gaps=gaps)
    _write_outputs(run, json_path, plot_path)
    return run

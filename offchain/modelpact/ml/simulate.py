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


def _real_round(
    data: Split,
    counts: list[int],
    ratios_wad: list[int],
    rule: TierRule,
    lottery_tiers: int,
    *,
    seed: int,
) -> tuple[int, list[int]]:
    """Train one real round: (collective accuracy WAD, posted tier accuracies WAD)."""
    from modelpact.ml.datasets import shard_pool
    from modelpact.ml.rewards import RewardSearch

    if sum(counts) < 2:
        return 0, []
    rows = np.concatenate(shard_pool(data.pool, counts, seed))
    search = RewardSearch(rows, data.test, seed=seed, orderings=1)
    total = search.test_rows
    collective = search.collective.correct * WAD // total
    if collective == 0:
        return 0, []
    targets = [target_accuracy(r, collective) for r in ratios_wad]
    wanted = _tiers_for(rule, targets, collective, lottery_tiers)
    posted = set()
    for target in wanted:
        found = search.below(target / WAD)
        if found is not None and found.correct > 0:
            posted.add(found.correct * WAD // total)
    return collective, sorted(posted)


def _pick(menu: Menu, type_number: int, cost: float, reservation: float, tol: float) -> int | None:
    """The offered option a participant of ``type_number`` takes
    (:func:`modelpact.economics.take_option`, knowing the option designed for its type), or
    None to stay out (:func:`modelpact.economics.worth_joining` against training alone)."""
    utilities = option_utilities(menu, cost)
    own = next((i for i, o in enumerate(menu.offered) if o.type == type_number), None)
    j = take_option(utilities, own=own, tolerance=tol)
    return j if worth_joining(float(utilities[j]), reservation, tolerance=tol) else None


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
    from scipy.stats import norm

    scale = float(scenario.valuation(np.array([1.0]))[0])  # linear: v(1) is the scale
    offered = menu.offered
    k = scenario.n_types
    n = scenario.participants
    costs = scenario.costs
    f, _ = reservation_utilities(scenario.accuracy, scenario.valuation, costs)
    choice = [_pick(menu, i + 1, float(costs[i]), float(f[i]), join_tolerance) for i in range(k)]
    m = np.array([offered[j].m if j is not None else 0.0 for j in choice])
    ratio_wad = [to_wad(min(offered[j].ratio, 1.0)) if j is not None else 0 for j in choice]

    if data is not None:
        need = scenario.participants * float(m.max(initial=0.0))
        if any(not float(v).is_integer() for v in m) or need > data.pool.shape[0]:
            raise SimulationError(
                f"real rounds need whole-row options whose worst case ({need:g} rows) fits the "
                f"pool of {data.pool.shape[0]} rows",
                hint="simulate the integer menu (--integer) of a scenario sized for the data",
            )

    rng = np.random.default_rng(seed)
    sums = np.zeros((rounds, k))
    counts = np.zeros((rounds, k))
    got_collective = np.zeros(k)
    values: list[list[float]] = [[] for _ in range(k)]
    tight = 0
    collective_acc = np.zeros(rounds)
    pooled = np.zeros(rounds)
    for r in range(rounds):
        types = rng.choice(k, size=n, p=scenario.probabilities)
        s = float(m[types].sum())
        pooled[r] = s
        joined = [int(i) for i in types if choice[int(i)] is not None]
        if data is None:
            collective = to_wad(float(scenario.accuracy(np.array([s]))[0])) if s > 0 else 0
            targets = [target_accuracy(ratio_wad[i], collective) for i in set(joined)]
            posted = _tiers_for(tiers, targets, collective, lottery_tiers)
        else:
            counts_rows = [int(m[i]) for i in joined]
            collective, posted = _real_round(
                data, counts_rows, [ratio_wad[i] for i in set(joined)], tiers, lottery_tiers,
                seed=int(rng.integers(2**31)),
            )  # fmt: skip
        collective_acc[r] = collective / WAD
        if collective == 0:
            continue  # nobody joined or no data: no round
        coordinator_secret = rng.bytes(32)
        top = len(posted) + 1
        any_top = False
        for index, i in enumerate(joined):
            seed_bytes = draw_seed(coordinator_secret, rng.bytes(32), _ROUND_ADDRESS, index)
            rung, acc_wad, _ = assign_rung(ratio_wad[i], collective, posted, seed_bytes)
            value = scale * acc_wad / WAD
            sums[r, i] += value
            counts[r, i] += 1
            values[i].append(value)
            if rung == top:
                got_collective[i] += 1
                any_top = True
        tight += int(any_top)
    z = float(norm.ppf(0.5 + confidence / 2.0))
    stats = []
    for i in range(k):
        j = choice[i]
        total = float(counts[:, i].sum())
        promised = offered[j].t if j is not None else 0.0
        if total == 0:
            mean = low = high = 0.0
        else:
            mean = float(sums[:, i].sum() / total)
            resid = sums[:, i] - mean * counts[:, i]
            se = math.sqrt(float(resid @ resid) * rounds / (rounds - 1)) / total
            low, high = mean - z * se, mean + z * se
        stats.append(
            TypeStats(
                type=i + 1,
                cost=float(costs[i]),
                option=j,
                m=float(m[i]),
                promised_t=float(promised),
                ratio=ratio_wad[i] / WAD,
                instances=int(total),
                mean_value=mean,
                ci_low=low,
                ci_high=high,
                mean_utility=mean - float(costs[i] * m[i]) if j is not None else float(f[i]),
                reservation_utility=float(f[i]),
                collective_fraction=float(got_collective[i] / total) if total else 0.0,
                values=tuple(values[i]),
            )
        )
    return SimulationResult(
        rounds=rounds,
        participants=n,
        seed=seed,
        tiers=tiers,
        lottery_tiers=lottery_tiers,
        confidence=confidence,
        accuracy="curve" if data is None else "real",
        types=tuple(stats),
        tight_fraction=tight / rounds,
        mean_collective_accuracy=float(collective_acc.mean()),
        mean_pooled_data=float(pooled.mean()),
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
    import json

    from modelpact.menu import menu_from_json
    from modelpact.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    if menu_path is not None:
        source = Path(menu_path)
        try:
            document = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SimulationError(
                f"cannot read menu {source}: {exc}", hint="pass a menu written by `solve --out`"
            ) from None
        menu = menu_from_json(document, source=str(source))
    else:
        from modelpact.optimizer import integerize_menu, solve

        menu = solve(scenario, belief=belief, benchmarks=False)
        if integer:
            menu = integerize_menu(scenario, menu)
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
    if json_path is not None:
        text = json.dumps(run.report(), indent=2, sort_keys=True)
        Path(json_path).write_text(text + "\n", encoding="utf-8")
    if plot_path is not None:
        plot_rewards(result, plot_path)
    return run

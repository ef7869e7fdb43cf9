"""Promises kept: simulated rounds through the contract's assignment rule, and the belief gap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelpact.ml import simulate as sm
from modelpact.optimizer import integerize_menu, solve
from modelpact.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"


@pytest.fixture(scope="module")
def case1():
    return load_scenario(SCENARIOS / "paper_case1.toml")


def test_bayes_menu_keeps_every_promise_over_2000_rounds(case1) -> None:
    """Scenario 1, bayes belief, no tiers (every draw is between no model and the collective
    model, the most random case): each type's mean received value over 2,000 rounds has the
    promised t inside its 99% confidence interval, and realised utility is near reservation
    or above."""
    menu = solve(case1, belief="bayes", benchmarks=False)
    result = sm.simulate(case1, menu, rounds=2000, seed=0, tiers="none")
    assert result.rounds == 2000
    for stats in result.types:
        assert stats.instances > 3000
        assert stats.within_ci, stats
        assert stats.mean_utility >= stats.reservation_utility - 3 * (stats.ci_high - stats.ci_low)
    assert result.promises_kept
    assert result.tight_fraction == 1.0  # with no tiers someone always wins the collective


def test_tiers_at_targets_make_received_value_nearly_deterministic(case1) -> None:
    """With deterministic tiers every participant receives exactly its target: for types
    promised a share below 1 the spread of received values shrinks to that of the collective
    accuracy (no draw between no model and the collective), and means still match t."""
    menu = solve(case1, belief="bayes", benchmarks=False)
    lottery = sm.simulate(case1, menu, rounds=300, seed=1, tiers="none")
    exact = sm.simulate(case1, menu, rounds=300, seed=1, tiers="deterministic")
    for a, b in zip(lottery.types, exact.types, strict=True):
        if b.ratio < 1.0:
            assert np.std(b.values) < np.std(a.values) / 5
        assert b.within_ci, b


def test_paper_menu_falls_short_of_reservation_by_the_belief_gap(case1) -> None:
    """For the paper-belief menu, the exact expected received value of the high-cost type
    under the Bayesian distribution falls short of its reservation utility, by exactly the gap
    ratio_1 * (tbar_paper - tbar_bayes) the beliefs predict."""
    menu = solve(case1, belief="paper", benchmarks=False)
    gaps = sm.belief_gap(case1, menu)
    high = gaps[0]
    assert high.predicted_gap > 1e-4
    assert high.shortfall > 1e-4
    assert high.shortfall == pytest.approx(high.predicted_gap, abs=1e-6)
    bayes = solve(case1, belief="bayes", benchmarks=False)
    assert all(abs(g.predicted_gap) < 1e-6 for g in sm.belief_gap(case1, bayes))


def test_simulation_is_reproducible_and_rejects_bad_options(case1) -> None:
    """The same seed reproduces the simulation; bad rounds or tier rules raise errors."""
    menu = solve(case1, belief="bayes", benchmarks=False)
    a = sm.simulate(case1, menu, rounds=50, seed=3)
    b = sm.simulate(case1, menu, rounds=50, seed=3)
    assert a.types == b.types
    with pytest.raises(sm.SimulationError, match="rounds must be at least 2"):
        sm.simulate(case1, menu, rounds=1)
    with pytest.raises(sm.SimulationError, match="unknown tier rule"):
        sm.simulate(case1, menu, rounds=10, tiers="best")  # type: ignore[arg-type]


def test_digits_demo_scenario_solves_to_a_separating_menu_that_fits_the_pool() -> None:
    """The demo scenario (learned digits curve) solves to three different options whose
    worst-case demand (10 participants of the cheapest type) fits the 1,437-row pool, and the
    integer menu keeps its promises in simulation."""
    scenario = load_scenario(SCENARIOS / "digits_demo.toml")
    menu = integerize_menu(scenario, solve(scenario, benchmarks=False))
    ms = [o.m for o in menu.offered]
    assert len(set(ms)) == 3
    assert ms == sorted(ms)
    assert all(20 <= m <= 143 for m in ms)
    assert scenario.participants * max(ms) <= 1797 - 360
    assert all(float(m).is_integer() for m in ms)
    result = sm.simulate(scenario, menu, rounds=400, seed=0, tiers="lottery")
    assert [s.option for s in result.types] == [0, 1, 2]
    assert result.promises_kept


def test_real_rounds_refuse_menus_that_do_not_fit_the_data(case1) -> None:
    """Real rounds need whole-row options whose worst case fits the pool; Scenario 1's
    continuous menu on a tiny pool is refused with a SimulationError."""
    from modelpact.ml import datasets as ds

    menu = solve(case1, belief="bayes", benchmarks=False)
    split = ds.split_test(ds.digits_rows()[:300], test_size=100, seed=0)
    with pytest.raises(sm.SimulationError, match="fits the pool"):
        sm.simulate(case1, menu, rounds=5, data=split)

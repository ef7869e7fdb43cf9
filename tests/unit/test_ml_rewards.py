"""Reward models on target: close to the target from below, never above the collective model."""

from __future__ import annotations

import dataclasses

import pytest

from modelpact.ml import datasets as ds
from modelpact.ml import models as md
from modelpact.ml import rewards as rw

TOLERANCE = 0.01  # stated tolerance on digits with a 360-row test set and 3 orderings


@pytest.fixture(scope="module")
def round_data() -> tuple[ds.Rows, ds.Rows]:
    split = ds.split_test(ds.digits_rows(), test_size=360, seed=0)
    collective = ds.shard_pool(split.pool, [900], seed=0)[0]
    return collective, split.test


@pytest.fixture(scope="module")
def plan(round_data: tuple[ds.Rows, ds.Rows]) -> rw.TierPlan:
    collective, test = round_data
    return rw.build_tiers(collective, test, [0.5, 0.71, 0.8, 0.88, 0.93, 1.0], seed=0)


def test_tiers_hit_targets_from_below_within_tolerance(plan: rw.TierPlan) -> None:
    """Each deterministic tier's measured accuracy is at most its target and within 0.01 of it."""
    assert plan.mode == "deterministic"
    assert plan.unreachable == ()
    assert [t.target for t in plan.tiers] == [0.5, 0.71, 0.8, 0.88, 0.93]
    for tier in plan.tiers:
        assert tier.accuracy <= tier.target
        assert -TOLERANCE <= tier.miss <= 0.0, tier
    assert plan.max_abs_miss <= TOLERANCE


def test_tiers_pass_the_contract_budget_check(
    plan: rw.TierPlan, round_data: tuple[ds.Rows, ds.Rows]
) -> None:
    """Tier accuracies, re-measured from the model files, are strictly ascending and strictly
    below the collective model's; the collective file is the model of all delivered rows."""
    collective_rows, test = round_data
    measured = [md.correct_count(t.model, test) for t in plan.tiers]
    assert measured == [t.correct for t in plan.tiers]
    top = md.correct_count(plan.collective.model, test)
    assert all(a < b for a, b in zip(measured, [*measured[1:], top], strict=True))
    assert plan.collective.model == md.train_model_bytes(collective_rows, seed=0)
    assert all(t.rows < collective_rows.shape[0] for t in plan.tiers)


def test_targets_at_or_above_the_collective_need_no_tier(
    round_data: tuple[ds.Rows, ds.Rows],
) -> None:
    """A target >= the collective accuracy adds no tier; reward_for_target refuses it."""
    collective, test = round_data
    with pytest.raises(rw.RewardError, match="not strictly between 0 and the collective"):
        rw.reward_for_target(collective[:300], test, 0.999, seed=0)
    plan = rw.build_tiers(collective[:300], test, [0.999, 1.0], seed=0)
    assert plan.tiers == ()
    assert plan.models_trained == 1  # only the collective model


def test_lottery_uses_a_small_grid_and_costs_fewer_models(
    round_data: tuple[ds.Rows, ds.Rows],
) -> None:
    """Lottery mode builds at most `lottery_tiers` tiers spanning the targets, each below its
    grid target and below the collective model, with fewer models than one tier per target."""
    collective, test = round_data
    targets = [0.6 + 0.04 * i for i in range(8)]
    rows = collective[:400]
    lottery = rw.build_tiers(
        rows, test, targets, mode="lottery", lottery_tiers=3, seed=0, orderings=1
    )
    full = rw.build_tiers(rows, test, targets, mode="deterministic", seed=0, orderings=1)
    assert lottery.mode == "lottery"
    assert len(lottery.tiers) <= 3
    assert lottery.targets == pytest.approx([0.6, 0.74, 0.88])
    assert lottery.models_trained < full.models_trained
    for tier in lottery.tiers:
        assert tier.accuracy <= tier.target
        assert tier.correct < lottery.collective.correct


def test_reward_for_target_is_deterministic(round_data: tuple[ds.Rows, ds.Rows]) -> None:
    """The same rows, target and seed give the same model file bytes."""
    collective, test = round_data
    a = rw.reward_for_target(collective[:300], test, 0.8, seed=4)
    b = rw.reward_for_target(collective[:300], test, 0.8, seed=4)
    assert a.model == b.model
    assert a.accuracy <= 0.8


def test_unreachable_low_targets_are_reported(round_data: tuple[ds.Rows, ds.Rows]) -> None:
    """A target below what a one-row model scores is listed as unreachable, not faked."""
    collective, test = round_data
    plan = rw.build_tiers(collective[:200], test, [0.001, 0.8], seed=0)
    assert plan.unreachable == (0.001,)
    assert [t.target for t in plan.tiers] == [0.8]
    with pytest.raises(rw.RewardError, match="no model reaches as low as"):
        rw.reward_for_target(collective[:200], test, 0.001, seed=0)


def test_bad_inputs_are_refused(round_data: tuple[ds.Rows, ds.Rows]) -> None:
    """Unknown modes, negative targets and a one-row collective raise RewardError."""
    collective, test = round_data
    with pytest.raises(rw.RewardError, match="unknown tier mode"):
        rw.build_tiers(collective, test, [0.5], mode="random")  # type: ignore[arg-type]
    with pytest.raises(rw.RewardError, match="finite accuracies"):
        rw.build_tiers(collective, test, [-0.1])
    with pytest.raises(rw.RewardError, match="at least 2 training rows"):
        rw.build_tiers(collective[:1], test, [0.5])


def test_tiers_from_a_trained_search_equal_build_tiers(
    plan: rw.TierPlan, round_data: tuple[ds.Rows, ds.Rows]
) -> None:
    """The coordinator's path (train the collective model, read its accuracy, then the tiers
    from the same search) gives the same collective model and tiers, byte for byte, as
    build_tiers, with the collective model fitted once."""
    collective, test = round_data
    search = rw.RewardSearch(collective, test, seed=0, orderings=3)
    assert search.models_trained == 1
    reused = rw.tiers_for(search, [0.5, 0.71, 0.8, 0.88, 0.93, 1.0])
    assert reused.collective == plan.collective
    assert reused.tiers == plan.tiers
    assert reused.models_trained == plan.models_trained
    with pytest.raises(rw.RewardError, match="unknown tier mode"):
        rw.tiers_for(search, [0.5], mode="random")  # type: ignore[arg-type]


def _timeless(plan: rw.TierPlan) -> rw.TierPlan:
    return dataclasses.replace(plan, seconds=0.0)


def test_tiers_over_workers_equal_the_serial_search(
    plan: rw.TierPlan, round_data: tuple[ds.Rows, ds.Rows], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The searches run over forked workers (one ordering per worker; with fit_ahead, the
    collective model and each ordering's first step fitted side by side first) give, bit for
    bit, what one process gives (MODELPACT_WORKERS=1) and what calling ``below`` target by
    target gives: the same model bytes, correct counts and rows per tier, the same unreachable
    targets, and ``models_trained`` counts each distinct model once (as the serial search fits
    it once)."""
    collective, test = round_data
    monkeypatch.setenv("MODELPACT_WORKERS", "1")  # nothing fitted ahead, nothing forked
    one_by_one = rw.RewardSearch(collective, test, seed=0, orderings=3)
    found = [one_by_one.below(t) for t in plan.targets]  # the serial search, target by target
    assert one_by_one.collective == plan.collective
    assert tuple(f for f in found if f is not None) == plan.tiers  # one tier per target here
    assert one_by_one.models_trained == plan.models_trained
    rows = collective[:250]
    grid = [0.001, *(0.6 + 0.04 * i for i in range(8))]
    serial = rw.build_tiers(rows, test, grid, seed=0, orderings=2)
    monkeypatch.delenv("MODELPACT_WORKERS")
    forked = rw.build_tiers(rows, test, grid, seed=0, orderings=2)
    assert _timeless(forked) == _timeless(serial)
    assert forked.unreachable == (0.001,)
    ahead = rw.tiers_for(rw.RewardSearch(rows, test, seed=0, orderings=2, fit_ahead=True), grid)
    assert _timeless(ahead) == _timeless(serial)


def test_a_training_error_in_a_worker_is_the_serial_error(
    round_data: tuple[ds.Rows, ds.Rows], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model that cannot be trained raises the same ModelError (message and hint) whether the
    search runs in forked workers or in this process, and only when the serial search would
    train it: a model fitted ahead (the first n // 2 rows) that no target needs raises nothing."""
    collective, test = round_data
    real = md.train_model

    def failing(rows: ds.Rows, *, seed: int) -> md.Model:
        if rows.shape[0] < 40 or rows.shape[0] == 150:  # small prefixes; the first step of 300
            raise md.ModelError("training produced a non-finite parameter", hint="check the rows")
        return real(rows, seed=seed)

    monkeypatch.setattr("modelpact.ml.rewards.train_model", failing)
    outcomes = []
    for workers in ("1", "2"):
        monkeypatch.setenv("MODELPACT_WORKERS", workers)
        search = rw.RewardSearch(collective[:300], test, seed=0, orderings=2, fit_ahead=True)
        assert rw.tiers_for(search, [0.999]).models_trained == 1  # no tier: nothing raised
        with pytest.raises(md.ModelError) as caught:
            rw.tiers_for(search, [0.3, 0.5])
        outcomes.append(caught.value.one_line())
    assert outcomes[0] == outcomes[1]
    assert "non-finite parameter" in outcomes[0]

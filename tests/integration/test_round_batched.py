"""Independent transactions sent back to back (the demo's batched mode) change nothing on chain."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from modelpact.chain.backends import ChainSettings
from modelpact.round.demo import DemoConfig, run_demo

pytestmark = pytest.mark.anvil


def _run(tmp_path: Path, *, batch: bool) -> dict[str, object]:
    settings = ChainSettings.build(
        chain="anvil", rpc_url=None, chain_id=None, state_dir=tmp_path / "state"
    )
    report = run_demo(
        DemoConfig(participants=4, seed=5, out_dir=tmp_path / "out", settings=settings, batch=batch)
    ).report
    assert report.passed, [c for c in report.checks if not c.passed]
    return {
        "address": report.address,
        "total_data": report.total_data,
        "collective_accuracy": report.collective_accuracy,
        "tiers_posted": report.tiers_posted,
        "compensation_paid_wei": report.compensation_paid_wei,
        "undelivered": report.undelivered,
        "outcomes": [asdict(o) for o in report.outcomes],
    }


def test_batched_demo_round_ends_in_the_same_state_as_the_sequential_one(tmp_path: Path) -> None:
    """Same seed, fresh anvil each: fundings, joins, reveals and claims sent back to back (then
    waited for by re-running each recorded step) give the same round address, data, tiers and
    collective model, and every participant the same option, rung, model hash, accuracy and
    compensation as waiting for each in turn (the demo derives the coordinator's secret from the
    seed, as its keys: with a fresh secret per run the rungs differed about one run in ten);
    both rounds pass the independent audit. (Total gas
    is not compared: the coordinator's model deliveries are encrypted with fresh randomness, so
    their calldata, and gas, differ between any two runs.)"""
    batched = _run(tmp_path / "batched", batch=True)
    sequential = _run(tmp_path / "sequential", batch=False)
    assert batched == sequential

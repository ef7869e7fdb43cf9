"""A round's learned curve must describe the round's data (issue 13: the curve is bound to it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpact.round.planning import PlanError, plan_data, plan_round
from modelpact.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "offchain/modelpact/data/scenarios/digits_demo.toml"


def test_the_digits_curve_is_refused_on_generated_rows(tmp_path: Path) -> None:
    """The demo scenario's curve was fitted on digits: planning a round on generated rows is
    refused in one line that names both datasets and the two ways out, and nothing is written;
    --any-curve (the contract's curve check then compensates) and the digits rows both pass."""
    scenario = load_scenario(DEMO)
    with pytest.raises(PlanError) as caught:
        plan_data(
            dataset="generated",
            test_size=100,
            seed=0,
            work_dir=tmp_path / "refused",
            generated_size=600,
            scenario=scenario,
        )
    line = caught.value.one_line()
    assert "\n" not in line
    assert "fitted on digits" in line
    assert "'generated'" in line
    assert "modelpact curve generated" in line
    assert "--any-curve" in line
    assert not (tmp_path / "refused").exists()
    plan_data(
        dataset="generated",
        test_size=100,
        seed=0,
        work_dir=tmp_path / "any",
        generated_size=600,
        scenario=scenario,
        any_curve=True,
    )
    plan_data(dataset="digits", test_size=360, seed=0, work_dir=tmp_path / "d", scenario=scenario)


def test_coordinator_planning_checks_the_curve_before_anything_is_deployed(tmp_path: Path) -> None:
    """plan_round (what `coordinator deploy` runs first) refuses the digits curve on a
    generated dataset, and plans the same scenario on digits."""
    with pytest.raises(PlanError, match="fitted on digits"):
        plan_round(
            scenario_path=DEMO, work_dir=tmp_path / "g", dataset="generated", test_size=360, seed=0
        )
    planned = plan_round(
        scenario_path=DEMO, work_dir=tmp_path / "d", dataset="digits", test_size=360, seed=0
    )
    assert planned.data.dataset == "digits"


def test_a_stated_curve_without_a_fitted_on_record_needs_any_curve(tmp_path: Path) -> None:
    """A curve with no [accuracy.fitted_on] record (the paper's stated curves) shows nothing about
    the round's rows: planning refuses it in one line naming `modelpact curve` and --any-curve,
    writes nothing, and plans it with --any-curve."""
    stated = load_scenario(ROOT / "offchain/modelpact/data/scenarios/paper_case1.toml")
    assert stated.curve.fitted_on is None
    with pytest.raises(PlanError) as caught:
        plan_data(dataset="digits", test_size=360, seed=0, work_dir=tmp_path / "r", scenario=stated)
    line = caught.value.one_line()
    assert "\n" not in line
    assert "[accuracy.fitted_on] missing" in line
    assert "modelpact curve digits" in line
    assert "--any-curve" in line
    assert not (tmp_path / "r").exists()
    plan_data(
        dataset="digits",
        test_size=360,
        seed=0,
        work_dir=tmp_path / "a",
        scenario=stated,
        any_curve=True,
    )

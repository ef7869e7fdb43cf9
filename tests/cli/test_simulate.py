"""``modelpact simulate`` end to end through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"


def test_simulate_reports_promises_and_writes_outputs(tmp_path: Path) -> None:
    """`modelpact simulate` on the digits demo exits 0, says promises are kept, and writes a
    JSON report with one entry per type and a PNG plot."""
    done = subprocess.run(
        [
            sys.executable, "-m", "modelpact", "simulate", str(SCENARIOS / "digits_demo.toml"),
            "--rounds", "300", "--out", "sim.json", "--plot", "sim.png",
        ],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "promises kept: yes" in done.stdout
    report = json.loads((tmp_path / "sim.json").read_text())
    assert [t["type"] for t in report["types"]] == [1, 2, 3]
    assert report["rounds"] == 300
    assert len(report["belief_gap"]) == 3
    assert (tmp_path / "sim.png").read_bytes()[:4] == b"\x89PNG"


def test_simulate_bad_options_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown tier rule or a missing scenario gives one error line and exit code 2
    (through `modelpact.cli.main`, the console script's function, in process for speed)."""
    from modelpact.cli import main

    for args in (
        [str(SCENARIOS / "digits_demo.toml"), "--tiers", "best"],
        [str(tmp_path / "missing.toml")],
    ):
        code = main(["simulate", *args])
        err = capsys.readouterr().err
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("error: ")


def test_simulate_real_rounds_train_real_models(tmp_path: Path) -> None:
    """`--dataset digits` runs real rounds: collective models trained on digits shards, with
    measured collective accuracy near the learned curve's prediction (within 0.03)."""
    done = subprocess.run(
        [
            sys.executable, "-m", "modelpact", "simulate", str(SCENARIOS / "digits_demo.toml"),
            "--rounds", "4", "--dataset", "digits", "--out", "real.json",
        ],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "real.json").read_text())
    assert report["accuracy"] == "real"
    from modelpact.scenario import load_scenario

    scenario = load_scenario(SCENARIOS / "digits_demo.toml")
    predicted = float(scenario.accuracy([report["mean_pooled_data"]])[0])
    assert abs(report["mean_collective_accuracy"] - predicted) < 0.03

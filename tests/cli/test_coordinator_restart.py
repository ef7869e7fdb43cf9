"""``--chain anvil``: the project starts and stops anvil itself, with a state file, so a round
deployed by one command is still there for the next command (a node restart)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modelpact.round.records import list_records

SCENARIO = (
    Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"
)


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelpact", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.anvil
def test_round_survives_node_restart_and_lost_state_is_one_line(tmp_path: Path) -> None:
    """Deploy with --chain anvil; a plain re-run of the same deploy (new process, new anvil, same
    state file) reports the same round and sends nothing, so exactly one record exists; then
    `status` in a new process sees the round in phase join with the coordinator's bond; without
    the state file the command says in one line that no contract is there and how to fix it
    (exit 2)."""
    chain = ["--chain", "anvil", "--state-dir", "st"]
    deploy = ("coordinator", "deploy", "--scenario", str(SCENARIO), "--dev-account", "0", *chain)
    done = _run(tmp_path, *deploy)
    assert done.returncode == 0, done.stderr
    address = done.stdout.split("deployed round ", 1)[1].split()[0]
    again = _run(tmp_path, *deploy)
    assert again.returncode == 0, again.stderr
    assert f"already deployed round {address}" in again.stdout
    assert len(list_records(tmp_path / "deploy")) == 1
    status = _run(tmp_path, "coordinator", "status", *chain)
    assert status.returncode == 0, status.stderr
    assert "phase join" in status.stdout
    assert "participants 0/10" in status.stdout
    assert "contract balance: 100000000000000000 wei" in status.stdout

    (tmp_path / "st" / "anvil-state.json").rename(tmp_path / "lost.json")
    lost = _run(tmp_path, "coordinator", "status", *chain)
    assert lost.returncode == 2
    assert lost.stderr.count("\n") == 1
    assert "no contract at" in lost.stderr
    assert "--state-dir" in lost.stderr

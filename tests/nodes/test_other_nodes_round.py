"""A whole round through the real entry point on EVM nodes other than anvil and eth-tester."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelpact.chain_capabilities import http_rpc_call

NodeProcess = Any  # conftest.NodeProcess (conftest is not importable as a module)


def _demo(url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "modelpact",
            "demo",
            "--participants",
            "3",
            "--seed",
            "1",
            "--rpc",
            url,
            "--chain-id",
            "31337",
            "--state-dir",
            str(tmp_path / "state"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=tmp_path,
    )


@pytest.mark.slow
def test_demo_round_on_hardhat(hardhat_node: NodeProcess, tmp_path: Path) -> None:
    """`modelpact demo --rpc URL` on Hardhat 3's node deploys, joins, posts, reveals and claims
    a 3-participant round (claims run the contract's transient-storage reentrancy guard), every
    participant's model verifies, the independent audit passes, and the report names the
    Hardhat chain."""
    done = _demo(hardhat_node.url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["passed"] is True
    assert report["chain_id"] == 31337
    assert len(report["outcomes"]) == 3
    assert all(outcome["verified"] for outcome in report["outcomes"])
    assert all(check["passed"] for check in report["checks"]), report["checks"]
    audit = [check for check in report["checks"] if check["name"] == "independent audit"]
    assert len(audit) == 1
    version = http_rpc_call(hardhat_node.url)("web3_clientVersion", [])
    assert version.startswith("HardhatNetwork/3.")


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="deploy and join do not call require_round_capabilities yet (wired after the chain/ "
    "restructuring lands); today this round deploys, joins, posts, then dies on the first claim",
)
def test_demo_on_pre_cancun_ganache_is_refused_before_any_transaction(
    ganache_node: NodeProcess, tmp_path: Path
) -> None:
    """On ganache 7.9.2 (no transient storage) `modelpact demo --rpc URL` stops before its first
    transaction: exit 2, one line on stderr naming transient storage and the fix, no traceback,
    and the node mined no block (no bond, no deposit, no gas spent)."""
    ask = http_rpc_call(ganache_node.url)
    before = int(ask("eth_blockNumber", []), 16)
    done = _demo(ganache_node.url, tmp_path)
    mined = int(ask("eth_blockNumber", []), 16) - before
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "transient storage (EIP-1153, Cancun)" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert mined == 0

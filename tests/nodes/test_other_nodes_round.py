"""A whole round through the real entry point on EVM nodes other than anvil and eth-tester."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelpact.chain_capabilities import http_rpc_call
from modelpact.round.records import list_records

NodeProcess = Any  # conftest.NodeProcess (conftest is not importable as a module)
ROOT = Path(__file__).resolve().parents[2]


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


SCENARIO = ROOT / "offchain/modelpact/data/scenarios/digits_demo.toml"
GANACHE_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # dev #1
TRANSIENT_LINE = (
    "error: this node does not support transient storage (EIP-1153, Cancun) or MCOPY (EIP-5656, "
    "Cancun); the round would lock every wei (claims, refunds and the sweep would revert after "
    "the bonds are paid); "
    "use a node with Cancun rules or later, e.g. anvil 1.x or Hardhat 3 (both tested), or any "
    "mainnet client since Dencun (March 2024)"
)


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelpact", *args],
        cwd=cwd, env={**os.environ, "MODELPACT_PASSWORD": "pw"}, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip


def test_coordinator_deploy_on_pre_cancun_ganache_is_refused_before_any_transaction(
    ganache_node: NodeProcess, tmp_path: Path
) -> None:
    """`coordinator deploy --rpc ganache` exits 2 with the one capability line, writes no
    record, and the node mined nothing (no bond, no gas)."""
    ask = http_rpc_call(ganache_node.url)
    before = int(ask("eth_blockNumber", []), 16)
    done = _cli(tmp_path, "coordinator", "deploy", "--scenario", str(SCENARIO), "--dev-account",
                "0", "--rpc", ganache_node.url, "--chain-id", "31337")  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines() == [TRANSIENT_LINE]
    assert not list_records(tmp_path / "deploy")
    assert int(ask("eth_blockNumber", []), 16) == before


def _clone_by_hand(chain: Any, coordinator: str, config: Any, compiled: Any) -> Any:
    """The shared contracts, then a round's clone code put at a new address by plain init code:
    on a pre-Cancun node createRound itself fails (the factory copies memory with MCOPY), so
    this is the closest to a round someone deployed there anyway."""
    from eth_abi.abi import encode

    from modelpact import chain as ch
    from modelpact.audit.clones import clone_code, config_type
    from modelpact.chain.deployment import deploy_shared

    shared = deploy_shared(chain, sender=chain.local_account(0))
    kind = ["address", "address", "uint256", config_type(compiled.abi)]
    args = encode(kind, [shared.factory, coordinator, 10**17, config.as_tuple()])
    runtime = clone_code(shared.round_implementation, args)
    init = bytes.fromhex("61") + len(runtime).to_bytes(2, "big")
    init += bytes.fromhex("80600c6000396000f3") + runtime  # CODECOPY the runtime, RETURN it
    tx = {"from": chain.accounts[0], "data": "0x" + init.hex()}
    receipt = chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_transaction(tx))
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    address = receipt["contractAddress"]
    return ch.RoundContract(chain, address, compiled.abi, tx_hash, int(receipt["blockNumber"]))


def _round_deployed_elsewhere(url: str, base: Path) -> int:
    """A round put on ``url`` by other tooling (not modelpact's deploy, which refuses the
    node), with a deployment record as a coordinator would hand it out; the rows option 0 asks."""
    from eth_utils.crypto import keccak

    from modelpact import chain as ch
    from modelpact import encoding as enc
    from modelpact.compiler import compile_round
    from modelpact.round.records import DeploymentRecord, RoundExtras, record_filename
    from modelpact.round.records import write_record as save

    chain = ch.connect(rpc_url=url)
    coordinator = chain.local_account(0)
    scenario = enc.keccak256(b"elsewhere")
    config = enc.RoundConfig(
        capacity=3, participant_bond=10**16, scenario_hash=scenario,
        test_set_commitment=enc.keccak256(b"t"),
        coordinator_commitment=enc.coordinator_commitment(
            enc.keccak256(b"s"), coordinator.address, scenario, chain.chain_id),
        schedule=enc.Schedule.after(ch.chain_time(chain), join=3600, post=3 * 3600),
        quorum=1, test_row_count=10,
    )  # fmt: skip
    compiled = compile_round()
    rc = _clone_by_hand(chain, coordinator.address, config, compiled)
    record = DeploymentRecord(
        chain_id=chain.chain_id, address=rc.address, tx_hash=str(rc.deploy_tx_hash),
        block_number=int(rc.deploy_block or 0), coordinator=coordinator.address,
        compiler_version=compiled.compiler_version, compiler_settings=dict(compiled.settings),
        abi=list(compiled.abi), runtime_bytecode_sha3="0x" + keccak(rc.runtime_code()).hex(),
        scenario_file="scenario.toml", scenario_sha256="", menu_file="menu.json", menu_sha256="",
        extra=RoundExtras(dataset="digits"),
    )  # fmt: skip
    (base / "deploy").mkdir()
    save(record, base / "deploy" / record_filename(record.chain_id, record.address))
    return 10


def test_participant_join_on_pre_cancun_ganache_is_refused_before_any_transaction(
    ganache_node: NodeProcess, tmp_path: Path
) -> None:
    """A round someone deployed on ganache anyway: `participant join` exits 2 with the one
    capability line before sending; the node mined nothing and the participant's balance and
    nonce are unchanged (its bond would otherwise be locked for good)."""
    from modelpact.ml.datasets import load_dataset, save_rows

    rows = _round_deployed_elsewhere(ganache_node.url, tmp_path)
    (tmp_path / "p.key").write_text(GANACHE_KEY_1)
    imported = _cli(tmp_path, "participant", "import-account", "--keystore", "p.json",
                    "--private-key-file", "p.key")  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    save_rows(tmp_path / "p.csv", load_dataset("digits", seed=0)[:rows])
    committed = _cli(tmp_path, "participant", "commit", "--keystore", "p.json", "--data", "p.csv")
    assert committed.returncode == 0, committed.stderr
    ask = http_rpc_call(ganache_node.url)
    participant = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    before = [ask(m, p) for m, p in (("eth_blockNumber", []),
              ("eth_getBalance", [participant, "latest"]))]  # fmt: skip
    done = _cli(tmp_path, "participant", "join", "--keystore", "p.json", "--option", "0",
                "--rpc", ganache_node.url)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines() == [TRANSIENT_LINE]
    after = [ask(m, p) for m, p in (("eth_blockNumber", []),
             ("eth_getBalance", [participant, "latest"]))]  # fmt: skip
    assert after == before

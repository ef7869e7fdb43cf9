"""Faults: a participant process and a coordinator process are SIGKILLed between sending a
transaction and seeing its receipt, then re-run: no duplicate action, no lost bond. Then the
coordinator disappears (never posts): the participant recovers its bond plus compensation through
the CLI.

Real processes (``python -m modelpact ...``) against a real anvil node. Mining is switched off
(``evm_setAutomine false``, anvil's ``--no-mining`` at run time) while the step runs, so its
transaction sits in the mempool; the test waits until it is there (the CLI records its hash in the
local state before waiting for the receipt), kills the process, mines the block with ``evm_mine``,
switches mining back on and re-runs the same command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import quorum_scenario
from web3 import Web3

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.round.records import list_records

pytestmark = pytest.mark.anvil

ALICE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil #1


@pytest.fixture
def node() -> Iterator[str]:
    from modelpact.chain.backends.anvil import AnvilNode

    with AnvilNode() as anvil:
        yield anvil.rpc_url


def _argv(rpc: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "modelpact", *args, "--rpc", rpc]


def _env() -> dict[str, str]:
    return {**os.environ, "MODELPACT_PASSWORD": "pw"}


def _ok(cwd: Path, rpc: str, *args: str, chain: bool = True) -> str:
    argv = _argv(rpc, *args) if chain else [sys.executable, "-m", "modelpact", *args]
    done = subprocess.run(
        argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def _rpc(rpc: str, method: str, params: list[Any]) -> Any:
    return Web3(Web3.HTTPProvider(rpc)).provider.make_request(method, params)  # type: ignore[arg-type]


def _pending(rpc: str) -> int:
    status = _rpc(rpc, "txpool_status", [])["result"]
    return int(status["pending"], 16) if isinstance(status["pending"], str) else status["pending"]


def _kill_after_send(cwd: Path, rpc: str, *args: str) -> None:
    """Run the step with mining off; SIGKILL it once its transaction is in the mempool; mine."""
    _rpc(rpc, "evm_setAutomine", [False])
    try:
        process = subprocess.Popen(
            _argv(rpc, *args),
            cwd=cwd,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while _pending(rpc) == 0:
            assert process.poll() is None, "the step exited before sending"
            assert time.monotonic() < deadline, "the step never sent its transaction"
            time.sleep(0.05)
        time.sleep(0.3)  # let it record the hash and block on the receipt
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL  # killed before it saw the receipt
        assert _pending(rpc) == 1
        _rpc(rpc, "evm_mine", [])
    finally:
        _rpc(rpc, "evm_setAutomine", [True])


def test_killed_processes_rerun_without_duplicates_and_default_refund(
    tmp_path: Path, node: str
) -> None:
    """A participant killed between sending its join and its receipt, re-run: exactly one join
    and one bond on chain. The coordinator killed between sending its reveal and its receipt,
    re-run: exactly one CoordinatorRevealed. The coordinator then disappears: after the post
    deadline the participant's `withdraw` returns its bond plus the whole coordinator bond (it is
    the only participant), to the wei after fees; a re-run is refused in one line, sends nothing."""
    from modelpact.ml.datasets import load_dataset, save_rows, shard_pool, split_test

    scenario = quorum_scenario(tmp_path, 1)  # one participant: the round must not cancel
    _ok(
        tmp_path, node, "coordinator", "deploy", "--scenario", str(scenario), "--dev-account",
        "0", "--join-seconds", "100", "--post-seconds", "3800",
    )  # fmt: skip
    chain = ch.connect(chain="anvil", rpc_url=node)
    record = list_records(tmp_path / "deploy")[0]
    address = record.name.split("-", 1)[1].removesuffix(".json")
    rc = ch.round_at(chain, address)
    (tmp_path / "alice.key").write_text(ALICE_KEY)
    _ok(tmp_path, node, "participant", "import-account", "--keystore", "alice.json",
        "--private-key-file", "alice.key", chain=False)  # fmt: skip
    rows = rc.option(0).data_count
    split = split_test(load_dataset("digits", seed=0), test_size=360, seed=0)
    (shard,) = shard_pool(split.pool, [rows], seed=1)
    save_rows(tmp_path / "alice.csv", shard)
    _ok(tmp_path, node, "participant", "commit", "--keystore", "alice.json", "--data",
        "alice.csv", chain=False)  # fmt: skip

    bond = rc.config().participant_bond
    coordinator_bond = rc.coordinator_bond()
    alice = chain.local_account(1).address
    _kill_after_send(tmp_path, node, "participant", "join", "--keystore", "alice.json",
                     "--option", "0")  # fmt: skip
    assert rc.joined_count() == 1
    rerun = _ok(tmp_path, node, "participant", "join", "--keystore", "alice.json", "--option", "0")
    assert "already joined" in rerun
    assert rc.joined_count() == 1
    assert rc.balance() == coordinator_bond + bond
    joins = [e for e in ch.round_events(rc) if e.name == "Joined"]
    assert len(joins) == 1

    ch.advance_time(chain, 101)  # joining closed
    _kill_after_send(tmp_path, node, "coordinator", "reveal", "--dev-account", "0")
    _ok(tmp_path, node, "coordinator", "reveal", "--dev-account", "0")
    reveals = [e for e in ch.round_events(rc) if e.name == "CoordinatorRevealed"]
    assert len(reveals) == 1

    # The coordinator disappears: it never posts. Past the post deadline, refunds open.
    ch.advance_time(chain, 3800)
    assert rc.phase() is enc.Phase.ABORTED
    before = chain.balance(alice)
    _ok(tmp_path, node, "participant", "withdraw", "--keystore", "alice.json")
    (refund,) = [e for e in ch.round_events(rc) if e.name == "DefaultRefunded"]
    receipt = chain.w3.eth.get_transaction_receipt(refund.tx_hash)  # type: ignore[arg-type]
    fee = int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
    assert chain.balance(alice) - before == bond + coordinator_bond - fee
    again = subprocess.run(
        _argv(node, "participant", "withdraw", "--keystore", "alice.json"),
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert again.returncode == 2
    assert again.stderr.splitlines() == [
        f"error: {alice} was already paid out (claim or refund); nothing to do; see "
        "`coordinator status`"
    ]
    assert len([e for e in ch.round_events(rc) if e.name == "DefaultRefunded"]) == 1
    assert chain.balance(alice) - before == bond + coordinator_bond - fee
    assert rc.balance() == 0


def test_deploy_killed_after_mined_publishes_what_was_committed(tmp_path: Path, node: str) -> None:
    """`coordinator deploy` SIGKILLed after its transaction is sent (then mined), before it wrote
    the record; the re-run asks for another --seed (whose test set differs): it finishes the SAME
    deployment (one contract, no second transaction), and publishes the test set the contract
    committed to (its root = the on-chain testSetCommitment) with the first run's seed in the
    record, saying so in one note line."""
    from modelpact.chain.deployment import deploy_shared
    from modelpact.ml.datasets import load_rows
    from modelpact.round import _protocol
    from modelpact.round.records import read_record

    chain = ch.connect(chain="anvil", rpc_url=node)
    # the shared contracts exist (another account deployed them): the deploy sends only its
    # createRound, the transaction killed here
    shared = deploy_shared(chain, sender=chain.accounts[5])
    scenario = str(quorum_scenario(tmp_path, 1))  # one round, no participant: quorum is moot
    deploy = ("coordinator", "deploy", "--scenario", scenario, "--dev-account", "0",
              "--factory", shared.factory)  # fmt: skip
    _kill_after_send(tmp_path, node, *deploy)
    assert not list_records(tmp_path / "deploy")  # killed before it published
    coordinator = chain.local_account(0).address
    assert chain.w3.eth.get_transaction_count(coordinator) == 1  # the deploy was mined

    done = subprocess.run(
        _argv(node, *deploy, "--seed", "7"),
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "publishing the test set it committed to (seed 0, 360 rows)" in done.stderr
    assert chain.w3.eth.get_transaction_count(coordinator) == 1  # nothing sent again
    (path,) = list_records(tmp_path / "deploy")
    record = read_record(path)
    rc = ch.round_at(chain, record.address)
    published = load_rows(record.test_set_path(path.parent))
    assert _protocol.data_root(published) == rc.config().test_set_commitment
    assert record.test_set_root == "0x" + rc.config().test_set_commitment.hex()
    assert record.extra.seed == 0

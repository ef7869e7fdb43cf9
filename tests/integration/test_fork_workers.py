"""Forked workers on a real node: the chain layer's connections and the state files' coalesced
writes survive a fork (nothing shared, nothing duplicated or lost), held broadcasts go out only
when sent, and a demo round gives the same chain state with workers as in one process."""

from __future__ import annotations

import pickle
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.crypto import keccak

from modelpact import chain as ch
from modelpact.chain.backends import ChainKind, ChainSettings, open_chain
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.backends.rpc import RpcBackend
from modelpact.parallel import fork_map, usable_workers
from modelpact.round.demo import DemoConfig, run_demo
from modelpact.round.deployed import DeployedRound, StepResult
from modelpact.round.participant import ClaimResult
from modelpact.round.records import read_record
from modelpact.round.state import JsonState, coalesced_state_writes

pytestmark = pytest.mark.anvil
needs_fork = pytest.mark.skipif(usable_workers(2) < 2, reason="needs Linux with two usable cores")


def _sha3(client_or_backend: RpcBackend, text: str, *, lean: bool) -> str:
    data = "0x" + text.encode().hex()
    if lean:
        return str(client_or_backend.rpc.request("web3_sha3", [data]))
    provider: Any = client_or_backend.w3.provider
    return str(provider.make_request("web3_sha3", [data])["result"])


def _expected(text: str) -> str:
    return "0x" + keccak(text=text).hex()


def _sessions(backend: RpcBackend) -> int:
    """How many HTTP sessions web3's provider keeps (one per thread that asked)."""
    provider: Any = backend.w3.provider
    return len(provider._request_session_manager.session_cache)


def _local_port(backend: RpcBackend) -> int:
    connection = backend.rpc._local.connection
    return int(connection.sock.getsockname()[1])


@needs_fork
def test_clients_used_before_a_fork_answer_right_in_concurrent_children_and_after(
    anvil_node: AnvilNode,
) -> None:
    """A node client (lean and web3) used in the parent, then in two forked workers at once
    (each on a connection of its own: never the parent's), then in the parent again on its
    same connection (the children did not shut it down): every answer is the right one."""
    backend = RpcBackend(anvil_node.rpc_url, kind=ChainKind.ANVIL)
    assert _sha3(backend, "parent", lean=True) == _expected("parent")
    assert _sha3(backend, "parent-web3", lean=False) == _expected("parent-web3")
    port = _local_port(backend)
    assert _sessions(backend) == 1

    def child(worker: int) -> tuple[int, int, bool]:
        inherited = _sessions(backend)
        right = all(
            _sha3(backend, f"{worker}/{k}", lean=k % 3 != 0) == _expected(f"{worker}/{k}")
            for k in range(60)
        )
        return _local_port(backend), inherited, right

    answers = fork_map(child, [0, 1])
    assert [right for _, _, right in answers] == [True, True]
    assert port not in {p for p, _, _ in answers}
    assert [inherited for _, inherited, _ in answers] == [0, 0]
    assert _sha3(backend, "again", lean=True) == _expected("again")
    assert _sha3(backend, "again-web3", lean=False) == _expected("again-web3")
    assert _local_port(backend) == port


@needs_fork
def test_coalesced_writes_are_neither_lost_nor_written_twice_across_a_fork(
    tmp_path: Path,
) -> None:
    """A fork inside a coalesced block: what the parent held is on disk first (the workers
    read it), each worker's own block writes its file before the worker returns, and the
    parent's later updates are written at its block's end, not undone by a worker."""
    shared = JsonState(tmp_path / "shared.json")

    def worker(i: int) -> int:
        seen = int(shared.load()["step"])
        with coalesced_state_writes():
            JsonState(tmp_path / f"w{i}.json").update(seen=seen, i=i)
        return seen

    with coalesced_state_writes():
        shared.update(step=1)
        assert not shared.path.exists()  # held
        assert fork_map(worker, [0, 1, 2, 3]) == [1, 1, 1, 1]
        shared.update(step=2)
    assert JsonState(shared.path).load() == {"step": 2}
    for i in range(4):
        assert JsonState(tmp_path / f"w{i}.json").load() == {"seen": 1, "i": i}


def test_results_of_the_participants_steps_pickle() -> None:
    """What the demo's workers send back (step results, claim results) survives pickling."""
    claimed = ClaimResult("0xab", 2, 9 * 10**17, 8 * 10**17, "0xcd", 10**16, 3, 51_000, 7)
    step = StepResult("0xef", False, 21_000)
    assert pickle.loads(pickle.dumps((claimed, True))) == (claimed, True)
    assert pickle.loads(pickle.dumps(step)) == step


def test_held_broadcasts_reach_the_node_only_when_sent(anvil_node: AnvilNode) -> None:
    """Within held_broadcasts a signed transfer is answered with its hash and kept, unknown to
    the node; broadcast afterwards, the same transaction is mined."""
    chain = ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url)
    assert isinstance(chain.backend, RpcBackend)
    funder = chain.local_account(0)
    to = Account.create().address
    with chain.backend.rpc.held_broadcasts() as held:
        tx_hash = ch.transfer(chain, funder, to, 12345)
    assert len(held) == 1
    assert chain.backend.rpc.request("eth_getTransactionByHash", [tx_hash]) is None
    assert ch.send_raw_once(chain, bytes.fromhex(held[0][2:])) == tx_hash
    ch.wait_for_receipt(chain, tx_hash, action="transfer")
    assert chain.balance(to) == 12345


def _round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str) -> dict[str, object]:
    monkeypatch.setenv("MODELPACT_WORKERS", workers)
    settings = ChainSettings.build(
        chain="anvil", rpc_url=None, chain_id=None, state_dir=tmp_path / "state"
    )
    config = DemoConfig(
        participants=6, seed=3, out_dir=tmp_path / "out", settings=settings, tiers="lottery"
    )
    result = run_demo(config)
    report = result.report
    assert report.passed, [c for c in report.checks if not c.passed]
    record_path = result.out_dir / "deployment.json"
    with open_chain(settings) as chain:  # the same anvil, restarted on its state file
        deployed = DeployedRound.bind(chain, read_record(record_path), record_path)
        seats = [str(e.args["participant"]) for e in deployed.events("Joined")]
        indices = [int(e.args["index"]) for e in deployed.events("Joined")]
    return {
        "address": report.address,
        "seats": seats,
        "indices": indices,
        "total_data": report.total_data,
        "collective_accuracy": report.collective_accuracy,
        "tiers_posted": report.tiers_posted,
        "compensation_paid_wei": report.compensation_paid_wei,
        "outcomes": [asdict(o) for o in report.outcomes],
    }


@needs_fork
def test_demo_round_with_workers_ends_in_the_state_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same seed, lottery tiers (the draws depend on each participant's seat): the participants'
    steps in two forked workers give the same round as in one process (MODELPACT_WORKERS=1):
    seats in participant order, the same rungs, models, accuracies and compensation."""
    forked = _round(tmp_path / "forked", monkeypatch, "2")
    serial = _round(tmp_path / "serial", monkeypatch, "1")
    assert forked == serial
    outcomes = forked["outcomes"]
    assert isinstance(outcomes, list)
    assert forked["seats"] == [o["address"] for o in outcomes]
    assert forked["indices"] == list(range(len(outcomes)))

"""What a participant's steps ask of the node: each step's own reads ride in its transaction's
pre-flight exchange, a recorded step's re-run reads the receipt first, and the waits of a batch
take the receipts of a block in one read; counted at the project's JSON-RPC client."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import BOND, MENU, RoundSetup, commitment, data_root

from modelpact import chain as ch
from modelpact.chain.backends import ChainKind, ChainSettings, jsonrpc
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.backends.rpc import connect_rpc
from modelpact.chain.errors import ContractRevertError
from modelpact.chain.transactions import NotMinedError
from modelpact.round import chain_delivery, demo
from modelpact.round import participant as part
from modelpact.round.demo import DemoConfig, run_demo

pytestmark = pytest.mark.anvil

_TO = "0x000000000000000000000000000000000000dEaD"


class _Counted:
    """HTTP exchanges with the node by the step that made them (``other``: outside the steps)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.exchanges: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.runs: Counter[str] = Counter()
        self.each: dict[str, list[int]] = {}  # exchanges of each run of a step, in order
        self._step = ["other"]
        original = jsonrpc.JsonRpcClient._exchange

        def counted(client: Any, batch: Any, *, retry: bool) -> Any:
            self.exchanges[self._step[-1]] += 1
            self.calls[self._step[-1]] += len(batch)
            return original(client, batch, retry=retry)

        monkeypatch.setattr(jsonrpc.JsonRpcClient, "_exchange", counted)

    def step(self, label: Callable[[dict[str, Any]], str], fn: Callable[..., Any]) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            name = label(kwargs)
            self.runs[name] += 1
            self._step.append(name)
            before = self.exchanges[name]
            try:
                return fn(*args, **kwargs)
            finally:
                self._step.pop()
                self.each.setdefault(name, []).append(self.exchanges[name] - before)

        return run


def _pass(step: str) -> Callable[[dict[str, Any]], str]:
    return lambda kwargs: f"{step} " + ("send" if kwargs.get("wait", True) is False else "wait")


def test_each_participant_step_of_a_batched_round_takes_at_most_two_exchanges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the demo's batched round of 6 participants on anvil: sending a join, a reveal or a
    claim is two exchanges (its checks' reads with its pre-flight, fees and nonce; then the
    broadcast; joins also read the round's fixed terms once, the first join the round's and
    a join with an option not seen before that option's), its re-run after the
    block waits with at most one exchange on average (the block's receipts are read once for
    the batch), and fetching a delivery is one; the round passes every check. Counted in one
    process (MODELPACT_WORKERS=1): forked workers count in their own memory, and their
    broadcasts are sent by the parent (tests/integration/test_fork_workers.py)."""
    monkeypatch.setenv("MODELPACT_WORKERS", "1")
    counted = _Counted(monkeypatch)
    for name in ("join", "reveal"):
        monkeypatch.setattr(part, name, counted.step(_pass(name), getattr(part, name)))
    monkeypatch.setattr(part, "start_claim", counted.step(lambda _: "claim send", part.start_claim))
    monkeypatch.setattr(part, "claim", counted.step(lambda _: "claim wait", part.claim))
    fetch = counted.step(lambda _: "fetch", chain_delivery.fetch_delivery)
    monkeypatch.setattr(demo, "fetch_delivery", fetch)
    settings = ChainSettings.build(
        chain="anvil", rpc_url=None, chain_id=None, state_dir=tmp_path / "state"
    )
    n = 6
    report = run_demo(
        DemoConfig(participants=n, seed=5, out_dir=tmp_path / "out", settings=settings)
    ).report
    assert report.passed, [c for c in report.checks if not c.passed]
    for step in ("join", "reveal", "claim"):
        assert counted.runs[f"{step} send"] == n
        assert counted.runs[f"{step} wait"] == n
        assert counted.exchanges[f"{step} wait"] <= n, step
    # a join reads the terms of an option not seen before once (kept: written once)
    assert all(e in (2, 3) for e in counted.each["join send"][1:])
    assert counted.each["reveal send"] == counted.each["claim send"] == [2] * n
    assert set(counted.each["fetch"]) == {1}


def test_a_batch_waited_for_one_by_one_reads_each_block_once_with_the_same_receipts(
    node: AnvilNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 transfers mined together after a held block, waited for one at a time: a handful of
    exchanges in all (not one per transfer), and each result is what the node's own receipt
    of that transaction says (block, gas, status)."""
    chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL)
    sender = chain.local_account(1)
    with chain.blocks_on_demand():
        hashes = ch.send_batch(chain, sender, [(_TO, 1)] * 40)
    counted = _Counted(monkeypatch)
    results = [ch.wait_for_receipt(chain, h, action="transfer") for h in hashes]
    assert counted.exchanges["other"] <= 6
    client = chain.backend.rpc  # type: ignore[attr-defined]
    for tx_hash, result in zip(hashes, results, strict=True):
        receipt = client.request("eth_getTransactionReceipt", [tx_hash])
        assert result.block_number == int(receipt["blockNumber"], 16)
        assert result.gas_used == int(receipt["gasUsed"], 16) == 21_000
        assert int(receipt["status"], 16) == 1


def test_receipts_read_ahead_are_forgotten_when_the_chain_goes_back(node: AnvilNode) -> None:
    """Receipts read in bulk for a batch's later waits are not trusted after the chain went
    back to a snapshot taken before the batch: the transactions are gone, so waiting for one
    reports it not mined instead of handing back the receipt read before."""
    chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL)
    sender = chain.local_account(2)
    snapshot = chain.snapshot()
    with chain.blocks_on_demand():
        hashes = ch.send_batch(chain, sender, [(_TO, 1)] * 5)
    for tx_hash in hashes[:2]:  # the second wait reads the block: the other three are kept
        ch.wait_for_receipt(chain, tx_hash, action="transfer")
    chain.revert_to(snapshot)
    with pytest.raises(NotMinedError):
        ch.wait_for_receipt(chain, hashes[2], action="transfer", timeout=0.2)


def test_a_prepared_call_reads_as_read_does_and_sends_only_when_asked(
    round_setup: RoundSetup,
) -> None:
    """``RoundContract.prepare``: the reads answered with a call's pre-flight equal
    ``read``'s answers (a view's revert as the same named error); a call whose pre-flight
    reverts raises that decoded revert only when it is sent, and sends nothing; one that
    passes is sent and mined as ``send`` would (embedded chain and anvil)."""
    s = round_setup
    rc, chain = s.round, s.chain
    who = s.participants[0]
    assert not isinstance(who, str)
    reads, standing_of = rc.standing_reads(who.address, balance=True)
    root, secret = data_root(who.address, 0), b"\x07" * 32
    wrong_bond = rc.join.call(
        option_id=0,
        data_root=root,
        row_count=MENU[0].data_count,
        commitment=commitment(s, who.address, secret, 0),
        value=BOND + 1,
    )
    before = chain.w3.eth.get_transaction_count(who.address)
    prepared = rc.prepare(wrong_bond, who, reads)
    assert standing_of(prepared.answers) == standing_of(rc.read(reads))
    assert standing_of(prepared.answers).participant is None  # NotParticipant, as read says
    with pytest.raises(ContractRevertError) as refused:
        prepared.send()
    assert refused.value.error_name == "WrongBond"
    assert chain.w3.eth.get_transaction_count(who.address) == before
    join = replace(wrong_bond, value=BOND)
    sent = rc.prepare(join, who, reads).send()
    assert rc.wait(sent, action="join").gas_used > 0
    assert rc.standing(who.address).participant is not None


def test_a_signed_batch_is_what_signing_one_by_one_makes_and_refuses_the_same(
    round_setup: RoundSetup,
) -> None:
    """``RoundContract.signed_batch`` (the coordinator's deliveries: fees read once, the
    pre-flights batched) signs exactly the bytes ``signed`` makes call by call at the same
    nonces on the same state; a call whose pre-flight reverts raises its decoded revert and
    nothing is sent (embedded chain and anvil)."""
    s = round_setup
    rc, chain = s.round, s.chain
    who = s.participants[1]
    assert not isinstance(who, str)
    calls = [
        rc.join.call(
            option_id=0,
            data_root=data_root(who.address, 10 + i),
            row_count=MENU[0].data_count,
            commitment=commitment(s, who.address, bytes([i + 1]) * 32, 1),
            value=BOND,
        )
        for i in range(3)
    ]
    first = chain.w3.eth.get_transaction_count(who.address)
    one_by_one = [rc.signed(c, who, nonce=first + i) for i, c in enumerate(calls)]
    assert rc.signed_batch(calls, who, first_nonce=first) == one_by_one
    with pytest.raises(ContractRevertError) as refused:
        rc.signed_batch([calls[0], replace(calls[1], value=1)], who, first_nonce=first)
    assert refused.value.error_name == "WrongBond"
    assert chain.w3.eth.get_transaction_count(who.address) == first

"""A node (or a proxy in front of it) that answers a receipt for another transaction than the
one asked: the wait refuses it in one line instead of reporting that transaction's block, gas
and events as this one's (a re-run reads the receipt first: it would take a step as done)."""

from __future__ import annotations

from typing import Any

import pytest

from modelpact import chain as ch
from modelpact.chain.backends import ChainKind, jsonrpc
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.backends.rpc import connect_rpc
from modelpact.chain.errors import ChainError

pytestmark = pytest.mark.anvil

_TO = "0x000000000000000000000000000000000000dEaD"


def test_a_receipt_of_another_transaction_is_refused(
    node: AnvilNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two transfers mined; the node answers the first one's receipt when asked for the
    second's: waiting for the second raises a ChainError naming both hashes, and the honest
    answer is still accepted."""
    chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL)
    sender = chain.local_account(4)
    first = ch.transfer(chain, sender, _TO, 1)
    ch.wait_for_receipt(chain, first, action="transfer")
    second = ch.transfer(chain, sender, _TO, 2)
    client = chain.backend.rpc  # type: ignore[attr-defined]
    client.forget_mined()  # the sync send's own receipt: the wait asks the node
    original = jsonrpc.JsonRpcClient._exchange

    def lying(self: Any, calls: Any, *, retry: bool) -> Any:
        swapped = [
            (m, [first]) if m == "eth_getTransactionReceipt" and p == [second] else (m, p)
            for m, p in calls
        ]
        return original(self, swapped, retry=retry)

    monkeypatch.setattr(jsonrpc.JsonRpcClient, "_exchange", lying)
    with pytest.raises(ChainError) as refused:
        ch.wait_for_receipt(chain, second, action="transfer", timeout=1.0)
    assert second.lower()[:10] in refused.value.one_line().lower()
    monkeypatch.undo()
    assert ch.wait_for_receipt(chain, second, action="transfer").gas_used == 21_000


class _Slot:
    def __init__(self, tx_hash: str | None) -> None:
        self.tx_hash = tx_hash

    def get(self) -> str | None:
        return self.tx_hash

    def put(self, tx_hash: str) -> None:
        self.tx_hash = tx_hash


def test_a_rerun_given_another_transactions_receipt_neither_skips_nor_resends(
    node: AnvilNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recorded step's re-run (``RecordedStep.previous``, which reads the receipt first) that
    gets another transaction's receipt raises the one-line refusal: it does not take the step
    as done with that receipt, nor answer None (which would send the step again)."""
    from modelpact.chain.transactions import RecordedStep, WrongReceiptError

    chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL)
    sender = chain.local_account(5)
    first = ch.transfer(chain, sender, _TO, 1)
    ch.wait_for_receipt(chain, first, action="transfer")
    second = ch.transfer(chain, sender, _TO, 2)
    chain.backend.rpc.forget_mined()  # type: ignore[attr-defined]
    original = jsonrpc.JsonRpcClient._exchange

    def lying(self: Any, calls: Any, *, retry: bool) -> Any:
        swapped = [
            (m, [first]) if m == "eth_getTransactionReceipt" and p == [second] else (m, p)
            for m, p in calls
        ]
        return original(self, swapped, retry=retry)

    monkeypatch.setattr(jsonrpc.JsonRpcClient, "_exchange", lying)
    step = RecordedStep(chain, _Slot(second), "transfer")
    with pytest.raises(WrongReceiptError):
        step.previous()
    monkeypatch.undo()
    done = step.previous()
    assert done is not None
    assert done.tx_hash == second

"""JSON-RPC batches the send path makes stay within 100 calls an exchange: the limit the
project's view reads keep to (public endpoints cap batches; 100 is within the common limits)
holds for the coordinator's signed batches too, whose first exchange also reads the fees."""

from __future__ import annotations

from typing import Any

import pytest

from modelpact.chain.backends import ChainKind, jsonrpc
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.backends.rpc import connect_rpc
from modelpact.chain.transactions import (
    BatchCall,
    EncodedCall,
    pending_nonce,
    signed_batch,
    signed_transaction,
)

pytestmark = pytest.mark.anvil

_TO = "0x000000000000000000000000000000000000dEaD"


@pytest.mark.parametrize("count", [98, 99, 100, 101, 250])
def test_a_signed_batch_asks_at_most_100_calls_an_exchange(
    node: AnvilNode, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """``signed_batch`` of ``count`` calls: every exchange holds at most 100 calls (the first
    one's two fee reads included), and the bytes are those signed one by one."""
    chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL)
    sender = chain.local_account(3)
    calls = [BatchCall(EncodedCall(_TO, "0x"), value=i, gas_bound=30_000) for i in range(count)]
    first = pending_nonce(chain, sender)
    sizes: list[int] = []
    original = jsonrpc.JsonRpcClient._exchange

    def counted(client: Any, batch: Any, *, retry: bool) -> Any:
        sizes.append(len(batch))
        return original(client, batch, retry=retry)

    monkeypatch.setattr(jsonrpc.JsonRpcClient, "_exchange", counted)
    signed = signed_batch(chain, calls, sender, first_nonce=first)
    monkeypatch.undo()
    assert max(sizes) <= 100, sizes
    assert len(signed) == count
    one_by_one = [
        signed_transaction(
            chain, c.call, sender, nonce=first + i, value=c.value, gas_bound=c.gas_bound
        )
        for i, c in enumerate(calls[:3])
    ]
    assert signed[:3] == one_by_one

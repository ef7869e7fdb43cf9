"""send_raw_batch: signed transactions broadcast a hundred to an exchange, with the rules of
send_raw_once (hashes from the bytes, a repeat sends nothing twice, a refusal raised)."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from modelpact import chain as ch
from modelpact.chain.backends import ChainKind
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.backends.rpc import connect_rpc
from modelpact.chain.transactions import send_raw_batch
from modelpact.encoding import keccak256

pytestmark = pytest.mark.anvil

_TO = "0x000000000000000000000000000000000000dEaD"


def _signed(chain: ch.Chain, account: LocalAccount, nonce: int, value: int = 1) -> bytes:
    fee = 10 * 10**9
    tx = {
        "type": 2,
        "chainId": chain.chain_id,
        "nonce": nonce,
        "to": _TO,
        "value": value,
        "gas": 21_000,
        "maxFeePerGas": fee,
        "maxPriorityFeePerGas": 10**9,
    }
    return bytes(account.sign_transaction(tx).raw_transaction)


def _counting(chain: ch.Chain) -> list[int]:
    client = chain.backend.rpc  # type: ignore[attr-defined]
    sizes: list[int] = []
    original = client._exchange

    def exchange(calls, *, retry):  # type: ignore[no-untyped-def]
        sizes.append(len(calls))
        return original(calls, retry=retry)

    client._exchange = exchange
    return sizes


def test_a_batch_is_one_exchange_per_hundred_and_every_hash_mines(node: AnvilNode) -> None:
    """250 transactions of 3 accounts, held by blocks on demand: sent in three exchanges of at
    most 100, the returned hashes are the keccak of each signed transaction in order, every one
    mines, and sending the same batch again sends nothing twice (nonces unchanged)."""
    chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL)
    accounts = [chain.local_account(i) for i in (1, 2, 3)]
    raws = [_signed(chain, accounts[i % 3], i // 3) for i in range(250)]
    with chain.blocks_on_demand():
        sizes = _counting(chain)
        hashes = send_raw_batch(chain, raws)
        sends = [n for n in sizes if n > 1]
    assert sends == [100, 100, 50]
    assert hashes == ["0x" + keccak256(raw).hex() for raw in raws]
    assert all(ch.wait_for_receipt(chain, h, action="t").gas_used == 21_000 for h in hashes)
    nonces = [chain.w3.eth.get_transaction_count(a.address) for a in accounts]
    assert send_raw_batch(chain, raws) == hashes  # mined: "nonce too low", found by its hash
    assert [chain.w3.eth.get_transaction_count(a.address) for a in accounts] == nonces


def test_a_refused_transaction_raises_as_a_single_send_does_and_the_others_go_out(
    node: AnvilNode,
) -> None:
    """A transaction the node refuses (more value than the account holds) raises the same
    error as send_raw_once would; the independent transactions of its exchange are sent."""
    chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL)
    rich, other = chain.local_account(4), chain.local_account(5)
    too_much = chain.w3.eth.get_balance(other.address) * 2
    raws = [_signed(chain, rich, 0), _signed(chain, other, 0, too_much), _signed(chain, rich, 1)]
    with (
        pytest.raises(Exception, match="Insufficient funds") as batch_error,
        chain.blocks_on_demand(),
    ):
        send_raw_batch(chain, raws)
    with (
        pytest.raises(Exception, match="Insufficient funds") as single_error,
        chain.blocks_on_demand(),
    ):
        ch.send_raw_once(chain, raws[1])
    assert type(batch_error.value) is type(single_error.value)
    assert str(batch_error.value) == str(single_error.value)
    assert chain.w3.eth.get_transaction_count(rich.address) == 2

"""Blocks on demand: an automining anvil this process runs holds a batch's transactions and
mines them a few blocks at a time at the batch's end; every other node is left as it is."""

from __future__ import annotations

import pytest

from modelpact import chain as ch
from modelpact.chain.backends import ChainKind
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.backends.rpc import connect_rpc

pytestmark = pytest.mark.anvil

_TO = "0x000000000000000000000000000000000000dEaD"


def _block(chain: ch.Chain) -> int:
    return int(chain.w3.eth.block_number)


def _automine(chain: ch.Chain) -> bool:
    return bool(chain.w3.provider.make_request("anvil_getAutomine", [])["result"])  # type: ignore[arg-type]


def test_a_batch_is_held_then_mined_in_few_blocks_and_automine_resumes(node: AnvilNode) -> None:
    """Inside the block nothing sent is mined (each hash is known to the node, no receipt);
    at its end all 40 transfers are mined, in fewer blocks than transfers, each succeeded, and
    the node automines (and sends synchronously) again."""
    chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL)
    sender = chain.local_account(1)
    start = _block(chain)
    with chain.blocks_on_demand():
        assert not _automine(chain)
        hashes = ch.send_batch(chain, sender, [(_TO, 1)] * 40)
        assert _block(chain) == start
        assert all(ch.transaction_known(chain, h) for h in hashes)
    assert _automine(chain)
    receipts = [ch.wait_for_receipt(chain, h, action="transfer") for h in hashes]
    assert all(r.gas_used == 21_000 for r in receipts)
    assert 1 <= _block(chain) - start < len(hashes)
    assert chain.backend.rpc.sends_sync()  # type: ignore[attr-defined]
    one = ch.transfer(chain, sender, _TO, 1)  # automined again: its own block at once
    assert ch.wait_for_receipt(chain, one, action="transfer").gas_used == 21_000


def test_an_error_inside_still_mines_what_was_sent_and_restores_automine(node: AnvilNode) -> None:
    """A batch that fails half way (an exception in the caller) does not leave the node holding
    what was sent, nor with its automine off."""
    chain = connect_rpc(node.rpc_url, kind=ChainKind.ANVIL)
    sender = chain.local_account(2)
    hashes: list[str] = []

    def failing_batch() -> None:
        with chain.blocks_on_demand():
            hashes.extend(ch.send_batch(chain, sender, [(_TO, 1)] * 3))
            raise RuntimeError("the caller failed")

    with pytest.raises(RuntimeError):
        failing_batch()
    assert len(hashes) == 3
    assert _automine(chain)
    assert all(ch.wait_for_receipt(chain, h, action="transfer").gas_used for h in hashes)


def test_a_node_this_process_does_not_run_keeps_its_mining(node: AnvilNode) -> None:
    """Through ``--rpc`` (a node someone else runs, which a killed process could not restore)
    the block changes nothing: each transfer is mined as it is sent."""
    chain = connect_rpc(node.rpc_url)
    sender = chain.local_account(3)
    start = _block(chain)
    with chain.blocks_on_demand():
        assert _automine(chain)
        one = ch.transfer(chain, sender, _TO, 1)
        assert _block(chain) == start + 1
    assert ch.wait_for_receipt(chain, one, action="transfer").gas_used == 21_000


def test_a_batch_larger_than_many_blocks_is_mined_whole_not_priced_out() -> None:
    """A batch needing many full blocks (here 60 transfers, 4 to a block: 15 blocks) is mined
    whole: every hash sent is mined and succeeded. Each transaction was priced on the base fee
    at the block's start (max fee 2 x base + tip); full blocks raise the base fee 12.5% each, so
    without care the later ones are priced out after ~10 full blocks and anvil drops them from
    its pool: hashes recorded as sent that never mine (a coordinator's delivery lost, its
    receipt waited for until the timeout)."""
    with AnvilNode(extra_args=("--gas-limit", "84000")) as small_blocks:
        chain = connect_rpc(small_blocks.rpc_url, kind=ChainKind.ANVIL)
        sender = chain.local_account(4)
        with chain.blocks_on_demand():
            hashes = ch.send_batch(chain, sender, [(_TO, 1)] * 60)
        assert all(ch.transaction_known(chain, h) for h in hashes)
        receipts = [ch.wait_for_receipt(chain, h, action="transfer", timeout=5) for h in hashes]
        assert all(r.gas_used == 21_000 for r in receipts)
        assert _automine(chain)

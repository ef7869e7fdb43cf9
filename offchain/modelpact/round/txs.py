"""Send a transaction so that a crash can never make a step run twice.

``send_recorded`` signs and sends, then calls ``record(tx_hash)`` BEFORE waiting for the receipt
(the caller writes the hash to its local state), then waits. A re-run first calls
``pending_receipt`` with the recorded hash: if that transaction was mined (successfully or not) the
caller looks at the result instead of sending again; if the node never saw it, the step may be
sent again (the nonce makes a duplicate impossible anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

__all__ = ["TxOutcome", "pending_receipt", "send_recorded"]

TxOutcome = dict[str, Any]


def send_recorded(
    w3: Web3,
    call: Any,
    *,
    sender: LocalAccount | str,
    value: int = 0,
    record: Callable[[str], object] | None = None,
    timeout: float = 120.0,
) -> Any:
    """Send ``call`` (a bound web3 ``ContractFunction``) from ``sender``; return the receipt.

    ``sender`` is a local account (signed here) or an address the node has unlocked. Reverts are
    surfaced by the caller's gas estimation (``build_transaction``/``transact`` estimate first).
    """
    if isinstance(sender, str):
        tx_hash = call.transact({"from": sender, "value": value})
    else:
        tx = call.build_transaction(
            {
                "from": sender.address,
                "value": value,
                "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
                "chainId": w3.eth.chain_id,
            }
        )
        signed = sender.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    hex_hash = HexBytes(tx_hash).to_0x_hex()
    if record is not None:
        record(hex_hash)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)


def pending_receipt(w3: Web3, tx_hash: str | None, *, timeout: float = 120.0) -> Any | None:
    """The receipt of a recorded transaction: waits if the node knows it, None if it does not."""
    if not tx_hash:
        return None
    try:
        w3.eth.get_transaction(HexBytes(tx_hash))
    except TransactionNotFound:
        return None
    return w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=timeout)

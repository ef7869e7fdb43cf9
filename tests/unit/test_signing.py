"""The lean EIP-1559 signer produces eth-account's bytes exactly, and declines what it does not
sign (then the transaction layer signs with eth-account as before)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from modelpact.chain.signing import sign_dynamic_fee

_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

keys = st.integers(min_value=1, max_value=_N - 1).map(lambda k: k.to_bytes(32, "big"))
# Small and large values: RLP's one-byte, short and long forms all show up.
quantities = st.one_of(
    st.integers(min_value=0, max_value=200),
    st.integers(min_value=0, max_value=2**64),
    st.integers(min_value=0, max_value=2**256 - 1),
)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address(b))


@st.composite
def transactions(draw: Any) -> dict[str, Any]:
    tx: dict[str, Any] = {
        "chainId": draw(st.integers(min_value=1, max_value=2**64)),
        "nonce": draw(st.integers(min_value=0, max_value=2**64 - 1)),
        "maxPriorityFeePerGas": draw(quantities),
        "maxFeePerGas": draw(quantities),
        "gas": draw(st.integers(min_value=0, max_value=2**63)),
        "value": draw(quantities),
        "data": draw(st.binary(max_size=300)),
    }
    if draw(st.booleans()):
        tx["data"] = "0x" + tx["data"].hex()
    if draw(st.integers(min_value=0, max_value=4)) > 0:  # mostly calls, some creations
        tx["to"] = draw(addresses)
    return tx


@settings(max_examples=300, deadline=None)
@given(key=keys, tx=transactions(), with_from=st.booleans())
def test_lean_signature_is_eth_accounts_byte_for_byte(
    key: bytes, tx: dict[str, Any], with_from: bool
) -> None:
    """For random keys and EIP-1559 transactions (calls and creations, empty to long data, every
    RLP length form), the raw signed bytes equal eth-account's ``sign_transaction``'s."""
    account = Account.from_key(key)
    if with_from:
        tx["from"] = account.address
    expected = bytes(account.sign_transaction(tx).raw_transaction)
    assert sign_dynamic_fee(key, account.address, tx) == expected


def _plain_tx(account: Any) -> dict[str, Any]:
    return {
        "from": account.address,
        "to": to_checksum_address("0x" + "ab" * 20),
        "value": 1,
        "data": "0x1234",
        "gas": 21_000,
        "nonce": 0,
        "chainId": 31337,
        "maxFeePerGas": 2 * 10**9,
        "maxPriorityFeePerGas": 10**9,
    }


@pytest.mark.parametrize(
    "change",
    [
        {"gasPrice": 10**9},  # legacy / extra field
        {"accessList": []},
        {"type": 2},
        {"value": "0x1"},  # hex quantity: eth-account's formatters handle it
        {"nonce": True},
        {"gas": -1},
        {"chainId": 0},
        {"to": "0x" + "ab" * 20},  # not checksummed: eth-account refuses it
        {"to": 5},
        {"data": "1234"},
        {"data": "0x123"},
        {"from": to_checksum_address("0x" + "cd" * 20)},  # another account's
    ],
)
def test_other_shapes_are_left_to_eth_account(change: dict[str, Any]) -> None:
    """Any field the lean signer does not handle exactly as eth-account does makes it decline
    (None), so the caller signs with eth-account: the same bytes or the same error as before."""
    account = Account.from_key(b"\x01" * 32)
    tx = {**_plain_tx(account), **change}
    assert sign_dynamic_fee(bytes(account.key), account.address, tx) is None


def test_missing_fee_fields_are_left_to_eth_account() -> None:
    """Without ``maxFeePerGas``/``maxPriorityFeePerGas``, ``gas`` or ``chainId`` it declines."""
    account = Account.from_key(b"\x01" * 32)
    for name in ("maxFeePerGas", "maxPriorityFeePerGas", "gas", "chainId"):
        tx = _plain_tx(account)
        del tx[name]
        assert sign_dynamic_fee(bytes(account.key), account.address, tx) is None

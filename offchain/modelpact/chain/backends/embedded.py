"""The embedded chain: eth-tester (py-evm) inside this process, no node at all.

Its ten funded accounts come with private keys. Time travel, snapshots and the pending block's
time go through eth-tester itself; eth-tester reports reverts as ``TransactionFailed`` with the
revert data in the message, which :func:`revert_data` recovers. The chain lives as long as the
process: another command cannot reach it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from modelpact.chain.backends import ChainKind
from modelpact.chain.backends.base import Chain, SnapshotId
from modelpact.chain.errors import ERROR_STRING_SELECTOR, web3_revert_data

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress
    from web3 import Web3

__all__ = ["EmbeddedBackend", "connect_embedded", "open_embedded", "revert_data"]


class EmbeddedBackend:
    """An eth-tester chain in this process (see the module doc)."""

    kind = ChainKind.EMBEDDED
    url = "embedded"

    def __init__(self) -> None:
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider, Web3

        self._evm = PyEVMBackend()
        self._tester: Any = EthereumTester(self._evm)
        self._w3 = Web3(EthereumTesterProvider(self._tester))

    @property
    def w3(self) -> Web3:
        """The web3 handle over eth-tester."""
        return self._w3

    def dev_keys(self, accounts: tuple[ChecksumAddress, ...]) -> Mapping[ChecksumAddress, bytes]:
        """eth-tester's own funded accounts and keys."""
        from eth_utils.address import to_checksum_address

        keys = {
            to_checksum_address(k.public_key.to_checksum_address()): bytes(k.to_bytes())
            for k in self._evm.account_keys
        }
        return {a: keys[a] for a in accounts if a in keys}

    def pending_time(self) -> int:
        """The pending block's timestamp (latest + 1 s, or the wall clock when later)."""
        return int(self._tester.get_block_by_number("pending")["timestamp"])

    def advance_time(self, seconds: int) -> None:
        """Time-travel eth-tester and mine one block."""
        latest = int(self._w3.eth.get_block("latest")["timestamp"])
        self._tester.time_travel(latest + seconds)
        self._tester.mine_blocks(1)

    def snapshot(self) -> SnapshotId:
        """eth-tester's snapshot id."""
        return int(self._tester.take_snapshot())

    def revert_to(self, snapshot: SnapshotId) -> None:
        """Revert eth-tester to the snapshot."""
        self._tester.revert_to_snapshot(snapshot)

    def revert_data(self, exc: BaseException) -> bytes | None:
        """See :func:`revert_data`."""
        return revert_data(exc)

    def close(self) -> None:
        """Nothing to release: the chain goes with the process."""


def revert_data(exc: BaseException) -> bytes | None:
    """Raw revert bytes from web3's exception data or an eth-tester ``TransactionFailed``
    ("execution reverted: b'...'", or an ``Error(string)`` eth-tester decoded itself); None for
    any other exception."""
    from_web3 = web3_revert_data(exc)
    if from_web3 is not None or type(exc).__name__ != "TransactionFailed":
        return from_web3
    text = str(exc.args[0]) if exc.args else ""
    prefix = "execution reverted: "
    body = text[len(prefix) :] if text.startswith(prefix) else text
    if body.startswith(("b'", 'b"')):
        try:
            value = ast.literal_eval(body)
        except (ValueError, SyntaxError):
            return b""
        return value if isinstance(value, bytes) else b""
    from eth_abi.abi import encode as abi_encode

    return ERROR_STRING_SELECTOR + abi_encode(["string"], [body])


def connect_embedded() -> Chain:
    """A fresh embedded chain."""
    from eth_utils.address import to_checksum_address

    backend = EmbeddedBackend()
    accounts = tuple(to_checksum_address(a) for a in backend.w3.eth.accounts)
    return Chain(backend, int(backend.w3.eth.chain_id), accounts, backend.dev_keys(accounts))


@contextmanager
def open_embedded() -> Iterator[Chain]:
    """A fresh embedded chain for the duration of the block."""
    yield connect_embedded()

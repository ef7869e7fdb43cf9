"""The backend protocol and the connected chain every other module works with.

A :class:`Backend` owns what differs between chains (titanoboa separates its ``Env`` and
``NetworkEnv`` the same way): the web3 handle, time travel, snapshots and how revert data is
extracted from the exceptions its provider raises. A :class:`Chain` is one connected backend plus
what every chain has: its id and its funded dev accounts (with their keys where known).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from modelpact.chain.backends import DEFAULT_MAX_FEE_GWEI, ChainKind
from modelpact.chain.errors import ChainError

if TYPE_CHECKING:  # web3 and eth-account are slow to import; only the methods need them
    from eth_account.signers.local import LocalAccount
    from eth_typing import ChecksumAddress
    from web3 import Web3

__all__ = [
    "Backend",
    "Chain",
    "SnapshotId",
    "advance_time",
    "chain_time",
]


SnapshotId = int | str
"""What :meth:`Backend.snapshot` returns (eth-tester: an int; ``evm_snapshot``: a hex string)."""


class Backend(Protocol):
    """What a chain backend provides. Time travel and snapshots work on dev chains only; a
    backend that cannot do them raises :class:`~modelpact.chain.errors.ChainError`."""

    @property
    def kind(self) -> ChainKind:
        """Which kind of chain this is."""

    @property
    def url(self) -> str:
        """Where the chain is, for messages: a node URL, or ``embedded``."""

    @property
    def w3(self) -> Web3:
        """The web3 handle the transaction layer talks through."""

    def dev_keys(self, accounts: tuple[ChecksumAddress, ...]) -> Mapping[ChecksumAddress, bytes]:
        """Private keys of those dev ``accounts`` whose keys this backend knows."""

    def pending_time(self) -> int:
        """The timestamp the next transaction will run at."""

    def advance_time(self, seconds: int) -> None:
        """Move the clock forward by ``seconds`` and mine a block."""

    def snapshot(self) -> SnapshotId:
        """Remember the whole chain state."""

    def revert_to(self, snapshot: SnapshotId) -> None:
        """Go back to a state remembered by :meth:`snapshot`."""

    def revert_data(self, exc: BaseException) -> bytes | None:
        """The raw revert data ``exc`` carries, or None when ``exc`` is not a revert."""

    def close(self) -> None:
        """Release what the backend holds (a node process, a connection)."""


@dataclass(frozen=True)
class Chain:
    """A connected chain: its backend, id, and funded dev accounts.

    ``private_keys`` maps an account to its key where known (eth-tester's accounts, anvil's
    default mnemonic); other node accounts are sent from unlocked.
    """

    backend: Backend
    chain_id: int
    accounts: tuple[ChecksumAddress, ...]
    private_keys: Mapping[ChecksumAddress, bytes] = field(default_factory=dict)
    max_fee_per_gas: int = DEFAULT_MAX_FEE_GWEI * 10**9
    """The most this chain's transactions offer per gas, wei (see :data:`DEFAULT_MAX_FEE_GWEI`)."""
    _reverted: list[int] = field(default_factory=lambda: [0], repr=False, compare=False)

    @property
    def reverts(self) -> int:
        """How often :meth:`revert_to` went back to a snapshot: what a reader kept as final
        (a round's immutables, its posted models) is final only since the last one."""
        return self._reverted[0]

    @property
    def w3(self) -> Web3:
        """The web3 handle."""
        return self.backend.w3

    @property
    def kind(self) -> ChainKind:
        """Which kind of chain this is."""
        return self.backend.kind

    @property
    def url(self) -> str:
        """The node URL (``embedded`` for the in-process chain)."""
        return self.backend.url

    @property
    def rpc_url(self) -> str | None:
        """The node URL another process can reach, or None for the embedded chain."""
        return None if self.kind is ChainKind.EMBEDDED else self.url

    def local_account(self, index_or_address: int | str) -> LocalAccount:
        """The dev account (by index or address) as a ``LocalAccount``, when its key is known."""
        from eth_account import Account
        from eth_utils.address import to_checksum_address

        address = (
            self._dev_address(index_or_address)
            if isinstance(index_or_address, int)
            else to_checksum_address(index_or_address)
        )
        key = self.private_keys.get(address)
        if key is None:
            raise ChainError(
                f"no private key known for {address}",
                hint="send from the address (node-unlocked) or load its keystore",
            )
        account: LocalAccount = Account.from_key(key)
        return account

    def _dev_address(self, index: int) -> ChecksumAddress:
        """Dev account #``index``; one line when the node has no such account."""
        if 0 <= index < len(self.accounts):
            return self.accounts[index]
        have = f"it has #0..#{len(self.accounts) - 1}" if self.accounts else "it has none"
        raise ChainError(
            f"the node has no dev account #{index} ({have})",
            hint="pass a --dev-account in that range, or sign with --keystore FILE",
        )

    def balance(self, address: str) -> int:
        """Balance in wei."""
        from eth_utils.address import to_checksum_address

        client = getattr(self.backend, "rpc", None)
        if client is not None:
            return int(
                client.request("eth_getBalance", [to_checksum_address(address), "latest"]), 16
            )
        return int(self.w3.eth.get_balance(to_checksum_address(address)))

    def time(self) -> int:
        """The latest block's timestamp (unix seconds): base deadlines on this, not the clock."""
        client = getattr(self.backend, "rpc", None)
        if client is not None:
            return int(client.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def pending_time(self) -> int:
        """The timestamp the next transaction will run at."""
        return self.backend.pending_time()

    def advance_time(self, seconds: int) -> int:
        """Move the clock forward by ``seconds`` and mine a block; returns the new time."""
        if seconds < 0:
            raise ChainError(f"cannot go back in time ({seconds}s)", hint="pass seconds >= 0")
        self.backend.advance_time(int(seconds))
        return self.time()

    def advance_time_to(self, timestamp: int) -> int:
        """Mine a block with a timestamp >= ``timestamp`` (dev chains only); returns the time."""
        latest = self.time()
        return self.advance_time(timestamp - latest) if latest < timestamp else latest

    def blocks_on_demand(self) -> AbstractContextManager[None]:
        """Within the block, an automining dev node holds the transactions sent and mines them
        a few blocks at a time at its end (:meth:`RpcBackend.blocks_on_demand
        <modelpact.chain.backends.rpc.RpcBackend.blocks_on_demand>`); elsewhere nothing
        changes. For batches of independent transactions whose receipts are waited for after
        the block."""
        opener = getattr(self.backend, "blocks_on_demand", None)
        return nullcontext() if opener is None else opener()

    def snapshot(self) -> SnapshotId:
        """Remember the whole chain state (dev chains only)."""
        return self.backend.snapshot()

    def revert_to(self, snapshot: SnapshotId) -> None:
        """Go back to a state remembered by :meth:`snapshot`."""
        self._reverted[0] += 1  # first: a failed revert may have gone back part of the way
        self.backend.revert_to(snapshot)


def chain_time(chain: Chain) -> int:
    """The latest block's timestamp (:meth:`Chain.time`)."""
    return chain.time()


def advance_time(chain: Chain, seconds: int) -> int:
    """Move the chain's clock forward by ``seconds`` (:meth:`Chain.advance_time`)."""
    return chain.advance_time(seconds)

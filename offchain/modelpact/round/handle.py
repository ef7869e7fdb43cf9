"""A deployed round as the workflows see it: the deployment record bound to a
:class:`modelpact.chain.RoundContract` on a connected :class:`modelpact.chain.Chain`.

Everything that talks to the node -- views, transactions, receipts, revert decoding -- goes
through :mod:`modelpact.chain`; this module adds only what a crash-safe workflow step needs on top:
send a transaction, record its hash in the local state BEFORE waiting, and on a re-run look at the
recorded transaction first (:meth:`RoundHandle.send_recorded`, :meth:`RoundHandle.recorded`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelpact.chain import (
    Chain,
    ChainError,
    NodeUnavailableError,
    RoundContract,
    RoundEvent,
    Sender,
    TxResult,
    chain_time,
    round_at,
    round_events,
    transaction_known,
)
from modelpact.encoding import Phase
from modelpact.errors import ModelpactError
from modelpact.round.records import DeploymentRecord

__all__ = ["ChainMismatchError", "Phase", "RoundHandle"]


class ChainMismatchError(ModelpactError, ValueError):
    """The node is not the chain the deployment record names, or has no code at the address."""


@dataclass(frozen=True)
class RoundHandle:
    """A deployed round on a connected chain: ``round`` for typed views and actions, ``record``
    for what was published at deployment."""

    chain: Chain
    record: DeploymentRecord
    round: RoundContract

    @classmethod
    def open(cls, chain: Chain, record: DeploymentRecord) -> RoundHandle:
        """Bind ``record`` to ``chain``; check the chain id and that code exists at the address."""
        if chain.chain_id != record.chain_id:
            raise ChainMismatchError(
                f"the node is chain {chain.chain_id} but the deployment is on chain "
                f"{record.chain_id}",
                hint="connect to the chain named in the deployment record (--rpc / --chain)",
            )
        try:
            contract = round_at(chain, record.address, record.abi)
        except NodeUnavailableError:
            raise
        except ChainError as error:
            raise ChainMismatchError(
                f"no contract at {record.address} on chain {chain.chain_id}",
                hint="the node was restarted without its state; use --chain anvil with the same "
                "--state-dir, or redeploy",
            ) from error
        bound = RoundContract(
            chain, contract.address, contract.abi, record.tx_hash or None, record.block_number
        )
        return cls(chain=chain, record=record, round=bound)

    @property
    def address(self) -> str:
        """The round's checksummed address."""
        return str(self.record.address)

    def phase(self) -> Phase:
        """The current phase (as the contract derives it from the last block)."""
        return self.round.phase()

    def is_participant(self, account: str) -> bool:
        """Whether ``account`` has joined (``NotParticipant`` reverts mean no)."""
        from modelpact.chain import ContractRevertError

        try:
            self.round.participant(account)
        except ContractRevertError as error:
            if error.error_name == "NotParticipant":
                return False
            raise
        return True

    def latest_timestamp(self) -> int:
        """Timestamp of the latest block."""
        return chain_time(self.chain)

    def events(self, name: str) -> list[RoundEvent]:
        """Every event called ``name`` since the deployment block, in chain order."""
        return [e for e in round_events(self.round, self.record.block_number) if e.name == name]

    def send_recorded(
        self,
        action: str,
        sender: Sender,
        *args: Any,
        value: int = 0,
        record: Callable[[str], object],
    ) -> TxResult:
        """Send ``action(*args)``; call ``record(tx_hash)`` before waiting; return the result.

        Reverts (at gas estimation or in the receipt) raise
        :class:`modelpact.chain.ContractRevertError` with the contract's named error.
        """
        tx_hash = self.round.send(action, sender, *args, value=value)
        record(tx_hash)
        return self.round.wait(tx_hash, action=action)

    def recorded(self, tx_hash: str | None, *, action: str) -> TxResult | None:
        """The result of a recorded transaction if the node knows it and it succeeded (waits
        while it is pending); None if there is no hash, the node never saw it, or it failed
        (then the step may be sent again: the chain state decides what happens)."""
        if not transaction_known(self.chain, tx_hash):
            return None
        assert tx_hash is not None
        try:
            return self.round.wait(tx_hash, action=action)
        except NodeUnavailableError:
            raise
        except ChainError:
            return None

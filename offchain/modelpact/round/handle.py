"""A deployed round as the workflows see it: web3 contract bound to a record, phase names,
revert decoding into the contract's named errors.

Custom errors are decoded from the record's ABI (selector -> name and arguments), so every revert
becomes :class:`RoundRevertError` with ``error_name`` and ``args``; the workflows turn the ones a
user can provoke into one-line messages with a fix.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from modelpact.errors import ModelpactError
from modelpact.round.records import DeploymentRecord

__all__ = [
    "REVERTS",
    "ChainMismatchError",
    "Phase",
    "RoundHandle",
    "RoundRevertError",
    "decode_revert",
]


REVERTS = (ContractCustomError, ContractLogicError, TransactionFailed)
"""Exceptions a revert surfaces as (web3 on a node, eth-tester in process)."""


class Phase(IntEnum):
    """``IModelpactRound.Phase``."""

    JOIN = 0
    POST = 1
    REVEAL = 2
    CLAIM = 3
    CLOSED = 4
    ABORTED = 5


class RoundRevertError(ModelpactError, RuntimeError):
    """The contract reverted; ``error_name`` and ``args`` are the decoded custom error."""

    def __init__(
        self, message: str, *, error_name: str, args: tuple[Any, ...], hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.error_name = error_name
        self.error_args = args


class ChainMismatchError(ModelpactError, ValueError):
    """The node is not the chain the deployment record names, or has no code at the address."""


def _is_connection_error(error: BaseException) -> bool:
    import requests

    return isinstance(error, ConnectionError | requests.exceptions.ConnectionError | TimeoutError)


def _revert_data(error: Exception) -> bytes | None:
    """The raw revert data a web3 or eth-tester exception carries, if any."""
    data: Any = getattr(error, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, bytes) and data:
        return data
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    # eth-tester: TransactionFailed("execution reverted: b'...'") carries the bytes' repr.
    text = str(error.args[0]) if error.args else ""
    marker = "execution reverted: "
    if text.startswith(marker):
        literal = text[len(marker) :]
        if literal.startswith(("b'", 'b"')):
            try:
                value = ast.literal_eval(literal)
            except (ValueError, SyntaxError):
                return None
            return value if isinstance(value, bytes) else None
        if literal.startswith("0x"):
            return bytes.fromhex(literal[2:])
    return None


def decode_revert(
    error: Exception, abi: list[dict[str, Any]]
) -> tuple[str, tuple[Any, ...]] | None:
    """(name, args) of a custom-error revert, or None if ``error`` carries no known selector.

    Decoding itself is :func:`modelpact.chain.decode_revert` (the project's one decoder)."""
    from modelpact.chain import decode_revert as chain_decode

    raw = _revert_data(error)
    if raw is None or len(raw) < 4:
        return None
    decoded = chain_decode(abi, raw)
    if decoded.error_name == "UnknownError":
        return None
    return decoded.error_name, tuple(decoded.args)


@dataclass(frozen=True)
class RoundHandle:
    """A deployed round on a connected node."""

    w3: Web3
    record: DeploymentRecord
    contract: Contract

    @classmethod
    def open(cls, w3: Web3, record: DeploymentRecord) -> RoundHandle:
        """Bind ``record`` to ``w3``; check the chain id and that code exists at the address."""
        chain_id = int(w3.eth.chain_id)
        if chain_id != record.chain_id:
            raise ChainMismatchError(
                f"the node is chain {chain_id} but the deployment is on chain {record.chain_id}",
                hint="connect to the chain named in the deployment record (--rpc / --chain)",
            )
        if not w3.eth.get_code(record.address):
            raise ChainMismatchError(
                f"no contract at {record.address} on chain {chain_id}",
                hint="the node was restarted without its state; use --chain anvil with the same "
                "--state-dir, or redeploy",
            )
        contract = w3.eth.contract(address=record.address, abi=record.abi)
        return cls(w3=w3, record=record, contract=contract)

    @property
    def address(self) -> str:
        """The round's checksummed address."""
        return str(self.record.address)

    def phase(self) -> Phase:
        """The current phase (as the contract derives it from the last block)."""
        return Phase(int(self.contract.functions.phase().call()))

    def view(self, name: str, *args: Any) -> Any:
        """Call a view function, decoding a revert into :class:`RoundRevertError`."""
        try:
            return getattr(self.contract.functions, name)(*args).call()
        except (*REVERTS, OSError) as error:
            raise self.revert_error(error, action=name) from error

    def revert_error(self, error: Exception, *, action: str) -> ModelpactError:
        """Turn a web3 / eth-tester revert into :class:`modelpact.chain.ContractRevertError`
        (named custom error, decoded arguments, one-line fix), or a dropped connection into
        :class:`modelpact.chain.NodeUnavailableError`."""
        from modelpact.chain import NodeUnavailableError
        from modelpact.chain import decode_revert as chain_decode

        if _is_connection_error(error):
            return NodeUnavailableError(
                f"the node stopped answering during {action}",
                hint="restart it (same --state-dir for --chain anvil) and re-run the step; "
                "a sent transaction's hash is kept in the local state",
            )
        raw = _revert_data(error)
        if raw is None or len(raw) < 4:
            return RoundRevertError(
                f"{action} reverted: {error}",
                error_name="Unknown",
                args=(),
                hint="see the node log",
            )
        return chain_decode(self.record.abi, raw, action=action)

    def is_participant(self, account: str) -> bool:
        """Whether ``account`` has joined."""
        try:
            self.contract.functions.participant(account).call()
        except (*REVERTS, OSError) as error:
            decoded = decode_revert(error, self.record.abi)
            if decoded is not None and decoded[0] == "NotParticipant":
                return False
            raise self.revert_error(error, action="participant") from error
        return True

    def latest_timestamp(self) -> int:
        """Timestamp of the latest block."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

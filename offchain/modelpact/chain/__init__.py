"""THE adapter to the chain: the only package that talks to a node.

One module per concern:

- :mod:`.errors`        named errors, revert decoding, hints from the contract's NatSpec;
- :mod:`.backends`      which chain (embedded eth-tester, a managed anvil, any RPC URL): one
                        module per backend, each owning time travel, snapshots and revert
                        extraction;
- :mod:`.transactions`  build, sign, broadcast, wait, decode events; the crash-safe recorded step;
- :mod:`.contract`      the typed ``ModelpactRound``: one small method per action and per view;
- :mod:`.deployment`    deploy a round, find a recorded deployment, bind a round at an address.

Everything it returns is a plain frozen value (see the dataclasses in :mod:`modelpact.encoding`),
so the round workflows and the auditor never touch web3 objects. The names below are re-exported
lazily: importing :mod:`modelpact.chain` (or its light ``backends`` package) does not import web3.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelpact.chain.backends import ChainKind, ChainSettings, connect, open_chain
    from modelpact.chain.backends.base import Chain, advance_time, chain_time
    from modelpact.chain.backends.rpc import ANVIL_MNEMONIC, RPC_ATTEMPTS, RPC_BACKOFF_SECONDS
    from modelpact.chain.contract import Call, RoundContract, event_topic, round_events
    from modelpact.chain.deployment import deploy_round, find_deployment, round_at
    from modelpact.chain.errors import (
        ChainError,
        ContractRevertError,
        NodeUnavailableError,
        decode_revert,
    )
    from modelpact.chain.transactions import (
        RecordedStep,
        RoundEvent,
        Sender,
        TxResult,
        TxSlot,
        revert_from_exception,
        send_batch,
        send_raw_once,
        send_transaction,
        transaction_known,
        transfer,
        wait_for_receipt,
    )

_EXPORTS = {
    "modelpact.chain.backends": ("ChainKind", "ChainSettings", "connect", "open_chain"),
    "modelpact.chain.backends.base": ("Chain", "advance_time", "chain_time"),
    "modelpact.chain.backends.rpc": ("ANVIL_MNEMONIC", "RPC_ATTEMPTS", "RPC_BACKOFF_SECONDS"),
    "modelpact.chain.contract": ("Call", "RoundContract", "event_topic", "round_events"),
    "modelpact.chain.deployment": ("deploy_round", "find_deployment", "round_at"),
    "modelpact.chain.errors": (
        "ChainError",
        "ContractRevertError",
        "NodeUnavailableError",
        "decode_revert",
    ),
    "modelpact.chain.transactions": (
        "RecordedStep",
        "RoundEvent",
        "Sender",
        "TxResult",
        "TxSlot",
        "revert_from_exception",
        "send_batch",
        "send_raw_once",
        "send_transaction",
        "transaction_known",
        "transfer",
        "wait_for_receipt",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "ANVIL_MNEMONIC",
    "RPC_ATTEMPTS",
    "RPC_BACKOFF_SECONDS",
    "Call",
    "Chain",
    "ChainError",
    "ChainKind",
    "ChainSettings",
    "ContractRevertError",
    "NodeUnavailableError",
    "RecordedStep",
    "RoundContract",
    "RoundEvent",
    "Sender",
    "TxResult",
    "TxSlot",
    "advance_time",
    "chain_time",
    "connect",
    "decode_revert",
    "deploy_round",
    "event_topic",
    "find_deployment",
    "open_chain",
    "revert_from_exception",
    "round_at",
    "round_events",
    "send_batch",
    "send_raw_once",
    "send_transaction",
    "transaction_known",
    "transfer",
    "wait_for_receipt",
]


def __getattr__(name: str) -> object:
    """Import the module that defines ``name`` on first use (see the module doc)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

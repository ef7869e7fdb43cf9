"""Deploying a round, finding a recorded deployment, and binding a round at an address."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils.address import to_checksum_address

from modelpact.chain.backends.base import Chain
from modelpact.chain.contract import RoundContract
from modelpact.chain.errors import ChainError
from modelpact.chain.transactions import (
    RecordedStep,
    Sender,
    TxSlot,
    guarded,
    send_transaction,
)
from modelpact.compiler import CompiledContract, compile_round
from modelpact.encoding import CurveKnot, OnchainOption, RoundConfig

__all__ = ["deploy_round", "find_deployment", "round_at"]


class _NoSlot:
    """A slot that forgets: for deployments nobody needs to resume."""

    def get(self) -> str | None:
        return None

    def put(self, tx_hash: str) -> None:
        pass


def deploy_round(
    chain: Chain,
    *,
    sender: Sender,
    menu_options: Sequence[OnchainOption],
    config: RoundConfig,
    curve: Sequence[CurveKnot] = (),
    coordinator_bond: int = 0,
    compiled: CompiledContract | None = None,
    slot: TxSlot | None = None,
) -> RoundContract:
    """Deploy a ``ModelpactRound`` from ``sender`` (the coordinator) with its bond as value.

    Constructor reverts (empty or unsorted menu, bad deadlines, ...) raise
    :class:`~modelpact.chain.errors.ContractRevertError`. The transaction hash is recorded in
    ``slot`` after broadcasting and before waiting for the receipt, so a re-run after a crash
    finds the deployment with :func:`find_deployment` instead of deploying twice.
    """
    art = compile_round() if compiled is None else compiled
    factory = chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    ctor = factory.constructor(
        [o.as_tuple() for o in menu_options],
        config.as_tuple(),
        [(k.data_count, k.accuracy_wad) for k in curve],
    )
    step = RecordedStep(chain, slot or _NoSlot(), "deploy", abi=art.abi)
    result = step.send(
        lambda: send_transaction(
            chain, ctor, sender, value=coordinator_bond, abi=art.abi, action="deploy"
        )
    )
    if result.contract_address is None:
        raise ChainError(
            f"deployment {result.tx_hash} created no contract", hint="check the node logs"
        )
    return RoundContract(
        chain, result.contract_address, art.abi, result.tx_hash, result.block_number
    )


def find_deployment(
    chain: Chain, slot: TxSlot, abi: Sequence[Mapping[str, Any]]
) -> RoundContract | None:
    """The round the deploy transaction recorded in ``slot`` created (waits while it is
    pending), or None if nothing is recorded, the node never saw it or it failed (then deploying
    again is safe: nothing was created)."""
    result = RecordedStep(chain, slot, "deploy").previous()
    if result is None or result.contract_address is None:
        return None
    return RoundContract(
        chain, result.contract_address, [dict(i) for i in abi], result.tx_hash, result.block_number
    )


def round_at(
    chain: Chain, address: str, abi: Sequence[Mapping[str, Any]] | None = None
) -> RoundContract:
    """The round at ``address`` (ABI defaults to the compiled one); checks code is there."""
    checksum = to_checksum_address(address)
    code = guarded(chain, (), "getCode", lambda: chain.w3.eth.get_code(checksum))
    if len(code) == 0:
        raise ChainError(
            f"no contract at {checksum} on chain {chain.chain_id}",
            hint="check the address and that you are connected to the right chain",
        )
    use_abi = [dict(i) for i in abi] if abi is not None else compile_round().abi
    return RoundContract(chain, checksum, use_abi)

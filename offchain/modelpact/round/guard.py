"""What the wallet checks before it sends anything to a round (issue 11.3): that the round is
genuine, and that its bond is one the participant agreed to.

A deployment record is a file whoever handed it over could have written, so the wallet reads
the round from the chain and refuses, before its first transaction to the address (and again
whenever the code there is not the code it verified):

0. a record whose ABI is not the compiled round's (every view the guard reads, and every call
   the wallet sends, is decoded and encoded with it);
1. runtime code at the address that is not the locally compiled ``ModelpactRound`` (immutables
   masked, with the audit's own rule: :func:`modelpact.audit.bytecode.mask_immutables`);
2. an extension (the ``ModelpactProofs`` the round reports through ``proofs()``; the round runs
   its proof, delivery and sweep paths there by DELEGATECALL, with the round's balance and
   storage) whose runtime code is not the locally compiled ``ModelpactProofs``;
3. a round that was not created by the ``ModelpactRound`` constructor: the record's deployment
   transaction must be a contract creation whose input starts with the compiled creation code
   and whose receipt created this address. Masking immutables leaves their VALUES unchecked, and
   hand-written init code can return the genuine runtime code with any immutables (an extension
   address of its choice, or a genuine-code extension built with another coordinator or bond)
   and any pre-filled storage. The genuine constructor sets every immutable from the arguments
   the round's views report and creates the extension with the same configuration, so 1 + 3
   bind what the views show to what the code does;
4. a participant bond above ``max_bond_wei`` (default: the bond the deployment record states),
   and a record naming another coordinator than the round's.

On a live chain, code at an address cannot change once checked: neither contract contains
SELFDESTRUCT and the round delegates only to the immutable extension address. A development node
can change it (``anvil_setCode``, a restart that redeploys at the same address), so every send
compares the code's keccak with the one verified and checks again when it differs. What the
guard cannot check is the node itself: a hostile RPC node can answer every read with a genuine
round's data. Use a node you trust (SECURITY.md).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.audit.bytecode import ImmutableRefs
    from modelpact.encoding import Deadlines
    from modelpact.round.deployed import DeployedRound

__all__ = [
    "EXTENSION_CONTRACT",
    "RoundGuardError",
    "RoundTermsSeen",
    "check_abi",
    "check_bond",
    "check_code",
    "check_creation",
    "check_genuine",
    "guard_round",
    "reference_build",
    "runtime_keccak",
]

EXTENSION_CONTRACT = "ModelpactProofs"
"""The extension a round delegates its proof, delivery and sweep paths to."""

_FIX = "do not use this round: ask for one deployed with `modelpact coordinator deploy` from the "
_FIX += "published source (`modelpact audit` shows the difference); nothing was sent"


class RoundGuardError(ModelpactError, ValueError):
    """The round is not one the wallet pays into: unknown code, an unknown extension, a
    creation that was not the genuine constructor, or a bond above the participant's cap."""


@dataclass(frozen=True)
class RoundTermsSeen:
    """What the guard read from the chain and checked, shown before anything is signed."""

    address: str
    extension: str
    coordinator: str
    bond_wei: int
    max_bond_wei: int
    deadlines: Deadlines
    runtime_keccak: str


@dataclass(frozen=True)
class _Reference:
    """One locally compiled contract: runtime code, its immutable slots, creation code and ABI
    (canonical JSON)."""

    runtime: bytes
    refs: ImmutableRefs
    creation: bytes
    abi: str


def _canonical_abi(abi: object) -> str:
    """An ABI as one comparable string (entry order and key order do not matter)."""
    entries = abi if isinstance(abi, list) else []
    return json.dumps(sorted(json.dumps(e, sort_keys=True) for e in entries))


@functools.cache
def reference_build() -> dict[str, _Reference]:
    """The round and its extension as compiled here: the checkout's cached build, or the build
    the wheel ships outside a checkout (:func:`modelpact.compiler.build_contracts`)."""
    from modelpact.compiler import ROUND_CONTRACT, build_contracts

    contracts = build_contracts().contracts
    out = {}
    for name in (ROUND_CONTRACT, EXTENSION_CONTRACT):
        c = contracts[name]
        out[name] = _Reference(
            runtime=bytes.fromhex(c.runtime_bytecode.removeprefix("0x")),
            refs=dict(c.immutable_references),
            creation=bytes.fromhex(c.bytecode.removeprefix("0x")),
            abi=_canonical_abi(c.abi),
        )
    return out


def check_code(code: bytes, *, name: str, address: str, what: str) -> None:
    """Refuse ``code`` unless it equals the compiled ``name`` outside its immutables (the
    audit's ``bytecode.matches_source`` rule, same masker)."""
    from modelpact.audit.bytecode import first_difference, mask_immutables

    ref = reference_build()[name]
    if not code:
        raise RoundGuardError(f"{what} {address} holds no contract code", hint=_FIX)
    where = first_difference(
        mask_immutables(code, ref.refs), mask_immutables(ref.runtime, ref.refs)
    )
    if where is not None:
        raise RoundGuardError(
            f"{what} {address} is not the {name} this wallet compiles (its {len(code)}-byte "
            f"runtime code differs at byte {where}, immutables masked)",
            hint=_FIX,
        )


def check_creation(deployed: DeployedRound) -> None:
    """Refuse a round not created by the genuine ``ModelpactRound`` constructor: the record's
    deployment transaction must create this address from the compiled creation code."""
    from web3.exceptions import TransactionNotFound

    from modelpact.chain.transactions import guarded
    from modelpact.compiler import ROUND_CONTRACT

    w3, address = deployed.chain.w3, deployed.address
    tx_hash = deployed.record.tx_hash
    where = f"the round {address}"
    if not tx_hash:
        raise RoundGuardError(
            f"the deployment record of {where} names no deployment transaction",
            hint="ask for the record `modelpact coordinator deploy` wrote; nothing was sent",
        )

    def read(action: str, fn: Callable[[], Any]) -> Any:
        return guarded(deployed.chain, (), action, fn)

    try:
        tx = read("getTransaction", lambda: w3.eth.get_transaction(tx_hash))  # type: ignore[arg-type]
        receipt = read("getReceipt", lambda: w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
    except TransactionNotFound:
        raise RoundGuardError(
            f"the recorded deployment transaction {tx_hash[:18]}.. of {where} is not on this chain",
            hint=_FIX,
        ) from None
    created = str(receipt.get("contractAddress") or "")
    data = bytes(tx.get("input") or b"")
    if tx.get("to") is not None or created.lower() != address.lower():
        reason = f"created {created or 'nothing'}, not this address"
    elif not data.startswith(reference_build()[ROUND_CONTRACT].creation):
        reason = "ran other creation code"
    else:
        return
    raise RoundGuardError(
        f"{where} was not created by the ModelpactRound constructor (its recorded deployment "
        f"{tx_hash[:18]}.. {reason}): its immutables and storage are unchecked",
        hint=_FIX,
    )


def check_bond(bond_wei: int, *, max_bond_wei: int) -> None:
    """Refuse a participant bond above what the participant agreed to post."""
    if bond_wei > max_bond_wei:
        raise RoundGuardError(
            f"the round asks a participant bond of {bond_wei} wei, above --max-bond "
            f"{max_bond_wei} wei",
            hint="pass --max-bond WEI if you accept that bond; nothing was sent",
        )


def check_abi(deployed: DeployedRound) -> None:
    """Refuse a record whose ABI is not the compiled round's: the wallet encodes its calls and
    decodes every view (bond, deadlines, coordinator) with it, so an edited ABI could show one
    field as another or send to another selector."""
    from modelpact.compiler import ROUND_CONTRACT

    if _canonical_abi(deployed.record.abi) != reference_build()[ROUND_CONTRACT].abi:
        raise RoundGuardError(
            f"the deployment record of {deployed.address} carries an ABI that is not the "
            "ModelpactRound ABI this wallet compiles (views would be misread)",
            hint="ask for the record `modelpact coordinator deploy` wrote; nothing was sent",
        )


def check_genuine(deployed: DeployedRound) -> tuple[str, str]:
    """Checks 1-3 of the module doc, after :func:`check_abi`; returns (extension address,
    keccak of the round's code)."""
    from modelpact.chain.transactions import guarded
    from modelpact.compiler import ROUND_CONTRACT
    from modelpact.encoding import keccak256

    check_abi(deployed)
    rc, address = deployed.contract, deployed.address
    code = rc.runtime_code()
    check_code(code, name=ROUND_CONTRACT, address=address, what="the round")
    extension = str(rc.web3_contract.functions.proofs().call())
    ext_code = guarded(
        deployed.chain,
        (),
        "getCode",
        lambda: deployed.chain.w3.eth.get_code(extension),  # type: ignore[arg-type]
    )
    check_code(
        bytes(ext_code), name=EXTENSION_CONTRACT, address=extension, what="the round's extension"
    )
    check_creation(deployed)
    return extension, "0x" + keccak256(code).hex()


def runtime_keccak(deployed: DeployedRound) -> str:
    """keccak256 of the code at the round's address now (what a verified round is known by)."""
    from modelpact.encoding import keccak256

    return "0x" + keccak256(deployed.contract.runtime_code()).hex()


def guard_round(deployed: DeployedRound, *, max_bond_wei: int | None) -> RoundTermsSeen:
    """Every check of the module doc, then what the participant sees before signing.
    ``max_bond_wei`` defaults to the bond the deployment record states (the offer)."""
    extension, code_hash = check_genuine(deployed)
    config = deployed.contract.config()
    recorded = deployed.record.extra.participant_bond_wei
    cap = max_bond_wei if max_bond_wei is not None else recorded
    if cap is None:
        raise RoundGuardError(
            "the deployment record states no participant bond to compare the round's with",
            hint="pass --max-bond WEI (the most you agree to post as bond); nothing was sent",
        )
    check_bond(config.participant_bond, max_bond_wei=cap)
    coordinator = deployed.contract.coordinator()
    if str(deployed.record.coordinator).lower() != coordinator.lower():
        raise RoundGuardError(
            f"the deployment record names coordinator {deployed.record.coordinator}, but the "
            f"round's coordinator is {coordinator}",
            hint="the record was edited or belongs to another round: ask the coordinator for "
            "its record; nothing was sent",
        )
    return RoundTermsSeen(
        address=deployed.address,
        extension=extension,
        coordinator=coordinator,
        bond_wei=config.participant_bond,
        max_bond_wei=cap,
        deadlines=deployed.contract.deadlines(),
        runtime_keccak=code_hash,
    )

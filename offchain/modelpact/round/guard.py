"""What the wallet checks before it sends anything to a round (issue 11.3): that the round is
genuine, and that its bond is one the participant agreed to.

A deployment record is a file whoever handed it over could have written, so the wallet reads
the round from the chain and refuses, before its first transaction to the address (and again
whenever the code there is not the code it verified):

0. a record whose ABI is not the compiled round's (every view the guard reads, and every call
   the wallet sends, is decoded and encoded with it);
1. a round whose chain of trust (:mod:`modelpact.audit.clones`) is broken anywhere: (a) code at
   the address other than an exact clone of an implementation with round arguments; (b) an
   implementation, or the proofs implementation it DELEGATECALLs, that is not the locally
   compiled ``ModelpactRound`` / ``ModelpactProofs`` (immutables masked, with the audit's own
   rule, and holding only the addresses of that chain); (c) arguments naming a factory that is
   not the compiled ``ModelpactFactory`` cloning that implementation, or a coordinator or
   coordinator bond other than the record's; (d) a record whose deployment transaction has no
   ``RoundCreated`` of this round from that factory (a clone made by hand, never initialized,
   or a record naming some other transaction);
2. a participant bond above ``max_bond_wei`` (default: the bond the deployment record states),
   and a record naming another coordinator than the round's.

On a live chain, code at an address cannot change once checked: no contract contains
SELFDESTRUCT and every DELEGATECALL goes to an address fixed in code. A development node can
change it (``anvil_setCode``, a restart that redeploys at the same address), so every send
compares the keccak of the codes along the chain of trust with the one verified and checks again
when it differs. What the guard cannot check is the node itself: a hostile RPC node can answer
every read with a genuine round's data. Use a node you trust (SECURITY.md).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.audit.clones import References, TrustFacts
    from modelpact.encoding import Deadlines
    from modelpact.round.deployed import DeployedRound

__all__ = [
    "EXTENSION_CONTRACT",
    "RoundGuardError",
    "RoundTermsSeen",
    "check_abi",
    "check_bond",
    "check_genuine",
    "check_trust",
    "guard_round",
    "reference_build",
    "runtime_keccak",
]

EXTENSION_CONTRACT = "ModelpactProofs"
"""The proofs implementation a round delegates its proof, delivery and sweep paths to."""

_FIX = "do not use this round: ask for one deployed with `modelpact coordinator deploy` from the "
_FIX += "published source (`modelpact audit` shows the difference); nothing was sent"


class RoundGuardError(ModelpactError, ValueError):
    """The round is not one the wallet pays into: a broken chain of trust (code, implementation,
    factory, arguments, creation), or a bond above the participant's cap."""


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


def _canonical_abi(abi: object) -> str:
    """An ABI as one comparable string (entry order and key order do not matter)."""
    entries = abi if isinstance(abi, list) else []
    return json.dumps(sorted(json.dumps(e, sort_keys=True) for e in entries))


@functools.cache
def reference_build() -> References:
    """The shared contracts as compiled here: the checkout's cached build, or the build the
    wheel ships outside a checkout (:func:`modelpact.compiler.build_contracts`)."""
    from modelpact.chain.deployment import references

    return references()


@functools.cache
def _round_abi() -> str:
    from modelpact.compiler import compile_round

    return _canonical_abi(compile_round().abi)


def check_trust(deployed: DeployedRound) -> TrustFacts:
    """Refuse a round whose chain of trust (module doc, 1) is broken, naming the first broken
    link; returns what was read."""
    from modelpact.audit.clones import Expected, trust_problems
    from modelpact.chain.deployment import read_trust

    ref = reference_build()
    record = deployed.record
    facts = read_trust(
        deployed.chain, address=deployed.address, tx_hash=record.tx_hash or None, ref=ref
    )
    # The record's coordinator is compared by guard_round, with its own message.
    expected = Expected(coordinator_bond=record.extra.coordinator_bond_wei)
    problems = trust_problems(facts, ref, expected)
    if problems:
        raise RoundGuardError(problems[0].sentence(), hint=_FIX)
    return facts


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
    if _canonical_abi(deployed.record.abi) != _round_abi():
        raise RoundGuardError(
            f"the deployment record of {deployed.address} carries an ABI that is not the "
            "ModelpactRound ABI this wallet compiles (views would be misread)",
            hint="ask for the record `modelpact coordinator deploy` wrote; nothing was sent",
        )


def check_genuine(deployed: DeployedRound) -> tuple[str, str]:
    """Checks 0-1 of the module doc; returns (proofs implementation address, keccak of the
    codes along the chain of trust)."""
    check_abi(deployed)
    if not deployed.record.tx_hash:
        raise RoundGuardError(
            f"the deployment record of the round {deployed.address} names no deployment "
            "transaction",
            hint="ask for the record `modelpact coordinator deploy` wrote; nothing was sent",
        )
    facts = check_trust(deployed)
    assert facts.proofs is not None  # check_trust refuses a round without one
    return facts.proofs.address, _trust_keccak(facts)


def _trust_keccak(facts: TrustFacts) -> str:
    from modelpact.encoding import keccak256

    codes = [facts.round, facts.implementation, facts.proofs]
    return "0x" + keccak256(b"".join(c.code for c in codes if c is not None)).hex()


def runtime_keccak(deployed: DeployedRound) -> str:
    """keccak256 of the codes along the round's chain of trust now (the round, its
    implementation and the proofs implementation): what a verified round is known by."""
    from modelpact.audit.clones import CodeAt, TrustFacts, split_clone
    from modelpact.chain.deployment import implementation_codes

    code = deployed.contract.runtime_code()
    split = split_clone(code)
    below = implementation_codes(deployed.chain, reference_build(), split[0]) if split else None
    impl, proofs = below if below is not None else (None, None)
    return _trust_keccak(TrustFacts(CodeAt(deployed.address, code), impl, proofs))


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

"""The chain of trust of a round deployed as a clone (pure: no node, no web3).

A round is an OpenZeppelin clone with immutable arguments, created by ``ModelpactFactory``'s
``createRound``: 45 bytes that DELEGATECALL an implementation, then the arguments
``abi.encode(factory, coordinator, coordinatorBond, config)`` the implementation reads. Masking
immutables leaves their values unchecked, so the round is trusted only when every link is:

(a) the round's runtime code is EXACTLY the clone prefix + an implementation address + the clone
    suffix + the arguments (nothing else can run at the address);
(b) that implementation's code is the build's ``ModelpactRound`` outside its immutables, and those
    immutables hold only its own address or the proofs implementation, whose code is the build's
    ``ModelpactProofs`` (its immutables, if any, only its own address);
(c) the arguments decode to a factory whose code is the build's ``ModelpactFactory`` (immutables:
    only its own address or its ``implementation()``, which is (b)'s address), and to the
    coordinator, bond and configuration the record and the round's own event state;
(d) the record's deployment transaction emitted ``RoundCreated(round, coordinator, ...)`` from that
    factory: the genuine ``createRound`` made the clone and ran ``initialize`` in it (a clone made
    by hand, even with the genuine factory in its arguments, has no such event and cannot be
    initialized, since ``initialize`` only answers the factory).

:func:`trust_problems` returns every broken link as a :class:`Problem`: the wallet's guard refuses
on the first, the audit shows them all as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from modelpact.audit.bytecode import ImmutableRefs, first_difference, mask_immutables
from modelpact.encoding import keccak256
from modelpact.errors import ModelpactError

__all__ = [
    "CLONE_PREFIX",
    "CLONE_SUFFIX",
    "ROUND_CREATED_TOPIC",
    "CloneArgs",
    "CodeAt",
    "Creation",
    "Expected",
    "Problem",
    "Reference",
    "References",
    "TrustFacts",
    "UntrustedError",
    "clone_code",
    "decode_args",
    "immutable_addresses",
    "shared_problems",
    "split_clone",
    "trust_problems",
]

CLONE_PREFIX = bytes.fromhex("363d3d373d3d3d363d73")
"""OpenZeppelin 5 ``Clones``' runtime code before the implementation address (ERC-1167)."""
CLONE_SUFFIX = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
"""... and after it; the immutable arguments follow (``Clones.fetchCloneArgs`` reads from 0x2d)."""
ROUND_CREATED_TOPIC = "0x" + keccak256(b"RoundCreated(address,address,bytes32)").hex()
"""topic0 of ``ModelpactFactory.RoundCreated(address indexed round, address indexed coordinator,
bytes32 scenarioHash)``."""


class UntrustedError(ModelpactError, ValueError):
    """A contract along a round's chain of trust is not what this build compiles."""


@dataclass(frozen=True)
class Reference:
    """One contract as the local build compiles it: runtime code and its immutable slots."""

    name: str
    runtime: bytes
    refs: ImmutableRefs
    names: Mapping[str, str] = field(default_factory=dict)  # AST id -> immutable's name


@dataclass(frozen=True)
class References:
    """The three shared contracts of the build, and the round ABI's ``Config`` tuple type."""

    round: Reference
    proofs: Reference
    factory: Reference
    config_type: str


@dataclass(frozen=True)
class CodeAt:
    """The runtime code at an address (empty: no contract)."""

    address: str
    code: bytes


@dataclass(frozen=True)
class Creation:
    """The record's deployment transaction: its receipt status and logs
    (``(emitter, topics as 0x-hex, data)``)."""

    tx_hash: str
    status: int
    logs: tuple[tuple[str, tuple[str, ...], bytes], ...]


@dataclass(frozen=True)
class TrustFacts:
    """What the chain holds along the chain of trust (None: the link before it was broken or
    the node does not serve it)."""

    round: CodeAt
    implementation: CodeAt | None = None
    proofs: CodeAt | None = None
    factory: CodeAt | None = None
    factory_implementation: str | None = None
    creation: Creation | None = None


@dataclass(frozen=True)
class Expected:
    """What the record (and the round's ``RoundPublished``) state; None is not compared."""

    coordinator: str | None = None
    coordinator_bond: int | None = None
    config: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class CloneArgs:
    """The clone's immutable arguments, decoded."""

    factory: str
    coordinator: str
    coordinator_bond: int
    config: tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    """One broken link: which (``a``-``d``), what was expected and found, in words."""

    link: str
    subject: str
    expected: str
    found: str
    proofs: bool = False  # about the proofs implementation (the audit's own check)

    def sentence(self) -> str:
        """One line for a refusal: ``<subject> is not <expected>: <found>``."""
        return f"{self.subject} is not {self.expected} ({self.found})"


def clone_code(implementation: str, args: bytes) -> bytes:
    """The runtime code ``Clones.cloneWithImmutableArgs(implementation, args)`` leaves."""
    return CLONE_PREFIX + _raw(implementation) + CLONE_SUFFIX + args


def split_clone(code: bytes) -> tuple[str, bytes] | None:
    """(implementation address, arguments) of clone runtime ``code``; None for other code."""
    head = len(CLONE_PREFIX) + 20 + len(CLONE_SUFFIX)
    if len(code) < head or not code.startswith(CLONE_PREFIX):
        return None
    if code[len(CLONE_PREFIX) + 20 : head] != CLONE_SUFFIX:
        return None
    return _address(code[len(CLONE_PREFIX) : len(CLONE_PREFIX) + 20]), code[head:]


def abi_type(entry: Mapping[str, Any]) -> str:
    """The canonical ABI type of one ABI parameter (tuples spelled out)."""
    kind = str(entry["type"])
    if not kind.startswith("tuple"):
        return kind
    inner = ",".join(abi_type(c) for c in entry.get("components", []))
    return f"({inner}){kind[len('tuple') :]}"


def config_type(round_abi: Sequence[Mapping[str, Any]]) -> str:
    """The ``Config`` tuple type, from the output of the round ABI's ``config()`` view."""
    view = next(e for e in round_abi if e.get("type") == "function" and e.get("name") == "config")
    return abi_type(view["outputs"][0])


def decode_args(args: bytes, config_abi_type: str) -> CloneArgs | None:
    """``abi.encode(factory, coordinator, coordinatorBond, config)``, or None when ``args`` is
    not exactly that encoding (re-encoding must give the same bytes)."""
    from eth_abi.abi import decode, encode

    types = ["address", "address", "uint256", config_abi_type]
    try:
        factory, coordinator, bond, config = decode(types, args, strict=True)
        if encode(types, [factory, coordinator, bond, config]) != args:
            return None
    except Exception:  # eth_abi raises several decoding errors; any of them means "not args"
        return None
    return CloneArgs(_checksum(factory), _checksum(coordinator), int(bond), _plain(config))


def immutable_addresses(code: bytes, refs: ImmutableRefs) -> set[str]:
    """The distinct values of ``code``'s immutable slots, as addresses (lower-case 0x-hex), or
    the raw word when a slot holds no address."""
    out = set()
    for spans in refs.values():
        for span in spans:
            word = code[int(span["start"]) : int(span["start"]) + int(span["length"])]
            is_address = len(word) == 32 and not any(word[:12])
            out.add(_address(word[12:]).lower() if is_address else "0x" + word.hex())
    return out


PROOFS_IMMUTABLE = "_PROOFS"
"""The round implementation's immutable holding the proofs implementation's address."""
FACTORY_CODEHASH_IMMUTABLE = "_FACTORY_CODEHASH"
"""The round implementation's immutable holding keccak256 of the factory's runtime code."""


def proofs_of(code: bytes, reference: Reference, own_address: str) -> str | None:
    """The proofs implementation a round implementation's ``code`` points at: the value of its
    ``_PROOFS`` immutable (by the build's AST names; a build without names: the one immutable
    address other than ``own_address``); None when that is not one address."""
    ids = [i for i, n in reference.names.items() if n == PROOFS_IMMUTABLE]
    refs = {i: reference.refs[i] for i in ids if i in reference.refs} if ids else reference.refs
    found = immutable_addresses(code, refs) - {own_address.lower()}
    if len(found) != 1 or len(next(iter(found))) != 42:
        return None
    return _checksum(next(iter(found)))


def trust_problems(
    facts: TrustFacts, ref: References, expected: Expected = Expected()
) -> tuple[Problem, ...]:
    """Every broken link of (a)-(d) (module doc), in order; empty when the round is genuine."""
    split = split_clone(facts.round.code)
    where = f"the round {facts.round.address}"
    if split is None:
        found = "no code" if not facts.round.code else f"{len(facts.round.code)} other bytes"
        return (Problem("a", where, "a ModelpactFactory clone", found),)
    implementation, raw_args = split
    problems = list(_implementation(facts, ref, implementation))
    args = decode_args(raw_args, ref.config_type)
    if args is None:
        problems.append(
            Problem("c", where, "a clone with round arguments", f"{len(raw_args)} bytes of args")
        )
        return tuple(problems)
    problems.extend(_factory(facts, ref, args.factory, implementation))
    problems.extend(_terms(where, args, expected))
    problems.extend(_creation(facts, args))
    return tuple(problems)


def _code(
    at: CodeAt | None,
    reference: Reference,
    subject: str,
    allowed: set[str],
    pinned: Mapping[str, str] | None = None,
) -> list[Problem]:
    """``at`` equals ``reference`` outside its immutables, which hold only ``allowed``; with
    ``pinned`` (immutable name -> value) and a build that names its immutables, every slot of
    each immutable holds exactly its pinned value (what the constructor writes there: a slot
    holding another allowed value, e.g. the implementation's own address in one of the two
    ``_PROOFS`` slots, is code the constructor can never leave)."""
    expected = f"the {reference.name} this build compiles"
    if at is None or not at.code:
        return [Problem("b", subject, expected, "no contract code")]
    masked = mask_immutables(at.code, reference.refs)
    where = first_difference(masked, mask_immutables(reference.runtime, reference.refs))
    if where is not None:
        found = f"its {len(at.code)}-byte code differs at byte {where}, immutables masked"
        return [Problem("b", subject, expected, found)]
    if pinned is not None and reference.names:
        return _pinned(at.code, reference, subject, pinned)
    stray = immutable_addresses(at.code, reference.refs) - {a.lower() for a in allowed}
    if stray:
        found = f"its immutables hold {', '.join(sorted(stray))}"
        return [Problem("b", subject, f"{reference.name} built for this chain of trust", found)]
    return []


def _pinned(
    code: bytes, reference: Reference, subject: str, pinned: Mapping[str, str]
) -> list[Problem]:
    """Every slot of each named immutable of ``code`` holds its value in ``pinned``."""
    for ident, spans in reference.refs.items():
        name = reference.names.get(ident, ident)
        want = pinned.get(name, "").lower()
        held = immutable_addresses(code, {ident: spans})
        if held != {want}:
            expected = f"{reference.name} as its constructor writes it ({name} = {want or '?'})"
            found = f"its {name} slots hold {', '.join(sorted(held))}"
            return [Problem("b", subject, expected, found)]
    return []


def _implementation(facts: TrustFacts, ref: References, implementation: str) -> list[Problem]:
    subject = f"the round's implementation {implementation}"
    if (
        facts.implementation is None
        or facts.implementation.address.lower() != implementation.lower()
    ):
        return [Problem("b", subject, "readable", "the node did not serve its code")]
    proofs = facts.proofs.address if facts.proofs is not None else ""
    # The other immutable is keccak256 of the factory's code (initialize accepts only a caller
    # running it); the factory has no immutables, so the build's runtime is that code.
    factory_hash = "0x" + keccak256(ref.factory.runtime).hex()
    allowed = {implementation, proofs, factory_hash}
    pinned = {PROOFS_IMMUTABLE: proofs, FACTORY_CODEHASH_IMMUTABLE: factory_hash}
    problems = _code(facts.implementation, ref.round, subject, allowed, pinned)
    if problems:
        return problems
    if facts.proofs is None:
        return [Problem("b", subject, "pointing at a proofs implementation", "none found")]
    what = f"the proofs implementation {proofs}"
    return [replace(p, proofs=True) for p in _code(facts.proofs, ref.proofs, what, {proofs})]


def _factory(
    facts: TrustFacts, ref: References, factory: str, implementation: str
) -> list[Problem]:
    """(c): the factory's code is the build's, and it clones ``implementation``."""
    subject = f"the factory {factory}"
    if facts.factory is None or facts.factory.address.lower() != factory.lower():
        return [Problem("c", subject, "readable", "the node did not serve its code")]
    problems = [
        Problem("c", p.subject, p.expected, p.found)
        for p in _code(facts.factory, ref.factory, subject, {factory, implementation})
    ]
    made = (facts.factory_implementation or "").lower()
    if not problems and made != implementation.lower():
        problems.append(
            Problem(
                "c",
                f"the round's implementation {implementation}",
                f"the one its factory {factory} clones",
                f"the factory clones {facts.factory_implementation or 'nothing readable'}",
            )
        )
    return problems


def shared_problems(facts: TrustFacts, ref: References, factory: str) -> tuple[Problem, ...]:
    """(b) and (c) for a factory alone (``coordinator deploy --factory``): its code, the
    implementation it clones and the proofs implementation below it."""
    implementation = facts.factory_implementation or ""
    problems = _factory(facts, ref, factory, implementation)
    if problems:
        return tuple(problems)
    return tuple(_implementation(facts, ref, implementation))


def _terms(where: str, args: CloneArgs, expected: Expected) -> list[Problem]:
    """(c): the arguments carry the coordinator, bond and configuration stated elsewhere."""
    out = []
    pairs = (
        ("coordinator", expected.coordinator, args.coordinator),
        ("coordinator bond", expected.coordinator_bond, args.coordinator_bond),
        ("configuration", expected.config, args.config),
    )
    for name, stated, found in pairs:
        if stated is None or str(_plain(stated)).lower() == str(found).lower():
            continue
        shown = _plain(stated)
        out.append(Problem("c", f"{where}'s {name}", f"the stated {shown}", f"args: {found}"))
    return out


def _creation(facts: TrustFacts, args: CloneArgs) -> list[Problem]:
    """(d): the deployment transaction has the factory's RoundCreated for this round."""
    subject = f"the recorded deployment of the round {facts.round.address}"
    expected = f"a createRound of its factory {args.factory}"
    if facts.creation is None:
        return [Problem("d", subject, expected, "the transaction is not on this chain")]
    wanted = _topic(facts.round.address), _topic(args.coordinator)
    for emitter, topics, _data in facts.creation.logs:
        if (
            emitter.lower() == args.factory.lower()
            and len(topics) == 3
            and topics[0].lower() == ROUND_CREATED_TOPIC
            and (topics[1].lower(), topics[2].lower()) == wanted
        ):
            return []
    found = f"tx {facts.creation.tx_hash[:18]}.. emitted no RoundCreated of this round from it"
    return [Problem("d", subject, expected, found)]


def _topic(address: str) -> str:
    return "0x" + _raw(address).rjust(32, b"\0").hex()


def _raw(address: str) -> bytes:
    return bytes.fromhex(address.removeprefix("0x"))


def _address(raw: bytes) -> str:
    return _checksum("0x" + raw.hex())


def _checksum(address: str) -> str:
    from eth_utils.address import to_checksum_address

    return str(to_checksum_address(address))


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value

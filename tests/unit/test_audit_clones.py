"""The pure chain-of-trust rules of a clone round (:mod:`modelpact.audit.clones`): the clone
layout is OpenZeppelin's (pinned against the installed Clones.sol), arguments decode only when
they are exactly the factory's encoding, and the proofs implementation is read by the immutable's
name."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi.abi import encode

from modelpact.audit.clones import (
    CLONE_PREFIX,
    CLONE_SUFFIX,
    ROUND_CREATED_TOPIC,
    CodeAt,
    Creation,
    TrustFacts,
    clone_code,
    config_type,
    decode_args,
    proofs_of,
    split_clone,
    trust_problems,
)
from modelpact.chain.deployment import references
from modelpact.compiler import compile_round
from modelpact.encoding import RoundConfig, Schedule, keccak256

ROOT = Path(__file__).resolve().parents[2]
IMPL = "0x" + "11" * 20
FACTORY = "0x" + "22" * 20
COORDINATOR = "0x" + "33" * 20


def _config() -> tuple[object, ...]:
    return RoundConfig(
        capacity=4, participant_bond=10**16, scenario_hash=b"\x01" * 32,
        test_set_commitment=b"\x02" * 32, coordinator_commitment=b"\x03" * 32,
        schedule=Schedule(10, 20), quorum=1, test_row_count=360,
    ).as_tuple()  # fmt: skip


def _args(bond: int = 10**17) -> bytes:
    kind = config_type(compile_round().abi)
    return encode(["address", "address", "uint256", kind], [FACTORY, COORDINATOR, bond, _config()])


def test_the_clone_layout_is_openzeppelins() -> None:
    """The prefix and suffix are the bytes OpenZeppelin's Clones.sol writes around the
    implementation (its init code ends with them), and a clone of 544 bytes of arguments is
    45 + 544 bytes that split back into the implementation and the arguments."""
    source = (ROOT / "node_modules/@openzeppelin/contracts/proxy/Clones.sol").read_text()
    assert f'hex"3d81600a3d39f3{CLONE_PREFIX.hex()}"' in source
    assert f'hex"{CLONE_SUFFIX.hex()}"' in source
    args = _args()
    assert len(args) == 17 * 32
    code = clone_code(IMPL, args)
    assert len(code) == 45 + 544
    found = split_clone(code)
    assert found is not None
    assert (found[0].lower(), found[1]) == (IMPL, args)
    assert split_clone(code[:44]) is None
    assert split_clone(b"\x00" + code[1:]) is None


def test_arguments_decode_only_when_exactly_the_factorys_encoding() -> None:
    """The arguments decode to (factory, coordinator, bond, config); a truncated or extended
    encoding, or one with dirty padding, is refused."""
    kind = config_type(compile_round().abi)
    args = decode_args(_args(7), kind)
    assert args is not None
    assert (args.factory.lower(), args.coordinator.lower(), args.coordinator_bond) == (
        FACTORY, COORDINATOR, 7,
    )  # fmt: skip
    assert decode_args(_args()[:-1], kind) is None
    assert decode_args(_args() + b"\x00", kind) is None
    dirty = bytearray(_args())
    dirty[0] = 1  # a high byte in the factory's word
    assert decode_args(bytes(dirty), kind) is None


def test_the_proofs_implementation_is_read_by_the_immutables_name() -> None:
    """In the build's ModelpactRound runtime with its immutables filled in, ``proofs_of`` reads
    the ``_PROOFS`` slots (not the factory code hash's), whatever the other slot holds."""
    ref = references().round
    assert set(ref.names.values()) == {"_PROOFS", "_FACTORY_CODEHASH"}
    proofs = "0x" + "44" * 20
    code = bytearray(ref.runtime)
    for ident, spans in ref.refs.items():
        word = (
            bytes.fromhex(proofs[2:]).rjust(32, b"\0")
            if ref.names[ident] == "_PROOFS"
            else bytes.fromhex("55" * 20).rjust(32, b"\0")  # an address-looking other slot
        )
        for span in spans:
            code[span["start"] : span["start"] + 32] = word
    found = proofs_of(bytes(code), ref, IMPL)
    assert found is not None
    assert found.lower() == proofs


@pytest.mark.parametrize(
    ("facts", "link"),
    [
        (TrustFacts(CodeAt(IMPL, b"")), "a"),
        (TrustFacts(CodeAt(IMPL, b"\x60\x00")), "a"),
        (TrustFacts(CodeAt(IMPL, clone_code(IMPL, b"\x00" * 7))), "b"),
    ],
)
def test_broken_first_links_are_named(facts: TrustFacts, link: str) -> None:
    """No code, other code, or a clone whose implementation the node does not serve: the first
    problem names the link."""
    assert trust_problems(facts, references())[0].link == link


def test_a_creation_without_the_factorys_event_is_link_d() -> None:
    """The RoundCreated topic is the event's signature hash; a deployment transaction whose logs
    lack the factory's RoundCreated for this round breaks link (d)."""
    assert keccak256(b"RoundCreated(address,address,bytes32)").hex() == ROUND_CREATED_TOPIC[2:]
    creation = Creation("0x" + "ab" * 32, 1, ((FACTORY, (ROUND_CREATED_TOPIC,), b""),))
    facts = TrustFacts(CodeAt(IMPL, clone_code(IMPL, _args())), creation=creation)
    links = [p.link for p in trust_problems(facts, references())]
    assert links[-1] == "d"

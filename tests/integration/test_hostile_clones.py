"""Hostile review of rounds as clones (issue 17), on the embedded chain with real contracts:

1. an implementation deployed by hand-written init code with the genuine ModelpactRound runtime
   whose ``_PROOFS`` immutable holds the genuine proofs implementation in one of its two slots and
   the implementation's OWN address in the other: the chain of trust must pin each immutable
   slot to the value the genuine constructor writes there, not accept any slot holding any value
   of the allowed set;
2. a hostile coordinator who publishes, beside its record, a standard-JSON compiler input whose
   sources are NOT this release's (a look-alike with other behaviour) and deploys the shared
   contracts from it: the audit must not certify the round's code against sources the coordinator
   wrote (the wallet's guard, which compares with its own build, already refuses it).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from conftest import deploy
from test_clone_trust import Genuine, _construct, _create, _deployed, _returning, _send

from modelpact import chain as ch
from modelpact.audit import audit_snapshot
from modelpact.audit.clones import Reference, split_clone
from modelpact.audit.fetch import fetch_snapshot
from modelpact.audit.report import Status
from modelpact.chain.deployment import deploy_shared, read_shared, references
from modelpact.compiler import compile_contracts, compile_input, compile_round, compiler_input
from modelpact.round.guard import RoundGuardError, guard_round


@pytest.fixture
def genuine() -> Genuine:
    chain = ch.connect(chain="embedded")
    s = deploy(chain, compile_round())
    args = s.round.runtime_code()[45:]
    return Genuine(chain, s.round, read_shared(chain, "0x" + args[12:32].hex()))


def _create_address(chain: ch.Chain, sender: str) -> str:
    """The address sender's next contract creation gets (CREATE: rlp(sender, nonce))."""
    from web3.utils.address import get_create_address

    nonce = chain.w3.eth.get_transaction_count(sender)  # type: ignore[arg-type]
    return str(get_create_address(sender, nonce))  # type: ignore[arg-type]


def _filled(ref: Reference, values: dict[tuple[str, int], str]) -> bytes:
    """``ref``'s runtime with immutable span (name, index) set to the 32-byte word of an
    address or to a raw 0x-hex word."""
    code = bytearray(ref.runtime)
    for ident, spans in ref.refs.items():
        for k, span in enumerate(spans):
            value = values[(ref.names[ident], k)].removeprefix("0x")
            word = bytes.fromhex(value).rjust(32, b"\0")
            code[span["start"] : span["start"] + 32] = word
    return bytes(code)


def _lying_round(g: Genuine, own_slot: int) -> ch.RoundContract | None:
    """A genuine ModelpactFactory over an implementation put on chain by hand-written init code:
    the build's ModelpactRound runtime with ``_PROOFS`` slot ``own_slot`` holding the
    implementation's own address and the other slot the genuine proofs implementation; the
    round its createRound makes (None: createRound reverted)."""
    from modelpact.encoding import keccak256

    ref = references()
    attacker = g.chain.accounts[3]
    impl = _create_address(g.chain, attacker)
    factory_hash = "0x" + keccak256(ref.factory.runtime).hex()
    runtime = _filled(
        ref.round,
        {
            ("_PROOFS", own_slot): impl,
            ("_PROOFS", 1 - own_slot): g.shared.proofs_implementation,
            ("_FACTORY_CODEHASH", 0): factory_hash,
        },
    )
    _tx, made = _send(g.chain, _returning(runtime))
    assert made.lower() == impl.lower()
    factory = _construct(g.chain, compile_contracts()["ModelpactFactory"], impl)
    try:
        return _create(g, factory, attacker)  # type: ignore[no-any-return]
    except ch.ContractRevertError:
        return None


def test_each_immutable_slot_holds_what_the_constructor_writes(genuine: Genuine) -> None:
    """An implementation whose two ``_PROOFS`` slots hold the genuine proofs implementation AND
    its own address (the constructor writes its one argument into both) is never accepted.
    With the own address in the slot the DELEGATECALL uses, createRound cannot initialize (it
    recurses into itself); with it in the slot ``proofs()`` reads, a round created through a
    genuine factory runs, its ``proofs()`` answers what no genuine round can answer, and the
    guard and the audit must refuse it (both accepted any slot holding any allowed value)."""
    g = genuine
    made = [_lying_round(g, slot) for slot in (0, 1)]
    assert sum(r is None for r in made) == 1, "exactly one slot order creates a round"
    evil = next(r for r in made if r is not None)
    assert split_clone(evil.runtime_code()) is not None
    impl = split_clone(evil.runtime_code())[0]  # type: ignore[index]
    assert evil.proofs_address().lower() == impl.lower(), "proofs() is its implementation"
    record = _deployed(g, evil.address, str(evil.deploy_tx_hash), coordinator=evil.coordinator())
    with pytest.raises(RoundGuardError, match="_PROOFS slots hold"):
        guard_round(record, max_bond_wei=None)
    report = audit_snapshot(fetch_snapshot(chain=g.chain, address=evil.address))
    found = {f.id: f for f in report.findings}
    assert found["bytecode.matches_source"].status is Status.FAIL
    assert "_PROOFS slots hold" in found["bytecode.matches_source"].failures[0].found


def test_the_audit_does_not_certify_against_sources_the_coordinator_published(
    genuine: Genuine, tmp_path: Path
) -> None:
    """A coordinator builds the shared contracts from its own edit of the sources (here: the
    shortest window becomes 256 seconds instead of 1 hour), deploys them, creates a round through
    its factory and publishes the edited standard-JSON input as ``<record>.input.json``. The
    wallet's guard refuses the round (it compares with its own build); the audit, which rebuilds
    from the published input, must fail ``bytecode.matches_source`` too, not certify the round
    as "identical to the rebuilt ModelpactRound"."""
    g = genuine
    standard = copy.deepcopy(compiler_input())
    unit = standard["sources"]["contracts/src/RoundCore.sol"]
    edited = unit["content"].replace(
        "uint256 public constant MIN_WINDOW = 1 hours;", "uint256 public constant MIN_WINDOW = 256;"
    )
    assert edited != unit["content"]
    unit["content"] = edited
    evil_build = compile_input(standard)
    fork = deploy_shared(g.chain, sender=g.chain.accounts[3], contracts=evil_build.contracts)
    evil = _create(g, fork.factory, g.chain.accounts[3])
    window = evil.web3_contract.functions.MIN_WINDOW().call()
    assert window == 256, "the round runs the edited source"
    with pytest.raises(RoundGuardError):
        guard_round(_deployed(g, evil.address, str(evil.deploy_tx_hash)), max_bond_wei=None)

    published = tmp_path / "1-evil.input.json"
    published.write_text(json.dumps(standard))
    built = compile_round()
    settings = {
        "version": built.compiler_version,
        "settings": dict(built.settings),
        "input": str(published),
    }
    report = audit_snapshot(
        fetch_snapshot(chain=g.chain, address=evil.address), compiler_settings=settings
    )
    found = {f.id: f for f in report.findings}
    assert found["bytecode.matches_source"].status is Status.FAIL
    assert found["bytecode.proofs_matches_source"].status is Status.FAIL
    why = found["bytecode.matches_source"].failures[0].found
    assert "other than this release's for ModelpactRound (contracts/src/RoundCore.sol" in why


def test_the_audit_does_not_certify_against_imports_the_record_remaps(
    genuine: Genuine, tmp_path: Path
) -> None:
    """No published input this time: the record's compiler settings carry one more remapping,
    sending OpenZeppelin's MerkleProof (the challenge's test-set proof) to a file of the
    coordinator's whose ``verifyCalldata`` never verifies (so no challenge of a posted model
    can prove its row: fraud without a challenge). The coordinator deploys the shared contracts
    built with those settings; the audit rebuilds "with the recorded settings", compiles the
    coordinator's file and must not certify the round's proofs implementation."""
    from modelpact.compiler import build_contracts, settings

    g = genuine
    oz = Path("node_modules/@openzeppelin/contracts/utils/cryptography").resolve()
    evil_dir = tmp_path / "published"
    evil_dir.mkdir()
    (evil_dir / "Hashes.sol").write_text((oz / "Hashes.sol").read_text())
    honest = (oz / "MerkleProof.sol").read_text()
    line = "return processProofCalldata(proof, leaf) == root;"
    assert honest.count(line) == 1
    (evil_dir / "MerkleProof.sol").write_text(honest.replace(line, line[:-1] + " && false;"))
    wanted = settings()
    wanted["remappings"] = [
        *wanted["remappings"],
        "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol="
        + str(evil_dir / "MerkleProof.sol"),
    ]
    wanted.pop("outputSelection")
    evil_build = build_contracts(compile_settings=wanted)
    fork = deploy_shared(g.chain, sender=g.chain.accounts[3], contracts=evil_build.contracts)
    evil = _create(g, fork.factory, g.chain.accounts[3])
    with pytest.raises(RoundGuardError):
        guard_round(_deployed(g, evil.address, str(evil.deploy_tx_hash)), max_bond_wei=None)

    built = compile_round()
    recorded = {"version": built.compiler_version, "settings": wanted}
    report = audit_snapshot(
        fetch_snapshot(chain=g.chain, address=evil.address), compiler_settings=recorded
    )
    found = {f.id: f for f in report.findings}
    assert found["bytecode.proofs_matches_source"].status is Status.FAIL
    assert found["bytecode.matches_source"].status is Status.FAIL
    why = found["bytecode.proofs_matches_source"].failures[0].found
    assert "the rebuild with the recorded compiler settings reads sources other" in why

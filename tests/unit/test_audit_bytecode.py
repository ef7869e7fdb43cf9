"""Unit tests of the bytecode rule: immutables are masked, every other byte must match."""

from __future__ import annotations

from eth_utils.crypto import keccak

from modelpact.audit.bytecode import check_bytecode, first_difference, mask_immutables
from modelpact.audit.report import Status

COMPILED = bytes(range(64))
REFS = {"12": [{"start": 8, "length": 4}, {"start": 40, "length": 4}]}


def _deployed() -> bytes:
    code = bytearray(COMPILED)
    code[8:12] = b"\xaa" * 4  # immutable values written at deployment
    code[40:44] = b"\xbb" * 4
    return bytes(code)


def test_same_code_with_immutables_passes() -> None:
    """Deployed code that differs from the rebuild only inside immutable slots passes."""
    deployed = _deployed()
    finding = check_bytecode(
        deployed, COMPILED, REFS, compiler="solc", recorded_sha3="0x" + keccak(deployed).hex()
    )
    assert finding.status is Status.PASS
    assert mask_immutables(deployed, REFS) == mask_immutables(COMPILED, REFS)


def test_one_byte_outside_immutables_fails() -> None:
    """A single changed byte outside the immutable slots fails with its offset as evidence."""
    code = bytearray(_deployed())
    code[20] ^= 1
    finding = check_bytecode(bytes(code), COMPILED, REFS, compiler="solc")
    assert finding.status is Status.FAIL
    assert "byte 20" in finding.failures[0].note


def test_no_code_and_wrong_record_fail() -> None:
    """No code at the address, or a record whose sha3 is not the deployed code's, fails."""
    assert check_bytecode(b"", COMPILED, REFS, compiler="solc").status is Status.FAIL
    wrong = check_bytecode(_deployed(), COMPILED, REFS, compiler="solc", recorded_sha3="0x00")
    assert wrong.status is Status.FAIL


def test_first_difference_handles_lengths() -> None:
    """Equal bytes give None; a prefix differs at the shorter length."""
    assert first_difference(b"abc", b"abc") is None
    assert first_difference(b"abc", b"abcd") == 3
    assert first_difference(b"abc", b"abd") == 2

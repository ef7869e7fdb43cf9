"""The audit's bytecode rule: deployed runtime code versus a rebuild from source (pure).

Solidity writes immutables (coordinator, bonds, deadlines, ...) into the runtime code at
deployment, so the deployed code differs from the compiler's ``deployedBytecode`` exactly at the
``immutableReferences`` the compiler reports. Those byte ranges are masked on both sides; every
other byte, including the metadata hash that pins the source files and compiler settings, must be
identical.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from modelpact.audit.report import Evidence, Finding, make_finding
from modelpact.encoding import keccak256 as keccak

__all__ = ["ImmutableRefs", "check_bytecode", "first_difference", "mask_immutables"]

ImmutableRefs = Mapping[str, Sequence[Mapping[str, int]]]
"""solc's ``evm.deployedBytecode.immutableReferences``: id -> [{"start": s, "length": n}]."""


def _ranges(refs: ImmutableRefs) -> Iterable[tuple[int, int]]:
    for spans in refs.values():
        for span in spans:
            yield int(span["start"]), int(span["length"])


def mask_immutables(code: bytes, refs: ImmutableRefs) -> bytes:
    """``code`` with every immutable's byte range zeroed."""
    out = bytearray(code)
    for start, length in _ranges(refs):
        out[start : start + length] = bytes(min(length, max(0, len(out) - start)))
    return bytes(out)


def first_difference(a: bytes, b: bytes) -> int | None:
    """The first byte offset where ``a`` and ``b`` differ (or the shorter length), else None."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def check_bytecode(
    deployed: bytes,
    compiled: bytes,
    immutable_refs: ImmutableRefs,
    *,
    compiler: str,
    recorded_sha3: str | None = None,
    check_id: str = "bytecode.matches_source",
    title: str = "Deployed bytecode equals the source compiled with the recorded settings",
) -> Finding:
    """``bytecode.matches_source``: deployed code equals the rebuild outside immutable slots
    (``check_id`` / ``title`` name another contract's check: ``bytecode.proofs_matches_source``).

    ``recorded_sha3`` (from a deployment record) must also equal keccak256 of the deployed code.
    """
    failures: list[Evidence] = []
    if not deployed:
        failures.append(
            Evidence("runtime code", f"{len(compiled)} bytes", "no code at the address")
        )
    else:
        a = mask_immutables(deployed, immutable_refs)
        b = mask_immutables(compiled, immutable_refs)
        where = first_difference(a, b)
        if where is not None:
            failures.append(
                Evidence(
                    "runtime code",
                    f"{len(compiled)} bytes, keccak 0x{keccak(b).hex()[:16]}.. (immutables masked)",
                    f"{len(deployed)} bytes, keccak 0x{keccak(a).hex()[:16]}..",
                    f"first difference at byte {where}",
                )
            )
    deployed_sha3 = "0x" + keccak(deployed).hex()
    if recorded_sha3 is not None and recorded_sha3.lower().removeprefix("0x") != deployed_sha3[2:]:
        failures.append(Evidence("deployment record", recorded_sha3, deployed_sha3, "runtime sha3"))
    n_imm = sum(1 for _ in _ranges(immutable_refs))
    return make_finding(
        check_id,
        title,
        checked=1,
        failures=failures,
        detail_pass=f"{len(deployed)} bytes identical to the rebuild ({compiler}) outside "
        f"{n_imm} immutable slots",
        evidence=[Evidence("runtime code", f"rebuild with {compiler}", deployed_sha3)],
    )

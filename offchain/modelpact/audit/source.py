"""Rebuild the round contract from the repository's source with the recorded compiler settings.

Uses :mod:`modelpact.compiler` (the same source collection, remappings and solc selection the
deployer used). When the recorded settings are the project's current ones the cached build is
reused (the cache key is a digest of sources and settings); otherwise the sources are compiled
afresh with exactly the recorded settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelpact.audit.bytecode import ImmutableRefs
from modelpact.compiler import (
    ROUND_CONTRACT,
    SOLC_VERSION,
    CompilerError,
    collect_sources,
    compile_round,
    find_solc,
    settings,
)

__all__ = ["rebuild_runtime"]


def _strip(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def rebuild_runtime(recorded: Mapping[str, Any] | None) -> tuple[bytes, ImmutableRefs, str]:
    """(runtime bytecode, immutable references, compiler label) of ``ModelpactRound``.

    ``recorded`` is ``{"version": ..., "settings": {...}}`` from a deployment record, or None for
    the project's current settings. Raises :class:`CompilerError` when the recorded compiler
    version is not the one available here.
    """
    version = str(recorded.get("version", SOLC_VERSION)) if recorded else SOLC_VERSION
    if not version.startswith(SOLC_VERSION):
        raise CompilerError(
            f"the round was compiled with solc {version}; this checkout pins {SOLC_VERSION}",
            hint="audit from a checkout of the release that deployed the round",
        )
    wanted = dict(recorded.get("settings") or {}) if recorded else {}
    if not wanted or wanted == settings():
        built = compile_round()
        refs: ImmutableRefs = built.immutable_references
        return _strip(built.runtime_bytecode), refs, f"solc {built.compiler_version}, cached build"
    return _compile_with(wanted)


def _compile_with(compile_settings: dict[str, Any]) -> tuple[bytes, ImmutableRefs, str]:
    import solcx

    selection = {
        "*": {"*": ["evm.deployedBytecode.object", "evm.deployedBytecode.immutableReferences"]}
    }
    standard_input = {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in collect_sources().items()},
        "settings": {**compile_settings, "outputSelection": selection},
    }
    binary = find_solc()
    try:
        output = solcx.compile_standard(standard_input, solc_binary=binary)
    except solcx.exceptions.SolcError as exc:
        raise CompilerError(
            f"solc failed with the recorded settings: {exc}",
            hint="the record's compiler settings are not valid for this source",
        ) from exc
    for by_name in output.get("contracts", {}).values():
        art = by_name.get(ROUND_CONTRACT)
        if art is not None:
            deployed = art["evm"]["deployedBytecode"]
            refs: ImmutableRefs = deployed.get("immutableReferences", {})
            return _strip(deployed["object"]), refs, f"solc {SOLC_VERSION}, recorded settings"
    raise CompilerError(f"{ROUND_CONTRACT} missing from the compiler output")

"""Rebuild the round contract from the repository's source with the recorded compiler settings.

Uses :func:`modelpact.compiler.compile_round` (the same source collection, remappings, solc
selection and digest-keyed cache the deployer used) with the settings the deployment record
names; when they are the project's current ones the deployer's cached build is reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelpact.audit.bytecode import ImmutableRefs
from modelpact.compiler import SOLC_VERSION, CompilerError, compile_round, settings

__all__ = ["rebuild_runtime"]


def _strip(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def rebuild_runtime(recorded: Mapping[str, Any] | None) -> tuple[bytes, ImmutableRefs, str]:
    """(runtime bytecode, immutable references, compiler label) of ``ModelpactRound``.

    ``recorded`` is ``{"version": ..., "settings": {...}}`` from a deployment record, or None for
    the project's current settings. Raises :class:`CompilerError` when the recorded compiler
    version is not the one available here or the settings do not compile.
    """
    version = str(recorded.get("version", SOLC_VERSION)) if recorded else SOLC_VERSION
    if not version.startswith(SOLC_VERSION):
        raise CompilerError(
            f"the round was compiled with solc {version}; this checkout pins {SOLC_VERSION}",
            hint="audit from a checkout of the release that deployed the round",
        )
    wanted = dict(recorded.get("settings") or {}) if recorded else {}
    current = not wanted or wanted == settings()
    built = compile_round(compile_settings=None if current else wanted)
    label = "cached build" if current else "recorded settings"
    refs: ImmutableRefs = built.immutable_references
    return _strip(built.runtime_bytecode), refs, f"solc {built.compiler_version}, {label}"

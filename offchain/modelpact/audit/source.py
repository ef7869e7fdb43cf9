"""Rebuild the round contract: from the standard-JSON input published next to the deployment
record when there is one (no checkout needed), else from the repository's source with the
recorded compiler settings.

Uses :mod:`modelpact.compiler` (the same remappings, solc selection and digest-keyed cache the
deployer used); when the settings are the project's current ones the deployer's cached build is
reused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelpact.audit.bytecode import ImmutableRefs
from modelpact.compiler import (
    ROUND_CONTRACT,
    SOLC_VERSION,
    Build,
    CompiledContract,
    CompilerError,
    build_contracts,
    compile_contracts,
    compile_input,
    compiler_input,
    settings,
)

__all__ = ["rebuild_runtime"]


def _strip(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def rebuild_runtime(
    recorded: Mapping[str, Any] | None, contract: str = ROUND_CONTRACT
) -> tuple[bytes, ImmutableRefs, str]:
    """(runtime bytecode, immutable references, compiler label) of ``contract``
    (``ModelpactRound``, or ``ModelpactProofs``: the extension the round creates).

    ``recorded`` is ``{"version": ..., "settings": {...}}`` from a deployment record (plus
    ``"input"``: the path of the record's published ``*.input.json``, when there is one), or None
    for the project's current settings. Raises :class:`CompilerError` when the recorded compiler
    version is not the one available here or the settings do not compile.
    """
    built, label = rebuild(recorded, contract)
    refs: ImmutableRefs = built.immutable_references
    return _strip(built.runtime_bytecode), refs, f"solc {built.compiler_version}, {label}"


def rebuild(
    recorded: Mapping[str, Any] | None, contract: str = ROUND_CONTRACT
) -> tuple[CompiledContract, str]:
    """``contract`` built as :func:`rebuild_runtime` says, and how it was built."""
    version = str(recorded.get("version", SOLC_VERSION)) if recorded else SOLC_VERSION
    if not version.startswith(SOLC_VERSION):
        raise CompilerError(
            f"the round was compiled with solc {version}; this checkout pins {SOLC_VERSION}",
            hint="audit from a checkout of the release that deployed the round",
        )
    published = recorded.get("input") if recorded else None
    if published:
        return _from_published(Path(str(published)), contract), (
            f"published {Path(str(published)).name}"
        )
    wanted = dict(recorded.get("settings") or {}) if recorded else {}
    current = not wanted or wanted == settings()
    if current:
        return compile_contracts()[contract], "cached build"
    # The record's settings can remap any import to any file (e.g. one published beside it):
    # what the rebuild read must still be this release's sources.
    build = build_contracts(compile_settings=wanted)
    _check_sources("the rebuild with the recorded compiler settings", build, contract)
    return build.contracts[contract], "recorded settings"


def _from_published(path: Path, name: str) -> CompiledContract:
    """Contract ``name`` compiled from a published standard-JSON input (sources embedded), whose
    sources must be this release's: the input sits beside the record, written by whoever
    deployed the round, so a rebuild of sources it carries proves only that the code is what
    the COORDINATOR's sources compile to (a look-alike with other rules passed both bytecode
    checks)."""
    try:
        standard_input = json.loads(path.read_text(encoding="utf-8"))
        build = compile_input(standard_input)
        contract = build.contracts[name]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CompilerError(
            f"cannot rebuild from the published compiler input {path}: {exc!r}",
            hint="restore the <record>.input.json written at deployment, or remove it to "
            "rebuild from this checkout's sources",
        ) from exc
    _check_sources(f"the published compiler input {path.name}", build, name)
    return contract


def _check_sources(what: str, build: Build, name: str) -> None:
    """Refuse a build of ``name`` that read, for ``name``, any source unit other than this
    release's (by solc's metadata: the units ``name``'s code depends on)."""
    ours = {u: str(s["content"]) for u, s in compiler_input()["sources"].items()}
    theirs = {u: str(s.get("content")) for u, s in dict(build.compiler_input["sources"]).items()}
    used = json.loads(build.metadata[name])["sources"]
    differ = sorted(u for u in used if ours.get(u) is None or ours.get(u) != theirs.get(u))
    if differ:
        more = f" and {len(differ) - 1} more" if len(differ) > 1 else ""
        raise CompilerError(
            f"{what} reads sources other than this release's for {name} ({differ[0]}{more}): "
            "its code cannot be certified against sources the round's deployer chose",
            hint="audit with the release that deployed the round, after reading the difference",
        )

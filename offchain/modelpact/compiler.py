"""Compile ``contracts/src`` reproducibly with py-solc-x.

The compiler is a native ``solc`` of the pinned version when one is on ``PATH``, else the project's
``scripts/solc`` (a native-compatible shim over the pinned solc-js). Both get the same standard-JSON
input: every source, including the OpenZeppelin files it imports, is embedded in the input
(imports are resolved here, with the same remapping as ``foundry.toml``), so no import callback or
allow-path differs between them. Same sources + same settings -> same bytecode.

Compiled artifacts are cached under ``contracts/out/modelpact/`` keyed by a digest of the sources
and settings (the directory is gitignored), so tests do not recompile each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelpact.errors import ModelpactError

__all__ = [
    "EVM_VERSION",
    "OPTIMIZER_RUNS",
    "SOLC_VERSION",
    "CompiledContract",
    "CompilerError",
    "collect_sources",
    "compile_contracts",
    "compile_round",
    "find_solc",
    "project_root",
    "settings",
    "source_digest",
]

SOLC_VERSION = "0.8.28"
"""Pinned compiler version (package.json pins solc-js 0.8.28; forge uses it via the shim)."""
OPTIMIZER_RUNS = 200
"""Must equal ``optimizer_runs`` in foundry.toml (checked by tests)."""
EVM_VERSION = "cancun"
"""Must equal ``evm_version`` in foundry.toml (checked by tests)."""

ROUND_CONTRACT = "ModelpactRound"
_REMAPPINGS = {"@openzeppelin/contracts/": "node_modules/@openzeppelin/contracts/"}
_IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*?\s+from\s+)?["']([^"']+)["']\s*;""", re.MULTILINE)
_CACHE_FORMAT = 1


class CompilerError(ModelpactError, RuntimeError):
    """The Solidity sources could not be compiled (no compiler, bad source, unresolved import)."""


@dataclass(frozen=True)
class CompiledContract:
    """One compiled contract: what deployment and bytecode verification need.

    ``bytecode`` / ``runtime_bytecode`` are 0x-prefixed hex; ``immutable_references`` maps AST ids
    to byte ranges ``[{"start", "length"}]`` of the runtime code that hold immutables (an auditor
    masks them when comparing deployed code with a rebuild).
    """

    name: str
    source_path: str
    abi: list[dict[str, Any]]
    bytecode: str
    runtime_bytecode: str
    compiler_version: str
    settings: Mapping[str, Any]
    source_digest: str
    immutable_references: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (inverse of :meth:`from_json`)."""
        return {
            "name": self.name,
            "source_path": self.source_path,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "runtime_bytecode": self.runtime_bytecode,
            "compiler_version": self.compiler_version,
            "settings": dict(self.settings),
            "source_digest": self.source_digest,
            "immutable_references": dict(self.immutable_references),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CompiledContract:
        """Read back :meth:`to_json` output."""
        return cls(
            name=str(data["name"]),
            source_path=str(data["source_path"]),
            abi=list(data["abi"]),
            bytecode=str(data["bytecode"]),
            runtime_bytecode=str(data["runtime_bytecode"]),
            compiler_version=str(data["compiler_version"]),
            settings=dict(data["settings"]),
            source_digest=str(data["source_digest"]),
            immutable_references=dict(data.get("immutable_references", {})),
        )


def project_root() -> Path:
    """The repository root: ``$MODELPACT_ROOT`` or the checkout this package lives in."""
    env = os.environ.get("MODELPACT_ROOT")
    root = Path(env) if env else Path(__file__).resolve().parents[2]
    if not (root / "contracts" / "src").is_dir():
        raise CompilerError(
            f"no contracts/src under {root}",
            hint="run from a modelpact checkout or set MODELPACT_ROOT to one",
        )
    return root


def settings() -> dict[str, Any]:
    """The standard-JSON settings (optimizer, runs, EVM version, outputs) used for every build."""
    return {
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "evmVersion": EVM_VERSION,
        "metadata": {"bytecodeHash": "ipfs"},
        "outputSelection": {
            "*": {
                "*": [
                    "abi",
                    "evm.bytecode.object",
                    "evm.deployedBytecode.object",
                    "evm.deployedBytecode.immutableReferences",
                ]
            }
        },
    }


def _resolve(unit: str, imported: str) -> str:
    if imported.startswith("."):
        parts: list[str] = unit.split("/")[:-1]
        for piece in imported.split("/"):
            if piece == "..":
                if not parts:
                    raise CompilerError(f"import {imported!r} in {unit} leaves the source tree")
                parts.pop()
            elif piece != ".":
                parts.append(piece)
        return "/".join(parts)
    return imported


def _file_for(root: Path, unit: str) -> Path:
    for prefix, target in _REMAPPINGS.items():
        if unit.startswith(prefix):
            return root / (target + unit[len(prefix) :])
    return root / unit


def collect_sources(root: Path | None = None) -> dict[str, str]:
    """Every source unit ``contracts/src`` needs, by unit name, imports resolved transitively."""
    base = project_root() if root is None else root
    pending = [
        p.relative_to(base).as_posix() for p in sorted((base / "contracts/src").rglob("*.sol"))
    ]
    if not pending:
        raise CompilerError(f"no .sol files under {base / 'contracts/src'}")
    sources: dict[str, str] = {}
    while pending:
        unit = pending.pop()
        if unit in sources:
            continue
        path = _file_for(base, unit)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise CompilerError(
                f"cannot resolve Solidity import {unit!r} (looked at {path})",
                hint="run ./scripts/bootstrap to install the pinned npm packages",
            ) from exc
        sources[unit] = text
        pending.extend(_resolve(unit, imp) for imp in _IMPORT.findall(text))
    return dict(sorted(sources.items()))


def source_digest(sources: Mapping[str, str], compile_settings: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of the sources and settings (hex)."""
    payload = json.dumps(
        {"sources": dict(sorted(sources.items())), "settings": compile_settings, "v": SOLC_VERSION},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _version_of(binary: Path) -> str | None:
    import solcx.wrapper

    try:
        return str(solcx.wrapper.get_solc_version(binary, with_commit_hash=False))
    except Exception:
        return None


def find_solc(root: Path | None = None) -> Path:
    """A native ``solc`` of the pinned version on PATH, else the ``scripts/solc`` shim."""
    native = shutil.which("solc")
    if native is not None and _version_of(Path(native)) == SOLC_VERSION:
        return Path(native)
    shim = (project_root() if root is None else root) / "scripts" / "solc"
    if not shim.exists():
        raise CompilerError(
            f"no solc {SOLC_VERSION} on PATH and no shim at {shim}",
            hint="run ./scripts/bootstrap (installs solc-js) or put native solc 0.8.28 on PATH",
        )
    version = _version_of(shim)
    if version != SOLC_VERSION:
        raise CompilerError(
            f"{shim} reports solc {version}, expected {SOLC_VERSION}",
            hint="run ./scripts/bootstrap to install the pinned npm packages",
        )
    return shim


def compile_contracts(
    *,
    root: Path | None = None,
    use_cache: bool = True,
    solc_binary: Path | None = None,
    compile_settings: Mapping[str, Any] | None = None,
) -> dict[str, CompiledContract]:
    """Compile every contract under ``contracts/src``; returns them by contract name.

    ``compile_settings`` replaces the project's :func:`settings` (e.g. the settings a deployment
    record names, for an auditor's rebuild); its ``outputSelection`` is always the project's.
    Reads from / writes to the cache ``contracts/out/modelpact/<digest>.json`` unless
    ``use_cache`` is false. Raises :class:`CompilerError` with solc's messages on failure.
    """
    base = project_root() if root is None else root
    sources = collect_sources(base)
    chosen = (
        settings()
        if compile_settings is None
        else {**compile_settings, "outputSelection": settings()["outputSelection"]}
    )
    digest = source_digest(sources, chosen)
    cache = base / "contracts" / "out" / "modelpact" / f"{digest}.json"
    if use_cache and cache.exists():
        try:
            data = json.loads(cache.read_text())
            if data.get("format") == _CACHE_FORMAT:
                return {k: CompiledContract.from_json(v) for k, v in data["contracts"].items()}
        except (json.JSONDecodeError, KeyError, TypeError):
            pass  # a corrupt cache entry is rebuilt below
    contracts = _compile(base, sources, chosen, digest, solc_binary)
    if use_cache:
        payload = {
            "format": _CACHE_FORMAT,
            "contracts": {k: v.to_json() for k, v in contracts.items()},
        }
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as fh:
                json.dump(payload, fh)
            os.replace(tmp, cache)  # atomic: parallel test workers never read half a file
        except OSError:
            pass  # the cache is an optimisation (e.g. `forge clean` removed the directory)
    return contracts


def _compile(
    base: Path,
    sources: Mapping[str, str],
    compile_settings: dict[str, Any],
    digest: str,
    solc_binary: Path | None,
) -> dict[str, CompiledContract]:
    import solcx

    binary = find_solc(base) if solc_binary is None else solc_binary
    standard_input = {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources.items()},
        "settings": compile_settings,
    }
    try:
        output = solcx.compile_standard(standard_input, solc_binary=binary)
    except solcx.exceptions.SolcError as exc:
        raise CompilerError(
            f"solc failed: {str(exc).splitlines()[0] if str(exc) else exc!r}",
            hint="fix the Solidity error shown by `forge build`",
        ) from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilerError(
            "solc reported: " + "; ".join(e.get("formattedMessage", e["message"]) for e in errors),
            hint="fix the Solidity error shown by `forge build`",
        )
    version = _version_of(binary) or SOLC_VERSION
    out: dict[str, CompiledContract] = {}
    for unit, by_name in output.get("contracts", {}).items():
        if not unit.startswith("contracts/src/"):
            continue
        for name, art in by_name.items():
            creation = art["evm"]["bytecode"]["object"]
            if not creation:
                continue  # interfaces and abstract contracts
            out[name] = CompiledContract(
                name=name,
                source_path=unit,
                abi=art["abi"],
                bytecode="0x" + creation,
                runtime_bytecode="0x" + art["evm"]["deployedBytecode"]["object"],
                compiler_version=version,
                settings=compile_settings,
                source_digest=digest,
                immutable_references=art["evm"]["deployedBytecode"].get("immutableReferences", {}),
            )
    if ROUND_CONTRACT not in out:
        raise CompilerError(f"{ROUND_CONTRACT} missing from the compiler output")
    return out


def compile_round(
    *,
    root: Path | None = None,
    use_cache: bool = True,
    compile_settings: Mapping[str, Any] | None = None,
) -> CompiledContract:
    """The compiled ``ModelpactRound`` (cached), with the project's or the given settings."""
    return compile_contracts(root=root, use_cache=use_cache, compile_settings=compile_settings)[
        ROUND_CONTRACT
    ]

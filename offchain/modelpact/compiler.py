"""Compile ``contracts/src`` reproducibly with py-solc-x, with the settings forge uses.

Settings come from ONE place, ``foundry.toml``: the solc version (``[profile.native]``), optimizer,
runs, EVM version and remappings (``[profile.default]``). The remappings go into solc's
standard-JSON settings, so source unit names are paths under the checkout
(``node_modules/@openzeppelin/...``) exactly as forge names them, and forge and this module build
identical bytecode. solc itself finds the imports: native ``solc`` reads them under
``--base-path``, the ``scripts/solc`` shim (over the pinned solc-js) does the same through its
import callback. The compiler is a native ``solc`` of the pinned version on ``PATH``, else one that
py-solc-x installed, else the shim.

A :class:`Build` keeps the exact standard-JSON input (every source solc read, embedded) and solc's
metadata, so a deployment can publish them for Sourcify/Etherscan-style verification and an
audit can rebuild the bytecode without a checkout (:func:`write_verification_files`,
:func:`compile_input`). Builds are cached under ``contracts/out/modelpact/`` (gitignored). Outside a
checkout (an installed wheel) the build shipped as package data (``data/contracts/build.json``,
refreshed by ``scripts/package-contracts``) stands in for the sources.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelpact.errors import ModelpactError

__all__ = [
    "EVM_VERSION",
    "FACTORY_CONTRACT",
    "OPTIMIZER_RUNS",
    "PACKAGED_BUILD",
    "PROOFS_CONTRACT",
    "ROUND_CONTRACT",
    "SOLC_VERSION",
    "Build",
    "BuildProfile",
    "CompiledContract",
    "CompilerError",
    "build_contracts",
    "collect_sources",
    "compile_contracts",
    "compile_input",
    "compile_round",
    "compiler_input",
    "find_solc",
    "foundry_profile",
    "project_root",
    "settings",
    "source_digest",
    "verification_paths",
    "write_packaged_build",
    "write_verification_files",
]

ROUND_CONTRACT = "ModelpactRound"
"""The round implementation every round (a clone) DELEGATECALLs; its ABI is the round's."""
PROOFS_CONTRACT = "ModelpactProofs"
"""The proofs implementation the round implementation DELEGATECALLs (challenges, deliveries)."""
FACTORY_CONTRACT = "ModelpactFactory"
"""The factory whose ``createRound`` clones the round implementation (one round each)."""
PACKAGED_BUILD = Path(__file__).resolve().parent / "data" / "contracts" / "build.json"
"""The build shipped in the wheel: the round's exact compiler input, artifacts and metadata."""
_BUILD_FORMAT = 2
_OUTPUTS = [
    "abi",
    "metadata",
    "evm.bytecode.object",
    "evm.deployedBytecode.object",
    "evm.deployedBytecode.immutableReferences",
]


def _output_selection() -> dict[str, Any]:
    """What every build asks solc for; the AST only to name each immutable
    (``CompiledContract.immutable_names``)."""
    return {"*": {"*": list(_OUTPUTS), "": ["ast"]}}


class CompilerError(ModelpactError, RuntimeError):
    """The Solidity sources could not be compiled (no compiler, bad source, unresolved import)."""


@dataclass(frozen=True)
class BuildProfile:
    """The compiler settings forge builds with, as ``foundry.toml`` states them."""

    solc_version: str
    optimizer: bool
    optimizer_runs: int
    evm_version: str
    remappings: tuple[str, ...]
    src: str = "contracts/src"

    @classmethod
    def from_foundry_toml(cls, path: Path) -> BuildProfile:
        """Read ``[profile.default]`` (and the pinned version in ``[profile.native]``)."""
        try:
            profiles = tomllib.loads(path.read_text(encoding="utf-8"))["profile"]
            default = profiles["default"]
            return cls(
                solc_version=str(profiles["native"]["solc"]),
                optimizer=bool(default["optimizer"]),
                optimizer_runs=int(default["optimizer_runs"]),
                evm_version=str(default["evm_version"]),
                remappings=tuple(sorted(str(r) for r in default.get("remappings", []))),
                src=str(default.get("src", "contracts/src")),
            )
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise CompilerError(
                f"cannot read the compiler settings from {path}: {exc!r}",
                hint="restore foundry.toml (profile.default: optimizer, optimizer_runs, "
                "evm_version, remappings; profile.native: solc)",
            ) from exc

    def settings(self) -> dict[str, Any]:
        """solc's standard-JSON ``settings`` for this profile (as forge passes them)."""
        return {
            "remappings": list(self.remappings),
            "optimizer": {"enabled": self.optimizer, "runs": self.optimizer_runs},
            "evmVersion": self.evm_version,
            "metadata": {"bytecodeHash": "ipfs"},
            "outputSelection": _output_selection(),
        }


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
    immutable_names: Mapping[str, str] = field(default_factory=dict)  # AST id -> variable name

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
            "immutable_names": dict(self.immutable_names),
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
            immutable_names={str(k): str(v) for k, v in data.get("immutable_names", {}).items()},
        )


@dataclass(frozen=True)
class Build:
    """One compilation: the exact standard-JSON input solc compiled (every source it read,
    embedded), the deployable contracts, and solc's metadata per contract (the exact string whose
    hash ends the runtime bytecode, as Sourcify wants it)."""

    compiler_input: Mapping[str, Any]
    contracts: Mapping[str, CompiledContract]
    metadata: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        """The cache / package-data form (inverse of :meth:`from_json`)."""
        return {
            "format": _BUILD_FORMAT,
            "input": self.compiler_input,
            "contracts": {name: c.to_json() for name, c in self.contracts.items()},
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Build:
        """Read back :meth:`to_json` output (KeyError/TypeError on another format)."""
        if data.get("format") != _BUILD_FORMAT:
            raise KeyError("format")
        return cls(
            compiler_input=dict(data["input"]),
            contracts={k: CompiledContract.from_json(v) for k, v in data["contracts"].items()},
            metadata={str(k): str(v) for k, v in data["metadata"].items()},
        )


def _checkout() -> Path | None:
    """The checkout this package lives in (editable install), if it has contract sources."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "contracts" / "src").is_dir() else None


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


def _source_root(root: Path | None) -> Path | None:
    """Where to compile from: ``root``, ``$MODELPACT_ROOT``, the checkout, or None (packaged)."""
    if root is not None:
        return root
    if os.environ.get("MODELPACT_ROOT"):
        return project_root()
    return _checkout()


def foundry_profile(root: Path | None = None) -> BuildProfile:
    """The build settings: ``root``'s foundry.toml (default ``$MODELPACT_ROOT``), else the
    checkout's, else the packaged build's (written from foundry.toml by
    ``scripts/package-contracts``)."""
    env = os.environ.get("MODELPACT_ROOT")
    first = root if root is not None else (Path(env) if env else None)
    for base in (first, _checkout()):
        if base is not None and (base / "foundry.toml").is_file():
            return BuildProfile.from_foundry_toml(base / "foundry.toml")
    return _packaged_profile()


@functools.cache
def _packaged_build() -> Build:
    try:
        return Build.from_json(json.loads(PACKAGED_BUILD.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CompilerError(
            f"no contract build shipped at {PACKAGED_BUILD} and no checkout to compile",
            hint="reinstall modelpact, or run from a checkout (or set MODELPACT_ROOT to one)",
        ) from exc


@functools.cache
def _packaged_profile() -> BuildProfile:
    build = _packaged_build()
    s = build.compiler_input["settings"]
    version = build.contracts[ROUND_CONTRACT].compiler_version.split("+")[0]
    return BuildProfile(
        solc_version=version,
        optimizer=bool(s["optimizer"]["enabled"]),
        optimizer_runs=int(s["optimizer"]["runs"]),
        evm_version=str(s["evmVersion"]),
        remappings=tuple(s.get("remappings", [])),
    )


_PROFILE = foundry_profile()
SOLC_VERSION = _PROFILE.solc_version
"""Pinned compiler version (foundry.toml's ``[profile.native] solc``; the shim reports it too)."""
OPTIMIZER_RUNS = _PROFILE.optimizer_runs
"""foundry.toml's ``optimizer_runs``."""
EVM_VERSION = _PROFILE.evm_version
"""foundry.toml's ``evm_version``."""


def settings(root: Path | None = None) -> dict[str, Any]:
    """The standard-JSON settings every build uses (foundry.toml's; see :class:`BuildProfile`)."""
    return foundry_profile(root).settings()


def source_digest(sources: Mapping[str, str], compile_settings: Mapping[str, Any]) -> str:
    """sha256 over the canonical JSON of the sources and settings (hex)."""
    payload = json.dumps(
        {"sources": dict(sorted(sources.items())), "settings": compile_settings, "v": SOLC_VERSION},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _input_sources(standard_input: Mapping[str, Any]) -> dict[str, str]:
    return {unit: str(s["content"]) for unit, s in standard_input["sources"].items()}


@functools.cache
def _version_of(binary: Path) -> str | None:
    import solcx.wrapper

    try:
        return str(solcx.wrapper.get_solc_version(binary, with_commit_hash=False))
    except Exception:
        return None


def _solcx_installed(version: str) -> Path | None:
    """A solc that ``solcx.install_solc(version)`` put in py-solc-x's folder, if any."""
    from solcx.exceptions import SolcNotInstalled
    from solcx.install import get_executable

    try:
        return Path(get_executable(version=version))
    except (SolcNotInstalled, OSError, ValueError):
        return None


def find_solc(root: Path | None = None) -> Path:
    """A solc of the pinned version: native on PATH, else installed by py-solc-x, else the
    ``scripts/solc`` shim of ``root`` or of the checkout this package lives in."""
    native = shutil.which("solc")
    if native is not None and _version_of(Path(native)) == SOLC_VERSION:
        return Path(native)
    installed = _solcx_installed(SOLC_VERSION)
    if installed is not None and _version_of(installed) == SOLC_VERSION:
        return installed
    shims = [base / "scripts" / "solc" for base in (root, _checkout()) if base is not None]
    shim = next((s for s in shims if s.exists()), None)
    if shim is None:
        raise CompilerError(
            f"no solc {SOLC_VERSION}: none on PATH, none installed by py-solc-x, no scripts/solc "
            "shim",
            hint=f"run ./scripts/bootstrap in a checkout, put native solc {SOLC_VERSION} on PATH, "
            f"or run: python -c 'import solcx; solcx.install_solc(\"{SOLC_VERSION}\")'",
        )
    version = _version_of(shim)
    if version != SOLC_VERSION:
        raise CompilerError(
            f"{shim} reports solc {version}, expected {SOLC_VERSION}",
            hint="run ./scripts/bootstrap to install the pinned npm packages",
        )
    return shim


def _run_solc(
    standard_input: Mapping[str, Any], binary: Path, base_path: Path | None
) -> dict[str, Any]:
    """solc's standard-JSON output; imports not in the input are read under ``base_path``."""
    import solcx

    try:
        output: dict[str, Any] = solcx.compile_standard(
            dict(standard_input), base_path=base_path, allow_paths=base_path, solc_binary=binary
        )
    except solcx.exceptions.SolcError as exc:
        raise CompilerError(
            f"solc failed: {str(exc).splitlines()[0] if str(exc) else exc!r}",
            hint="fix the Solidity error shown by `forge build`",
        ) from exc
    return output


def _check_metadata(standard_input: Mapping[str, Any], metadata: str) -> None:
    """Every source the metadata pins is in the input with the same keccak256: what a deployment
    publishes is what solc compiled."""
    from modelpact.encoding import keccak256

    sources = _input_sources(standard_input)
    for unit, entry in json.loads(metadata)["sources"].items():
        text = sources.get(unit)
        if text is None or "0x" + keccak256(text.encode()).hex() != entry["keccak256"]:
            raise CompilerError(
                f"solc compiled {unit} from other text than the build records",
                hint="a source changed during the build; build again",
            )


def _build_from_output(
    standard_input: Mapping[str, Any], output: Mapping[str, Any], binary: Path
) -> Build:
    compile_settings = dict(standard_input["settings"])
    digest = source_digest(_input_sources(standard_input), compile_settings)
    version = _version_of(binary) or SOLC_VERSION
    own_prefix = foundry_profile().src.rstrip("/") + "/"
    contracts: dict[str, CompiledContract] = {}
    metadata: dict[str, str] = {}
    names = _immutable_names(output)
    for unit, by_name in output.get("contracts", {}).items():
        if not unit.startswith(own_prefix):
            continue  # libraries are compiled into the project's contracts, not deployed alone
        for name, art in by_name.items():
            creation = art["evm"]["bytecode"]["object"]
            if not creation:
                continue  # interfaces and abstract contracts
            contracts[name] = CompiledContract(
                name=name,
                source_path=unit,
                abi=art["abi"],
                bytecode="0x" + creation,
                runtime_bytecode="0x" + art["evm"]["deployedBytecode"]["object"],
                compiler_version=version,
                settings=compile_settings,
                source_digest=digest,
                immutable_references=(
                    refs := art["evm"]["deployedBytecode"].get("immutableReferences", {})
                ),
                immutable_names={k: names[k] for k in refs if k in names},
            )
            metadata[name] = str(art["metadata"])
    if ROUND_CONTRACT not in contracts:
        raise CompilerError(f"{ROUND_CONTRACT} missing from the compiler output")
    _check_metadata(standard_input, metadata[ROUND_CONTRACT])
    return Build(compiler_input=standard_input, contracts=contracts, metadata=metadata)


def _immutable_names(output: Mapping[str, Any]) -> dict[str, str]:
    """AST id -> name of every immutable state variable in the output's ASTs (the keys of
    ``immutableReferences``): lets a verifier read one immutable's value from deployed code."""
    found: dict[str, str] = {}
    stack: list[Any] = [s.get("ast") for s in output.get("sources", {}).values()]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if node.get("nodeType") == "VariableDeclaration" and node.get("mutability") == (
                "immutable"
            ):
                found[str(node["id"])] = str(node["name"])
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
    return found


def _own_sources(base: Path, src: str) -> dict[str, str]:
    """The project's own Solidity files by source unit name (path under ``base``)."""
    files = sorted((base / src).rglob("*.sol"))
    if not files:
        raise CompilerError(f"no .sol files under {base / src}")
    return {p.relative_to(base).as_posix(): p.read_text(encoding="utf-8") for p in files}


def _compile_tree(
    base: Path, compile_settings: Mapping[str, Any], solc_binary: Path | None
) -> Build:
    """Compile ``base``'s sources; solc resolves the imports (remappings + base path), and the
    build records every source it read, so its input is self-contained."""
    own = _own_sources(base, foundry_profile(base).src)
    binary = find_solc(base) if solc_binary is None else solc_binary
    partial = {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in own.items()},
        "settings": dict(compile_settings),
    }
    output = _run_solc(partial, binary, base)
    read = {
        u: own[u] if u in own else (base / u).read_text(encoding="utf-8") for u in output["sources"]
    }
    full = {**partial, "sources": {u: {"content": read[u]} for u in sorted(read)}}
    return _build_from_output(full, output, binary)


def compile_input(standard_input: Mapping[str, Any], *, solc_binary: Path | None = None) -> Build:
    """Compile a self-contained standard-JSON input (e.g. a published ``*.input.json``) with the
    pinned solc; no checkout needed. Its ``outputSelection`` is replaced by the one builds use.
    In a checkout, an identical input built before is taken from the build cache; outside one,
    an input identical to the packaged build's is that build (it was compiled from exactly this
    input, so a wheel audits its own rounds without a solc on the machine)."""
    chosen = {**standard_input["settings"], "outputSelection": _output_selection()}
    full = {"language": "Solidity", "sources": dict(standard_input["sources"]), "settings": chosen}
    base = _source_root(None)
    if base is None and solc_binary is None:
        packaged = _packaged_build()
        if packaged.compiler_input == full:
            return packaged
    if base is not None and solc_binary is None:
        digest = source_digest(_input_sources(full), chosen)
        try:
            cached = Build.from_json(json.loads((_cache_dir(base) / f"{digest}.json").read_text()))
            if cached.compiler_input == full:
                return cached
        except (OSError, ValueError, KeyError, TypeError):
            pass  # not built here before
    binary = find_solc() if solc_binary is None else solc_binary
    return _build_from_output(full, _run_solc(full, binary, None), binary)


def _cache_dir(base: Path) -> Path:
    return base / "contracts" / "out" / "modelpact"


def _read_cache(base: Path, key: str) -> Build | None:
    """The cached build for ``key`` (digest of the project's own sources and settings), if every
    source it read (the imports too) is still the same on disk."""
    try:
        digest = (_cache_dir(base) / f"src-{key}.txt").read_text().strip()
        build = Build.from_json(json.loads((_cache_dir(base) / f"{digest}.json").read_text()))
        for unit, text in _input_sources(build.compiler_input).items():
            if (base / unit).read_text(encoding="utf-8") != text:
                return None
        return build
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no entry, or a corrupt one: rebuilt by the caller


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)  # published files are for others to read (mkstemp makes them private)
    os.replace(tmp, path)  # atomic: parallel test workers never read half a file


def _write_cache(base: Path, key: str, build: Build) -> None:
    digest = build.contracts[ROUND_CONTRACT].source_digest
    try:
        _write_atomic(_cache_dir(base) / f"{digest}.json", json.dumps(build.to_json()))
        _write_atomic(_cache_dir(base) / f"src-{key}.txt", digest)
    except OSError:
        pass  # the cache is an optimisation (e.g. a read-only checkout)


def build_contracts(
    *,
    root: Path | None = None,
    use_cache: bool = True,
    solc_binary: Path | None = None,
    compile_settings: Mapping[str, Any] | None = None,
) -> Build:
    """Build every contract under ``contracts/src`` of ``root`` (default: ``$MODELPACT_ROOT`` or
    the checkout; outside a checkout, the build shipped with the package).

    ``compile_settings`` replaces the project's :func:`settings` (e.g. the settings a deployment
    record names, for an auditor's rebuild); its ``outputSelection`` is always the project's.
    Reads from / writes to the cache unless ``use_cache`` is false. Raises
    :class:`CompilerError` with solc's messages on failure.
    """
    base = _source_root(root)
    chosen = settings(base)
    if compile_settings is not None:
        chosen = {**compile_settings, "outputSelection": chosen["outputSelection"]}
    if base is None:
        packaged = _packaged_build()
        if use_cache and chosen == dict(packaged.compiler_input["settings"]):
            return packaged
        return compile_input(
            {**packaged.compiler_input, "settings": chosen}, solc_binary=solc_binary
        )
    key = source_digest(_own_sources(base, foundry_profile(base).src), chosen)
    cached = _read_cache(base, key) if use_cache else None
    if cached is not None:
        return cached
    build = _compile_tree(base, chosen, solc_binary)
    if use_cache:
        _write_cache(base, key, build)
    return build


def compile_contracts(
    *,
    root: Path | None = None,
    use_cache: bool = True,
    solc_binary: Path | None = None,
    compile_settings: Mapping[str, Any] | None = None,
) -> dict[str, CompiledContract]:
    """Compile every contract under ``contracts/src``; returns them by contract name (see
    :func:`build_contracts`)."""
    build = build_contracts(
        root=root, use_cache=use_cache, solc_binary=solc_binary, compile_settings=compile_settings
    )
    return dict(build.contracts)


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


def collect_sources(root: Path | None = None) -> dict[str, str]:
    """Every source unit the build of ``contracts/src`` reads, by unit name (as solc found them)."""
    return dict(sorted(_input_sources(build_contracts(root=root).compiler_input).items()))


def compiler_input(*, root: Path | None = None) -> dict[str, Any]:
    """The exact standard-JSON input of the project's build (every source embedded)."""
    return dict(build_contracts(root=root).compiler_input)


def verification_paths(record: Path) -> tuple[Path, Path]:
    """``<record>.input.json`` and ``<record>.metadata.json`` beside a deployment record
    (``deploy/1-0xAb.json`` -> ``deploy/1-0xAb.input.json``, ``deploy/1-0xAb.metadata.json``)."""
    stem = record.name.removesuffix(".json")
    return record.with_name(f"{stem}.input.json"), record.with_name(f"{stem}.metadata.json")


def write_verification_files(
    record: Path, *, build: Build | None = None, contract: str = ROUND_CONTRACT
) -> tuple[Path, Path]:
    """Write the build's exact standard-JSON input and ``contract``'s solc metadata next to the
    deployment record ``record``; returns their paths (see :func:`verification_paths`).

    With them, Sourcify (metadata + sources) or an Etherscan-style verifier (standard-JSON input)
    can verify the deployed code, and ``modelpact audit`` rebuilds it without a checkout. The
    metadata is written byte for byte as solc produced it (its hash is in the bytecode).
    """
    chosen = build_contracts() if build is None else build
    if contract not in chosen.metadata:
        raise CompilerError(f"the build has no contract {contract!r}", hint="name a built contract")
    input_path, metadata_path = verification_paths(record)
    _write_atomic(input_path, json.dumps(chosen.compiler_input, indent=1) + "\n")
    _write_atomic(metadata_path, chosen.metadata[contract])
    return input_path, metadata_path


def write_packaged_build(root: Path | None = None) -> Path:
    """Write the checkout's build to :data:`PACKAGED_BUILD` (what a wheel deploys outside a
    checkout); ``scripts/package-contracts`` runs this after a contract change."""
    base = project_root() if root is None else root
    build = build_contracts(root=base)
    target = base / "offchain" / "modelpact" / "data" / "contracts" / "build.json"
    _write_atomic(target, json.dumps(build.to_json(), indent=1, sort_keys=True) + "\n")
    return target

"""modelpact.compiler: reproducible builds with the pinned settings, matching foundry.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from modelpact import compiler

ROOT = Path(__file__).resolve().parents[2]


def test_settings_match_foundry_toml() -> None:
    """Optimizer, runs and EVM version are the ones forge builds with."""
    profile = tomllib.loads((ROOT / "foundry.toml").read_text())["profile"]["default"]
    s = compiler.settings()
    assert s["optimizer"] == {"enabled": profile["optimizer"], "runs": profile["optimizer_runs"]}
    assert s["evmVersion"] == profile["evm_version"]


def test_sources_include_openzeppelin_imports() -> None:
    """Every import is resolved into the standard-JSON input (same input for native and shim)."""
    sources = compiler.collect_sources()
    assert "contracts/src/ModelpactRound.sol" in sources
    assert "@openzeppelin/contracts/utils/math/Math.sol" in sources


@pytest.mark.slow
def test_compilation_is_reproducible(tmp_path: Path) -> None:
    """Two uncached builds of the same sources give identical bytecode, ABI and digest; the
    result records version and settings."""
    a = compiler.compile_contracts(use_cache=False)["ModelpactRound"]
    b = compiler.compile_contracts(use_cache=False)["ModelpactRound"]
    assert a == b
    assert a.compiler_version == compiler.SOLC_VERSION
    assert a.settings == compiler.settings()
    assert a.bytecode.startswith("0x6")  # PUSH opcode: real EVM code
    assert len(a.runtime_bytecode) > 1000
    assert any(e.get("name") == "AlreadyJoined" for e in a.abi)
    assert a.immutable_references


def test_cache_round_trips() -> None:
    """The cached artifact equals a compiled one (keyed by the source digest)."""
    cached = compiler.compile_round()
    again = compiler.compile_round()
    assert cached == again
    digest = compiler.source_digest(compiler.collect_sources(), compiler.settings())
    assert cached.source_digest == digest
    assert (ROOT / "contracts/out/modelpact" / f"{digest}.json").exists()


def test_digest_changes_with_sources_and_settings() -> None:
    """Any change to a source or a setting changes the digest (so the cache never goes stale)."""
    sources = compiler.collect_sources()
    base = compiler.source_digest(sources, compiler.settings())
    changed = dict(sources)
    changed["contracts/src/ModelpactRound.sol"] += "\n"
    assert compiler.source_digest(changed, compiler.settings()) != base
    other = compiler.settings()
    other["optimizer"] = {"enabled": True, "runs": 1}
    assert compiler.source_digest(sources, other) != base


def test_missing_tree_is_a_named_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory without contracts/src raises CompilerError with a hint."""
    monkeypatch.setenv("MODELPACT_ROOT", str(tmp_path))
    with pytest.raises(compiler.CompilerError) as info:
        compiler.project_root()
    assert info.value.hint


def test_unresolvable_import_is_a_named_error(tmp_path: Path) -> None:
    """An import that resolves to no file raises CompilerError naming it."""
    src = tmp_path / "contracts" / "src"
    src.mkdir(parents=True)
    (src / "A.sol").write_text('pragma solidity 0.8.28;\nimport "./Missing.sol";\ncontract A {}\n')
    with pytest.raises(compiler.CompilerError) as info:
        compiler.collect_sources(tmp_path)
    assert "Missing.sol" in info.value.message


def test_shim_is_used_without_native_solc(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no solc on PATH, find_solc falls back to scripts/solc reporting the pinned version."""
    import shutil

    if shutil.which("solc", path="/usr/bin:/bin"):
        pytest.skip("a native solc is installed system-wide")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # node, but no native solc
    path = compiler.find_solc()
    assert path == ROOT / "scripts" / "solc"

"""modelpact.compiler: reproducible builds with the pinned settings, matching foundry.toml."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from modelpact import compiler
from modelpact.toolchain import foundry_binary

ROOT = Path(__file__).resolve().parents[2]


def test_settings_match_foundry_toml() -> None:
    """Optimizer, runs and EVM version are the ones forge builds with."""
    profile = tomllib.loads((ROOT / "foundry.toml").read_text())["profile"]["default"]
    s = compiler.settings()
    assert s["optimizer"] == {"enabled": profile["optimizer"], "runs": profile["optimizer_runs"]}
    assert s["evmVersion"] == profile["evm_version"]


def test_every_setting_comes_from_foundry_toml() -> None:
    """Version, remappings, optimizer and EVM version are read from foundry.toml (one place); the
    pinned version is also the solc-js package.json installs for the shim."""
    profiles = tomllib.loads((ROOT / "foundry.toml").read_text())["profile"]
    assert profiles["native"]["solc"] == compiler.SOLC_VERSION
    assert compiler.settings()["remappings"] == sorted(profiles["default"]["remappings"])
    assert profiles["default"]["auto_detect_remappings"] is False
    assert profiles["default"]["optimizer_runs"] == compiler.OPTIMIZER_RUNS
    assert profiles["default"]["evm_version"] == compiler.EVM_VERSION
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"]["solc"] == compiler.SOLC_VERSION


@pytest.mark.slow
def test_forge_and_python_build_identical_bytecode(tmp_path: Path) -> None:
    """forge (reading foundry.toml) and modelpact.compiler build byte-identical creation and
    runtime code and the same solc metadata (which pins every source and setting)."""
    forge = foundry_binary("forge")
    out = tmp_path / "out"
    args = ["build", "--root", str(ROOT), "--out", str(out), "--cache-path", str(tmp_path / "c")]
    subprocess.run([str(forge), *args, "--skip", "test"], capture_output=True, check=True)
    artifact = json.loads((out / "ModelpactRound.sol" / "ModelpactRound.json").read_text())
    build = compiler.build_contracts()
    ours = build.contracts["ModelpactRound"]
    assert artifact["bytecode"]["object"] == ours.bytecode
    assert artifact["deployedBytecode"]["object"] == ours.runtime_bytecode
    assert artifact["rawMetadata"] == build.metadata["ModelpactRound"]


def test_verification_files_are_written_next_to_the_record(tmp_path: Path) -> None:
    """The exact standard-JSON input (every source embedded, the build's settings) and solc's
    metadata string land beside a deployment record as <record>.input.json / .metadata.json; the
    input embeds every source the round's metadata names (it may carry other contracts/src files,
    e.g. libraries the round does not import, which verifiers accept)."""
    build = compiler.build_contracts()
    record = tmp_path / "31337-0xAb.json"
    paths = compiler.write_verification_files(record, build=build)
    assert paths == (tmp_path / "31337-0xAb.input.json", tmp_path / "31337-0xAb.metadata.json")
    published = json.loads(paths[0].read_text())
    assert published == build.compiler_input
    assert published["settings"] == compiler.settings()
    assert set(json.loads(build.metadata["ModelpactRound"])["sources"]) <= set(published["sources"])
    assert paths[1].read_text() == build.metadata["ModelpactRound"]


@pytest.mark.slow
def test_published_input_rebuilds_without_a_checkout(tmp_path: Path) -> None:
    """A published input.json compiles on its own (no source tree, no import callback) to the
    deployed build's bytecode."""
    build = compiler.build_contracts()
    input_path, _ = compiler.write_verification_files(tmp_path / "r.json", build=build)
    fresh = compiler.find_solc()  # an explicit compiler bypasses the build cache
    again = compiler.compile_input(json.loads(input_path.read_text()), solc_binary=fresh)
    assert again.contracts["ModelpactRound"] == build.contracts["ModelpactRound"]


def test_packaged_build_is_this_checkouts_build() -> None:
    """The build shipped in the wheel (package data) is exactly what the sources build today;
    after a contract change run scripts/package-contracts."""
    shipped = json.loads(compiler.PACKAGED_BUILD.read_text())
    assert shipped == json.loads(json.dumps(compiler.build_contracts().to_json())), (
        "stale package data: run scripts/package-contracts"
    )


def test_sources_include_openzeppelin_imports() -> None:
    """Every import solc read is embedded in the standard-JSON input, under the unit name forge
    gives it (the remapped path), so the input is self-contained."""
    sources = compiler.collect_sources()
    assert "contracts/src/ModelpactRound.sol" in sources
    assert "node_modules/@openzeppelin/contracts/utils/math/Math.sol" in sources


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

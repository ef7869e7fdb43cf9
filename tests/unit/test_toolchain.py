"""modelpact.toolchain: the pinned forge/anvil for the running platform, from package.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelpact import toolchain

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("linux", "x86_64", "linux-amd64"),
        ("linux", "aarch64", "linux-arm64"),
        ("darwin", "arm64", "darwin-arm64"),
        ("darwin", "x86_64", "darwin-amd64"),
        ("win32", "AMD64", "win32-amd64"),
    ],
)
def test_platform_names_follow_foundry_npm_packages(system, machine, expected) -> None:
    """Python's platform names map to the suffixes of Foundry's npm packages."""
    assert toolchain.npm_platform(system, machine) == expected


def test_unsupported_platform_is_a_named_error() -> None:
    """A platform Foundry publishes no binary for is one error naming the override."""
    with pytest.raises(toolchain.ToolchainError) as info:
        toolchain.npm_platform("freebsd", "x86_64")
    assert "MODELPACT_FORGE" in info.value.one_line()


def test_package_json_pins_every_tool_for_this_platform() -> None:
    """package.json pins each tool for the running platform, as an optional dependency (so npm
    installs it here and skips it elsewhere), all at one version. (The other optional packages,
    Node 22 binaries for Hardhat, are checked in tests/nodes.)"""
    package = json.loads((ROOT / "package.json").read_text())
    optional = package["optionalDependencies"]
    for tool in toolchain.FOUNDRY_TOOLS:
        assert f"@foundry-rs/{tool}-{toolchain.npm_platform()}" in optional
    assert not any(name.startswith("@foundry-rs/") for name in package["dependencies"])
    assert len({v for k, v in optional.items() if k.startswith("@foundry-rs/")}) == 1


@pytest.mark.parametrize("tool", toolchain.FOUNDRY_TOOLS)
def test_installed_binary_is_found_and_runs(tool: str) -> None:
    """The bootstrap installed each tool where the helper looks, and it runs."""
    path = toolchain.foundry_binary(tool)
    out = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True)
    assert "1.7.1" in out.stdout


def test_override_and_missing_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``MODELPACT_ANVIL`` wins; a missing binary is one error naming the path and the fix."""
    fake = tmp_path / "anvil"
    fake.write_text("")
    monkeypatch.setenv("MODELPACT_ANVIL", str(fake))
    assert toolchain.foundry_binary("anvil") == fake
    monkeypatch.delenv("MODELPACT_ANVIL")
    with pytest.raises(toolchain.ToolchainError) as info:
        toolchain.foundry_binary("anvil", root=tmp_path)
    assert "bootstrap" in info.value.one_line()


def test_module_prints_the_path_or_one_line() -> None:
    """``python -m modelpact.toolchain forge`` prints the path (the shell scripts use it); an
    unknown tool is one line and exit code 2."""
    run = [sys.executable, "-m", "modelpact.toolchain"]
    ok = subprocess.run([*run, "forge"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0
    assert Path(ok.stdout.strip()) == toolchain.foundry_binary("forge")
    bad = subprocess.run([*run, "cast"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1

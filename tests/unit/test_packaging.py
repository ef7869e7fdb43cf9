"""Packaging: every imported package is declared, the locks pin them with hashes, the licence
ships, and no project file points outside the repository."""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string (PEP 503)."""
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _third_party_imports(folder: Path) -> set[str]:
    """Top-level names imported by the Python files under ``folder`` that are not stdlib and not
    the project's own."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    local = {"modelpact", "conftest"} | {p.stem for p in ROOT.glob("tests/**/*.py")}
    return {m for m in found if m not in sys.stdlib_module_names and m not in local}


def _declared(*groups: list[str]) -> set[str]:
    return {_name(r) for group in groups for r in group}


@functools.cache
def _module_owners() -> dict[str, list[str]]:
    return dict(packages_distributions())


def _distributions(module: str) -> set[str]:
    return {_name(d) for d in _module_owners().get(module, [])}


RUNTIME = _declared(PYPROJECT["project"]["dependencies"])
OPTIONAL = _declared(*PYPROJECT["project"].get("optional-dependencies", {}).values())
DEV = _declared(PYPROJECT["dependency-groups"]["dev"])


@pytest.mark.parametrize("module", sorted(_third_party_imports(ROOT / "offchain" / "modelpact")))
def test_package_imports_are_runtime_dependencies(module: str) -> None:
    """Each package the installed modelpact imports is a declared runtime dependency, or an
    optional extra for a feature that imports it only when used (Dask for `sweep --scheduler`)."""
    assert _distributions(module) & (RUNTIME | OPTIONAL), f"{module} is imported but not declared"


@pytest.mark.parametrize(
    "module", sorted(_third_party_imports(ROOT / "tests") | _third_party_imports(ROOT / "bench"))
)
def test_test_and_bench_imports_are_declared(module: str) -> None:
    """Each package the tests and benchmarks import is a runtime or dev dependency."""
    assert _distributions(module) & (RUNTIME | DEV), f"{module} is imported but not declared"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_locks_pin_every_declared_package_with_hashes(lock: str) -> None:
    """Every requirement line of each lock is an exact pin with at least one --hash, and the two
    locks together pin every declared dependency (so --require-hashes installs them all)."""
    text = (ROOT / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2].strip())
    assert entries
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9._\[\]-]+==\S+", entry), entry.splitlines()[0]
        assert "--hash=sha256:" in entry, entry.splitlines()[0]
    pinned = {
        _name(line)
        for name in ("requirements.lock", "requirements-dev.lock")
        for line in (ROOT / name).read_text().splitlines()
        if re.match(r"^[A-Za-z0-9]", line)
    }
    expected = RUNTIME if lock == "requirements.lock" else RUNTIME | DEV
    assert expected <= pinned


def test_licence_is_mit_and_ships() -> None:
    """LICENSE holds the MIT text pyproject declares, and the wheel includes it."""
    assert PYPROJECT["project"]["license"] == "MIT"
    assert "LICENSE" in PYPROJECT["project"]["license-files"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "the modelpact authors" in text


def test_no_project_file_points_outside_the_repository() -> None:
    """No tracked file names an absolute workspace path or the team's shared folder (the
    repository must be self-contained)."""
    found = subprocess.run(
        ["git", "grep", "-n", "-e", "/" + "work/", "-e", "../" + "shared"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode == 128:
        pytest.skip("not a git checkout")
    assert found.stdout == ""

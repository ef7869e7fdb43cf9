"""The built wheel works outside a checkout: installed into a fresh venv, run from a directory
that is no checkout, it deploys and audits a round on the embedded chain from the contract build
it ships (no contracts/src, no node_modules, no solc)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _build_wheel(tmp: Path) -> Path:
    """``pip wheel`` of a copy of the package sources (the checkout itself stays untouched)."""
    src = _mkdir(tmp / "src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "offchain", src / "offchain", ignore=ignore)
    dist = tmp / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    subprocess.run([*pip, "-w", str(dist), str(src)], check=True, capture_output=True)
    (wheel,) = dist.glob("modelpact-*.whl")
    return wheel


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _venv_with_wheel(tmp: Path, wheel: Path) -> Path:
    """A new venv holding only the wheel; its dependencies come from this environment's
    site-packages through a .pth line (read as a plain path, so this checkout's editable install
    is not picked up)."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    install = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    return venv


@pytest.mark.slow
def test_wheel_deploys_and_audits_a_round_outside_a_checkout(tmp_path: Path) -> None:
    """The wheel ships the licence and the contract build; its `modelpact demo`, run from a
    directory outside the checkout with no MODELPACT_ROOT, imports the installed package (not the
    checkout), deploys a round on the embedded chain, and the audit's rebuilt bytecode matches."""
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "modelpact/data/contracts/build.json" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    venv = _venv_with_wheel(tmp_path, wheel)
    elsewhere = _mkdir(tmp_path / "elsewhere")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPACT_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin"  # no solc, no .venv
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import modelpact; print(modelpact.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where).resolve().is_relative_to(venv.resolve())
    out = elsewhere / "round"
    demo = [str(venv / "bin" / "modelpact"), "demo", "--participants", "3", "--out", str(out)]
    done = subprocess.run(demo, cwd=elsewhere, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    audit = json.loads((out / "audit.json").read_text())
    bytecode = next(f for f in audit["findings"] if f["id"] == "bytecode.matches_source")
    assert bytecode["status"] == "pass"
    assert not (elsewhere / "contracts").exists()

"""The command line imports only the invoked command's module, and loses no command by it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer.main

from modelpact.cli import COMMAND_MODULES, app

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "offchain" / "modelpact" / "data" / "scenarios" / "paper_case1.toml"


def test_the_lazy_table_names_every_command_of_the_full_app() -> None:
    """Every command and group --help lists has a module in COMMAND_MODULES, and nothing else."""
    listed = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert set(COMMAND_MODULES) == listed


def _modules_after(argv: list[str]) -> set[str]:
    probe = (
        "import json, sys, contextlib, io\n"
        "from modelpact.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({argv!r})\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    code, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 0
    return set(modules)


def test_solve_imports_only_its_own_command_module_and_no_chain_code() -> None:
    """``modelpact solve`` loads modelpact.cli.solve and no other command module, no web3."""
    modules = _modules_after(["solve", str(SCENARIO), "--json"])
    commands = {m for m in modules if m.startswith("modelpact.cli.")}
    others = {f"modelpact.cli.{name}" for name in COMMAND_MODULES.values()} - {
        "modelpact.cli.solve"
    }
    assert "modelpact.cli.solve" in commands
    assert not commands & others
    assert "web3" not in modules


def test_help_loads_every_command_module() -> None:
    """``modelpact --help`` still sees every command (each module imported)."""
    modules = _modules_after(["--help"])
    assert {f"modelpact.cli.{name}" for name in COMMAND_MODULES.values()} <= modules

"""The console script is installed and maps errors to exit codes."""

from __future__ import annotations

import subprocess
import sys


def test_version_runs_through_real_entry_point() -> None:
    """`python -m modelpact version` prints the package version and exits 0."""
    from modelpact import __version__

    done = subprocess.run(
        [sys.executable, "-m", "modelpact", "version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == __version__


def test_unknown_command_is_a_usage_error() -> None:
    """An unknown subcommand exits 2 with a usage message, not a traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "modelpact", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_a_file_system_error_is_one_line_naming_the_path(tmp_path) -> None:
    """A path the operating system refuses (a keystore under /proc) is one line naming the path
    and exit 2, never a traceback."""
    import os

    done = subprocess.run(
        [sys.executable, "-m", "modelpact", "participant", "new-account", "--keystore",
         "/proc/modelpact-test.json"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
        env={**os.environ, "MODELPACT_PASSWORD": "pw"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: cannot use /proc/")


def test_an_unexpected_error_is_one_line_and_safe_to_rerun(monkeypatch, capsys) -> None:
    """An exception no module mapped (here a nonce race and a plain bug) is one line on stderr
    (exit 1), saying what happened and that a re-run is safe; MODELPACT_DEBUG re-raises it."""
    import pytest

    from modelpact.cli import main
    from modelpact.cli import solve as solve_cli

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("{'code': -32003, 'message': 'nonce too low'}")

    monkeypatch.setattr(solve_cli, "_render", boom)
    monkeypatch.delenv("MODELPACT_DEBUG", raising=False)
    scenario = "offchain/modelpact/data/scenarios/paper_case2.toml"
    from pathlib import Path

    scenario = str(Path(__file__).resolve().parents[2] / scenario)
    assert main(["solve", scenario]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "nonce too low" in err[0]
    assert "re-run the command" in err[0]
    monkeypatch.setenv("MODELPACT_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["solve", scenario])

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

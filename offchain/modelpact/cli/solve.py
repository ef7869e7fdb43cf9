"""``modelpact solve``: placeholder registration, replaced by the optimizer work (issue 2)."""

from __future__ import annotations

from modelpact.cli._app import app


@app.command("version")
def version() -> None:
    """Print the modelpact version."""
    from modelpact import __version__

    print(__version__)

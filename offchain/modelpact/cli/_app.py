"""The root Typer application every command module attaches to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="modelpact",
    help="Optimal contracts for collaborative ML, paid with models, executed on an Ethereum chain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Optimal contracts for collaborative ML, paid with models, executed on an Ethereum chain."""

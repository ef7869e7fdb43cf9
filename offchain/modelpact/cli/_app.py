"""The root Typer application every command module attaches to, and the one way a command's
``--help`` shows its example (tests parse every example against the real commands)."""

from __future__ import annotations

import typer

__all__ = ["EXAMPLE_PREFIX", "app", "example"]

EXAMPLE_PREFIX = "Example: "

app = typer.Typer(
    name="modelpact",
    help="Optimal contracts for collaborative ML, paid with models, executed on an Ethereum chain.",
    epilog=EXAMPLE_PREFIX + "modelpact demo --participants 3",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def example(command_line: str) -> str:
    """The ``epilog`` of a command: one example command line, shown at the end of ``--help``."""
    return EXAMPLE_PREFIX + command_line


@app.callback()
def _root() -> None:
    """Optimal contracts for collaborative ML, paid with models, executed on an Ethereum chain."""

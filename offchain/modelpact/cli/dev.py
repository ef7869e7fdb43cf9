"""``modelpact dev ...``: helpers for a local development node (anvil, Hardhat).

A round's phases close at deadlines in chain time (an hour by default); on a development node
the walkthrough moves the node's clock instead of waiting. Any other node refuses in one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from modelpact.cli._app import app, example
from modelpact.cli.chain_options import injected
from modelpact.cli.output import JsonOpt, emit

if TYPE_CHECKING:
    from modelpact.chain.backends import ChainSettings

__all__ = ["dev_app"]

dev_app = typer.Typer(
    name="dev",
    epilog=example("modelpact dev advance-time 3700"),
    help="Development-node helpers: move a local node's clock past a round's deadlines.",
    no_args_is_help=True,
)
app.add_typer(dev_app)


@dev_app.command("advance-time", epilog=example("modelpact dev advance-time 3700"))
@injected()
def advance_time(
    settings: ChainSettings,
    seconds: Annotated[
        int,
        typer.Argument(help="Seconds to move the clock forward (a block is mined).", min=1),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Move a development node's clock forward and mine a block (evm_increaseTime, evm_mine);
    any other node refuses. `coordinator status` shows the phase and the deadlines."""
    from modelpact.chain.backends import open_chain

    with open_chain(settings) as chain:
        before = chain.time()
        after = chain.advance_time(seconds)
    emit(
        {"before": before, "after": after},
        as_json=as_json,
        text=lambda: typer.echo(f"chain time {before} -> {after} (+{after - before} s)"),
    )

"""``modelpact sweep``: solve every point of a grid file into JSON Lines, resumably."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelpact.cli._app import app, example
from modelpact.cli.output import JsonOpt, emit

__all__ = ["sweep_command"]


@app.command(
    "sweep", epilog=example("modelpact sweep my_grid.toml --out my_grid.jsonl --workers 2")
)
def sweep_command(
    grid: Annotated[
        Path, typer.Argument(help="Grid TOML: a base scenario and parameters to sweep.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="JSON Lines output (default: <grid name>.jsonl here).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: one per core).")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run on this Dask scheduler (e.g. tcp://host:8786) instead of local workers."
        ),
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Overwrite --out instead of resuming.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Solve every grid point not yet in --out and append one row per point (resumes by default)."""
    from modelpact.cli.reproduce import progress_bar, worker_count
    from modelpact.studies.grid import load_grid
    from modelpact.studies.sweep import sweep

    count = worker_count(workers)
    spec = load_grid(grid)
    target = out if out is not None else Path(f"{grid.stem}.jsonl")
    try:
        with progress_bar(f"sweep {grid.name}") as update:
            summary = sweep(
                spec=spec,
                out=target,
                workers=count,
                scheduler=scheduler,
                restart=restart,
                progress=update,
            )
    except KeyboardInterrupt:
        typer.echo(
            f"interrupted: finished rows are in {target}; run the same command to resume", err=True
        )
        raise typer.Exit(130) from None
    emit(
        summary,
        as_json=as_json,
        text=lambda: typer.echo(
            f"{summary.points} points: {summary.resumed} already in {summary.out}, "
            f"{summary.solved} solved now ({summary.failed} failed) in {summary.seconds:.1f} s"
        ),
    )

"""``modelpact reproduce``: the paper's results (Sec. 6.1 and 6.2) in one command."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, cast

import typer

from modelpact.cli._app import app, example
from modelpact.cli.output import JsonOpt, emit
from modelpact.errors import ModelpactError

__all__ = ["progress_bar", "reproduce_command"]


class ReproduceArgumentError(ModelpactError, ValueError):
    """A ``modelpact reproduce`` or ``modelpact sweep`` option is malformed."""


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr, as a ``progress(done, total)`` callback for the core.

    The bar appears at the first callback, so an error raised before any work (a bad output
    path) prints its one line and nothing else.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(description, total=None)
    started = False

    def update(done: int, total: int) -> None:
        nonlocal started
        if not started:
            bar.start()
            started = True
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if started:
            bar.stop()


def default_workers() -> int:
    """One worker per core this process may use."""
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def worker_count(workers: int | None) -> int:
    """``--workers`` as given (checked), or one per core when not given."""
    count = default_workers() if workers is None else workers
    if count < 1:
        raise ReproduceArgumentError(
            f"--workers must be >= 1, got {count}", hint="e.g. --workers 2"
        )
    return count


def _numbers(text: str, option: str, kind: type) -> tuple[float, ...]:
    try:
        values = tuple(kind(x) for x in text.split(","))
    except ValueError as error:
        raise ReproduceArgumentError(
            f"{option} {text!r} is not a comma-separated list of numbers",
            hint=f"e.g. {option} 2,10",
        ) from error
    if not values or not all(math.isfinite(v) for v in values):
        raise ReproduceArgumentError(
            f"{option} {text!r} has a non-finite value", hint="use finite numbers"
        )
    return values


def _grid(participants: str | None, p1: str | None) -> dict[str, tuple[float, ...]]:
    grid: dict[str, tuple[float, ...]] = {}
    if participants is not None:
        grid["participants"] = _numbers(participants, "--participants", int)
        if min(grid["participants"]) < 1:
            raise ReproduceArgumentError(
                "--participants must be >= 1", hint="e.g. --participants 2,10"
            )
    if p1 is not None:
        grid["p1"] = _numbers(p1, "--p1", float)
        if not all(0.0 < v < 1.0 for v in grid["p1"]):
            raise ReproduceArgumentError(
                "--p1 values must be in (0, 1)", hint="e.g. --p1 0.1,0.5,0.9"
            )
    return grid


class BeliefChoice(StrEnum):
    """Which belief the studies solve under (``both``: side by side)."""

    paper = "paper"
    bayes = "bayes"
    both = "both"


@app.command(
    "reproduce",
    epilog=example("modelpact reproduce --belief both --out runs/reproduce --workers 2"),
)
def reproduce_command(
    belief: Annotated[
        BeliefChoice, typer.Option(help="paper, bayes or both (side by side).")
    ] = BeliefChoice.both,
    out: Annotated[Path, typer.Option(help="Directory for report.json, index.md, figures.")] = Path(
        "runs/reproduce"
    ),
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per core).")
    ] = None,
    participants: Annotated[
        str | None, typer.Option(help="Shrink the two-type grid's N values, e.g. 2,10,50.")
    ] = None,
    p1: Annotated[
        str | None, typer.Option(help="Shrink the two-type grid's p1 values, e.g. 0.1,0.5.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Reproduce the paper's studies beside the published values (exit 1 on a mismatch)."""
    count = worker_count(workers)
    grid = _grid(participants, p1)
    from modelpact.studies.paper import TWO_TYPE_P1, TWO_TYPE_PARTICIPANTS
    from modelpact.studies.reproduce import reproduce

    beliefs = ("paper", "bayes") if belief is BeliefChoice.both else (belief.value,)
    chosen = cast(tuple[Literal["paper", "bayes"], ...], beliefs)
    try:
        with progress_bar("two-type grid") as update:
            report = reproduce(
                out=out,
                beliefs=chosen,
                workers=count,
                progress=update,
                participants=tuple(int(n) for n in grid.get("participants", TWO_TYPE_PARTICIPANTS)),
                p1=grid.get("p1", TWO_TYPE_P1),
            )
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing written to the report; run the command again", err=True)
        raise typer.Exit(130) from None
    emit(report, as_json=as_json, text=lambda: _render(report))
    if report.mismatches or report.failed_points:
        raise typer.Exit(1)


def _render(report: object) -> None:
    from rich.console import Console
    from rich.table import Table

    from modelpact.studies.reproduce import ReproduceReport

    assert isinstance(report, ReproduceReport)
    console = Console(width=max(Console().width, 150))
    table = Table(title="published vs reproduced (headline numbers; every row in index.md)")
    bayes = "bayes" in report.beliefs
    for name in (
        "sec.",
        "quantity",
        "where",
        "published",
        "ours (paper)",
        "diff",
        "rule",
        "verdict",
    ):
        table.add_column(
            name, justify="right" if name in ("published", "ours (paper)", "diff") else "left"
        )
    if bayes:
        table.add_column("ours (bayes)", justify="right")
    detail = ("f_", "stand-alone", "m_", "t_")
    for c in report.comparisons:
        if c.quantity.startswith(detail) and c.ok is not False:
            continue
        cells = [
            c.section,
            c.quantity,
            c.where,
            _num(c.published),
            _num(c.paper),
            _num(c.difference, 3),
            c.rule,
            {True: "ok", False: "MISMATCH", None: ""}[c.ok],
        ]
        table.add_row(*cells, *([_num(c.bayes)] if bayes else []))
    console.print(table)
    judged = [c for c in report.comparisons if c.ok is not None]
    console.print(
        f"{sum(bool(c.ok) for c in judged)} of {len(judged)} judged numbers within their rule; "
        f"{report.grid_points} grid points ({report.failed_points} failed); largest information "
        f"cost {report.checks['max_information_cost']:.3g}; "
        f"{report.seconds['total']:.1f} s"
    )
    pngs = sum(f.suffix == ".png" for f in report.files)
    console.print(f"wrote {report.out / 'index.md'}, report.json and {pngs} figures")


def _num(value: float | None, digits: int = 7) -> str:
    return "" if value is None else f"{value:.{digits}g}"

"""``modelpact solve``: solve a scenario into its optimal menu; ``modelpact version``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal, cast

import typer
from rich.console import Console
from rich.table import Table

from modelpact.cli._app import app, example
from modelpact.cli.output import ForceOpt, JsonOpt, check_outputs, emit
from modelpact.errors import ScenarioError
from modelpact.menu import Menu, menu_to_json, write_menu_json

__all__ = ["solve_command", "version"]


@app.command("version", epilog=example("modelpact version --json"))
def version(as_json: JsonOpt = False) -> None:
    """Print the modelpact version."""
    from modelpact import __version__

    emit({"version": __version__}, as_json=as_json, text=lambda: typer.echo(__version__))


def _render(menu: Menu, console: Console) -> None:
    title = (
        f"{'integer ' if menu.integer else ''}menu ({menu.belief} belief, {menu.expectation}, "
        f"N={menu.participants})"
    )
    table = Table(title=title)
    for name in ("type", "cost", "p", "served", "m", "t", "t_bar", "ratio", "f_i", "utility"):
        table.add_column(name, justify="right")
    for o in menu.options:
        table.add_row(
            str(o.type),
            f"{o.cost:.6g}",
            f"{o.probability:.4g}",
            "yes" if o.served else "no",
            f"{o.m:.6g}",
            f"{o.t:.6g}",
            f"{o.t_bar:.6g}",
            f"{o.ratio:.6f}",
            f"{o.reservation_utility:.6g}",
            f"{o.utility:.6g}",
        )
    console.print(table)
    console.print(
        f"expected accuracy {menu.expected_accuracy:.10f}  upper bound {menu.upper_bound:.10f}  "
        f"gap {menu.gap:.2e}  expected value {menu.expected_value:.6g}"
    )
    if menu.accuracy_ci is not None:
        lo, hi = menu.accuracy_ci
        console.print(f"confidence interval on expected accuracy [{lo:.8f}, {hi:.8f}]")
    console.print(f"certification: {menu.certification}")
    if "certified_upper_bound" in menu.extra:  # sampled: the deterministic bound as well
        console.print(f"certified upper bound {menu.extra['certified_upper_bound']:.10f}")
    console.print(f"type selection: {menu.method}; solved in {menu.solve_seconds:.3f} s")
    if menu.benchmarks is not None:
        b = menu.benchmarks
        ci = (
            "n/a"
            if math.isnan(b.complete_information_accuracy)
            else f"{b.complete_information_accuracy:.8f}"
        )
        console.print(  # not the paper's complete information: `modelpact reproduce` has that
            f"benchmarks: no-IC benchmark (menu without IC, {menu.belief} belief) {ci}, "
            f"no collaboration {b.no_collaboration_accuracy:.8f} (expected accuracy)"
        )
    console.print(f"scenario sha256 {menu.scenario_sha256}")
    if menu.gap > GAP_WARNING:
        typer.echo(gap_warning(menu.gap), err=True)


GAP_WARNING = 1e-6
"""A gap (upper bound - expected accuracy) above this is worth a warning: the menu may
leave that much expected accuracy on the table (exact solves certify ~1e-9)."""


def gap_warning(gap: float) -> str:
    """The one warning line for a menu whose certified gap exceeds :data:`GAP_WARNING`."""
    return (
        f"warning: the solver's gap {gap:.2e} is above {GAP_WARNING:g}: the menu may be up to "
        "that much expected accuracy below the optimum; use exact expectations or more "
        "[solver] samples before deploying it"
    )


_Serve = Literal["all", "optimal"] | tuple[int, ...] | None


def _parse_belief(belief: str | None) -> Literal["bayes", "paper"] | None:
    if belief is not None and belief not in ("bayes", "paper"):
        raise ScenarioError(
            f"unknown belief {belief!r}", hint="use --belief bayes or --belief paper"
        )
    return cast(Literal["bayes", "paper"] | None, belief)


def _parse_serve(serve: str | None) -> _Serve:
    """``--serve`` as the solver takes it; type numbers are checked against the scenario
    only once it is loaded."""
    if serve is None or serve in ("all", "optimal"):
        return cast(_Serve, serve)
    try:
        return tuple(sorted({int(x) for x in serve.split(",")}))
    except ValueError as error:
        raise ScenarioError(
            f"--serve {serve!r} is not all, optimal or a list of type numbers",
            hint="e.g. --serve 1,2,3",
        ) from error


@app.command(
    "solve",
    epilog=example(
        "modelpact solve offchain/modelpact/data/scenarios/paper_case1.toml --integer --out m.json"
    ),
)
def solve_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    belief: Annotated[
        str | None, typer.Option(help="bayes (default, correct) or paper (published numbers).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the menu JSON here.")] = None,
    integer: Annotated[
        bool, typer.Option("--integer", help="Round m to rows and re-solve t (on-chain menu).")
    ] = False,
    serve: Annotated[
        str | None, typer.Option(help="all, optimal, or served type numbers like 1,3,5.")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    ic_margin: Annotated[
        float | None,
        typer.Option(help="Strict IC: each type prefers its own option by this many value units."),
    ] = None,
    robust: Annotated[
        float | None,
        typer.Option(help="Budget against the curve's lower band at this confidence (e.g. 0.95)."),
    ] = None,
) -> None:
    """Solve SCENARIO into its optimal menu, print a table and optionally write JSON."""
    from modelpact.scenario import load_scenario

    check_outputs(force=force, out=out)
    chosen = _parse_belief(belief)
    serve_value = _parse_serve(serve)
    loaded = load_scenario(scenario)
    if ic_margin is not None or robust is not None:  # validated like the [solver] fields
        loaded = loaded.with_solver(ic_margin=ic_margin, robust=robust)
    if isinstance(serve_value, tuple) and not all(1 <= s <= loaded.n_types for s in serve_value):
        raise ScenarioError(
            f"--serve names a type outside 1..{loaded.n_types}", hint="use 1-based type numbers"
        )
    from modelpact.optimizer import integerize_menu, solve  # cvxpy: import only when solving

    menu = solve(loaded, belief=chosen, serve=serve_value)
    if integer:
        menu = integerize_menu(loaded, menu)
    emit(
        menu_to_json(menu),
        as_json=as_json,
        text=lambda: _render(menu, Console(width=max(Console().width, 120))),
    )
    if out is not None:
        write_menu_json(menu, out)

"""``modelpact demo``: a whole round in one process, with progress, a summary table and a report.

Exit code 0 only if every check passed (menu checker, deliveries, model verification, budget,
balances, independent audit); 1 if a check failed; 2 for a usage or domain error.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from modelpact.chain.backends import ChainKind
from modelpact.cli._app import app, example
from modelpact.cli.chain_options import (
    AnyCurveOpt,
    LotteryTiersOpt,
    NoCompensationOpt,
    TiersOpt,
    injected,
    tier_mode,
)
from modelpact.cli.output import JsonOpt, emit

if TYPE_CHECKING:
    from modelpact.chain.backends import ChainSettings
    from modelpact.round.demo import DemoResult
    from modelpact.round.report import RoundReport

DEFAULT_SCENARIO = (
    Path(__file__).resolve().parent.parent / "data" / "scenarios" / "digits_demo.toml"
)  # = modelpact.round.demo.DEFAULT_SCENARIO (kept import-light)

__all__ = ["demo"]


def _summary(console: Console, result: DemoResult) -> None:
    report = result.report
    console.print(_outcome_table(report))
    _print_round(console, report)
    checks = Table(title="checks")
    checks.add_column("check")
    checks.add_column("result")
    checks.add_column("detail")
    for check in report.checks:
        checks.add_row(
            check.name, "[green]pass[/]" if check.passed else "[red]FAIL[/]", check.detail
        )
    console.print(checks)
    console.print(
        f"everything an auditor needs is in {result.out_dir} "
        f"(deployment.json, report.json, menu.png, rewards.png, promised.png)"
    )


def _outcome_table(report: RoundReport) -> Table:
    """Each participant's promise against what it received (issue 13: shown per participant)."""
    table = Table(
        title=f"round {report.address} on {report.chain} (chain id {report.chain_id})",
        caption="t: promised expected value; target/received: accuracy; value = v(received); "
        "utility = value - cost x rows; compensation: curve compensation paid at claim (value "
        "units); promise: kept unless the curve's shortfall beyond tolerance went unpaid",
    )
    for column in (
        "#",
        "type",
        "cost",
        "option",
        "rows",
        "promised t",
        "target acc",
        "received acc",
        "value",
        "utility",
        "compensation",
        "promise",
        "verified",
    ):
        table.add_column(column, justify="right")
    for o in report.outcomes:
        table.add_row(
            str(o.index),
            str(o.type_index),
            f"{o.cost:g}",
            str(o.option_id),
            str(o.data_count),
            f"{o.promised_value:.2f}",
            f"{o.target_accuracy:.4f}",
            f"{o.received_accuracy:.4f}",
            f"{o.received_value:.2f}",
            f"{o.utility:.2f}",
            f"{o.compensation_value:.2f}" if o.compensation_value else f"{o.compensation_wei} wei",
            "kept" if o.uncompensated <= 1e-9 else "[red]SHORT[/]",
            "yes" if o.verified else "NO",
        )
    return table


def _print_round(console: Console, report: RoundReport) -> None:
    """The collective model, the on-chain curve check and its compensation, the tiers."""
    scenario_curve = (
        f"{report.scenario_predicted_accuracy:.4f}"
        if report.scenario_predicted_accuracy is not None
        else "n/a"
    )
    console.print(
        f"collective model: measured accuracy {report.collective_accuracy:.4f} (value "
        f"{report.collective_value:.2f}) on {report.total_data} rows; predicted "
        f"{scenario_curve} by the scenario's curve, {report.predicted_accuracy:.4f} by the "
        f"contract's committed curve (predictedAccuracy)"
    )
    console.print(
        f"curve check on chain: shortfall {report.curve_shortfall:.4f} below the prediction "
        f"minus the tolerance {report.curve_tolerance:.4f}; compensation paid "
        f"{report.compensation_paid_wei:,} wei out of the coordinator's bond"
        + (f"; undelivered: {', '.join(report.undelivered)}" if report.undelivered else "")
    )
    console.print(
        f"reward tiers: {report.tier_mode}, {report.tiers_posted} models below the collective "
        f"one, {report.models_trained} models trained; total gas {report.total_gas:,}; "
        f"{report.wall_seconds:.1f} s"
    )


# demo's options, named once so its signature reads as a list of what a demo round is made of
_ParticipantsOpt = Annotated[
    int, typer.Option("--participants", min=1, help="Simulated participants N.")
]
_SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of types, shards and training.")]
_OutOpt = Annotated[Path, typer.Option("--out", help="Output directory (replaced).")]
_ScenarioOpt = Annotated[Path, typer.Option("--scenario", help="Scenario TOML.")]
_DatasetOpt = Annotated[
    str, typer.Option("--dataset", help="digits (real, 1,797 rows) or generated (any size).")
]
_TestSizeOpt = Annotated[int, typer.Option("--test-size", help="Rows of the public test set.")]


@app.command(
    "demo", epilog=example("modelpact demo --participants 3 --chain anvil --out runs/demo")
)
@injected(default_chain=ChainKind.EMBEDDED)
def demo(
    settings: ChainSettings,
    participants: _ParticipantsOpt = 10,
    seed: _SeedOpt = 0,
    out: _OutOpt = Path("runs/demo"),
    scenario: _ScenarioOpt = DEFAULT_SCENARIO,
    dataset: _DatasetOpt = "digits",
    test_size: _TestSizeOpt = 360,
    tiers: TiersOpt = "deterministic",
    lottery_tiers: LotteryTiersOpt = 1,
    no_compensation: NoCompensationOpt = False,
    any_curve: AnyCurveOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a complete round with simulated participants, then audit it and write a report.

    Exit 0 only if every check passed (1 if one failed). A scenario without curve compensation
    terms is refused unless --no-compensation."""
    mode = tier_mode(tiers)
    console = Console(width=max(Console().width, 100), quiet=as_json)
    started = time.perf_counter()

    def progress(message: str) -> None:
        console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/] {message}")

    from modelpact.round.demo import DemoConfig, run_demo

    config = DemoConfig(
        participants=participants,
        seed=seed,
        out_dir=out,
        settings=settings,
        scenario=scenario,
        test_size=test_size,
        dataset=dataset,
        tiers=mode,
        lottery_tiers=lottery_tiers,
        no_compensation=no_compensation,
        any_curve=any_curve,
    )
    try:
        with console.status("running the round", spinner="dots"):
            result = run_demo(config, progress=progress)
    except KeyboardInterrupt:  # typer would exit 130 without a word
        typer.echo(
            f"interrupted: the round in {out} is incomplete; run the demo again (it starts afresh)",
            err=True,
        )
        raise typer.Exit(130) from None
    emit(
        {**result.report.to_json(), "out_dir": result.out_dir},
        as_json=as_json,
        text=lambda: _summary(console, result),
    )
    if not result.report.passed:
        console.print("[red]some checks failed[/]")
        raise typer.Exit(1)
    console.print("[green]all checks passed[/]")

"""``modelpact audit``: replay a round from the chain and check every step, or name what broke.

Parses the options, calls :func:`modelpact.audit.run_audit` once, renders the findings with rich
and writes the JSON report. Exit 0 only when no check failed, 1 when some check failed, 2 for a
user error (bad options, node down, unknown address) printed on one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelpact.audit.tolerances import Tolerances
from modelpact.cli._app import app, example
from modelpact.cli.chain_options import RpcOpt
from modelpact.cli.output import ForceOpt, check_outputs

# Every CLI start imports this module to register the command: what the audit itself needs
# (numpy, eth-abi, web3, the ML stack, rich) is imported inside the functions that use it.
if TYPE_CHECKING:
    from rich.console import Console

    from modelpact.audit.report import AuditReport

__all__ = ["audit", "render_report"]

EXIT_FINDINGS = 1
_STDOUT = Path("-")

_STYLE = {"pass": "green", "fail": "bold red", "skip": "dim"}


def render_report(report: AuditReport, console: Console, *, max_evidence: int = 5) -> None:
    """Print the findings table, the evidence of every failure and the verdict."""
    from rich.table import Table
    from rich.text import Text

    from modelpact.audit.report import Status

    console.print(
        f"[bold]modelpact audit[/] of {report.address} on chain {report.chain_id} "
        f"at block {report.block_number} (phase {report.phase}, {report.elapsed_s:.2f} s)"
    )
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("checked", justify="right")
    table.add_column("detail", overflow="fold")
    for f in report.findings:
        table.add_row(
            f.id,
            Text(f.status.value.upper(), style=_STYLE[f.status.value]),
            str(f.checked) if f.checked else "",
            f.detail,
        )
    console.print(table)
    tolerances = ", ".join(f"{k} {v:g}" for k, v in report.tolerances.items())
    console.print(f"stated tolerances: {tolerances}", markup=False)
    for f in report.failed:
        console.print(f"[bold red]FAIL {f.id}[/]: {f.title}")
        for e in f.failures[:max_evidence]:
            note = f" ({e.note})" if e.note else ""
            console.print(
                f"  {e.subject}: expected {e.expected}, found {e.found}{note}", markup=False
            )
        if len(f.failures) > max_evidence:
            console.print(f"  ... and {len(f.failures) - max_evidence} more (see --json)")
    counts = {s: sum(f.status is s for f in report.findings) for s in Status}
    verdict = "[bold green]CLEAN[/]" if report.ok else "[bold red]FINDINGS[/]"
    console.print(
        f"{verdict}: {counts[Status.PASS]} passed, {counts[Status.FAIL]} failed, "
        f"{counts[Status.SKIP]} skipped"
    )


@app.command(
    "audit",
    epilog=example(
        "modelpact audit --deployment deploy/31337-0x5FbDB2315678afecb367f032d93F642f64180aa3.json"
        " --rpc http://127.0.0.1:8545 --json audit.json"
    ),
)
def audit(
    deployment: Annotated[
        Path | None,
        typer.Option(
            "--deployment",
            help="Deployment record (deploy/*.json or a demo's "
            "deployment.json); names the address, scenario, test set and compiler settings.",
        ),
    ] = None,
    rpc: RpcOpt = None,
    address: Annotated[str | None, typer.Option("--address", help="The round's address.")] = None,
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="The published scenario file (TOML).")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Delivered datasets: <address>.npy|csv or <index>.npy|csv."),
    ] = None,
    models: Annotated[
        Path | None, typer.Option("--models", help="Model files (any names; matched by keccak256).")
    ] = None,
    test_set: Annotated[
        Path | None, typer.Option("--test-set", help="The committed test set (.npy or .csv).")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            help="Validation rules for delivered rows: digits or generated "
            "(default: inferred from the column count).",
        ),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the full report as JSON here ('-': print it instead)."),
    ] = None,
    accuracy_tolerance: Annotated[
        float, typer.Option(help="Allowed |re-measured - posted| model accuracy.")
    ] = Tolerances.accuracy,
    optimality_tolerance: Annotated[
        float, typer.Option(help="Allowed expected-accuracy gap to the re-solved optimum.")
    ] = Tolerances.optimality,
    no_source: Annotated[
        bool, typer.Option("--no-source", help="Skip rebuilding the contract from source.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Print only the verdict line.")] = False,
    force: ForceOpt = False,
) -> None:
    """Rebuild a round from chain data alone and check every step; exit 0 only if all pass."""
    from rich.console import Console

    from modelpact.audit import run_audit
    from modelpact.ml.datasets import BUILTIN_DATASETS

    if deployment is None and address is None:
        raise typer.BadParameter("give --deployment RECORD, or --rpc URL --address ADDR")
    check_outputs(force=force, json=json_out)
    if dataset is not None and dataset not in BUILTIN_DATASETS:
        raise typer.BadParameter(f"--dataset must be one of {', '.join(BUILTIN_DATASETS)}")
    report = run_audit(
        deployment=deployment,
        rpc_url=rpc,
        address=address,
        scenario=scenario,
        data_dir=data,
        models_dir=models,
        test_set=test_set,
        dataset=dataset,
        check_source=not no_source,
        tolerances=Tolerances(accuracy=accuracy_tolerance, optimality=optimality_tolerance),
    )
    if json_out == _STDOUT:
        typer.echo(report.to_json())
        raise typer.Exit(0 if report.ok else EXIT_FINDINGS)
    if json_out is not None:
        json_out.write_text(report.to_json() + "\n", encoding="utf-8")
    console = Console(highlight=False)
    if quiet:
        state = "clean" if report.ok else f"FAILED: {', '.join(sorted(report.failed_ids()))}"
        console.print(f"audit {report.address}: {state}", markup=False)
    else:
        render_report(report, console)
    raise typer.Exit(0 if report.ok else EXIT_FINDINGS)

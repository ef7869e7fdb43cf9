"""``modelpact simulate``: promises kept, over many rounds through the contract's assignment."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer

from modelpact.cli._app import app, example
from modelpact.cli.output import ForceOpt, JsonOpt, check_outputs, emit
from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.ml.simulate import SimulationRun

__all__ = ["simulate"]


class SimulateArgumentError(ModelpactError, ValueError):
    """A ``modelpact simulate`` option is malformed."""


def _print(run: SimulationRun, out: Path | None, plot: Path | None) -> None:
    """The simulation as text: one line per type, the belief gap, the verdict."""
    result = run.result
    typer.echo(
        f"{result.rounds} rounds of {result.participants} participants, menu belief "
        f"{run.menu.belief}, tiers {result.tiers}, {result.accuracy} accuracy, "
        f"{result.seconds:.1f} s"
    )
    typer.echo(
        f"mean pooled data {result.mean_pooled_data:.1f}, mean collective accuracy "
        f"{result.mean_collective_accuracy:.4f} ({result.accuracy})"
    )
    level = f"{100 * result.confidence:g}% CI"
    typer.echo(
        f"{'type':>4} {'option':>6} {'m':>8} {'promised t':>10} {'mean value':>10} "
        f"{level:>19} {'ok':>3} {'utility':>8} {'reserv.':>8} {'got top':>7}"
    )
    for s in result.types:
        option = "-" if s.option is None else str(s.option)
        typer.echo(
            f"{s.type:>4} {option:>6} {s.m:8.2f} {s.promised_t:10.4f} {s.mean_value:10.4f} "
            f"({s.ci_low:8.4f},{s.ci_high:8.4f}) {'yes' if s.within_ci else 'NO':>3} "
            f"{s.mean_utility:8.4f} {s.reservation_utility:8.4f} {s.collective_fraction:7.3f}"
        )
    typer.echo(
        f"budget bound tight (someone got the collective model): {result.tight_fraction:.3f}"
    )
    if run.gaps:
        typer.echo("exact expected value under the Bayesian belief (no sampling):")
        for g in run.gaps:
            typer.echo(
                f"  type {g.type}: promised {g.promised_t:.6f}, "
                f"expected {g.bayes_expected_value:.6f} (gap {g.predicted_gap:+.6f}); "
                f"utility {g.bayes_utility:.6f} vs reservation {g.reservation_utility:.6f} "
                f"(shortfall {g.shortfall:+.6f})"
            )
    typer.echo(f"promises kept: {'yes' if result.promises_kept else 'NO'}")
    for label, path in (("report", out), ("plot", plot)):
        if path is not None:
            typer.echo(f"wrote {label}: {path}")


@app.command(
    "simulate",
    epilog=example(
        "modelpact simulate offchain/modelpact/data/scenarios/paper_case1.toml --rounds 2000"
    ),
)
def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    menu: Annotated[
        Path | None, typer.Option(help="Menu JSON (from `solve --out`); default: solve now.")
    ] = None,
    belief: Annotated[
        str | None, typer.Option(help="Belief to solve with when no --menu: bayes or paper.")
    ] = None,
    integer: Annotated[
        bool, typer.Option(help="Round m to whole rows as published on chain (when solving).")
    ] = True,
    rounds: Annotated[int, typer.Option(help="Rounds to simulate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of types, secrets and draws.")] = 0,
    tiers: Annotated[
        str, typer.Option(help="Reward tiers posted: lottery, deterministic or none.")
    ] = "lottery",
    lottery_tiers: Annotated[
        int, typer.Option(help="Tiers in lottery mode (the contract's MAX_TIERS).", min=1, max=32)
    ] = 3,
    confidence: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.99,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="Real rounds: train every round's models on this dataset (digits, generated, "
            "or a .csv/.npy path) instead of using the accuracy curve. Slow: use few rounds."
        ),
    ] = None,
    test_size: Annotated[int, typer.Option(help="Test rows of the real dataset split.")] = 360,
    split_seed: Annotated[int, typer.Option(help="Seed of the real dataset split.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Plot reward distributions per type against t (PNG).")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Simulate rounds of a menu and check each type receives its promised value on average."""
    from modelpact.ml.simulate import run_simulation

    check_outputs(force=force, out=out, plot=plot)
    if belief not in (None, "bayes", "paper"):
        raise SimulateArgumentError(f"unknown belief {belief!r}", hint="use bayes or paper")
    if tiers not in ("lottery", "deterministic", "none"):
        raise SimulateArgumentError(
            f"unknown tier rule {tiers!r}", hint="use lottery, deterministic or none"
        )
    run = run_simulation(
        scenario,
        menu_path=menu,
        belief=cast(Literal["bayes", "paper"] | None, belief),
        integer=integer,
        rounds=rounds,
        seed=seed,
        tiers=cast(Literal["deterministic", "lottery", "none"], tiers),
        lottery_tiers=lottery_tiers,
        confidence=confidence,
        json_path=out,
        plot_path=plot,
        dataset=dataset,
        test_size=test_size,
        split_seed=split_seed,
    )
    emit(run.report(), as_json=as_json, text=lambda: _print(run, out, plot))

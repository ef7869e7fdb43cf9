"""``modelpact curve``: learn a dataset's accuracy function a(x): measure, fit, write, plot.

The written ``[accuracy]`` section records what the curve was fitted on (dataset hash, rows,
split, learner, seed) and its uncertainty; ``generated --rows R`` learns the curve of the
generated dataset of R rows (seed ``--seed``), the rows a generated-data round must then use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelpact.cli._app import app, example
from modelpact.cli.output import ForceOpt, check_outputs
from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.ml.curve import LearnedCurve

__all__ = ["curve"]


class CurveArgumentError(ModelpactError, ValueError):
    """A ``modelpact curve`` option is malformed."""


def _parse_sizes(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise CurveArgumentError(
            f"--sizes {text!r} is not a comma-separated list of row counts",
            hint="write e.g. --sizes 20,40,80,160",
        ) from None


_STDOUT = Path("-")


@app.command("curve", epilog=example("modelpact curve digits --out accuracy.toml --plot curve.png"))
def curve(
    dataset: Annotated[
        str, typer.Argument(help="digits (built in), generated, or a path to a .csv/.npy file.")
    ],
    sizes: Annotated[
        str | None,
        typer.Option(help="Training sizes in rows, comma-separated (default: 8 geometric)."),
    ] = None,
    repeats: Annotated[int, typer.Option(help="Seeded subsamples per size.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the split, subsamples and training.")] = 0,
    test_size: Annotated[
        int | None, typer.Option(help="Rows in the public test set (default: 20%).")
    ] = None,
    rows: Annotated[
        int | None,
        typer.Option(help="generated only: rows to generate (default 4000), seeded by --seed."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the scenario [accuracy] section (TOML) here.")
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json", help="Write every measurement and the fit as JSON ('-': print it instead)."
        ),
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Plot points and fit to this PNG.")] = None,
    force: ForceOpt = False,
) -> None:
    """Measure test accuracy at increasing training sizes and fit a(x) = a_max - b x^-alpha."""
    from modelpact.ml.curve import curve_record, learn_dataset_curve

    check_outputs(force=force, out=out, json=json_out, plot=plot)
    result = learn_dataset_curve(
        dataset,
        sizes=_parse_sizes(sizes),
        repeats=repeats,
        seed=seed,
        test_size=test_size,
        generated_rows=rows,
        toml_path=out,
        json_path=None if json_out == _STDOUT else json_out,
        plot_path=plot,
    )
    if json_out == _STDOUT:
        typer.echo(json.dumps(curve_record(result), indent=2, sort_keys=True))
        return
    _echo_curve(result)
    for label, path in (("accuracy", out), ("json", json_out), ("plot", plot)):
        if path is not None:
            typer.echo(f"wrote {label}: {path}")


def _echo_curve(result: LearnedCurve) -> None:
    """The measured points beside the fitted curve, so a bad fit shows at a glance."""
    fit = result.fit
    typer.echo(
        f"{result.dataset}: {result.pool_rows} pool rows, {result.test_rows} test rows, "
        f"{result.repeats} repeats, {result.models_trained} models in {result.seconds:.1f} s"
    )
    typer.echo(f"{'rows':>8}  {'mean':>7}  {'std':>7}  {'fitted':>7}")
    for point in result.points:
        fitted = float(fit.predict(float(point.size)))
        typer.echo(f"{point.size:>8d}  {point.mean:7.4f}  {point.std:7.4f}  {fitted:7.4f}")
    typer.echo(
        f"a(x) = {fit.a_max:.4f} - {fit.b:.4f} x^-{fit.alpha:.4f}   "
        f"(+- {fit.stderr[0]:.4f}, {fit.stderr[1]:.4f}, {fit.stderr[2]:.4f}; "
        f"R^2 {fit.r2:.4f}, RMSE {fit.rmse:.4f})"
    )

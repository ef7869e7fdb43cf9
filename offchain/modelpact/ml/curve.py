"""Learn the accuracy function a(x) from data: measured learning curve plus a power-law fit.

For each training size x (rows) the pool is subsampled ``repeats`` times with different seeds, a
model is trained on each subsample (:func:`modelpact.ml.models.train_model`) and measured on the
fixed public test set. The mean accuracies are fitted with the concave power law

    a(x) = a_max - b * x ** (-alpha),   0 < a_max <= 1, b > 0, alpha > 0

by weighted non-linear least squares (``scipy.optimize.curve_fit``, weights from the spread over
repeats), which gives the parameters' covariance (standard errors) and the fit quality (R^2 and
RMSE over the mean accuracies). The result is written as a scenario ``[accuracy]`` section
(``kind = "power"``) with the measured points as comments, and as a JSON record.

The curve is bound to its data: the section carries ``[accuracy.fitted_on]`` (dataset name,
sha256 of every row, rows, test split, seed, learner, repeats, sizes) and
``[accuracy.uncertainty]`` (the parameter covariance, the residual error and one model's spread at
each size), which :mod:`modelpact.curve_record` validates and uses for the curve tolerance and
robust menus.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from modelpact.curve_record import CurveUncertainty, FittedOn
from modelpact.errors import ModelpactError
from modelpact.ml.datasets import BUILTIN_DATASETS, Rows, Split, load_dataset, split_test
from modelpact.ml.models import TRAINER, correct_count, load_trainer, rows_digest, train_model
from modelpact.parallel import fork_map_dealt

if TYPE_CHECKING:
    from modelpact.scenario import Scenario

__all__ = [
    "CurveError",
    "CurvePoint",
    "LearnedCurve",
    "PowerLawFit",
    "accuracy_toml",
    "curve_record",
    "curve_reproduces",
    "curve_uncertainty",
    "default_sizes",
    "fit_power_law",
    "learn_curve",
    "learn_dataset_curve",
    "measure_curve",
    "plot_curve",
    "power_law",
]


class CurveError(ModelpactError, ValueError):
    """A learning curve cannot be measured or fitted from the given sizes and data."""


@dataclass(frozen=True)
class CurvePoint:
    """Test accuracies of models trained on ``size`` rows, one per repeat (seeded subsample)."""

    size: int
    accuracies: tuple[float, ...]

    @property
    def mean(self) -> float:
        """Mean test accuracy over repeats."""
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        """Sample standard deviation over repeats (0 for a single repeat)."""
        n = len(self.accuracies)
        return float(np.std(self.accuracies, ddof=1)) if n > 1 else 0.0


@dataclass(frozen=True)
class PowerLawFit:
    """a(x) = a_max - b x^(-alpha) with its uncertainty and fit quality.

    ``covariance`` is the 3x3 covariance of (a_max, b, alpha) from ``curve_fit`` (residual
    variance scaled); ``stderr`` its square-rooted diagonal. ``r2`` and ``rmse`` compare the fit
    with the mean measured accuracies (unweighted).
    """

    a_max: float
    b: float
    alpha: float
    covariance: tuple[tuple[float, float, float], ...]
    stderr: tuple[float, float, float]
    r2: float
    rmse: float

    def predict(self, rows: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """Predicted accuracy at ``rows`` training rows (not clipped)."""
        return power_law(np.asarray(rows, dtype=np.float64), self.a_max, self.b, self.alpha)

    def predict_stderr(self, rows: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """Standard error of the fitted curve at ``rows`` (delta method on the covariance)."""
        x = np.asarray(rows, dtype=np.float64)
        p = np.power(x, -self.alpha)
        # gradient of a_max - b x^-alpha with respect to (a_max, b, alpha)
        grad = np.stack([np.ones_like(x), -p, self.b * p * np.log(x)], axis=-1)
        cov = np.asarray(self.covariance, dtype=np.float64)
        var = np.einsum("...i,ij,...j->...", grad, cov, grad)
        result: NDArray[np.float64] = np.sqrt(np.clip(var, 0.0, None))
        return result


@dataclass(frozen=True)
class LearnedCurve:
    """A measured learning curve on one dataset and its power-law fit."""

    dataset: str
    test_rows: int
    pool_rows: int
    repeats: int
    seed: int
    points: tuple[CurvePoint, ...]
    fit: PowerLawFit
    models_trained: int
    seconds: float
    fitted_on: FittedOn | None = None  # None when measured on a given split, not whole rows


def power_law(x: NDArray[np.float64], a_max: float, b: float, alpha: float) -> NDArray[np.float64]:
    """a(x) = a_max - b * x^(-alpha), elementwise; ``x`` in rows (> 0)."""
    result: NDArray[np.float64] = a_max - b * np.power(x, -alpha)
    return result


def default_sizes(pool_rows: int, *, smallest: int = 20, count: int = 8) -> tuple[int, ...]:
    """``count`` geometrically spaced training sizes from ``smallest`` to ``pool_rows``."""
    if pool_rows < smallest:
        raise CurveError(
            f"the pool has {pool_rows} rows, fewer than the smallest size {smallest}",
            hint="use a larger dataset or give --sizes explicitly",
        )
    sizes = np.unique(np.round(np.geomspace(smallest, pool_rows, count)).astype(np.int64))
    return tuple(int(s) for s in sizes)


def measure_curve(
    pool: Rows, test: Rows, sizes: Sequence[int], *, repeats: int, seed: int
) -> tuple[CurvePoint, ...]:
    """Test accuracy at each size, ``repeats`` times, on seeded subsamples of ``pool``.

    Repeat ``r`` at size ``s`` draws ``s`` rows without replacement with
    ``numpy.random.default_rng([seed, s, r])`` and trains with seed ``seed + r``: each
    measurement is independent of the others, so they run over forked workers
    (:func:`modelpact.parallel.fork_map_dealt`) with the same results as in one process.
    """
    checked = _check_sizes(sizes, pool.shape[0])
    if repeats < 1:
        raise CurveError(f"repeats must be at least 1, got {repeats}", hint="use --repeats 3")

    def measure(task: tuple[int, int]) -> float:
        size, r = task
        rng = np.random.default_rng([seed, size, r])
        pick = np.sort(rng.choice(pool.shape[0], size=size, replace=False))
        model = train_model(pool[pick], seed=seed + r)
        return correct_count(model, test) / int(test.shape[0])

    # Each fit depends only on its (size, repeat): they run over forked workers, dealt
    # round-robin since the cost grows with the size.
    load_trainer()
    accs = fork_map_dealt(measure, [(size, r) for size in checked for r in range(repeats)])
    return tuple(
        CurvePoint(size=size, accuracies=tuple(accs[i * repeats : (i + 1) * repeats]))
        for i, size in enumerate(checked)
    )


def _check_sizes(sizes: Sequence[int], pool_rows: int) -> tuple[int, ...]:
    values = [int(s) for s in sizes]
    if len(values) < 3:
        raise CurveError(
            f"need at least 3 training sizes to fit 3 parameters, got {len(values)}",
            hint="give more --sizes",
        )
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise CurveError(f"sizes must be strictly increasing, got {values}", hint="sort them")
    if values[0] < 2:
        raise CurveError(
            f"the smallest size must be at least 2 rows, got {values[0]}",
            hint="start --sizes at 2 rows or more",
        )
    if values[-1] > pool_rows:
        raise CurveError(
            f"size {values[-1]} exceeds the {pool_rows} rows available for training",
            hint=f"use sizes up to {pool_rows} or a smaller test set",
        )
    return tuple(values)


@dataclass(frozen=True)
class _Estimate:
    """The optimiser's answer: parameters (a_max, b, alpha) and their 3x3 covariance."""

    params: tuple[float, float, float]
    covariance: NDArray[np.float64]


def fit_power_law(points: Sequence[CurvePoint]) -> PowerLawFit:
    """Fit a(x) = a_max - b x^(-alpha) to the mean accuracies of ``points``.

    Weighted least squares with sigma = max(std / sqrt(repeats), 0.002) per point (the floor
    keeps a point measured without spread from dominating); the covariance is scaled by the
    residual variance when there are more than 3 points. Bounds 0 < a_max <= 1, b > 0,
    0 < alpha <= 5. Raises :class:`CurveError` when the optimiser fails or the covariance is
    not finite.
    """
    if len(points) < 3:
        raise CurveError(f"need at least 3 points to fit, got {len(points)}", hint="add sizes")
    x = np.array([p.size for p in points], dtype=np.float64)
    y = np.array([p.mean for p in points], dtype=np.float64)
    sigma = np.array(
        [max(p.std / math.sqrt(len(p.accuracies)), 0.002) for p in points], dtype=np.float64
    )
    return _fit_quality(x, y, _least_squares(x, y, sigma))


def _least_squares(
    x: NDArray[np.float64], y: NDArray[np.float64], sigma: NDArray[np.float64]
) -> _Estimate:
    """Run ``curve_fit`` from a start read off the data; a failed or unidentified fit is a
    :class:`CurveError`, never a warning or a NaN passed on."""
    from scipy.optimize import OptimizeWarning, curve_fit

    a0 = min(1.0, float(y.max()) + 0.01)
    alpha0 = 0.5
    b0 = max(1e-6, float((a0 - y[0]) * x[0] ** alpha0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            params, cov = curve_fit(
                power_law,
                x,
                y,
                p0=(a0, b0, alpha0),
                sigma=sigma,
                # With spare degrees of freedom the covariance is scaled by the residual
                # variance; with exactly 3 points it rests on the measured spread alone.
                absolute_sigma=len(x) <= 3,
                bounds=((1e-9, 1e-12, 1e-6), (1.0, np.inf, 5.0)),
                maxfev=20000,
            )
    except (RuntimeError, ValueError) as exc:
        raise CurveError(
            f"the power-law fit did not converge ({exc})",
            hint="measure more sizes or more repeats",
        ) from None
    cov_arr = np.asarray(cov, dtype=np.float64)
    if not np.all(np.isfinite(cov_arr)):
        raise CurveError(
            "the power-law fit is not identified (infinite parameter covariance)",
            hint="measure more distinct sizes, spanning small and large training sets",
        )
    a_max, b, alpha = (float(v) for v in params)
    return _Estimate(params=(a_max, b, alpha), covariance=cov_arr)


def _fit_quality(
    x: NDArray[np.float64], y: NDArray[np.float64], estimate: _Estimate
) -> PowerLawFit:
    """The fit with its standard errors, and R^2 and RMSE against the unweighted means."""
    a_max, b, alpha = estimate.params
    resid = y - power_law(x, a_max, b, alpha)
    ss_res = float(np.sum(resid**2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
    rows = tuple((float(r[0]), float(r[1]), float(r[2])) for r in estimate.covariance.tolist())
    err = np.sqrt(np.clip(np.diag(estimate.covariance), 0.0, None))
    return PowerLawFit(
        a_max=a_max,
        b=b,
        alpha=alpha,
        covariance=rows,
        stderr=(float(err[0]), float(err[1]), float(err[2])),
        r2=r2,
        rmse=math.sqrt(ss_res / len(x)),
    )


def learn_curve(
    rows: Rows,
    *,
    dataset: str,
    sizes: Sequence[int] | None = None,
    repeats: int = 5,
    seed: int = 0,
    test_size: int | None = None,
    split: Split | None = None,
) -> LearnedCurve:
    """Split ``rows`` (or use ``split``), measure the curve and fit it.

    ``test_size`` defaults to 20% of the rows; ``sizes`` to :func:`default_sizes` of the pool.
    """
    started = time.perf_counter()
    fitted_on = None
    if split is None:
        n_test = test_size if test_size is not None else max(1, rows.shape[0] // 5)
        split = split_test(rows, test_size=n_test, seed=seed)
        fitted_on = FittedOn(
            dataset=dataset,
            sha256=rows_digest(rows),
            rows=int(rows.shape[0]),
            test_rows=n_test,
            seed=seed,
            learner=TRAINER,
            repeats=repeats,
            sizes=(),
        )
    chosen = tuple(sizes) if sizes is not None else default_sizes(split.pool.shape[0])
    points = measure_curve(split.pool, split.test, chosen, repeats=repeats, seed=seed)
    fit = fit_power_law(points)
    if fitted_on is not None:
        fitted_on = replace(fitted_on, sizes=tuple(p.size for p in points))
    return LearnedCurve(
        dataset=dataset,
        test_rows=int(split.test.shape[0]),
        pool_rows=int(split.pool.shape[0]),
        repeats=repeats,
        seed=seed,
        points=points,
        fit=fit,
        models_trained=len(points) * repeats,
        seconds=time.perf_counter() - started,
        fitted_on=fitted_on,
    )


def curve_uncertainty(curve: LearnedCurve) -> CurveUncertainty:
    """The fit's covariance and residual error, and one model's spread (sd over repeats) at
    every measured size: what ``[accuracy.uncertainty]`` records."""
    return CurveUncertainty(
        covariance=curve.fit.covariance,
        residual_sd=curve.fit.rmse,
        spread_sizes=tuple(p.size for p in curve.points),
        spread_sd=tuple(p.std for p in curve.points),
    )


def _toml_value(value: object) -> str:
    """A TOML literal for the plain values a curve record holds."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _record_tables(curve: LearnedCurve) -> list[str]:
    """``[accuracy.fitted_on]`` (when known) and ``[accuracy.uncertainty]`` as TOML lines."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, object]]] = []
    if curve.fitted_on is not None:
        tables.append(("accuracy.fitted_on", curve.fitted_on.params()))
    tables.append(("accuracy.uncertainty", curve_uncertainty(curve).params()))
    for name, values in tables:
        lines += ["", f"[{name}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    return lines


def accuracy_toml(curve: LearnedCurve) -> str:
    """The scenario ``[accuracy]`` section for ``curve``, measured points as comments."""
    f = curve.fit
    lines = [
        "# Learned accuracy curve a(x) = a_max - b * x^(-alpha), x = training rows",
        f"# dataset {curve.dataset}: {curve.pool_rows} pool rows, {curve.test_rows} test rows, "
        f"{curve.repeats} repeats per size, seed {curve.seed}",
        f"# fit: R^2 = {f.r2:.4f}, RMSE = {f.rmse:.4f}; standard errors: "
        f"a_max {f.stderr[0]:.4f}, b {f.stderr[1]:.4f}, alpha {f.stderr[2]:.4f}",
        "# measured: rows, mean test accuracy, std over repeats, fitted",
    ]
    for p in curve.points:
        fitted = float(f.predict(float(p.size)))
        lines.append(f"#   {p.size:>6d}  {p.mean:.4f}  {p.std:.4f}  {fitted:.4f}")
    lines += [
        "[accuracy]",
        'kind = "power"',
        f"a_max = {f.a_max!r}",
        f"b = {f.b!r}",
        f"alpha = {f.alpha!r}",
        *_record_tables(curve),
        "",
    ]
    return "\n".join(lines)


def curve_record(curve: LearnedCurve) -> dict[str, Any]:
    """A JSON-ready record of ``curve``: setup, every measured accuracy, fit and quality."""
    f = curve.fit
    return {
        "dataset": curve.dataset,
        "test_rows": curve.test_rows,
        "pool_rows": curve.pool_rows,
        "repeats": curve.repeats,
        "seed": curve.seed,
        "models_trained": curve.models_trained,
        "seconds": round(curve.seconds, 3),
        "points": [
            {"size": p.size, "mean": p.mean, "std": p.std, "accuracies": list(p.accuracies)}
            for p in curve.points
        ],
        "fit": {
            "kind": "power",
            "a_max": f.a_max,
            "b": f.b,
            "alpha": f.alpha,
            "stderr": {"a_max": f.stderr[0], "b": f.stderr[1], "alpha": f.stderr[2]},
            "covariance": [list(r) for r in f.covariance],
            "r2": f.r2,
            "rmse": f.rmse,
        },
        "fitted_on": None if curve.fitted_on is None else curve.fitted_on.params(),
        "uncertainty": curve_uncertainty(curve).params(),
    }


def plot_curve(curve: LearnedCurve, path: Path | str) -> Path:
    """Plot measured points (mean +- std, every repeat faint) and the fit to a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = Path(path)
    f = curve.fit
    sizes = np.array([p.size for p in curve.points], dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    try:
        for p in curve.points:
            ax.scatter([p.size] * len(p.accuracies), p.accuracies, s=8, color="0.7", zorder=1)
        ax.errorbar(
            sizes,
            [p.mean for p in curve.points],
            yerr=[p.std for p in curve.points],
            fmt="o",
            color="C0",
            capsize=3,
            label=f"measured (mean ± std, {curve.repeats} repeats)",
            zorder=3,
        )
        grid = np.geomspace(sizes.min(), sizes.max(), 200)
        band = 1.96 * f.predict_stderr(grid)
        ax.fill_between(
            grid,
            f.predict(grid) - band,
            f.predict(grid) + band,
            color="C1",
            alpha=0.2,
            label="fit ± 1.96 standard errors",
            zorder=1,
        )
        ax.plot(
            grid,
            f.predict(grid),
            color="C1",
            label=(
                f"fit {f.a_max:.3f} - {f.b:.3f} x^-{f.alpha:.3f}"
                f"  (R² {f.r2:.3f}, RMSE {f.rmse:.4f})"
            ),
            zorder=2,
        )
        ax.set_xscale("log")
        ax.set_xlabel("training rows x")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"Learning curve: {curve.dataset} ({curve.test_rows} test rows)")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        fig.savefig(target, dpi=120, metadata={"Software": None})
    finally:
        plt.close(fig)
    return target


def learn_dataset_curve(
    dataset: str,
    *,
    sizes: Sequence[int] | None = None,
    repeats: int = 5,
    seed: int = 0,
    test_size: int | None = None,
    generated_rows: int | None = None,
    toml_path: Path | str | None = None,
    json_path: Path | str | None = None,
    plot_path: Path | str | None = None,
) -> LearnedCurve:
    """Learn the curve of a built-in dataset (``digits``, ``generated``) or a ``.csv``/``.npy``
    file and write the requested outputs: the ``[accuracy]`` TOML section (with the record of
    what it was fitted on), the JSON record (sorted keys) and the PNG plot.

    ``generated_rows``: how many rows to generate for ``generated`` (default 4,000; seed
    ``seed``): a round on generated data must use exactly these rows for the curve to match
    (:func:`modelpact.curve_record.curve_matches_dataset`)."""
    import json

    if generated_rows is not None and dataset != "generated":
        raise CurveError(
            f"--rows only applies to the generated dataset, not {dataset!r}",
            hint="drop --rows, or use the dataset name generated",
        )
    size = 4000 if generated_rows is None else generated_rows
    rows = load_dataset(dataset, generated_size=size, seed=seed)
    if rows.shape[1] < 2 or int(rows[:, -1].min()) < 0:
        raise CurveError(
            f"{dataset} needs features and a non-negative integer label in the last column",
            hint="store one row per sample, label last",
        )
    name = dataset if dataset in BUILTIN_DATASETS else Path(dataset).name  # not its directory
    curve = learn_curve(
        rows, dataset=name, sizes=sizes, repeats=repeats, seed=seed, test_size=test_size
    )
    if toml_path is not None:
        Path(toml_path).write_text(accuracy_toml(curve), encoding="utf-8")
    if json_path is not None:
        text = json.dumps(curve_record(curve), indent=2, sort_keys=True)
        Path(json_path).write_text(text + "\n", encoding="utf-8")
    if plot_path is not None:
        plot_curve(curve, plot_path)
    return curve


def curve_reproduces(scenario: Scenario, dataset_rows: Rows, *, rel: float = 1e-6) -> str | None:
    """Why ``scenario``'s curve is not what its own record gives on ``dataset_rows`` (None if
    it is): the record must match the rows
    (:func:`modelpact.curve_record.curve_matches_dataset`), and learning the curve again with
    the recorded split, sizes, repeats, seed and learner must give the scenario's a_max, b,
    alpha and uncertainty within ``rel`` (the fit's last digits move with the machine's BLAS,
    about 1e-9). A record copied from an honest curve onto an inflated one fails here."""
    from modelpact.curve_record import curve_matches_dataset
    from modelpact.economics import PowerAccuracy

    fitted = scenario.curve.fitted_on
    if fitted is None or not isinstance(scenario.accuracy, PowerAccuracy):
        return "the scenario's curve is not a learned power curve with [accuracy.fitted_on]"
    reason = curve_matches_dataset(scenario, dataset_rows, fitted.dataset, learner=TRAINER)
    if reason is not None:
        return reason
    learned = learn_curve(
        dataset_rows,
        dataset=fitted.dataset,
        sizes=fitted.sizes,
        repeats=fitted.repeats,
        seed=fitted.seed,
        test_size=fitted.test_rows,
    )
    have = scenario.accuracy
    pairs = [("a_max", have.a_max, learned.fit.a_max), ("b", have.b, learned.fit.b)]
    pairs += [("alpha", have.alpha, learned.fit.alpha)]
    stated_uncertainty = scenario.curve.uncertainty
    if stated_uncertainty is not None:  # tau is made of all of it: every number must reproduce
        again_uncertainty = curve_uncertainty(learned)
        if stated_uncertainty.spread_sizes != again_uncertainty.spread_sizes:
            return (
                f"the scenario's [accuracy.uncertainty] spread_sizes "
                f"{list(stated_uncertainty.spread_sizes)} are not its record's sizes "
                f"{list(again_uncertainty.spread_sizes)}"
            )
        pairs.append(("residual_sd", stated_uncertainty.residual_sd, learned.fit.rmse))
        pairs += _uncertainty_pairs(stated_uncertainty, again_uncertainty)
    for name, stated, again in pairs:
        if not math.isclose(stated, again, rel_tol=rel, abs_tol=1e-12):
            return (
                f"the scenario's curve has {name} = {stated!r}, but learning it again from its "
                f"own record gives {again!r}; publish the curve `modelpact curve "
                f"{fitted.dataset}` writes for this record"
            )
    return None


def _uncertainty_pairs(
    stated: CurveUncertainty, again: CurveUncertainty
) -> list[tuple[str, float, float]]:
    """(name, stated, learned again) for every spread and covariance entry."""
    pairs = [
        (f"spread_sd at {size} rows", a, b)
        for size, a, b in zip(stated.spread_sizes, stated.spread_sd, again.spread_sd, strict=True)
    ]
    for i, (row_a, row_b) in enumerate(zip(stated.covariance, again.covariance, strict=True)):
        pairs += [
            (f"covariance[{i}][{j}]", a, b)
            for j, (a, b) in enumerate(zip(row_a, row_b, strict=True))
        ]
    return pairs


def checked_curve_states_its_tolerance(scenario: Scenario) -> str | None:
    """Why a learned curve's tolerance is not the one its record gives (None when it is): tau
    of a checked curve follows from its reproduced uncertainty at the default confidence, so a
    stated ``[accuracy] tolerance`` or another ``tolerance_confidence`` would let the
    coordinator widen the band the record was checked for (review 13b: tolerance = 0.2 or
    confidence 0.999999 passed with the record reproducing)."""
    from modelpact.curve_record import DEFAULT_TOLERANCE_CONFIDENCE

    record = scenario.curve
    if record.fitted_on is None:
        return None
    if record.tolerance is not None:
        return f"it states [accuracy] tolerance = {record.tolerance!r}"
    if record.tolerance_confidence != DEFAULT_TOLERANCE_CONFIDENCE:
        return (
            f"it states tolerance_confidence = {record.tolerance_confidence!r}, not the default "
            f"{DEFAULT_TOLERANCE_CONFIDENCE}"
        )
    return None


_REPRODUCED: dict[str, str | None] = {}
"""curve_reproduces per scenario hash, in this process: planning and every audit of one scenario
(a test session, a batch of rounds) learn its curve once (about 2 s of CPU on digits)."""


def curve_reproduces_by_name(scenario: Scenario) -> str | None:
    """:func:`curve_reproduces` on the built-in dataset its ``[accuracy.fitted_on]`` record
    names (loaded by name, rows and seed), once per scenario hash in this process."""
    from modelpact.ml.datasets import load_dataset
    from modelpact.scenario import scenario_sha256

    key = scenario_sha256(scenario)
    if key not in _REPRODUCED:
        fitted = scenario.curve.fitted_on
        if fitted is None:
            return "the scenario's curve has no [accuracy.fitted_on] record"
        rows = load_dataset(fitted.dataset, generated_size=fitted.rows, seed=fitted.seed)
        _REPRODUCED[key] = curve_reproduces(scenario, rows)
    return _REPRODUCED[key]

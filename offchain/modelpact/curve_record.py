"""What a learned accuracy curve was fitted on, how uncertain it is, and the checks on both.

A scenario whose ``[accuracy]`` was learned by ``modelpact curve`` carries two sub-tables and two
optional numbers (all part of the canonical scenario hash)::

    [accuracy]
    kind = "power"                  # a(x) = a_max - b x^-alpha
    a_max = ...; b = ...; alpha = ...
    tolerance = 0.02                # optional: the curve tolerance tau stated outright
    tolerance_confidence = 0.99     # optional (default 0.99): tau computed from [.uncertainty]

    [accuracy.fitted_on]            # provenance: the curve is bound to these exact rows
    dataset = "digits"              # built-in name ("digits", "generated") or the file's name
    sha256 = "..."                  # modelpact.ml.models.rows_digest of ALL the dataset's rows
    rows = 1797                     # rows in the dataset (generated: the rows generated)
    test_rows = 360                 # public test set: split_test(rows, test_size, seed)
    seed = 0                        # seed of the split, subsamples, training (and generated data)
    learner = "sklearn.linear_model.LogisticRegression(lbfgs, C=1.0, max_iter=2000)"
    repeats = 8                     # seeded subsamples per size
    sizes = [20, 37, ...]           # training sizes measured

    [accuracy.uncertainty]          # the fit's uncertainty (kind = "power" only)
    covariance = [[...], [...], [...]]  # of (a_max, b, alpha), residual-variance scaled
    residual_sd = 0.0105            # RMSE of the mean accuracies around the fit (lack of fit)
    spread_sizes = [20, 37, ...]    # sizes where one model's spread was measured
    spread_sd = [0.05, ...]         # sd over repeats of ONE model's accuracy at each size

Two standard deviations follow (x = training rows, g(x) the gradient of a in its parameters):

* the **mean curve** (what an expected value rests on): ``sd_mean(x)^2 = g' C g + residual_sd^2``,
  parameter uncertainty by the delta method plus the fit's residual error;
* **one round's measured accuracy** (what the on-chain curve check sees):
  ``sd_round(x)^2 = sd_mean(x)^2 + spread(x)^2``, where ``spread`` interpolates ``spread_sd``
  linearly in log x (held at the end values outside the measured sizes). The round's test set is
  the curve's own (same split), so no test-set sampling term enters; a round on another split is
  refused by :func:`curve_matches_dataset`.

This module is pure (numpy only); :func:`curve_matches_dataset` hashes rows with
:func:`modelpact.ml.models.rows_digest`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import NDArray

from modelpact.errors import ScenarioError

if TYPE_CHECKING:
    from modelpact.economics import PowerAccuracy
    from modelpact.scenario import Scenario

__all__ = [
    "DEFAULT_TOLERANCE_CONFIDENCE",
    "RECORD_FIELDS",
    "CurveRecord",
    "CurveUncertainty",
    "FittedOn",
    "curve_matches_dataset",
    "parse_curve_record",
    "sd_mean",
    "sd_round",
]

FloatArray = NDArray[np.float64]
DEFAULT_TOLERANCE_CONFIDENCE = 0.99
RECORD_FIELDS = frozenset({"fitted_on", "uncertainty", "tolerance", "tolerance_confidence"})
_FITTED_ON_FIELDS = {
    "dataset",
    "sha256",
    "rows",
    "test_rows",
    "seed",
    "learner",
    "repeats",
    "sizes",
}
_UNCERTAINTY_FIELDS = {"covariance", "residual_sd", "spread_sizes", "spread_sd"}


@dataclass(frozen=True)
class FittedOn:
    """The dataset, split, learner and seed a curve was measured with (module doc)."""

    dataset: str
    sha256: str
    rows: int
    test_rows: int
    seed: int
    learner: str
    repeats: int
    sizes: tuple[int, ...]

    def params(self) -> dict[str, object]:
        """Validated values for the canonical encoding."""
        return {
            "dataset": self.dataset,
            "sha256": self.sha256,
            "rows": self.rows,
            "test_rows": self.test_rows,
            "seed": self.seed,
            "learner": self.learner,
            "repeats": self.repeats,
            "sizes": list(self.sizes),
        }


@dataclass(frozen=True)
class CurveUncertainty:
    """The power-law fit's parameter covariance, residual error and per-model spread."""

    covariance: tuple[tuple[float, float, float], ...]
    residual_sd: float
    spread_sizes: tuple[int, ...]
    spread_sd: tuple[float, ...]

    def params(self) -> dict[str, object]:
        """Validated values for the canonical encoding."""
        return {
            "covariance": [list(row) for row in self.covariance],
            "residual_sd": self.residual_sd,
            "spread_sizes": list(self.spread_sizes),
            "spread_sd": list(self.spread_sd),
        }

    def spread(self, rows: FloatArray) -> FloatArray:
        """One model's accuracy sd at ``rows``: linear in log rows between measured sizes."""
        x = np.log(np.maximum(np.asarray(rows, dtype=np.float64), 1.0))
        xs = np.log(np.asarray(self.spread_sizes, dtype=np.float64))
        result: FloatArray = np.interp(x, xs, np.asarray(self.spread_sd, dtype=np.float64))
        return result


@dataclass(frozen=True)
class CurveRecord:
    """Everything a scenario says about its curve besides the curve itself (all optional)."""

    fitted_on: FittedOn | None = None
    uncertainty: CurveUncertainty | None = None
    tolerance: float | None = None
    tolerance_confidence: float = DEFAULT_TOLERANCE_CONFIDENCE

    @property
    def empty(self) -> bool:
        """Nothing recorded: the scenario hashes exactly as before the record existed."""
        return self.fitted_on is None and self.uncertainty is None and self.tolerance is None

    def params(self) -> dict[str, object]:
        """The keys merged into the canonical ``accuracy`` object (none when empty)."""
        if self.empty:
            return {}
        out: dict[str, object] = {"tolerance_confidence": self.tolerance_confidence}
        if self.fitted_on is not None:
            out["fitted_on"] = self.fitted_on.params()
        if self.uncertainty is not None:
            out["uncertainty"] = self.uncertainty.params()
        if self.tolerance is not None:
            out["tolerance"] = self.tolerance
        return out


def _fail(source: str, what: str, hint: str) -> ScenarioError:
    return ScenarioError(f"{source}: {what}", hint=hint)


def _int(table: Mapping[str, object], key: str, where: str, source: str, low: int) -> int:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _fail(
            source, f"{where}.{key} must be an integer >= {low}, got {value!r}", "write an integer"
        )
    return value


def _real(value: object, what: str, source: str, *, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(float(value))
        or not low <= float(value) <= high
    ):
        raise _fail(
            source, f"{what} must be a number in [{low:g}, {high:g}], got {value!r}", "fix it"
        )
    return float(value)


def _text(table: Mapping[str, object], key: str, where: str, source: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(source, f"{where}.{key} must be a non-empty string", f'write {key} = "..."')
    return value


def _only(table: Mapping[str, object], allowed: set[str], where: str, source: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise _fail(
            source,
            f"unknown field {where}.{extra[0]}",
            f"allowed fields here: {', '.join(sorted(allowed))}",
        )


def _sizes(value: object, what: str, source: str) -> tuple[int, ...]:
    if (
        not isinstance(value, list)
        or len(value) < 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
        or any(b <= a for a, b in itertools.pairwise(value))
    ):
        raise _fail(
            source, f"{what} must be a strictly increasing list of row counts", "e.g. [20, 40, 80]"
        )
    return tuple(cast(list[int], value))


def _fitted_on(table: object, source: str) -> FittedOn:
    where = "accuracy.fitted_on"
    if not isinstance(table, dict):
        raise _fail(source, f"{where} must be a table", f"write it as [{where}]")
    _only(table, _FITTED_ON_FIELDS, where, source)
    digest = _text(table, "sha256", where, source)
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise _fail(source, f"{where}.sha256 must be 64 lowercase hex digits", "copy it verbatim")
    rows = _int(table, "rows", where, source, 2)
    test_rows = _int(table, "test_rows", where, source, 1)
    if test_rows >= rows:
        raise _fail(source, f"{where}.test_rows must be below rows ({rows})", "fix the split")
    return FittedOn(
        dataset=_text(table, "dataset", where, source),
        sha256=digest,
        rows=rows,
        test_rows=test_rows,
        seed=_int(table, "seed", where, source, 0),
        learner=_text(table, "learner", where, source),
        repeats=_int(table, "repeats", where, source, 1),
        sizes=_sizes(table.get("sizes"), f"{where}.sizes", source),
    )


def _uncertainty(table: object, source: str) -> CurveUncertainty:
    where = "accuracy.uncertainty"
    if not isinstance(table, dict):
        raise _fail(source, f"{where} must be a table", f"write it as [{where}]")
    _only(table, _UNCERTAINTY_FIELDS, where, source)
    raw = table.get("covariance")
    if not (isinstance(raw, list) and len(raw) == 3 and all(isinstance(r, list) for r in raw)):
        raise _fail(source, f"{where}.covariance must be a 3x3 list", "copy it from the curve")
    cov = np.array(
        [[_real(v, f"{where}.covariance", source, low=-1e12, high=1e12) for v in r] for r in raw]
    )
    if cov.shape != (3, 3) or not np.allclose(cov, cov.T, rtol=1e-9, atol=0.0):
        raise _fail(source, f"{where}.covariance must be symmetric 3x3", "copy it from the curve")
    if float(np.linalg.eigvalsh(cov).min()) < -1e-9 * max(1.0, float(np.abs(cov).max())):
        raise _fail(source, f"{where}.covariance is not positive semidefinite", "refit the curve")
    sizes = _sizes(table.get("spread_sizes"), f"{where}.spread_sizes", source)
    sds = table.get("spread_sd")
    if not isinstance(sds, list) or len(sds) != len(sizes):
        raise _fail(source, f"{where}.spread_sd needs one sd per spread size", "copy both lists")
    return CurveUncertainty(
        covariance=tuple((float(r[0]), float(r[1]), float(r[2])) for r in cov.tolist()),
        residual_sd=_real(table.get("residual_sd"), f"{where}.residual_sd", source, low=0, high=1),
        spread_sizes=sizes,
        spread_sd=tuple(_real(v, f"{where}.spread_sd", source, low=0, high=1) for v in sds),
    )


def parse_curve_record(table: Mapping[str, object], kind: object, source: str) -> CurveRecord:
    """The :class:`CurveRecord` of an ``[accuracy]`` table (only its :data:`RECORD_FIELDS`)."""
    fitted_on = _fitted_on(table["fitted_on"], source) if "fitted_on" in table else None
    uncertainty = None
    if "uncertainty" in table:
        if kind != "power":
            raise _fail(
                source,
                "[accuracy.uncertainty] describes a power-law fit, but kind is not power",
                'use kind = "power" (as `modelpact curve` writes it) or drop the table',
            )
        uncertainty = _uncertainty(table["uncertainty"], source)
    tolerance = None
    if "tolerance" in table:
        tolerance = _real(table["tolerance"], "accuracy.tolerance", source, low=0.0, high=1.0)
    confidence = DEFAULT_TOLERANCE_CONFIDENCE
    if "tolerance_confidence" in table:
        confidence = _real(
            table["tolerance_confidence"], "accuracy.tolerance_confidence", source, low=0.5, high=1
        )
        if confidence >= 1.0:
            raise _fail(source, "accuracy.tolerance_confidence must be below 1", "e.g. 0.99")
    return CurveRecord(fitted_on, uncertainty, tolerance, confidence)


def _param_variance(curve: PowerAccuracy, cov: FloatArray, rows: FloatArray) -> FloatArray:
    """Delta-method variance of a(rows) from the covariance of (a_max, b, alpha)."""
    x = np.maximum(np.asarray(rows, dtype=np.float64), 1.0)
    p = np.power(x, -curve.alpha)
    grad = np.stack([np.ones_like(x), -p, curve.b * p * np.log(x)], axis=-1)
    var: FloatArray = np.clip(np.einsum("...i,ij,...j->...", grad, cov, grad), 0.0, None)
    return var


def sd_mean(scenario: Scenario, rows: FloatArray) -> FloatArray:
    """sd of the mean curve at ``rows`` (parameters + residual error); needs the uncertainty."""
    curve, unc = _power_and_uncertainty(scenario)
    cov = np.asarray(unc.covariance, dtype=np.float64)
    result: FloatArray = np.sqrt(_param_variance(curve, cov, rows) + unc.residual_sd**2)
    return result


def sd_round(scenario: Scenario, rows: FloatArray) -> FloatArray:
    """sd of one round's measured accuracy around the curve at ``rows`` (module doc)."""
    _, unc = _power_and_uncertainty(scenario)
    result: FloatArray = np.sqrt(sd_mean(scenario, rows) ** 2 + unc.spread(rows) ** 2)
    return result


def _power_and_uncertainty(scenario: Scenario) -> tuple[PowerAccuracy, CurveUncertainty]:
    from modelpact.economics import PowerAccuracy

    unc = scenario.curve.uncertainty
    if unc is None or not isinstance(scenario.accuracy, PowerAccuracy):
        raise ScenarioError(
            f"{scenario.source}: the accuracy curve states no uncertainty",
            hint="learn it with `modelpact curve ... --out accuracy.toml`, which writes "
            "[accuracy.uncertainty], or state [accuracy] tolerance outright",
        )
    return scenario.accuracy, unc


def curve_matches_dataset(
    scenario: Scenario,
    dataset_rows: NDArray[np.int64],
    dataset_name: str,
    *,
    test_rows: int | None = None,
    seed: int | None = None,
    learner: str | None = None,
) -> str | None:
    """Why ``scenario``'s curve does not describe ``dataset_rows`` (None when it does).

    A curve is bound to the exact rows it was measured on: same dataset name, same row count,
    same content hash (:func:`modelpact.ml.models.rows_digest` of every row). When the round's
    test split (``test_rows``, ``seed``) or ``learner`` are given they must match too, because
    the curve's accuracies were measured on that test set with that learner. A curve without a
    ``[accuracy.fitted_on]`` record matches nothing: the round could not show what it predicts.
    """
    from modelpact.ml.models import rows_digest

    fitted = scenario.curve.fitted_on
    if fitted is None:
        return (
            "the scenario's accuracy curve records no dataset ([accuracy.fitted_on] missing); "
            f"learn it with `modelpact curve {dataset_name} --out accuracy.toml`"
        )
    rows = np.asarray(dataset_rows)
    checks = [
        ("dataset", fitted.dataset, dataset_name),
        ("rows", fitted.rows, int(rows.shape[0]) if rows.ndim == 2 else -1),
        ("sha256", fitted.sha256, rows_digest(rows) if rows.ndim == 2 else "not a table"),
    ]
    if test_rows is not None:
        checks.append(("test rows", fitted.test_rows, test_rows))
    if seed is not None:
        checks.append(("split seed", fitted.seed, seed))
    if learner is not None:
        checks.append(("learner", fitted.learner, learner))
    for name, want, got in checks:
        if want != got:
            return (
                f"the accuracy curve was fitted on {fitted.dataset} ({fitted.rows} rows, test "
                f"{fitted.test_rows}, seed {fitted.seed}), but the round's {name} is {got!r}, "
                f"not {want!r}; learn the curve for this data with `modelpact curve "
                f"{dataset_name}` (same --test-size and --seed) and put it in the scenario"
            )
    return None

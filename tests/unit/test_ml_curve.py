"""Learned accuracy curves: measurement, power-law fit quality, TOML/JSON outputs, errors."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from modelpact.ml import curve as cv
from modelpact.ml import datasets as ds


@pytest.fixture(scope="module")
def digits_curve() -> cv.LearnedCurve:
    return cv.learn_curve(
        ds.digits_rows(),
        dataset="digits",
        sizes=[20, 40, 80, 160, 320, 640],
        repeats=3,
        seed=0,
        test_size=360,
    )


def test_fit_recovers_an_exact_power_law() -> None:
    """Points lying on a power law are fitted back to its parameters with R^2 ~ 1."""
    a_max, b, alpha = 0.97, 5.5, 0.87
    points = [
        cv.CurvePoint(
            size=s, accuracies=(float(cv.power_law(np.array(s, float), a_max, b, alpha)),)
        )
        for s in (20, 40, 80, 160, 320, 640, 1280)
    ]
    fit = cv.fit_power_law(points)
    assert fit.a_max == pytest.approx(a_max, abs=1e-6)
    assert fit.b == pytest.approx(b, rel=1e-5)
    assert fit.alpha == pytest.approx(alpha, rel=1e-5)
    assert fit.r2 > 1 - 1e-9
    assert fit.rmse < 1e-8


def test_digits_curve_fits_well_and_is_a_concave_increasing_law(
    digits_curve: cv.LearnedCurve,
) -> None:
    """On real digits the power law fits the mean accuracies with R^2 >= 0.95, RMSE <= 0.03,
    a plausible ceiling, finite standard errors, and accuracy increasing with data."""
    fit = digits_curve.fit
    assert fit.r2 >= 0.95, fit
    assert fit.rmse <= 0.03, fit
    assert 0.9 <= fit.a_max <= 1.0
    assert fit.b > 0
    assert fit.alpha > 0
    assert all(np.isfinite(fit.stderr))
    means = [p.mean for p in digits_curve.points]
    assert means[-1] > means[0] + 0.2
    assert digits_curve.models_trained == 6 * 3
    assert all(len(p.accuracies) == 3 for p in digits_curve.points)


def test_curve_is_deterministic_in_its_seed() -> None:
    """The same seed reproduces every measured accuracy; another seed changes them."""
    rows = ds.digits_rows()
    kwargs = {"dataset": "digits", "sizes": [20, 40, 80], "repeats": 2, "test_size": 300}
    a = cv.learn_curve(rows, seed=1, **kwargs)
    b = cv.learn_curve(rows, seed=1, **kwargs)
    c = cv.learn_curve(rows, seed=2, **kwargs)
    assert a.points == b.points
    assert a.points != c.points


def test_accuracy_toml_is_a_scenario_accuracy_section(digits_curve: cv.LearnedCurve) -> None:
    """The TOML output parses to [accuracy] kind = "power" with exactly the fitted parameters
    plus the record of what it was fitted on and its uncertainty, and lists every measured
    size in its comments."""
    text = cv.accuracy_toml(digits_curve)
    section = tomllib.loads(text)["accuracy"]
    assert {k: v for k, v in section.items() if not isinstance(v, dict)} == {
        "kind": "power",
        "a_max": digits_curve.fit.a_max,
        "b": digits_curve.fit.b,
        "alpha": digits_curve.fit.alpha,
    }
    assert section["fitted_on"]["dataset"] == "digits"
    assert section["fitted_on"]["sizes"] == [p.size for p in digits_curve.points]
    assert section["uncertainty"]["residual_sd"] == digits_curve.fit.rmse
    for point in digits_curve.points:
        assert f" {point.size} " in text
    assert "R^2" in text


def test_record_and_plot_are_written(tmp_path: Path, digits_curve: cv.LearnedCurve) -> None:
    """The JSON record holds every repeat's accuracy and the fit; the plot is a PNG."""
    record = json.loads(json.dumps(cv.curve_record(digits_curve)))
    assert [p["size"] for p in record["points"]] == [20, 40, 80, 160, 320, 640]
    assert record["fit"]["r2"] == digits_curve.fit.r2
    png = cv.plot_curve(digits_curve, tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ([20, 40], "at least 3 training sizes"),
        ([20, 80, 40], "strictly increasing"),
        ([1, 20, 40], "at least 2 rows"),
        ([20, 40, 5000], "exceeds the"),
    ],
)
def test_bad_sizes_are_refused(sizes: list[int], message: str) -> None:
    """Too few, unsorted, tiny or too large sizes raise CurveError naming the problem."""
    split = ds.split_test(ds.digits_rows(), test_size=300, seed=0)
    with pytest.raises(cv.CurveError, match=message):
        cv.measure_curve(split.pool, split.test, sizes, repeats=1, seed=0)


def test_default_sizes_span_the_pool() -> None:
    """Default sizes are increasing, start at 20 and end at the pool size."""
    sizes = cv.default_sizes(1437)
    assert sizes[0] == 20
    assert sizes[-1] == 1437
    assert list(sizes) == sorted(set(sizes))


def test_shipped_demo_curve_is_reproduced_from_the_data() -> None:
    """The digits demo scenario's [accuracy] section is exactly what learning the curve with
    its documented settings (test 360 rows, seed 0, 8 repeats, default sizes) gives today, to
    1e-7 relative: the least-squares fit lands on the same optimum, but its last digits move
    with the machine's BLAS and CPU (1.3e-9 relative seen between two x86_64 machines)."""
    scenarios = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"
    shipped = tomllib.loads((scenarios / "digits_demo.toml").read_text())["accuracy"]
    learned = cv.learn_curve(ds.digits_rows(), dataset="digits", repeats=8, seed=0, test_size=360)
    assert shipped["kind"] == "power"
    assert shipped["a_max"] == pytest.approx(learned.fit.a_max, rel=1e-7)
    assert shipped["b"] == pytest.approx(learned.fit.b, rel=1e-7)
    assert shipped["alpha"] == pytest.approx(learned.fit.alpha, rel=1e-7)
    record = json.loads((scenarios / "digits_curve.json").read_text())
    assert [p["size"] for p in record["points"]] == [p.size for p in learned.points]


def test_prediction_stderr_matches_finite_differences(digits_curve: cv.LearnedCurve) -> None:
    """The delta-method standard error uses the right gradient: it equals the one computed
    from finite-difference gradients of the power law and the same covariance."""
    fit = digits_curve.fit
    x = np.array([30.0, 300.0, 3000.0])
    params = np.array([fit.a_max, fit.b, fit.alpha])
    grads = []
    for j in range(3):
        h = np.zeros(3)
        h[j] = 1e-6 * max(1.0, abs(params[j]))
        up = cv.power_law(x, *(params + h))
        down = cv.power_law(x, *(params - h))
        grads.append((up - down) / (2 * h[j]))
    g = np.stack(grads, axis=-1)
    cov = np.asarray(fit.covariance)
    expected = np.sqrt(np.einsum("ni,ij,nj->n", g, cov, g))
    assert fit.predict_stderr(x) == pytest.approx(expected, rel=1e-5)
    assert np.all(fit.predict_stderr(x) > 0)


def test_curve_over_workers_equals_the_serial_measurement(
    digits_curve: cv.LearnedCurve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The (size, repeat) fits run over forked workers measure, bit for bit, the accuracies and
    fit one process measures (MODELPACT_WORKERS=1): the audit compares a relearned curve with
    the published one."""
    monkeypatch.setenv("MODELPACT_WORKERS", "1")
    serial = cv.learn_curve(
        ds.digits_rows(),
        dataset="digits",
        sizes=[20, 40, 80, 160, 320, 640],
        repeats=3,
        seed=0,
        test_size=360,
    )
    assert serial.points == digits_curve.points
    assert serial.fit == digits_curve.fit

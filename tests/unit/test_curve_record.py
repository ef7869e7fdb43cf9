"""The learned curve is bound to the data it was fitted on (scenario [accuracy.fitted_on]).

curve_matches_dataset is the check `demo` and `coordinator deploy` run before a round: it must
accept the exact rows the curve was measured on and refuse anything else, however close."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from modelpact.curve_record import curve_matches_dataset
from modelpact.errors import ScenarioError
from modelpact.ml import curve as cv
from modelpact.ml import datasets as ds
from modelpact.ml.models import TRAINER
from modelpact.scenario import load_scenario, parse_scenario, scenario_sha256

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"
DIGITS = SCENARIOS / "digits_demo.toml"


@pytest.fixture(scope="module")
def digits():
    return load_scenario(DIGITS)


def test_shipped_demo_curve_matches_the_digits_rows(digits) -> None:
    """The shipped demo scenario's curve matches scikit-learn's digits, its split and learner."""
    assert digits.curve.fitted_on is not None
    rows = ds.digits_rows()
    assert curve_matches_dataset(digits, rows, "digits") is None
    assert (
        curve_matches_dataset(digits, rows, "digits", test_rows=360, seed=0, learner=TRAINER)
        is None
    )


def test_any_other_data_is_refused(digits) -> None:
    """Generated rows, one changed pixel, shuffled or missing rows, another split or learner:
    each is refused with one line naming the difference and the command that fixes it."""
    rows = ds.digits_rows()
    pixel = rows.copy()
    pixel[100, 5] = (pixel[100, 5] + 1) % 17
    shuffled = rows[np.random.default_rng(0).permutation(len(rows))]
    cases = [
        (ds.generated_rows(1797, n_features=64, seed=0), "generated", {}, "dataset"),
        (ds.generated_rows(1797, n_features=64, seed=0), "digits", {}, "sha256"),
        (pixel, "digits", {}, "sha256"),
        (shuffled, "digits", {}, "sha256"),
        (rows[:-1], "digits", {}, "rows"),
        (rows, "digits", {"seed": 3}, "split seed"),
        (rows, "digits", {"test_rows": 300}, "test rows"),
        (rows, "digits", {"learner": "sklearn.svm.SVC"}, "learner"),
    ]
    for data, name, split, what in cases:
        reason = curve_matches_dataset(digits, data, name, **split)
        assert reason is not None
        assert f"round's {what} is" in reason
        assert "modelpact curve" in reason
        assert "\n" not in reason


def test_a_curve_without_record_matches_nothing() -> None:
    """A scenario whose curve records no dataset cannot show what it predicts: refused."""
    case1 = load_scenario(SCENARIOS / "paper_case1.toml")
    reason = curve_matches_dataset(case1, ds.digits_rows(), "digits")
    assert reason is not None
    assert "[accuracy.fitted_on] missing" in reason


def test_generated_curve_matches_its_generated_rows(tmp_path: Path) -> None:
    """`learn_dataset_curve("generated", generated_rows=R)` writes a section that, in a
    scenario, matches generated_rows(R, seed) and nothing else (not other R, seed or digits)."""
    toml = tmp_path / "acc.toml"
    cv.learn_dataset_curve(
        "generated", sizes=[40, 120, 360], repeats=2, seed=2, generated_rows=900, toml_path=toml
    )
    body = DIGITS.read_text()
    start, end = body.index("\n[accuracy]"), body.index("\n[valuation]")
    section = toml.read_text()
    scenario = parse_scenario(
        body[:start] + "\n" + section[section.index("[accuracy]") :] + body[end:]
    )
    assert curve_matches_dataset(scenario, ds.generated_rows(900, seed=2), "generated") is None
    for other in (ds.generated_rows(901, seed=2), ds.generated_rows(900, seed=3)):
        assert curve_matches_dataset(scenario, other, "generated") is not None
    assert curve_matches_dataset(scenario, ds.digits_rows(), "digits") is not None
    with pytest.raises(cv.CurveError, match="only applies to the generated dataset"):
        cv.learn_dataset_curve("digits", sizes=[20, 40, 80], generated_rows=900)


def test_record_is_part_of_the_scenario_hash(digits) -> None:
    """Changing any recorded field (here the digest) changes the canonical hash; the record
    parses back to the same values."""
    text = DIGITS.read_text()
    other = text.replace(digits.curve.fitted_on.sha256, "0" * 64)
    assert scenario_sha256(parse_scenario(other)) != scenario_sha256(digits)
    section = tomllib.loads(text)["accuracy"]
    assert section["fitted_on"] == digits.curve.fitted_on.params()
    assert section["uncertainty"]["spread_sd"] == list(digits.curve.uncertainty.spread_sd)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('dataset = "digits"', "dataset = 3", "fitted_on.dataset must be a non-empty string"),
        ("rows = 1797", "rows = 300", "test_rows must be below rows"),
        ("seed = 0\nlearner", "seed = -1\nlearner", "fitted_on.seed must be an integer >= 0"),
        ("repeats = 8", "repeats = 8\ncolour = 1", "unknown field accuracy.fitted_on.colour"),
        ("sizes = [20, 37", "sizes = [37, 20", "fitted_on.sizes must be a strictly increasing"),
        ("residual_sd = 0.0", "residual_sd = -0.0", "residual_sd must be a number in"),
        ('kind = "power"', 'kind = "power"\ntolerance = 2.0', "accuracy.tolerance must be"),
        ('kind = "power"', 'kind = "power"\ntolerance_confidence = 1.0', "confidence must be"),
    ],
)
def test_bad_records_are_one_clear_error(old: str, new: str, message: str) -> None:
    """Malformed record fields name the field and the fix."""
    text = DIGITS.read_text()
    assert old in text
    edited = text.replace(old, new, 1)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(edited)


def test_uncertainty_needs_a_power_curve_and_robust_needs_uncertainty() -> None:
    """[accuracy.uncertainty] describes a power-law fit only; [solver] robust needs it."""
    text = DIGITS.read_text()
    start = text.index("\n[accuracy]")
    end = text.index("\n[accuracy.fitted_on]")
    sgb = text[:start] + '\n[accuracy]\nkind = "sgb"\n' + text[end:]
    with pytest.raises(ScenarioError, match="kind is not power"):
        parse_scenario(sgb)
    case1 = load_scenario(SCENARIOS / "paper_case1.toml")
    with pytest.raises(ScenarioError, match="needs the curve's uncertainty"):
        case1.with_solver(robust=0.95)
    no_unc = replace(
        load_scenario(DIGITS), curve=replace(load_scenario(DIGITS).curve, uncertainty=None)
    )
    with pytest.raises(ScenarioError, match="needs the curve's uncertainty"):
        no_unc.with_solver(robust=0.9)


def test_a_record_copied_onto_an_inflated_curve_is_caught(digits) -> None:
    """The record is a claim: a coordinator can keep the honest [accuracy.fitted_on] and raise
    a_max by 0.01, and curve_matches_dataset (which checks the rows) passes. Learning the curve
    again from the record (curve_reproduces) gives the honest a_max and refuses it; the shipped
    curve reproduces."""
    from modelpact.economics import PowerAccuracy
    from modelpact.ml.curve import curve_reproduces

    rows = ds.digits_rows()
    acc = digits.accuracy
    assert isinstance(acc, PowerAccuracy)
    inflated = replace(digits, accuracy=replace(acc, a_max=acc.a_max + 0.01))
    assert curve_matches_dataset(inflated, rows, "digits") is None
    reason = curve_reproduces(inflated, rows)
    assert reason is not None
    assert "a_max" in reason
    assert curve_reproduces(digits, rows) is None

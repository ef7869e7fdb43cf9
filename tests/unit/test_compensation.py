"""The curve check's numbers (tolerance tau, rate rho) and tau's calibration on real trainings.

The contract compensates participants when the measured collective accuracy falls more than tau
below the curve's prediction. With an honest curve that must be rare (at most the stated one-sided
level), and with an inflated curve it must be the rule."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from modelpact.compensation import compensation_terms, curve_tolerance
from modelpact.economics import PowerAccuracy
from modelpact.errors import ScenarioError
from modelpact.ml import datasets as ds
from modelpact.ml.models import correct_count, train_model
from modelpact.optimizer import integerize_menu, solve
from modelpact.scenario import load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"
DIGITS = SCENARIOS / "digits_demo.toml"
ROUNDS = 200


@pytest.fixture(scope="module")
def demo():
    scenario = load_scenario(DIGITS)
    return scenario, integerize_menu(scenario, solve(scenario, benchmarks=False))


@pytest.fixture(scope="module")
def trainings(demo) -> np.ndarray:
    """(S, measured accuracy) of 200 real demo rounds: 10 types drawn from p, each delivering
    its option's rows as disjoint shards of the pool, the collective model trained on all of them
    and measured on the curve's own test set (the demo's split)."""
    scenario, menu = demo
    split = ds.split_test(ds.digits_rows(), test_size=360, seed=0)
    rng = np.random.default_rng(2026)
    out = []
    for r in range(ROUNDS):
        types = rng.choice(scenario.n_types, size=scenario.participants, p=scenario.probabilities)
        counts = [round(menu.options[k].m) for k in types]
        rows = np.vstack(ds.shard_pool(split.pool, counts, seed=10_000 + r))
        model = train_model(rows, seed=r)
        out.append((float(sum(counts)), correct_count(model, split.test) / split.test.shape[0]))
    return np.array(out)


def test_honest_curve_rarely_owes_compensation(demo, trainings) -> None:
    """Over 200 real trainings at the demo's row counts, the measured accuracy falls below
    a(S) - tau in at most 1% of rounds plus three binomial standard errors (6 of 200); the
    prediction used here is the curve itself, which the chain's knot interpolation only lowers."""
    scenario, menu = demo
    tau = curve_tolerance(scenario, menu=menu)
    assert tau.confidence == 0.99
    assert not tau.stated
    assert 0.005 < tau.tolerance < 0.05
    predicted = scenario.accuracy(trainings[:, 0])
    below = int(np.sum(trainings[:, 1] < predicted - tau.tolerance))
    allowed = 0.01 + 3.0 * math.sqrt(0.01 * 0.99 / ROUNDS)
    assert below / ROUNDS <= allowed, below


def test_inflated_curve_owes_compensation_in_most_rounds(demo, trainings) -> None:
    """The same rounds against a curve inflated by 0.05 in a_max (same uncertainty record):
    the shortfall beyond its tau shows in at least 90% of them."""
    scenario, menu = demo
    acc = scenario.accuracy
    assert isinstance(acc, PowerAccuracy)
    inflated = replace(
        scenario, accuracy=PowerAccuracy(a_max=acc.a_max + 0.05, b=acc.b, alpha=acc.alpha)
    )
    tau = curve_tolerance(inflated, menu=menu).tolerance
    predicted = inflated.accuracy(trainings[:, 0])
    assert np.mean(trainings[:, 1] < predicted - tau) >= 0.9


def test_terms_are_tau_in_wad_rounded_up_and_scale_times_unit_wei(demo) -> None:
    """tolerance_wad = ceil(tau * 1e18) of tau's shortest decimal; rho = scale x unit_wei (the
    demo: 100 x 1e14 wei); unit_wei can be overridden."""
    scenario, menu = demo
    terms = compensation_terms(scenario, menu=menu)
    tau = curve_tolerance(scenario, menu=menu).tolerance
    assert (
        terms.tolerance_wad == math.ceil(tau * 10**18)
        or abs(terms.tolerance_wad - tau * 10**18) <= 1e3
    )
    assert terms.tolerance_wad / 10**18 >= tau
    assert terms.shortfall_wei_per_wad == 100 * 10**14
    tolerance_wad, rho = compensation_terms(scenario, menu=menu, unit_wei=7)
    assert (tolerance_wad, rho) == (terms.tolerance_wad, 700)


def test_stated_tolerance_wins_and_missing_inputs_are_refused(demo) -> None:
    """[accuracy] tolerance is used as stated; no price, no uncertainty and no stated tolerance,
    or a non-linear valuation are each refused with the field to add."""
    scenario, menu = demo
    text = DIGITS.read_text().replace('kind = "power"', 'kind = "power"\ntolerance = 0.02', 1)
    stated = parse_scenario(text)
    assert compensation_terms(stated, menu=menu).tolerance_wad == 2 * 10**16
    with pytest.raises(ScenarioError, match="no wei price"):
        compensation_terms(replace(scenario, unit_wei=None), menu=menu)
    bare = replace(scenario, curve=replace(scenario.curve, uncertainty=None))
    with pytest.raises(ScenarioError, match="states no uncertainty"):
        compensation_terms(bare, menu=menu)
    case1 = load_scenario(SCENARIOS / "paper_case1.toml")
    expo = parse_scenario(
        (SCENARIOS / "paper_case1.toml")
        .read_text()
        .replace(
            'kind = "linear"\nscale = 100.0', 'kind = "exponential"\nscale = 100.0\nrate = 2.0'
        )
    )
    assert case1.unit_wei is None
    with pytest.raises(ScenarioError, match="linear valuation"):
        compensation_terms(expo, menu=solve(case1, benchmarks=False), unit_wei=1)


@pytest.mark.parametrize("participants", [10, 60])
def test_tolerance_is_the_normal_bisection_to_the_last_bit(demo, participants: int) -> None:
    """tau is exactly what the bisection on scipy.stats.norm gives (cdf and ppf): the special
    functions it calls now are the very ones norm computes with, so the committed
    tolerance_wad of a round cannot move."""
    from scipy.stats import norm

    from modelpact.compensation import _rows_distribution
    from modelpact.curve_record import sd_round

    scenario = replace(demo[0], participants=participants)
    menu = integerize_menu(scenario, solve(scenario, benchmarks=False))
    m = np.array([o.m if o.served else 0.0 for o in menu.options], dtype=np.float64)
    rows, weights = _rows_distribution(scenario, m)
    gamma = scenario.curve.tolerance_confidence
    sd = sd_round(scenario, rows)
    hi, lo = float(norm.ppf(gamma)) * float(sd.max()) + 1e-12, 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        excess = float(weights @ norm.cdf(-mid / np.maximum(sd, 1e-300))) - (1.0 - gamma)
        lo, hi = (mid, hi) if excess > 0.0 else (lo, mid)
        if hi - lo <= 1e-15:
            break
    assert curve_tolerance(scenario, menu=menu).tolerance == hi


@pytest.mark.parametrize(("name", "participants"), [("digits_demo", 300), ("paper_case1", 120)])
@pytest.mark.parametrize("belief", ["bayes", "paper"])
def test_rows_distribution_is_the_paper_models_bit_for_bit(
    name: str, participants: int, belief: str
) -> None:
    """tau's row distribution comes from the model the solve keeps (either belief, exact; paper
    Scenario 1 at N = 120 is truncated): the rows S_o and probabilities w_o are bit for bit the
    paper model's, which tau was derived from before, so no tolerance_wad moves."""
    from modelpact.compensation import _rows_distribution
    from modelpact.optimizer import economy_model

    scenario = replace(load_scenario(SCENARIOS / f"{name}.toml"), participants=participants)
    scenario = scenario.with_solver(belief=belief)
    m = np.arange(1.0, scenario.n_types + 1.0) * 37.0
    rows, weights = _rows_distribution(scenario, m)
    paper = economy_model(scenario.with_solver(belief="paper"), belief="paper")
    assert rows.tobytes() == (paper.base @ m).tobytes()
    want = paper.objective_weights[0]
    assert weights.tobytes() == (want / want.sum()).tobytes()


def test_tolerance_takes_sd_once_per_row_total_bit_for_bit(demo) -> None:
    """sd_round per distinct row total, spread back to the outcomes, is the array sd_round
    gives over every outcome, bit for bit (N = 1,000: 501,501 outcomes, 35,406 totals)."""
    from modelpact.compensation import _rows_distribution
    from modelpact.curve_record import sd_round

    scenario = replace(demo[0], participants=1000)
    rows, _ = _rows_distribution(scenario, np.array([32.0, 47.0, 140.0]))
    sizes, where = np.unique(rows, return_inverse=True)
    assert len(sizes) < len(rows) // 10
    assert sd_round(scenario, sizes)[where].tobytes() == sd_round(scenario, rows).tobytes()

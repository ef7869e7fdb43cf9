"""Accuracy curves, valuations, reservation utilities and the wallet's option choice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from modelpact.economics import (
    ExponentialValuation,
    LinearValuation,
    PowerAccuracy,
    SgbAccuracy,
    TableAccuracy,
    best_option,
    composite,
    reservation_utilities,
)
from modelpact.menu import Menu, MenuOption

# The paper's published Section 6.2 values, kept as the project's own test data (never skipped).
REFERENCE = json.loads((Path(__file__).parents[1] / "data" / "paper_sec6_2.json").read_text())

CURVES = [
    SgbAccuracy(),
    SgbAccuracy(a_opt=0.95, k=2.0),
    PowerAccuracy(a_max=0.9, b=5.0, alpha=0.5),
    TableAccuracy(data=(50.0, 100.0, 200.0, 400.0, 800.0), accuracy=(0.3, 0.5, 0.6, 0.68, 0.7)),
]


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.kind)
def test_derivatives_match_finite_differences(curve) -> None:
    """a' and a'' match central finite differences (the paper's own sgb a'' is wrong)."""
    x = np.array([60.0, 90.0, 130.0, 300.0, 1234.5, 5000.0])
    h = 1e-5 * x
    _a, a1, a2 = curve.evaluate(x)
    fd1 = (curve(x + h) - curve(x - h)) / (2 * h)
    fd2 = (curve.evaluate(x + h)[1] - curve.evaluate(x - h)[1]) / (2 * h)
    np.testing.assert_allclose(a1, fd1, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(a2, fd2, rtol=1e-4, atol=1e-12)


def test_sgb_is_flat_then_rises() -> None:
    """sgb (k=1) is exactly 0 up to ~55.8 and positive just beyond."""
    sgb = SgbAccuracy()
    assert sgb.zero_point() == pytest.approx(55.807, abs=1e-3)
    assert np.all(sgb(np.array([0.0, 0.1, 1.0, 10.0, 55.0])) == 0.0)
    assert sgb(np.array([56.5]))[0] > 0.0


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.kind)
def test_envelope_is_concave_majorant(curve) -> None:
    """The envelope is >= the curve everywhere, equal beyond the tangent point, and concave."""
    x = np.linspace(0.0, 4000.0, 20001)
    a = curve(x)
    e, _, e2 = curve.evaluate(x, envelope=True)
    assert np.all(e >= a - 1e-12)
    beyond = x > curve.tangent_point * 1.0001
    np.testing.assert_allclose(e[beyond], a[beyond], atol=1e-14)
    assert np.all(np.diff(e, 2) <= 1e-12)
    assert np.all(e2 <= 1e-15)


def test_table_is_concave_and_monotone() -> None:
    """The table interpolant is non-decreasing and concave even when points are not."""
    t = TableAccuracy(data=(10.0, 20.0, 30.0, 40.0), accuracy=(0.1, 0.5, 0.45, 0.6))
    x = np.linspace(0, 60, 6001)
    a = t(x)
    assert np.all(np.diff(a) >= -1e-15)
    assert np.all(np.diff(a, 2) <= 1e-12)


@pytest.mark.parametrize("case", ["case1", "case2"])
def test_reservation_utilities_match_paper(case: str) -> None:
    """f_i of the paper's two scenarios match the published reservation utilities to 1e-6."""
    ref = REFERENCE["scenarios"][case]
    f, m = reservation_utilities(SgbAccuracy(), LinearValuation(100.0), ref["c"])
    np.testing.assert_allclose(f, ref["reserv_u"], atol=1e-6)
    assert np.all((f > 0) == (m > 0))


def test_reservation_utility_is_zero_when_alone_is_too_costly() -> None:
    """With cost 1 per unit and v = 100 a, training alone never pays: f = 0 and m = 0."""
    f, m = reservation_utilities(SgbAccuracy(), LinearValuation(100.0), [1.0])
    assert f[0] == 0.0
    assert m[0] == 0.0


def test_composite_chain_rule_with_concave_valuation() -> None:
    """u = v(a(x)) derivatives match finite differences for the exponential valuation."""
    curve, val = PowerAccuracy(0.9, 5.0, 0.5), ExponentialValuation(100.0, 2.0)
    x = np.array([100.0, 500.0, 2000.0])
    h = 1e-5 * x
    _u, u1, u2 = composite(curve, val, x)
    up, dn = composite(curve, val, x + h), composite(curve, val, x - h)
    np.testing.assert_allclose(u1, (up[0] - dn[0]) / (2 * h), rtol=1e-5)
    np.testing.assert_allclose(u2, (up[1] - dn[1]) / (2 * h), rtol=1e-4)
    assert float(val(np.array([1.0]))[0]) == pytest.approx(100.0)


def _menu(ms: list[float], ts: list[float], served: list[bool] | None = None) -> Menu:
    served = served or [True] * len(ms)
    opts = tuple(
        MenuOption(i + 1, 1.0 / (i + 1), 1 / len(ms), s, m, t, t, 1.0, 0.0, 0.0)
        for i, (m, t, s) in enumerate(zip(ms, ts, served, strict=True))
    )
    return Menu(opts, 0.5, 50.0, 0.5, "bayes", "exact", "00" * 32, 0.0, participants=3)


def test_best_option_argmax_and_ties() -> None:
    """best_option returns every utility, the argmax, and the lowest index on ties."""
    menu = _menu([10.0, 20.0, 30.0], [5.0, 8.0, 11.0])
    index, utilities = best_option(menu, 0.3)
    np.testing.assert_allclose(utilities, [2.0, 2.0, 2.0])
    assert index == 0
    index, utilities = best_option(menu, 0.1)
    assert index == 2
    np.testing.assert_allclose(utilities, [4.0, 6.0, 8.0])


def test_best_option_indexes_offered_options_only() -> None:
    """Unserved options are not on chain: indices refer to the offered (served) options."""
    menu = _menu([10.0, 20.0, 30.0], [5.0, 8.0, 11.0], [False, True, True])
    index, utilities = best_option(menu, 0.1)
    assert len(utilities) == 2
    assert index == 1


def test_choose_option_reports_both_outside_options() -> None:
    """choose_option gives the argmax, 0 for staying out, f for training alone, and joins iff
    the best utility beats both."""
    from modelpact.economics import choose_option

    menu = _menu([100.0, 200.0], [60.0, 80.0])
    sgb, linear = SgbAccuracy(), LinearValuation(100.0)
    cheap = choose_option(menu, 0.04, sgb, linear)
    f, _ = reservation_utilities(sgb, linear, [0.04])
    assert cheap.index == 1
    assert cheap.outside_utility == 0.0
    assert cheap.reservation_utility == pytest.approx(f[0])
    assert cheap.joins == (cheap.best_utility >= f[0])
    assert cheap.joins  # 80 - 0.04 * 200 = 72 >= f(0.04) ~ 44.16
    stingy = choose_option(_menu([100.0, 200.0], [10.0, 12.0]), 0.04, sgb, linear)
    assert stingy.index == 0
    assert stingy.best_utility == pytest.approx(6.0)
    assert not stingy.joins  # 6 > 0 but training alone gives ~44.16


def test_take_option_is_the_one_rule_with_its_tie_break() -> None:
    """The best utility wins; among ties (within 1e-6) the option designed for the
    participant's type when given and tied, else the largest contribution (highest id); joining
    is worth it when the best utility reaches the outside option within the same tolerance."""
    from modelpact.economics import TIE_TOLERANCE, take_option, worth_joining

    assert take_option([1.0, 3.0, 2.0]) == 1
    tied = [2.0, 2.0 + TIE_TOLERANCE / 4, 2.0 - TIE_TOLERANCE / 4, 1.0]
    assert take_option(tied) == 2
    assert take_option(tied, own=0) == 0
    assert take_option(tied, own=3) == 2  # its own option is not among the best: largest tied
    assert worth_joining(5.0, 5.0 + TIE_TOLERANCE / 2)
    assert not worth_joining(5.0, 5.1)


def test_simulator_takes_options_by_the_one_rule() -> None:
    """The simulator's choice for each type of Scenario 1 is take_option with its own option."""
    from modelpact.economics import option_utilities, take_option, worth_joining
    from modelpact.ml.simulate import _pick
    from modelpact.optimizer import solve
    from modelpact.scenario import load_scenario

    root = Path(__file__).resolve().parents[2]
    scenario = load_scenario(root / "offchain/modelpact/data/scenarios/paper_case1.toml")
    menu = solve(scenario, benchmarks=False)
    f, _ = reservation_utilities(scenario.accuracy, scenario.valuation, scenario.costs)
    for k, cost in enumerate(scenario.costs):
        utilities = option_utilities(menu, float(cost))
        own = next(j for j, o in enumerate(menu.offered) if o.type == k + 1)
        expected = take_option(utilities, own=own)
        if not worth_joining(float(utilities[expected]), float(f[k])):
            expected = None
        assert _pick(menu, k + 1, float(cost), float(f[k]), 1e-6) == expected


def test_a_curve_steep_past_its_zero_point_has_its_tangent_there() -> None:
    """An sgb curve so steep (k = 1e12) that it is concave, in floating point, just past its
    zero point gets its tangent there instead of a root-finder ValueError (a scenario with such
    a k used to end in a traceback)."""
    curve = SgbAccuracy(a_opt=1.0, k=1e12)
    tangent = curve.tangent_point
    assert np.isfinite(tangent)
    assert tangent > 0


def test_an_sgb_curves_tangent_point_is_computed_once_per_parameters() -> None:
    """The tangent point is a function of (a_opt, k) alone: a second curve with the same
    parameters reuses it (1,500 grid scenarios paid the bisection each), and it is the very
    number a fresh computation gives; other parameters get their own."""
    import modelpact.economics as economics

    first = SgbAccuracy(a_opt=0.93, k=1.7)
    again = SgbAccuracy(a_opt=0.93, k=1.7)
    assert again.tangent_point == first.tangent_point
    zero = first.zero_point()
    fresh = economics._tangent_from_origin(first._raw, zero, 4.0 * zero)
    assert first.tangent_point == fresh
    other = SgbAccuracy(a_opt=0.93, k=1.8)
    assert other.tangent_point != first.tangent_point
    a, a1, _ = other.evaluate(np.array([other.tangent_point]))
    assert a[0] == pytest.approx(other.tangent_point * a1[0], rel=1e-9)


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.kind)
def test_value_alone_is_bit_identical_to_the_evaluated_value(curve) -> None:
    """A curve's value without derivatives (what the rounding search evaluates over millions of
    sampled outcomes) equals the a of ``evaluate`` bit for bit, at 0, negative data, the zero
    point, around the tangent point and far out: the search and the solver see one curve."""
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            np.array([0.0, -1.0, 1e-12, curve.tangent_point, 1e9]),
            rng.uniform(0.0, 3.0 * max(curve.tangent_point, 10.0), 2_000),
            rng.lognormal(5.0, 2.0, 2_000),
        ]
    )
    assert np.array_equal(curve(x), curve.evaluate(x)[0])
    grid = x.reshape(5, -1) if x.size % 5 == 0 else x[:4000].reshape(40, 100)
    assert np.array_equal(curve(grid), curve.evaluate(grid)[0])

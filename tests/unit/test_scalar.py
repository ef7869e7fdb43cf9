"""The hand-written scalar searches agree with scipy's brentq and bounded minimize_scalar."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

from modelpact.economics import LinearValuation, SgbAccuracy, reservation_utility
from modelpact.scalar import bisect_root, golden_max


@pytest.mark.parametrize("shift", [0.1, 0.5, 1.7, 3.0, 9.9])
def test_bisect_root_meets_its_tolerance_where_brentq_finds_the_root(shift: float) -> None:
    """The returned x is within xtol + rtol |x| of the root brentq finds in the same bracket."""

    def f(x: float) -> float:
        return math.log(x) - math.log(shift) + 0.1 * (x - shift) ** 3

    ours = bisect_root(f, 0.01, 20.0, xtol=1e-12, rtol=1e-14)
    theirs = brentq(f, 0.01, 20.0, xtol=1e-12, rtol=1e-14)
    assert abs(ours - theirs) <= 2e-12 + 2e-14 * abs(theirs)


def test_bisect_root_refuses_a_bracket_without_a_sign_change() -> None:
    """Same signs at both ends: ValueError, never a made-up root."""
    with pytest.raises(ValueError, match="same sign"):
        bisect_root(lambda x: x * x + 1.0, -1.0, 1.0, xtol=1e-12, rtol=0.0)


@pytest.mark.parametrize("peak", [0.3, 1.0, 2.5, 7.0])
def test_golden_max_finds_the_maximiser_bounded_brent_finds(peak: float) -> None:
    """On a unimodal function both land at the maximiser (to the sqrt(eps) that rounding leaves
    of a flat maximum) and ours is no worse in value."""

    def f(x: float) -> float:
        return -((x - peak) ** 2) + 0.01 * math.sin(x)

    ours = golden_max(f, 0.0, 10.0, xtol=1e-10)
    theirs = minimize_scalar(
        lambda x: -f(x), bounds=(0.0, 10.0), method="bounded", options={"xatol": 1e-10}
    ).x
    assert abs(ours - theirs) <= 1e-7
    assert f(ours) >= f(theirs) - 1e-14


@pytest.mark.parametrize("cost", [0.005, 0.01, 0.02, 0.05])
def test_reservation_utility_matches_the_bounded_brent_refinement(cost: float) -> None:
    """f (the reservation utility) equals the value scipy's bounded Brent gives, to 1e-12."""
    accuracy, valuation = SgbAccuracy(a_opt=1.0, k=1.0), LinearValuation(scale=100.0)
    f, m = reservation_utility(accuracy, valuation, cost)
    found = minimize_scalar(
        lambda x: -float(valuation(accuracy(np.array([x])))[0] - cost * x),
        bounds=(0.5 * m, 1.5 * m),
        method="bounded",
        options={"xatol": 1e-10 * m},
    )
    assert abs(f - (-float(found.fun))) <= 1e-12 * max(1.0, f)

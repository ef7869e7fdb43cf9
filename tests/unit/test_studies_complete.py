"""The paper's complete-information contract, checked against an independent computation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar

from modelpact.economics import LinearValuation, SgbAccuracy, reservation_utilities
from modelpact.outcomes import enumerate_outcomes
from modelpact.scenario import Scenario, SolverOptions, TypeSpec
from modelpact.studies.complete import collective_roots, complete_information, type_weights

ACC = SgbAccuracy()
VAL = LinearValuation(100.0)


def two_type(n: int, p1: float, *, expectation: str = "exact") -> Scenario:
    return Scenario(
        participants=n,
        types=(TypeSpec(0.02, p1), TypeSpec(0.01, 1.0 - p1)),
        accuracy=ACC,
        valuation=VAL,
        solver=SolverOptions(belief="paper", expectation=expectation, samples=4000),  # type: ignore[arg-type]
    )


def brute_force_root(slope: float, offset: float) -> float:
    """Largest root of S = slope u(S) - offset by a 20,000-point scan and scipy's brentq."""

    def h(s: float) -> float:
        return slope * float(VAL(ACC(np.array([s])))[0]) - offset - s

    top = slope * 100.0 - offset
    if top <= 0:
        return 0.0
    grid = np.linspace(1e-6, top, 20_000)
    values = slope * VAL(ACC(grid)) - offset - grid
    positive = np.flatnonzero(values >= 0)
    if len(positive) == 0:  # a maximum touching 0 (one participant alone) is a double root
        j = int(np.argmax(values))
        lo, hi = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
        peak = minimize_scalar(lambda s: -h(s), bounds=(lo, hi), method="bounded",
                               options={"xatol": 1e-10})  # fmt: skip
        return float(peak.x) if -peak.fun >= -1e-9 * peak.x else 0.0
    j = positive.max()
    return float(brentq(h, grid[j], grid[j + 1], xtol=1e-12, rtol=1e-15))


def test_roots_match_a_brute_force_scan_and_brentq() -> None:
    """The vectorised largest root equals an independent fine scan + brentq (1e-9 relative), on
    the two-type outcomes of several N and on random (A, B) pairs, including pairs with no
    positive root (then S = 0) and the double roots of N = 1 (1e-7: a tangent point)."""
    c = np.array([0.02, 0.01])
    f, _ = reservation_utilities(ACC, VAL, c)
    counts = np.vstack([enumerate_outcomes(n, np.array([0.5, 0.5])).counts for n in (1, 2, 7)])
    rng = np.random.default_rng(3)
    slopes = np.concatenate([counts @ (1 / c), rng.uniform(0.2, 300.0, 12), [1.0, 0.5]])
    offsets = np.concatenate([counts @ (f / c), rng.uniform(0.0, 4000.0, 12), [0.0, 0.0]])
    ours = collective_roots(accuracy=ACC, valuation=VAL, slope=slopes, offset=offsets)
    theirs = np.array([brute_force_root(a, b) for a, b in zip(slopes, offsets, strict=True)])
    # the N = 1 outcomes come first: a double root (h touches 0) is located to ~sqrt(eps) only
    np.testing.assert_allclose(ours[:2], theirs[:2], rtol=1e-7)
    np.testing.assert_allclose(ours[2:], theirs[2:], rtol=1e-9, atol=1e-9)
    # S = 100 a(S) and S = 50 a(S) have no positive root
    assert ours[-1] == 0.0
    assert ours[-2] == 0.0


@pytest.mark.parametrize("belief", ["paper", "bayes"])
@pytest.mark.parametrize(("n", "p1"), [(2, 0.5), (10, 0.3), (37, 0.9)])
def test_ir_binds_with_equality_for_every_present_type(belief: str, n: int, p1: float) -> None:
    """Complete information: in every outcome each present type's utility t - c m equals its
    reservation utility f (to 1e-9 value units), everyone gets the collective model, and so the
    per-type expectations under either belief also satisfy E t - c E m = f."""
    ci = complete_information(scenario=two_type(n, p1), belief=belief)  # type: ignore[arg-type]
    present = ci.counts >= 1
    residual = np.where(present, ci.utility - ci.reservation[None, :], 0.0)
    assert np.max(np.abs(residual)) < 1e-9
    np.testing.assert_allclose(ci.pooled, (ci.counts * ci.m).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(ci.expected_t - ci.costs * ci.expected_m, ci.reservation, atol=1e-9)
    assert np.all(ci.m[present] > 0.0)


def test_published_complete_information_values() -> None:
    """E v(a(S)) under complete information matches the paper's printed values at p1 = 0.5:
    94.33 (N = 10) and 98.217 (N = 100), within half a unit of the last printed digit."""
    assert abs(complete_information(scenario=two_type(10, 0.5), belief="paper").expected_value
               - 94.33) <= 0.005  # fmt: skip
    assert abs(complete_information(scenario=two_type(100, 0.5), belief="paper").expected_value
               - 98.217) <= 0.0005  # fmt: skip


def test_bayes_weights_are_the_other_participants_multinomial() -> None:
    """Reweighting Multinomial(N, p) outcomes by n_i / (N p_i) is the same belief as 'I am of
    type i and the other N - 1 are Multinomial(N - 1, p)' (checked on a function of n)."""
    p = np.array([0.2, 0.3, 0.5])
    n = 6
    full = enumerate_outcomes(n, p)
    weights = type_weights(full.counts, full.weights, p, belief="bayes")
    g = full.counts @ np.array([1.0, 2.5, 7.0]) + full.counts[:, 0] ** 2
    others = enumerate_outcomes(n - 1, p)
    for i in range(3):
        shifted = others.counts + np.eye(3, dtype=np.int64)[i]
        direct = others.weights @ (shifted @ np.array([1.0, 2.5, 7.0]) + shifted[:, 0] ** 2)
        assert weights[i] @ g == pytest.approx(direct, rel=1e-12)


def test_nobody_contributes_when_no_type_would_train_alone_and_n_is_small() -> None:
    """With one participant of cost 1 (f = 0) no positive S satisfies S = v(a(S)) / c: the
    contract is m = 0, t = v(a(0)) = 0, and IR (f = 0) still binds."""
    scenario = Scenario(
        participants=1,
        types=(TypeSpec(1.0, 0.5), TypeSpec(0.9, 0.5)),
        accuracy=ACC,
        valuation=VAL,
        solver=SolverOptions(),
    )
    ci = complete_information(scenario=scenario, belief="bayes")
    assert np.all(ci.pooled == 0.0)
    assert ci.expected_value == 0.0
    np.testing.assert_array_equal(ci.expected_m, [0.0, 0.0])


def test_sampled_expectation_is_close_to_exact() -> None:
    """A sampled scenario (4,000 draws) estimates the exact complete-information value to
    within 0.1 value units (about 6 standard errors) at N = 10."""
    exact = complete_information(scenario=two_type(10, 0.4), belief="paper").expected_value
    sampled = complete_information(
        scenario=two_type(10, 0.4, expectation="sampled"), belief="paper"
    ).expected_value
    assert abs(exact - sampled) < 0.1


def test_a_lone_participant_trains_alone() -> None:
    """With N = 1 the only outcomes are one participant of one type: S = (v(a(S)) - f) / c has
    a double root at the stand-alone data m_res (the maximum of h touches 0), so complete
    information asks exactly m_res, pays v(a(m_res)) = f + c m_res, and m is never negative
    (before: the tangent root was missed, S = 0 and m = -f / c)."""
    ci = complete_information(scenario=two_type(1, 0.3), belief="paper")
    present = ci.counts >= 1
    assert np.all(ci.m >= 0.0)
    np.testing.assert_allclose(ci.m[present], ci.reservation_m[np.argmax(ci.counts, axis=1)],
                               rtol=1e-6)  # fmt: skip
    alone = ci.reservation + ci.costs * ci.reservation_m
    assert ci.expected_value == pytest.approx(0.3 * alone[0] + 0.7 * alone[1], rel=1e-8)


def test_complete_information_is_not_an_upper_bound_in_general() -> None:
    """The paper's per-outcome contract is a benchmark, not a bound: with c = (0.5, 0.001), N = 2
    two high-cost participants alone have no positive root (S = 0), while a menu pays the
    high-cost type an expectation over outcomes and collects data in every outcome, so the
    (feasible) menu is worth more than complete information and the information cost is
    positive. Nobody should clamp it to 0 or assert its sign outside the paper's studies."""
    from modelpact.studies.point import solve_point

    scenario = Scenario(
        participants=2,
        types=(TypeSpec(0.5, 0.5), TypeSpec(0.001, 0.5)),
        accuracy=ACC,
        valuation=VAL,
        solver=SolverOptions(belief="paper"),
    )
    point = solve_point(scenario=scenario, belief="paper")
    assert point.status == "ok"
    assert point.information_cost > 10.0
    m, t = np.array(point.m), np.array(point.t)
    assert np.all(t - scenario.costs * m >= np.array(point.reservation) - 1e-7)
    assert np.all(t <= np.array(point.t_bar) + 1e-7)


def test_too_many_outcomes_is_a_failed_point_not_an_exhausted_machine() -> None:
    """An exact scenario whose complete-information contract would enumerate more outcomes than
    the optimizer's exact limit (N = 200, K = 5: 70 million) is a failed point naming the count
    and the fix, decided before any enumeration (it used to allocate until memory ran out)."""
    from modelpact.studies.point import solve_point

    scenario = Scenario(
        participants=200,
        types=tuple(TypeSpec(c, 0.2) for c in (0.2, 0.16, 0.12, 0.08, 0.04)),
        accuracy=ACC,
        valuation=VAL,
        solver=SolverOptions(belief="paper", expectation="exact"),  # type: ignore[arg-type]
    )
    point = solve_point(scenario=scenario, belief="paper")
    assert point.status == "failed"
    assert "enumerate 70,058,751 outcomes (N=200, K=5), more than 3,000,000" in point.message
    assert 'expectation = "sampled"' in point.message


def test_bayes_ir_shortfall_matches_a_direct_computation() -> None:
    """The IR shortfall of a Bayesian participant under the paper-belief menu (N = 2, p1 = 0.5)
    equals a direct computation: the other participant is of type j with probability p_j, so
    tbar_i^bayes = sum_j p_j v(a(m_i + m_j)), and the shortfall is f_i + c_i m_i - ratio_i
    tbar_i^bayes (0.1636 for type 1, 0 for type 2, whose full model the paper belief
    undervalues). Computing it under the paper belief instead would give 0."""
    from modelpact.studies.point import solve_point

    point = solve_point(scenario=two_type(2, 0.5), belief="paper")
    m, ratio, f = np.array(point.m), np.array(point.ratio), np.array(point.reservation)
    p, c = np.array([0.5, 0.5]), np.array([0.02, 0.01])
    pair = VAL(ACC(m[:, None] + m[None, :]))  # [me, other]
    direct = np.maximum(f + c * m - ratio * (pair @ p), 0.0)
    np.testing.assert_allclose(point.bayes_ir_shortfall, direct, atol=1e-9)
    assert point.bayes_ir_shortfall[0] > 0.1

"""Uncertain participation: a quorum Q and a law of the number of participants n.

The menu is solved for the mixture over n (modelpact.participation). These tests check the
derivation against a seat-by-seat enumeration that knows nothing of size-biasing or the pooled
identity, and that the published menu keeps every promise in expectation over the mixture."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from modelpact.checker import check_menu
from modelpact.errors import ScenarioError
from modelpact.optimizer import conditional_values, economy_model, integerize_menu, solve
from modelpact.participation import count_distribution
from modelpact.scenario import Scenario, load_scenario, parse_scenario, scenario_sha256

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"
DIGITS = (SCENARIOS / "digits_demo.toml").read_text()


def _digits(participation: str, participants: int = 10) -> Scenario:
    text = DIGITS.replace("participants = 10", f"participants = {participants}")
    return parse_scenario(text + "\n[participation]\n" + participation + "\n")


def _seat_law(n_all: int, quorum: int, fill: float) -> list[tuple[int, float]]:
    """Given MY seat is filled, the others k ~ Binomial(N - 1, fill) with k + 1 >= Q."""
    raw = [
        (k, math.comb(n_all - 1, k) * fill**k * (1 - fill) ** (n_all - 1 - k))
        for k in range(n_all)
        if k + 1 >= quorum
    ]
    total = sum(w for _, w in raw)
    return [(k, w / total) for k, w in raw]


def _brute_tbar(scenario: Scenario, m: np.ndarray, i: int, quorum: int, fill: float) -> float:
    """E[v(a(S)) | I am in the round, of type i] by enumerating the other seats and every
    sequence of their types: no size-biasing formula, no pooled identity."""
    p = scenario.probabilities
    total = 0.0
    for k, weight in _seat_law(scenario.participants, quorum, fill):
        for seq in itertools.product(range(scenario.n_types), repeat=k):
            prob = float(np.prod([p[j] for j in seq]))
            rows = m[i] + sum(m[j] for j in seq)
            value = float(scenario.valuation(scenario.accuracy(np.array([rows])))[0])
            total += weight * prob * value
    return total


@pytest.fixture(scope="module")
def uncertain() -> tuple[Scenario, object]:
    scenario = _digits("quorum = 4\nfill = 0.8", participants=8)
    return scenario, solve(scenario, benchmarks=False)


def test_no_section_is_todays_model_and_hash() -> None:
    """Without [participation] nothing changes: quorum = N, the paper scenarios hash as before
    (pinned), and all seats filling for sure (quorum = N, fill = 1) gives the same menu."""
    case1 = load_scenario(SCENARIOS / "paper_case1.toml")
    assert case1.participation is None
    assert case1.quorum == 10
    assert scenario_sha256(case1) == (
        "75e0a42cac12eae7345bbc604707d5484d453705408ac40f6be78c4aaed44765"
    )
    default = load_scenario(SCENARIOS / "digits_demo.toml")
    full = _digits("quorum = 10\nfill = 1.0")
    assert scenario_sha256(full) != scenario_sha256(default)
    a = solve(default, benchmarks=False)
    b = solve(full, benchmarks=False)
    assert b.expected_accuracy == pytest.approx(a.expected_accuracy, abs=1e-12)
    for x, y in zip(a.options, b.options, strict=True):
        assert y.m == pytest.approx(x.m, rel=1e-7)
        assert y.t == pytest.approx(x.t, rel=1e-9)


def test_fill_law_is_the_binomial_conditioned_on_the_quorum() -> None:
    """fill = q gives P(n) proportional to C(N, n) q^n (1-q)^(N-n) on Q..N."""
    scenario = _digits("quorum = 6\nfill = 0.7")
    assert scenario.participation is not None
    ns, probs = count_distribution(10, scenario.participation)
    want = np.array([math.comb(10, n) * 0.7**n * 0.3 ** (10 - n) for n in range(6, 11)])
    assert ns.tolist() == [6, 7, 8, 9, 10]
    np.testing.assert_allclose(probs, want / want.sum(), rtol=1e-12)


def test_bayes_tbar_equals_seat_by_seat_enumeration(uncertain) -> None:
    """t_bar_i of the solved menu (size-biased count, pooled identity) equals the expectation
    computed seat by seat over every type sequence of the other seats, for every type."""
    scenario, menu = uncertain
    m = np.array([o.m for o in menu.options])
    for i, option in enumerate(menu.options):
        want = _brute_tbar(scenario, m, i, quorum=4, fill=0.8)
        assert option.t_bar == pytest.approx(want, rel=1e-12)


def test_promises_kept_exactly_over_the_mixture(uncertain) -> None:
    """The exact expectation of ratio_i x v(a(S)) over the mixture, seat by seat, equals t_i
    for every type (integer menu as published), and IR and IC hold on those delivered values."""
    scenario, menu = uncertain
    integer = integerize_menu(scenario, menu)
    m = np.array([o.m for o in integer.options])
    delivered = np.array(
        [o.ratio * _brute_tbar(scenario, m, i, 4, 0.8) for i, o in enumerate(integer.options)]
    )
    t = np.array([o.t for o in integer.options])
    np.testing.assert_allclose(delivered, t, rtol=1e-12)
    c = scenario.costs
    f = np.array([o.reservation_utility for o in integer.options])
    utility = delivered[None, :] - c[:, None] * m[None, :]  # [type, option]
    assert np.all(np.diag(utility) >= f - 1e-9)
    margin = scenario.solver.ic_margin
    for i in range(len(c)):
        others = np.delete(utility[i], i)
        assert utility[i, i] >= others.max() + margin - 1e-9
    assert check_menu(scenario, integer).ok


def test_paper_belief_conditions_on_the_type_appearing(uncertain) -> None:
    """Under the paper belief t_bar_i is E[v(a(c.m)) | c_i >= 1] over the mixture: the same
    number by enumerating every seat pattern and type sequence of the whole round."""
    scenario, _ = uncertain
    m = np.array([30.0, 50.0, 120.0])
    tbar, _, _ = conditional_values(scenario, m, belief="paper")
    n_all, p, q = scenario.participants, scenario.probabilities, 0.8
    num, den = np.zeros(3), np.zeros(3)
    for n in range(4, n_all + 1):
        pn = math.comb(n_all, n) * q**n * (1 - q) ** (n_all - n)
        for seq in itertools.product(range(3), repeat=n):
            prob = pn * float(np.prod(p[list(seq)]))
            value = float(scenario.valuation(scenario.accuracy(np.array([m[list(seq)].sum()])))[0])
            for i in set(seq):
                num[i] += prob * value
                den[i] += prob
    np.testing.assert_allclose(tbar, num / den, rtol=1e-12)


def test_sampled_mixture_agrees_with_exact() -> None:
    """Sampled participation draws n then types; t_bar lands within 4 standard errors."""
    exact = _digits("quorum = 5\nfill = 0.75")
    sampled = exact.with_solver(expectation="sampled", samples=40000)
    m = np.array([31.0, 48.0, 131.0])
    want, _, _ = conditional_values(exact, m, belief="bayes")
    model = economy_model(sampled, belief="bayes")
    got, _, _ = conditional_values(sampled, m, belief="bayes", model=model)
    np.testing.assert_allclose(got, want, atol=0.05)


def test_worst_count_menu_keeps_every_promise_at_every_count() -> None:
    """counts = [Q] solves for the quorum itself; since adding a participant adds data, its
    promises hold conditionally at every count between Q and N (not only on average)."""
    worst = _digits("quorum = 6\ncounts = [6]\nprobabilities = [1.0]")
    menu = integerize_menu(worst, solve(worst, benchmarks=False))
    m = np.array([o.m for o in menu.options])
    ratio = np.array([o.ratio for o in menu.options])
    t = np.array([o.t for o in menu.options])
    for n in range(6, 11):
        fixed = _digits(f"quorum = {n}\ncounts = [{n}]\nprobabilities = [1.0]")
        tbar, _, _ = conditional_values(fixed, m, belief="bayes")
        assert np.all(ratio * tbar >= t - 1e-9), n


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("fill = 0.9", "participation.quorum must be an integer in 1..10"),
        ("quorum = 11\nfill = 0.9", "participation.quorum must be an integer in 1..10"),
        ("quorum = 5", "either fill or counts"),
        ("quorum = 5\nfill = 0.9\ncounts = [5]", "either fill or counts"),
        ("quorum = 5\nfill = 0.0", "participation.fill must be in (0, 1]"),
        ("quorum = 5\ncounts = [4, 10]\nprobabilities = [0.5, 0.5]", "counts must be increasing"),
        ("quorum = 5\ncounts = [5, 10]\nprobabilities = [0.5, 0.6]", "summing to 1"),
        ("quorum = 5\nfill = 0.9\nseats = 3", "unknown field participation.seats"),
    ],
)
def test_bad_participation_is_one_clear_error(section: str, message: str) -> None:
    """Every malformed [participation] names the field and the fix."""
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _digits(section)


def test_exact_enumeration_refused_beyond_the_limit() -> None:
    """The mixture's outcome count is bounded like the plain one (hint: sampled)."""
    scenario = _digits("quorum = 1\nfill = 0.5")
    big = replace(scenario, participants=4000)
    with pytest.raises(ScenarioError, match="more than 3,000,000") as caught:
        economy_model(big, belief="bayes")
    assert "sampled" in caught.value.one_line()

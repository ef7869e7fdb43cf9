"""Hypothesis: integerize_menu's batched evaluation equals the direct one with up to 6 types.

test_rounding_properties draws the shipped scenarios (3 types). The batched evaluation's
shapes (candidates x types, the shifted model's per-type views, the IC relaxation over types)
are where a transposition or a broadcast over the wrong axis shows only with K != 3: here the
digits scenario's types are replaced by K = 1..6 drawn types (costs, probabilities), with a
handful of participants (an exact model has ~N^(K-1) outcomes), under the exact, shifted,
sampled and participation models, nominal and robust. Also curve_tolerance's row
distribution (the solve's own model, not a second paper model) over the same scenarios.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelpact.optimizer import economy_model
from modelpact.optimizer.constraints import greatest_t
from modelpact.optimizer.economy import make_economy
from modelpact.optimizer.expectations import evaluate
from modelpact.optimizer.robust import robust_margin
from modelpact.optimizer.rounding import _batch_values, _greatest_t_batch, _Search
from modelpact.optimizer.types import Belief
from modelpact.outcomes import BeliefModel, belief_model
from modelpact.scenario import Scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"
RTOL = 1e-12
BELIEFS: tuple[Belief, ...] = ("bayes", "paper")

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def many_types(draw: st.DrawFn, mode: str) -> tuple[Scenario, BeliefModel]:
    """The digits scenario with K drawn types and N participants, and its outcome model."""
    k = draw(st.integers(1, 6))
    n = draw(st.integers(2, {1: 40, 2: 30, 3: 12, 4: 7, 5: 5, 6: 4}[k]))
    weights = [draw(st.integers(1, 9)) for _ in range(k)]
    drawn = draw(st.lists(st.integers(1, 30), min_size=k, max_size=k, unique=True))
    costs = sorted((c / 20 for c in drawn), reverse=True)  # strictly decreasing, as required
    text = (SCENARIOS / "digits_demo.toml").read_text()
    text = re.sub(r"(?m)^participants = \d+", f"participants = {n}", text)
    types = "".join(
        f'[[types]]\nname = "t{i}"\ncost = {costs[i]}\nprobability = {w / sum(weights)!r}\n\n'
        for i, w in enumerate(weights)
    )
    text = re.sub(r"(?s)\[\[types\]\].*?(?=\[accuracy\])", types, text)
    if mode == "participation":
        text += f"\n[participation]\nquorum = {max(1, n // 2)}\nfill = 0.8\n"
    belief: Belief = draw(st.sampled_from(BELIEFS))
    scenario = parse_scenario(text, source="hypothesis").with_solver(belief=belief)
    if mode == "sampled":
        samples = draw(st.integers(100, 2000))
        scenario = scenario.with_solver(expectation="sampled", samples=samples, seed=5)
        return scenario, economy_model(scenario, belief=belief, stream=1)
    scenario = scenario.with_solver(robust=draw(st.sampled_from([None, 0.8, 0.95])))
    if mode == "shifted":
        return scenario, belief_model(belief, n, scenario.probabilities)
    return scenario, make_economy(scenario, belief).model


@pytest.mark.parametrize("mode", ["exact", "sampled", "shifted", "participation"])
@SETTINGS
@given(
    data=st.data(),
    count=st.integers(1, 40),
    top=st.sampled_from([3, 40, 300]),
    fraction=st.sampled_from([0.0, 0.0, 0.25]),
    seed=st.integers(0, 2**16),
)
def test_batched_values_equal_direct_evaluation_for_1_to_6_types(
    mode: str, data: st.DataObject, count: int, top: int, fraction: float, seed: int
) -> None:
    """objective, t_bar, budget and value of every candidate row equal evaluate() and
    robust_margin() for that m alone (1e-12 relative), for K = 1..6 types."""
    scenario, model = data.draw(many_types(mode))
    econ = make_economy(scenario, scenario.solver.belief)
    rng = np.random.default_rng(seed)
    ms = rng.integers(0, top + 1, size=(count, scenario.n_types)).astype(np.float64)
    ms[ms > 0] += fraction
    objective, tbar, budget, value = _batch_values(_Search.of(econ, model, 0.0), ms)
    for c, m in enumerate(ms):
        direct = evaluate(scenario, model, m, hessians=False)
        np.testing.assert_allclose(objective[c], direct.objective, rtol=RTOL, atol=RTOL)
        np.testing.assert_allclose(value[c], direct.value, rtol=RTOL, atol=RTOL * 100)
        np.testing.assert_allclose(tbar[c], direct.tbar, rtol=RTOL, atol=RTOL * 100)
        want = direct.tbar - robust_margin(scenario, model, m)
        np.testing.assert_allclose(budget[c], want, rtol=RTOL, atol=RTOL * 100)


@SETTINGS
@given(
    data=st.data(),
    margin=st.sampled_from([0.0, 0.01, 0.3, 5.0]),
    seed=st.integers(0, 2**16),
    unsorted=st.booleans(),
)
def test_batched_greatest_t_equals_the_scalar_one_for_1_to_6_types(
    data: st.DataObject, margin: float, seed: int, unsorted: bool
) -> None:
    """The batched IC relaxation equals greatest_t candidate by candidate for K = 1..6 (any
    served set, m in or out of cost order, margins that leave no IC-consistent t)."""
    scenario, _ = data.draw(many_types("exact"))
    econ = make_economy(scenario.with_solver(ic_margin=margin), "bayes")
    rng = np.random.default_rng(seed)
    m = rng.uniform(0.0, 400.0, size=(60, scenario.n_types))
    if not unsorted:
        m = np.sort(m, axis=1)
    m[rng.random(m.shape) < 0.25] = 0.0
    served = m > 0
    budget = rng.uniform(0.0, 120.0, size=m.shape)
    t = _greatest_t_batch(econ, served, m, budget)
    for c in range(len(m)):
        want = greatest_t(econ, served[c], m[c], budget[c], True)
        np.testing.assert_allclose(t[c], want, rtol=1e-13, atol=1e-12)


def test_one_type_has_one_outcome_and_solves() -> None:
    """A scenario with one type: every participant is of it, one outcome of probability 1 (it
    was a ValueError from reshaping zero bars, "unexpected" at `modelpact solve`), and the
    solve serves it at the complete-information optimum."""
    from modelpact.optimizer import solve
    from modelpact.outcomes import enumerate_outcomes

    outcomes = enumerate_outcomes(7, np.array([1.0]))
    assert outcomes.counts.tolist() == [[7]]
    np.testing.assert_allclose(outcomes.weights, [1.0])
    text = (SCENARIOS / "digits_demo.toml").read_text()
    one = '[[types]]\nname = "only"\ncost = 0.5\nprobability = 1.0\n\n'
    text = re.sub(r"(?s)\[\[types\]\].*?(?=\[accuracy\])", one, text)
    menu = solve(parse_scenario(text, source="one type"), benchmarks=False)
    assert len(menu.options) == 1
    assert menu.options[0].m > 0


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_tau_row_distribution_is_the_paper_models_for_1_to_6_types(
    data: st.DataObject, seed: int
) -> None:
    """curve_tolerance's rows S_o and probabilities w_o (from the model the solve keeps, either
    belief, exact, no participation law) are bit for bit the paper model's, which tau was
    derived from before, for K = 1..6; and sd once per distinct row total, spread back, is
    sd over every outcome bit for bit."""
    from modelpact.compensation import _rows_distribution
    from modelpact.curve_record import sd_round

    scenario, _ = data.draw(many_types("exact"))
    m = np.random.default_rng(seed).integers(0, 300, size=scenario.n_types).astype(np.float64)
    rows, weights = _rows_distribution(scenario, m)
    paper = economy_model(scenario.with_solver(belief="paper"), belief="paper")
    assert rows.tobytes() == (paper.base @ m).tobytes()
    want = paper.objective_weights[0]
    assert weights.tobytes() == (want / want.sum()).tobytes()
    sizes, where = np.unique(rows, return_inverse=True)
    assert sd_round(scenario, sizes)[where].tobytes() == sd_round(scenario, rows).tobytes()

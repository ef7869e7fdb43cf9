"""Hypothesis: the integer search's batched evaluation equals the direct one.

integerize_menu judges its candidates with :func:`modelpact.optimizer.rounding._batch_values`
(outcomes in blocks, the curve looked up per whole pooled size). It must give, for every
candidate, what :func:`modelpact.optimizer.expectations.evaluate` and
:func:`modelpact.optimizer.robust.robust_margin` give for that m alone, up to summation order:
within 1e-12 relative (sums of up to ~10^4 nonnegative terms in a different order differ by a
few ulps of the total). Covered: exact (pooled, unshifted) and sampled (bayes: shifted)
outcome models, an exact shifted model, [participation] mixtures, the robust band, linear and
exponential valuations, power and sgb curves, whole and fractional candidates, one block and
many.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from modelpact.optimizer import economy_model
from modelpact.optimizer.economy import make_economy
from modelpact.optimizer.expectations import evaluate
from modelpact.optimizer.robust import robust_margin
from modelpact.optimizer.rounding import _batch_values, _Search
from modelpact.outcomes import BeliefModel, belief_model
from modelpact.scenario import Scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"
RTOL = 1e-12

PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def cases(draw: st.DrawFn, mode: str) -> tuple[Scenario, BeliefModel]:
    """A scenario (digits power curve with its uncertainty, or paper Scenario 1's sgb curve)
    and the outcome model integerize_menu would search it under (``mode`` exact, sampled or
    participation), or a shifted exact one (``mode`` shifted)."""
    digits = draw(st.booleans())
    name = "digits_demo" if digits else "paper_case1"
    n = draw(st.integers(2, 120 if digits else 20))
    text = re.sub(r"(?m)^participants = \d+", f"participants = {n}", _text(name))
    if draw(st.booleans()):
        exponential = '[valuation]\nkind = "exponential"\nscale = 80.0\nrate = 2.0\n'
        text = re.sub(r"\[valuation\][^\[]*", exponential, text)
    if mode == "participation":
        text += f"\n[participation]\nquorum = {max(1, n // 2)}\nfill = 0.8\n"
    belief = draw(st.sampled_from(["bayes", "paper"]))
    scenario = parse_scenario(text, source="hypothesis").with_solver(belief=belief)
    if mode == "sampled":
        samples = draw(st.integers(100, 3000))
        scenario = scenario.with_solver(expectation="sampled", samples=samples, seed=3)
    elif digits:  # the band needs the curve's uncertainty, and exact expectations
        scenario = scenario.with_solver(robust=draw(st.sampled_from([None, 0.8, 0.95])))
    if mode == "shifted":  # bayes over the N - 1 others, each type adding its own rows
        return scenario, belief_model(belief, n, scenario.probabilities)
    if mode == "sampled":
        return scenario, economy_model(scenario, belief=belief, stream=1)
    return scenario, make_economy(scenario, belief).model


def _text(name: str) -> str:
    return (SCENARIOS / f"{name}.toml").read_text()


@pytest.mark.parametrize("mode", ["exact", "sampled", "shifted", "participation"])
@PROPERTY_SETTINGS
@given(
    data=st.data(),
    count=st.integers(1, 60),
    top=st.sampled_from([3, 40, 300]),
    fraction=st.sampled_from([0.0, 0.0, 0.5]),
    seed=st.integers(0, 2**16),
)
def test_batched_values_equal_direct_evaluation(
    mode: str, data: st.DataObject, count: int, top: int, fraction: float, seed: int
) -> None:
    """objective, t_bar, budget (robust: under the band) and expected value of every candidate
    row (0 = excluded type) equal the direct per-m evaluation within 1e-12 relative."""
    scenario, model = data.draw(cases(mode))
    econ = make_economy(scenario, scenario.solver.belief)
    rng = np.random.default_rng(seed)
    ms = rng.integers(0, top + 1, size=(count, scenario.n_types)).astype(np.float64)
    ms[ms > 0] += fraction
    search = _Search.of(econ, model, 0.0)
    event("looked up" if search.table_for(ms) is not None else "evaluated in place")
    event("shifted" if model.shifted else "unshifted")
    event("robust" if scenario.solver.robust is not None else "nominal")
    objective, tbar, budget, value = _batch_values(search, ms)
    for c, m in enumerate(ms):
        direct = evaluate(scenario, model, m, hessians=False)
        np.testing.assert_allclose(objective[c], direct.objective, rtol=RTOL, atol=RTOL)
        np.testing.assert_allclose(value[c], direct.value, rtol=RTOL, atol=RTOL * 100)
        np.testing.assert_allclose(tbar[c], direct.tbar, rtol=RTOL, atol=RTOL * 100)
        want = direct.tbar - robust_margin(scenario, model, m)
        np.testing.assert_allclose(budget[c], want, rtol=RTOL, atol=RTOL * 100)


def test_pooled_sizes_past_the_table_cap_are_evaluated_in_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A search whose pooled sizes would need a table longer than the cap evaluates the curve
    in place (block by block: no table, no (outcomes x candidates) array) and gets the same
    values within 1e-12 relative."""
    import modelpact.optimizer.rounding as rounding

    text = re.sub(r"(?m)^participants = \d+", "participants = 200", _text("digits_demo"))
    scenario = parse_scenario(text, source="cap")
    econ = make_economy(scenario, "bayes")
    ms = np.array([31.0, 48.0, 140.0]) + np.arange(-10.0, 10.0)[:, None]  # 20 candidates
    capped = _Search.of(econ, econ.model, 0.0)
    monkeypatch.setattr(rounding, "_TABLE_MAX", 1000)
    assert capped.table_for(ms) is None
    got = _batch_values(capped, ms)
    monkeypatch.undo()
    free = _Search.of(econ, econ.model, 0.0)
    assert free.table_for(ms) is not None
    for a, b in zip(got, _batch_values(free, ms), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL)

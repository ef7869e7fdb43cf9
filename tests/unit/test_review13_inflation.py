"""Hostile review of issue 13: the tolerance band makes a curve overstated by less than tau at
the pooled sizes profitable for the coordinator, and participants pay for it.

The contract owes ratio x max(0, P - tau - A) x rho. Take the digits demo's curve as the truth
and let the coordinator state a steeper one: a_max + 0.02 with b raised so that the two agree
at 131 rows (what the cheapest type would train alone on), i.e. at most 0.02 above the truth
where the round pools its data, below tau = 0.029. The [accuracy.fitted_on] record still names
the digits rows, so demo and deploy accept it without --any-curve, and the audit's
curve.matches_scenario passes (the knots are the stated curve's). The stated menu asks 36, 52
and 147 rows instead of 31, 48 and 131, the coordinator's true expected accuracy rises from
0.95759 to 0.95943, it pays 0.0009 of accuracy in expected compensation, and every type's true
expected utility falls below its outside option by 2.9 to 6.1 value units: an honest curve is
not the coordinator's best choice, which issue 13 requires of the compensation rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_review13b import _true_slack

from modelpact.optimizer import conditional_values, integerize_menu, solve
from modelpact.scenario import load_scenario, parse_scenario

DEMO = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"
A_MAX, B, ALPHA = "0.9785069279855858", "4.620395960282522", 0.81775545008625


@pytest.mark.xfail(
    strict=True,
    reason="stated (unchecked) curves, documented in SECURITY.md: even with tau = 0, as an "
    "--any-curve round deploys, a curve understated where a type would train alone lowers its "
    "outside option, which no on-chain check can see; a learned curve is bound to its record "
    "(planning refuses this one, the audit's curve.reproduces fails it)",
)
def test_a_curve_overstated_within_tau_keeps_every_type_rational() -> None:
    """With the true curve a (the digits demo's) and the stated steeper curve (+0.02 at most
    where data pools), each type's true expected utility on the stated menu, expected curve
    compensation included (A ~ N(a(S), sd_round(S)), the model tau itself is derived from),
    must stay at or above its true outside option: ratio x (E[v(a(S))] + E[comp]) - c m >= f.
    It does not: 2.9 to 6.1 value units below, while the coordinator gains accuracy."""
    true = load_scenario(DEMO)
    delta, anchor = 0.02, 131.0
    text = DEMO.read_text().replace(f"a_max = {A_MAX}", f"a_max = {float(A_MAX) + delta!r}")
    stated = parse_scenario(text.replace(f"b = {B}", f"b = {float(B) + delta * anchor**ALPHA!r}"))
    menu = integerize_menu(stated, solve(stated, benchmarks=False))
    honest = integerize_menu(true, solve(true, benchmarks=False))
    m = np.array([o.m if o.served else 0.0 for o in menu.options])
    _, accuracy_true, _ = conditional_values(true, m, belief="bayes")
    assert accuracy_true > honest.expected_accuracy  # the coordinator gains by overstating
    # tau = 0: an --any-curve round, the curve was not checked, every shortfall is owed
    slack = _true_slack(true, stated, menu, tau=0.0)
    assert min(slack) >= -1e-6, slack


def test_planning_refuses_a_curve_overstated_within_tau_that_keeps_the_honest_record(
    tmp_path: Path,
) -> None:
    """The attack above keeps the digits [accuracy.fitted_on] record on a steeper curve; the
    record matches the round's rows, so only learning the curve again shows the lie: demo and
    `coordinator deploy` (plan_round) refuse it in one line naming --any-curve, and nothing is
    written. With --any-curve the round deploys with tau = 0 (every shortfall compensated)."""
    from modelpact.round.planning import PlanError, curve_terms, plan_round

    delta, anchor = 0.02, 131.0
    text = DEMO.read_text().replace(f"a_max = {A_MAX}", f"a_max = {float(A_MAX) + delta!r}")
    steep = tmp_path / "steep.toml"
    steep.write_text(text.replace(f"b = {B}", f"b = {float(B) + delta * anchor**ALPHA!r}"))
    kw = {"dataset": "digits", "test_size": 360, "seed": 0}
    with pytest.raises(PlanError) as caught:
        plan_round(scenario_path=steep, work_dir=tmp_path / "refused", **kw)
    line = caught.value.one_line()
    assert "not what its record learns" in line
    assert "--any-curve" in line
    assert not (tmp_path / "refused" / "test_set.npy").exists()
    planned = plan_round(scenario_path=steep, work_dir=tmp_path / "any", any_curve=True, **kw)
    assert curve_terms(planned.offer, any_curve=planned.any_curve).tolerance_wad == 0
    assert curve_terms(planned.offer).tolerance_wad > 0

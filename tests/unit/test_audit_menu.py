"""Unit tests of the scenario and menu rules: the digits demo scenario re-solved for real.

An on-chain menu equal to the honest re-solve passes every rule; a menu violating IC, a
feasible but suboptimal menu (a type left out), an inflated promise, an edited scenario and a
made-up accuracy curve each fail their own rule."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_audit_rules import _honest

from modelpact.audit import Tolerances
from modelpact.audit.menu import menu_checks
from modelpact.audit.report import Status
from modelpact.audit.snapshot import CurveKnotRecord, OptionRecord, RoundSnapshot
from modelpact.compensation import committed_knot_values, compensation_terms
from modelpact.encoding import to_wad
from modelpact.optimizer import integerize_menu, solve
from modelpact.scenario import load_scenario, scenario_sha256

WAD = 10**18
SCENARIO = Path(__file__).parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"


def _onchain(menu) -> tuple[OptionRecord, ...]:
    return tuple(
        OptionRecord(round(o.m), to_wad(min(o.ratio, 1.0)), to_wad(o.t), to_wad(o.t_bar))
        for o in menu.offered
    )


@pytest.fixture(scope="module")
def honest() -> RoundSnapshot:
    scenario = load_scenario(SCENARIO)
    menu = integerize_menu(scenario, solve(scenario, benchmarks=False))
    xs = [8, 50, 200, 600]
    lifted = committed_knot_values(scenario.accuracy, np.array(xs, dtype=np.float64))
    curve = tuple(CurveKnotRecord(x, to_wad(float(a))) for x, a in zip(xs, lifted, strict=True))
    s = _honest()
    terms = compensation_terms(scenario, menu=menu)
    config = replace(
        s.config,
        scenario_hash=bytes.fromhex(scenario_sha256(scenario)),
        curve_tolerance_wad=terms.tolerance_wad,
        shortfall_wei_per_wad=terms.shortfall_wei_per_wad,
        quorum=scenario.quorum,  # the menu assumes every seat fills: no smaller round runs
    )
    return replace(s, menu=_onchain(menu), config=config, curve=curve)


def _run(s: RoundSnapshot, path: Path = SCENARIO) -> dict[str, object]:
    return {f.id: f for f in menu_checks(s, path, Tolerances())}


def test_honest_menu_passes(honest) -> None:
    """The integerized re-solve, published as is, passes hash, capacity, curve, resolve, IR, IC,
    budget, optimality, the Bayesian view of every promise and the compensation terms."""
    found = _run(honest)
    assert {k: f.status for k, f in found.items()} == dict.fromkeys(found, Status.PASS)
    assert len(found) == 10


def test_ic_violation_is_caught(honest) -> None:
    """Raising the promise (and ratio) of type 1's option until type 2 prefers it fails menu.ic."""
    scenario = load_scenario(SCENARIO)
    c2 = scenario.costs[1]
    o0, o1, o2 = honest.menu
    lure = (o1.promised_value_wad / WAD) - c2 * (o1.data_count - o0.data_count) + 1.0
    doctored = replace(o0, promised_value_wad=to_wad(float(lure)))
    doctored = replace(doctored, ratio_wad=doctored.promised_value_wad * WAD // o0.budget_value_wad)
    found = _run(replace(honest, menu=(doctored, o1, o2)))
    assert found["menu.ic"].status is Status.FAIL
    assert found["menu.resolve"].status is Status.FAIL


def test_suboptimal_menu_is_caught(honest, tmp_path) -> None:
    """A feasible menu that serves only the cheapest type (solved for real with serve=(3,))
    passes IR, IC and the budget but fails menu.optimal and menu.resolve."""
    scenario = load_scenario(SCENARIO)
    narrow = integerize_menu(scenario, solve(scenario, serve=(3,), benchmarks=False))
    found = _run(replace(honest, menu=_onchain(narrow)))
    assert found["menu.optimal"].status is Status.FAIL
    assert found["menu.resolve"].status is Status.FAIL
    for rule in ("menu.ir", "menu.ic", "menu.budget"):
        assert found[rule].status is Status.PASS, found[rule]


def test_inflated_budget_is_caught(honest) -> None:
    """Posting t_bar 10% above the true conditional expectation fails menu.budget."""
    o = honest.menu[-1]
    doctored = replace(o, budget_value_wad=o.budget_value_wad * 11 // 10)
    found = _run(replace(honest, menu=(*honest.menu[:-1], doctored)))
    assert found["menu.budget"].status is Status.FAIL


def test_edited_scenario_fails_hash(honest, tmp_path) -> None:
    """A scenario file whose cost was edited after deployment fails scenario.hash."""
    text = SCENARIO.read_text()
    edited = tmp_path / "edited.toml"
    import re

    edited.write_text(
        re.sub(r"cost = ([0-9.]+)", lambda m: f"cost = {float(m[1]) * 1.01}", text, count=1)
    )
    assert _run(honest, edited)["scenario.hash"].status is Status.FAIL


def test_made_up_curve_fails(honest) -> None:
    """A committed knot above the scenario's accuracy function fails curve.matches_scenario."""
    k = honest.curve[-1]
    curve = (*honest.curve[:-1], replace(k, accuracy_wad=min(WAD, k.accuracy_wad + WAD // 50)))
    assert _run(replace(honest, curve=curve))["curve.matches_scenario"].status is Status.FAIL


def test_no_scenario_skips(honest) -> None:
    """Without a scenario file every scenario/menu rule is skipped, none passes silently."""
    found = {f.id: f.status for f in menu_checks(honest, None, Tolerances())}
    assert set(found.values()) == {Status.SKIP}


def test_capacity_other_than_scenario_fails(honest) -> None:
    """A round admitting more participants than the scenario's N fails config.capacity."""
    s = replace(honest, config=replace(honest.config, capacity=11))
    assert _run(s)["config.capacity"].status is Status.FAIL


def test_ir_violation_is_caught(honest) -> None:
    """Cutting the promise of type 1's option to 1.0 value unit leaves type 1 below its
    reservation utility: menu.ir fails for type 1."""
    o0 = honest.menu[0]
    cut = replace(o0, promised_value_wad=WAD, ratio_wad=WAD * WAD // o0.budget_value_wad)
    found = _run(replace(honest, menu=(cut, *honest.menu[1:])))
    assert found["menu.ir"].status is Status.FAIL
    assert found["menu.ir"].failures[0].subject.startswith("type 1")


def test_paper_menu_fails_the_bayesian_view(honest, tmp_path) -> None:
    """A scenario that declares the paper belief, published honestly, passes every rule judged
    under its declared belief but fails menu.bayes_shortfall: the high-cost types' Bayesian
    participants expect less than their promise (by more than 0.01 value units here)."""
    paper = tmp_path / "paper.toml"
    paper.write_text(SCENARIO.read_text().replace('belief = "bayes"', 'belief = "paper"'))
    scenario = load_scenario(paper)
    menu = integerize_menu(scenario, solve(scenario, benchmarks=False))
    config = replace(honest.config, scenario_hash=bytes.fromhex(scenario_sha256(scenario)))
    found = _run(replace(honest, menu=_onchain(menu), config=config), paper)
    for rule in ("menu.resolve", "menu.ir", "menu.ic", "menu.budget", "menu.optimal"):
        assert found[rule].status is Status.PASS, found[rule]
    view = found["menu.bayes_shortfall"]
    assert view.status is Status.FAIL
    assert view.failures[0].subject.startswith("type 1")
    assert float(view.failures[0].note.split()[1].rstrip(";")) > 0.01
    assert len(view.evidence) == 3  # every served type is reported, short or not


def test_compensation_terms_other_than_the_scenarios_fail(honest) -> None:
    """Open hole 5: a round whose rho is not floor(scale x unit_wei), or whose tau is above the
    scenario's, fails curve.terms naming the term; tau within 1e-6 passes."""
    config = honest.config
    cheap = replace(config, shortfall_wei_per_wad=config.shortfall_wei_per_wad // 2)
    finding = _run(replace(honest, config=cheap))["curve.terms"]
    assert finding.status is Status.FAIL
    assert finding.failures[0].subject.startswith("rho")
    lax = replace(config, curve_tolerance_wad=config.curve_tolerance_wad + WAD // 100)
    assert _run(replace(honest, config=lax))["curve.terms"].status is Status.FAIL
    close = replace(config, curve_tolerance_wad=config.curve_tolerance_wad + 10**11)
    assert _run(replace(honest, config=close))["curve.terms"].status is Status.PASS


def test_a_scenario_without_terms_is_stated_loudly(honest, tmp_path) -> None:
    """Open hole 5: a scenario without [valuation] unit_wei allows only tau = 1, rho = 0
    (--no-compensation); the finding says NO CURVE COMPENSATION, and fails once the posted
    collective model is below the curve (nobody compensates the participants); other terms
    fail."""
    from modelpact.audit.snapshot import CurveCheckRecord

    text = SCENARIO.read_text()
    line = next(x for x in text.splitlines() if x.startswith("unit_wei"))
    bare = tmp_path / "bare.toml"
    bare.write_text(text.replace(line + "\n", ""))
    none = replace(honest, config=replace(honest.config, curve_tolerance_wad=WAD,
                                          shortfall_wei_per_wad=0), curve_check=None)  # fmt: skip
    finding = _run(none, bare)["curve.terms"]
    assert finding.status is Status.PASS
    assert finding.detail.startswith("NO CURVE COMPENSATION")
    short = CurveCheckRecord(800, 95 * WAD // 100, 90 * WAD // 100, WAD, 0, 0, 0)
    finding = _run(replace(none, curve_check=short), bare)["curve.terms"]
    assert finding.status is Status.FAIL
    assert "NOT compensated" in finding.failures[0].note
    assert _run(honest, bare)["curve.terms"].status is Status.FAIL

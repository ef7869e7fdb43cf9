"""Review 13: the audit learns a recorded curve again (curve.reproduces)."""

from __future__ import annotations

from pathlib import Path

from modelpact.audit.menu import check_curve_reproduces
from modelpact.audit.report import Status
from modelpact.scenario import load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios"
A_MAX, B, ALPHA = "0.9785069279855858", "4.620395960282522", 0.81775545008625


def test_a_curve_overstated_under_an_honest_record_fails_the_audit() -> None:
    """The digits demo's record kept, the curve made steeper (a_max + 0.02, equal at 131 rows:
    at most 0.02 above the truth where data pools, inside tau, so the contract's curve check
    pays nothing; `modelpact demo --scenario` of it said "all checks passed"): learning the
    curve again from its record gives the honest a_max, and curve.reproduces fails, naming it.
    The shipped curve reproduces; a stated curve (the paper's) has nothing to reproduce."""
    text = (SCENARIOS / "digits_demo.toml").read_text()
    steep = text.replace(f"a_max = {A_MAX}", f"a_max = {float(A_MAX) + 0.02!r}").replace(
        f"b = {B}", f"b = {float(B) + 0.02 * 131.0**ALPHA!r}"
    )
    found = check_curve_reproduces(parse_scenario(steep))
    assert found.status is Status.FAIL
    assert "a_max" in found.failures[0].note
    assert check_curve_reproduces(parse_scenario(text)).status is Status.PASS
    paper = check_curve_reproduces(load_scenario(SCENARIOS / "paper_case1.toml"))
    assert paper.status is Status.SKIP

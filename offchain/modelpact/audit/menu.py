"""The audit's scenario and menu rules: the published scenario against the chain (pure core).

- ``scenario.hash``: sha256 of the scenario's canonical encoding equals the on-chain hash;
- ``curve.matches_scenario``: every committed curve knot is the scenario's accuracy function at
  that row count (floored to WAD), so the posted prediction cannot be inflated by a made-up curve;
- ``menu.resolve``: re-solving the scenario (and integerizing it for the chain) gives the
  on-chain menu within the stated tolerance;
- ``menu.ir`` / ``menu.ic`` / ``menu.budget``: the on-chain menu, each type on the option it is
  meant for, passes individual rationality, incentive compatibility (and exclusion) and the budget
  constraint under the scenario's declared belief, on the values the chain delivers
  (ratio x t_bar; :func:`modelpact.checker.check_menu`), and its posted t_bar are the true ones;
- ``menu.optimal``: its expected collective accuracy is within tolerance of the optimum;
- ``menu.bayes_shortfall``: whatever belief the menu declares, each type's promise t_i against
  what a Bayesian participant (who knows its own type and sees the others as the type law, and
  the participation law when declared) expects to receive, ratio_i x t_bar_i^bayes(m); fails when
  any type is short by more than the tolerance (a ``paper`` menu's high-cost types are).

The scenario and optimizer modules are core modules (no web3), so these rules are pure too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from modelpact.audit.report import Evidence, Finding, make_finding, skipped
from modelpact.audit.snapshot import RoundSnapshot
from modelpact.encoding import WAD
from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.audit import Tolerances
    from modelpact.checker import CheckReport
    from modelpact.menu import Menu
    from modelpact.scenario import Scenario

FloatArray = NDArray[np.float64]

__all__ = [
    "CURVE_TOLERANCE",
    "REPRODUCES_TITLE",
    "TERMS_TAU_TOLERANCE",
    "check_capacity",
    "check_compensation_terms",
    "check_curve",
    "check_curve_reproduces",
    "check_scenario_hash",
    "menu_checks",
]

CURVE_TOLERANCE = 1e-9
"""|knot accuracy - a(x)|, absolute: the knots are floored to WAD from the same float."""

_MENU_IDS = (
    ("menu.resolve", "Re-solving the scenario gives the on-chain menu"),
    ("menu.ir", "On-chain menu is individually rational under the declared belief"),
    ("menu.ic", "On-chain menu is incentive compatible"),
    ("menu.budget", "On-chain menu satisfies the budget constraint under the declared belief"),
    ("menu.optimal", "On-chain menu is optimal within tolerance"),
    ("menu.bayes_shortfall", "Every type's promise holds for a Bayesian participant"),
    ("curve.terms", "Curve tolerance and shortfall price on chain are the scenario's"),
)

TERMS_TAU_TOLERANCE = 1e-6
"""|tau on chain - tau re-derived|, accuracy units: the re-solved menu may differ from the
deployed one in the last float bits (a coordinator gains at most 1e-6 x rho wei from it)."""


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


def check_capacity(s: RoundSnapshot, scenario: Scenario) -> Finding:
    """``config.capacity``: the round admits the N participants the menu was solved for, and
    runs only at counts the menu's participation law covers (quorum at least the scenario's Q).

    The menu's expectations (t_bar, expected accuracy) assume N participants, or the law of n
    over Q..N; a round with another capacity, or one that also runs below Q (review 13b: the
    digits demo assumes all 10 seats fill, and a quorum of 1 on chain left a lone participant
    51.8 value units of a promised 70.8 while the audit passed), would promise values computed
    for a different economy. A higher quorum only refunds rounds the law counted as small.
    """
    ev = Evidence("capacity", f"{scenario.participants} (scenario N)", str(s.config.capacity))
    quorum = s.config.effective_quorum
    q_ev = Evidence("quorum", f">= {scenario.quorum} (scenario Q)", str(quorum))
    failures = [] if s.config.capacity == scenario.participants else [ev]
    failures += [] if quorum >= scenario.quorum else [q_ev]
    return make_finding(
        "config.capacity",
        "Capacity is the scenario's number of participants",
        checked=2,
        failures=failures,
        detail_pass=f"N = {scenario.participants}, quorum {quorum} >= Q = {scenario.quorum}",
        evidence=[ev, q_ev],
    )


def check_curve(s: RoundSnapshot, scenario: Scenario) -> Finding:
    """``curve.matches_scenario``: the committed knots are the scenario's accuracy function at
    their rows, lifted so that no chord predicts below the curve
    (:func:`modelpact.compensation.committed_knot_values`)."""
    title = "Committed accuracy curve is the scenario's"
    if not s.curve:
        return skipped("curve.matches_scenario", title, "no curve committed")
    from modelpact.compensation import committed_knot_values

    xs = np.array([k.data_count for k in s.curve], dtype=np.float64)
    want = committed_knot_values(scenario.accuracy, xs)
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
    ids += [("config.capacity", "Capacity is the scenario's number of participants")]
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
    out = [check_scenario_hash(s, scenario), check_capacity(s, scenario), check_curve(s, scenario)]
    out.extend(_resolve_checks(s, scenario, tol))
    return out


REPRODUCES_TITLE = "The scenario's learned curve is what its own record learns again"


def check_curve_reproduces(scenario: Scenario) -> Finding:
    """``curve.reproduces`` (review 13): a learned curve is a claim, and its
    ``[accuracy.fitted_on]`` record a second one: a coordinator can keep the honest record and
    state a curve up to tau above the truth where the round pools its data (the tolerance band
    leaves that unpaid, and it buys rows). Learning the curve again from the record
    (:func:`modelpact.ml.curve.curve_reproduces`: recorded dataset, split, sizes, repeats, seed,
    learner) must give the stated a_max, b, alpha and residual sd. A stated curve (no record)
    is skipped: nothing to reproduce, and ``demo`` / ``deploy`` run it only with --any-curve."""
    fitted = scenario.curve.fitted_on
    if fitted is None:
        return skipped("curve.reproduces", REPRODUCES_TITLE, "a stated curve: no record")
    if fitted.dataset not in ("digits", "generated"):
        return skipped(
            "curve.reproduces",
            REPRODUCES_TITLE,
            f"the recorded dataset {fitted.dataset!r} "
            "is not built in: the auditor cannot load it by name",
        )
    from modelpact.ml.curve import curve_reproduces_by_name

    try:
        reason = curve_reproduces_by_name(scenario)
    except ModelpactError as error:
        reason = f"the record could not be learned again: {error.one_line()}"
    ev = Evidence("[accuracy]", "the curve its record learns", "another curve", reason or "")
    return make_finding(
        "curve.reproduces",
        REPRODUCES_TITLE,
        checked=1,
        failures=[ev] if reason else [],
        detail_pass=f"learned again on {fitted.dataset} ({fitted.rows} rows, {fitted.repeats} "
        f"repeats, seed {fitted.seed}): the stated a_max, b, alpha and residual sd",
    )


@dataclass(frozen=True)
class _Economy:
    """The on-chain menu in value units and the scenario's types, ready for the constraints."""

    m: FloatArray  # (J,) rows per on-chain option
    t: FloatArray  # (J,) promised value
    tbar_posted: FloatArray  # (J,) posted t_bar
    ratio: FloatArray  # (J,)
    costs: FloatArray  # (K,)
    reservation: FloatArray  # (K,)
    intended: list[int | None]  # type k -> on-chain option it is meant to pick (None: excluded)
    tol: float  # absolute slack in value units


@dataclass(frozen=True)
class _OptionWad:
    """One menu option as the chain stores it (rows and WAD values), so the re-solve and the
    on-chain menu compare field by field."""

    data_count: int
    ratio_wad: int
    t_wad: int
    tbar_wad: int


def _onchain_expected(menu: Menu) -> list[_OptionWad]:
    from modelpact.encoding import to_wad

    return [
        _OptionWad(round(o.m), to_wad(min(o.ratio, 1.0)), to_wad(o.t), to_wad(o.t_bar))
        for o in menu.offered
    ]


def _resolve_checks(s: RoundSnapshot, scenario: Scenario, tol: Tolerances) -> list[Finding]:
    from modelpact.checker import check_menu
    from modelpact.optimizer import integerize_menu, solve

    try:
        continuous = solve(scenario, benchmarks=False)
        resolved = integerize_menu(scenario, continuous)
    except ModelpactError as error:
        ev = Evidence("scenario", "a solvable scenario", "solver failed", error.one_line())
        return [make_finding(i, t, checked=1, failures=[ev], detail_pass="") for i, t in _MENU_IDS]
    onchain = [
        _OptionWad(o.data_count, o.ratio_wad, o.promised_value_wad, o.budget_value_wad)
        for o in s.menu
    ]
    scale = max((o.t_bar for o in resolved.offered), default=1.0) or 1.0
    out = [_compare_menus(_onchain_expected(resolved), onchain, scale, tol)]
    # Option j is meant for the j-th served type of the re-solve only when the sizes agree;
    # otherwise which type takes which option is left to self-selection.
    by_position = len(resolved.offered) == len(s.menu)
    econ = _economy(s, scenario, resolved, tol.constraint * max(1.0, scale), by_position)
    if not s.menu:
        ev = Evidence("menu", "at least one option", "empty")
        return out + [
            make_finding(i, t, checked=1, failures=[ev], detail_pass="") for i, t in _MENU_IDS[1:]
        ]
    if not by_position:
        econ = replace(econ, intended=_self_select(econ))
    mapping = (
        "option j is meant for the j-th served type of the re-solved menu"
        if by_position
        else "types mapped by self-selection (the menu's size differs from the re-solve)"
    )
    accuracy_onchain = _expected_accuracy(econ, scenario)
    belief = scenario.solver.belief
    report = check_menu(scenario, _as_menu(econ, scenario), belief=belief, tolerance=econ.tol)
    out.extend(_constraint_findings(econ, report, mapping))
    out.append(_optimality_finding(continuous, resolved, accuracy_onchain, tol))
    out.append(bayes_shortfall(econ, scenario))
    out.append(check_compensation_terms(s, scenario, resolved))
    return out


def check_compensation_terms(s: RoundSnapshot, scenario: Scenario, resolved: Menu) -> Finding:
    """``curve.terms``: the round's tau and rho are the scenario's compensation terms
    (:func:`modelpact.compensation.compensation_terms` for the re-solved menu): rho exactly, tau
    within :data:`TERMS_TAU_TOLERANCE` or below it (tau = 0 for an --any-curve round), and
    tau = 0 for a stated curve (no ``[accuracy.fitted_on]``: nothing checked it) or a learned
    curve that states its own tolerance or confidence instead of its record's. A
    scenario without terms allows only tau = 1, rho = 0
    (``--no-compensation``), stated as NO CURVE COMPENSATION, and failing once the posted
    collective model is below the curve (participants short, nobody compensates them)."""
    from modelpact.compensation import compensation_terms
    from modelpact.errors import ScenarioError

    title = _MENU_IDS[-1][1]
    tau, rho = s.config.curve_tolerance_wad, s.config.shortfall_wei_per_wad
    try:
        want = compensation_terms(scenario, menu=resolved)
    except ScenarioError as error:
        return _without_terms(s, title, error.one_line())
    from modelpact.ml.curve import checked_curve_states_its_tolerance

    if scenario.curve.fitted_on is None or checked_curve_states_its_tolerance(scenario):
        # A stated curve is never checked against the round's data (planning runs it only with
        # --any-curve, which deploys tau = 0): a tolerance would leave its overstatement unpaid
        # (review 13b: a coordinator deploying it with the scenario's tau passed this check).
        # Nor is a tolerance a learned curve states instead of the one its record gives.
        want = want._replace(tolerance_wad=0)
    failures = []
    # A smaller tau only raises what the coordinator owes: a round planned with --any-curve
    # deploys tau = 0 (its curve was not checked against the data), which is never a lie.
    if tau - want.tolerance_wad > TERMS_TAU_TOLERANCE * WAD:
        failures.append(
            Evidence("tau (curve tolerance)", f"{want.tolerance_wad / WAD:.9f}", f"{tau / WAD:.9f}")
        )
    if rho != want.shortfall_wei_per_wad:
        failures.append(
            Evidence("rho (wei per 1.0 shortfall)", f"{want.shortfall_wei_per_wad}", f"{rho}")
        )
    return make_finding(
        "curve.terms",
        title,
        checked=2,
        failures=failures,
        detail_pass=f"tau {tau / WAD:.6f} and rho {rho} wei per 1.0 are the scenario's"
        if abs(tau - want.tolerance_wad) <= TERMS_TAU_TOLERANCE * WAD
        else f"tau {tau / WAD:.6f}, below the scenario's {want.tolerance_wad / WAD:.6f} (a curve "
        f"not checked against the data, --any-curve: every shortfall is owed), and rho {rho}",
    )


def _without_terms(s: RoundSnapshot, title: str, why: str) -> Finding:
    """``curve.terms`` for a scenario that states no compensation terms (see above)."""
    tau, rho = s.config.curve_tolerance_wad, s.config.shortfall_wei_per_wad
    failures = []
    if (tau, rho) != (WAD, 0):
        found = f"tau {tau / WAD:.6f}, rho {rho}"
        failures.append(Evidence("compensation terms", "tau 1, rho 0 (none stated)", found, why))
    c = s.curve_check
    short = 0 if c is None else max(0, c.predicted_wad - c.measured_wad)
    if c is not None and short > 0:
        failures.append(
            Evidence(
                "collective model",
                f"{c.predicted_wad / WAD:.4f} (the curve at {c.delivered_rows} rows)",
                f"{c.measured_wad / WAD:.4f}",
                f"short by {short / WAD:.4f} and NOT compensated (no terms: {why})",
            )
        )
    return make_finding(
        "curve.terms",
        title,
        checked=2,
        failures=failures,
        detail_pass=f"NO CURVE COMPENSATION (tau 1, rho 0, --no-compensation): {why}; a "
        "collective model short of its curve would not be compensated",
        detail_fail="NO CURVE COMPENSATION: " + "; ".join(e.note or e.subject for e in failures),
    )


def _economy(
    s: RoundSnapshot, scenario: Scenario, resolved: Menu, tol: float, by_position: bool
) -> _Economy:
    """The on-chain menu in value units; ``intended`` is filled by position when
    ``by_position``, else left empty for self-selection."""
    from modelpact.economics import reservation_utility

    costs = scenario.costs
    reservation = np.array(
        [reservation_utility(scenario.accuracy, scenario.valuation, float(c))[0] for c in costs]
    )
    intended: list[int | None] = [None] * scenario.n_types
    if by_position:
        for j, o in enumerate(resolved.offered):
            intended[o.type - 1] = j
    return _Economy(
        m=np.array([o.data_count for o in s.menu], dtype=np.float64),
        t=np.array([o.promised_value_wad / WAD for o in s.menu]),
        tbar_posted=np.array([o.budget_value_wad / WAD for o in s.menu]),
        ratio=np.array([o.ratio_wad / WAD for o in s.menu]),
        costs=costs,
        reservation=reservation,
        intended=intended,
        tol=tol,
    )


def _expected_accuracy(econ: _Economy, scenario: Scenario) -> float:
    """Expected collective accuracy of the on-chain menu with each type on its intended option
    (an excluded type contributes nothing), under the scenario's declared belief."""
    from modelpact.optimizer import conditional_values

    m_vec = np.array([econ.m[j] if j is not None else 0.0 for j in econ.intended])
    _, accuracy, _ = conditional_values(scenario, m_vec, belief=scenario.solver.belief)
    return float(accuracy)


def _optimality_finding(
    continuous: Menu, resolved: Menu, accuracy_onchain: float, tol: Tolerances
) -> Finding:
    """``menu.optimal``: the integer re-solve is the bar (the chain can only hold whole rows);
    the continuous optimum is shown for context."""
    gap = resolved.expected_accuracy - accuracy_onchain
    ev = Evidence(
        "expected accuracy",
        f">= {resolved.expected_accuracy:.6f} - {tol.optimality:g} (re-solved integer menu; "
        f"continuous optimum {continuous.expected_accuracy:.6f})",
        f"{accuracy_onchain:.6f}",
        f"gap {gap:+.6f}",
    )
    return make_finding(
        "menu.optimal",
        _MENU_IDS[4][1],
        checked=1,
        failures=[ev] if gap > tol.optimality else [],
        detail_pass=f"expected accuracy {accuracy_onchain:.6f}, gap to the re-solve "
        f"{gap:+.2e} (tolerance {tol.optimality:g})",
        evidence=[ev],
    )


def bayes_shortfall(econ: _Economy, scenario: Scenario) -> Finding:
    """``menu.bayes_shortfall``: promised t_i versus ratio_i x t_bar_i under the bayes belief,
    for every served type, whatever belief the scenario declares (module doc)."""
    from modelpact.checker import check_menu

    report = check_menu(scenario, _as_menu(econ, scenario), belief="bayes", tolerance=econ.tol)
    evidence, failures = [], []
    worst = 0.0
    for k, j in enumerate(econ.intended):
        if j is None:
            continue
        short = float(econ.t[j] - report.delivered[k])
        ir = report.delivered[k] - econ.costs[k] * econ.m[j] - econ.reservation[k]
        ev = Evidence(
            f"type {k + 1} (option {j})",
            f"promised t = {econ.t[j]:.6f}",
            f"bayes expects {report.delivered[k]:.6f}",
            f"shortfall {max(short, 0.0):.6g}; IR slack under bayes {ir:+.6g}",
        )
        evidence.append(ev)
        worst = max(worst, short)
        if short > econ.tol:
            failures.append(ev)
    return make_finding(
        "menu.bayes_shortfall",
        _MENU_IDS[5][1],
        checked=len(evidence),
        failures=failures,
        detail_pass=f"{len(evidence)} types expect at least their promise under the bayes belief "
        f"(largest shortfall {max(worst, 0.0):.3g}, tolerance {econ.tol:.1e}; declared belief "
        f"{scenario.solver.belief})",
        evidence=evidence,
    )


def _compare_menus(
    expected: list[_OptionWad],
    onchain: list[_OptionWad],
    scale: float,
    tol: Tolerances,
) -> Finding:
    failures: list[Evidence] = []
    if len(expected) != len(onchain):
        failures.append(Evidence("options", f"{len(expected)} options", f"{len(onchain)} options"))
    for j, (want, got) in enumerate(zip(expected, onchain, strict=False)):
        subject = f"option {j}"
        if abs(want.data_count - got.data_count) > max(1.0, tol.menu_rows * want.data_count):
            failures.append(Evidence(subject, f"dataCount {want.data_count}", f"{got.data_count}"))
        for name, a, b, unit in (
            ("ratio", want.ratio_wad, got.ratio_wad, 1.0),
            ("t", want.t_wad, got.t_wad, scale),
            ("t_bar", want.tbar_wad, got.tbar_wad, scale),
        ):
            if abs(a - b) / WAD > tol.menu_value * unit:
                failures.append(Evidence(subject, f"{name} {a / WAD:.6f}", f"{b / WAD:.6f}"))
    return make_finding(
        "menu.resolve",
        _MENU_IDS[0][1],
        checked=len(expected),
        failures=failures,
        detail_pass=f"{len(expected)} options equal the re-solve (rows within "
        f"max(1, {tol.menu_rows:g} m), values within {tol.menu_value:g} of t_bar_K)",
    )


def _self_select(econ: _Economy) -> list[int | None]:
    """Each type's best option (ties within tolerance go to the larger contribution), or None
    when its outside option is better."""
    picks: list[int | None] = []
    for c, f in zip(econ.costs.tolist(), econ.reservation.tolist(), strict=True):
        u = econ.t - c * econ.m
        best = float(u.max())
        if best < f - econ.tol:
            picks.append(None)
            continue
        near = [j for j in range(len(u)) if u[j] >= best - econ.tol]
        picks.append(max(near, key=lambda j: (econ.m[j], j)))
    return picks


def _as_menu(econ: _Economy, scenario: Scenario) -> Menu:
    """The on-chain menu as a per-type :class:`~modelpact.menu.Menu` (each type on the option it
    is meant to pick; unserved types with zeros) for :func:`modelpact.checker.check_menu`."""
    from modelpact.menu import Menu, MenuOption

    options = []
    for k, j in enumerate(econ.intended):
        c, p, f = float(econ.costs[k]), float(scenario.probabilities[k]), float(econ.reservation[k])
        if j is None:
            options.append(MenuOption(k + 1, c, p, False, 0.0, 0.0, 0.0, 0.0, f, 0.0))
            continue
        m, t = float(econ.m[j]), float(econ.t[j])
        tb, ratio = float(econ.tbar_posted[j]), float(econ.ratio[j])
        options.append(MenuOption(k + 1, c, p, True, m, t, tb, ratio, f, t - c * m))
    return Menu(
        options=tuple(options),
        expected_accuracy=0.0,
        expected_value=0.0,
        upper_bound=0.0,
        belief=scenario.solver.belief,
        expectation=scenario.solver.expectation,
        scenario_sha256="",
        solve_seconds=0.0,
        participants=scenario.participants,
        integer=True,
    )


def _constraint_findings(econ: _Economy, report: CheckReport, mapping: str) -> list[Finding]:
    """menu.ir / menu.ic / menu.budget from the checker's violations (delivered values
    ratio x t_bar under the declared belief), plus the posted t_bar against the recomputed one."""
    served = [(k, j) for k, j in enumerate(econ.intended) if j is not None]
    unserved = len(econ.intended) - len(served)
    groups: dict[str, list[Evidence]] = {"menu.ir": [], "menu.ic": [], "menu.budget": []}
    where = {"IR": "menu.ir", "IC": "menu.ic", "EX": "menu.ic"}
    for v in report.above_tolerance():
        check_id = where.get(v.kind, "menu.budget")
        j = econ.intended[v.i - 1]
        subject = f"type {v.i}" + (f" (option {j})" if j is not None else " (not served)")
        if v.j is not None:
            subject += f" vs type {v.j}'s option {econ.intended[v.j - 1]}"
        note = {
            "IR": "gets less than its reservation utility",
            "IC": "prefers another type's option (IC violated)",
            "EX": "an excluded type prefers a served option (IC violated)",
            "BC": "promise above t_bar (budget violated)",
        }.get(v.kind, v.kind)
        groups[check_id].append(
            Evidence(subject, f"{v.kind} violation <= {econ.tol:.1e}", f"{v.size:.6g}", note)
        )
    rel = 1e-6 if report.exact else 2e-2  # sampled: the checker's t_bar is an estimate
    for k, j in served:
        tb = report.t_bar[k]
        if abs(econ.tbar_posted[j] - tb) > max(econ.tol, rel * tb):
            groups["menu.budget"].append(
                Evidence(
                    f"type {k + 1} (option {j})",
                    f"posted t_bar = {tb:.6f} ({report.belief})",
                    f"{econ.tbar_posted[j]:.6f}",
                    "budgetValueWad is not the conditional expectation",
                )
            )
    ic_pairs = len(served) * (len(served) - 1) + unserved * len(served)
    return [
        make_finding(
            "menu.ir",
            _MENU_IDS[1][1],
            checked=len(served),
            failures=groups["menu.ir"],
            detail_pass=f"{len(served)} served types get their reservation utility or more "
            f"({mapping})",
        ),
        make_finding(
            "menu.ic",
            _MENU_IDS[2][1],
            checked=ic_pairs,
            failures=groups["menu.ic"],
            detail_pass=f"{ic_pairs} IC / exclusion constraints hold ({mapping})",
        ),
        make_finding(
            "menu.budget",
            _MENU_IDS[3][1],
            checked=len(served),
            failures=groups["menu.budget"],
            detail_pass=f"{len(served)} promises within t_bar under the {report.belief} belief"
            + ("" if report.exact else " (sampled estimate)"),
        ),
    ]

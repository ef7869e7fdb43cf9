"""Second hostile review of issue 13 (branch s5): the rules that grant the curve tolerance tau.

s5 grants tau > 0 only to a learned curve that its own [accuracy.fitted_on] record learns again,
deploys tau = 0 for --any-curve, lifts the committed knots above the curve's chords and requires
a participation law over every count Q..N. What still lets a participant receive less than
promised while demo, audit and deploy say all is fine is reproduced here."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm
from test_audit_menu import _onchain, _run
from test_audit_rules import _honest

from modelpact.audit.report import Status
from modelpact.compensation import _rows_distribution, compensation_terms
from modelpact.curve_record import sd_round
from modelpact.economics import reservation_utility
from modelpact.optimizer import conditional_values, integerize_menu, solve
from modelpact.scenario import load_scenario, parse_scenario, scenario_sha256

WAD = 10**18
DEMO = Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"


def _stated(tmp_path: Path) -> Path:
    """The digits demo with its [accuracy.fitted_on] record removed: a stated curve."""
    lines = DEMO.read_text().splitlines()
    start = lines.index("[accuracy.fitted_on]")
    end = lines.index("[accuracy.uncertainty]")
    path = tmp_path / "stated.toml"
    path.write_text("\n".join(lines[:start] + lines[end:]) + "\n")
    return path


def test_audit_holds_a_stated_curve_to_tau_zero(tmp_path: Path) -> None:
    """A stated curve (no [accuracy.fitted_on]) is never checked against the round's data:
    demo and deploy run it only with --any-curve, which deploys tau = 0. A coordinator that
    deploys it with the scenario's own tau (0.029 here, by its own tool: the contract takes any
    tau) must fail the audit's curve.terms; before, curve.reproduces skipped ("a stated curve")
    and curve.terms accepted tau <= the scenario's, so the audit passed a round in which up to
    tau x ratio x scale (2.9 value units) of an overstated curve went unpaid. tau = 0 passes."""
    path = _stated(tmp_path)
    scenario = load_scenario(path)
    menu = integerize_menu(scenario, solve(scenario, benchmarks=False))
    terms = compensation_terms(scenario, menu=menu)
    assert terms.tolerance_wad > WAD // 100  # the scenario's own tau is not small
    honest = _honest()
    config = replace(
        honest.config,
        scenario_hash=bytes.fromhex(scenario_sha256(scenario)),
        curve_tolerance_wad=terms.tolerance_wad,
        shortfall_wei_per_wad=terms.shortfall_wei_per_wad,
    )
    round_ = replace(honest, menu=_onchain(menu), config=config)
    finding = _run(round_, path)["curve.terms"]
    assert finding.status is Status.FAIL
    assert finding.failures[0].subject.startswith("tau")
    zero = replace(round_, config=replace(config, curve_tolerance_wad=0))
    assert _run(zero, path)["curve.terms"].status is Status.PASS


def _with_accuracy(section: str) -> str:
    """The digits demo's text with its whole [accuracy] section (and sub-tables) replaced."""
    text = DEMO.read_text()
    return text[: text.index("[accuracy]")] + section + "\n" + text[text.index("[valuation]") :]


def _true_slack(true, stated, menu, tau: float) -> list[float]:
    """Each served type's true expected utility on ``menu`` minus its true outside option,
    expected curve compensation at ``tau`` included (A ~ N(a(S), sd_round(S)), as tau itself
    is derived), the true curve being ``true``'s."""
    m = np.array([o.m if o.served else 0.0 for o in menu.options])
    tbar_true, _, _ = conditional_values(true, m, belief="bayes")
    rows, weights = _rows_distribution(stated, m)
    gap = np.asarray(stated.accuracy(rows)) - tau - np.asarray(true.accuracy(rows))
    sd = sd_round(true, rows)
    compensation = float(weights @ (sd * norm.pdf(gap / sd) + gap * norm.cdf(gap / sd)))
    slack = []
    for k, option in enumerate(menu.options):
        if option.served:
            cost = float(true.costs[k])
            outside, _ = reservation_utility(true.accuracy, true.valuation, cost)
            received = option.ratio * (tbar_true[k] + 100.0 * compensation)
            slack.append(received - cost * option.m - outside)
    return slack


@pytest.mark.xfail(
    strict=True,
    reason="open (review 13b, finding 1): a record's seed, sizes, repeats and test split are "
    "the coordinator's choice; curve_reproduces only checks that the stated curve is what the "
    "record learns, so the coordinator picks the record whose curve suits it, with tau > 0",
)
def test_the_records_seed_is_not_the_coordinators_choice(tmp_path: Path) -> None:
    """The shipped digits curve (`modelpact curve digits --repeats 8 --seed 0 --test-size 360`)
    is the truth. The coordinator runs the same recipe with --seed 7 (the first of 12 seeds
    whose menu suits it; nothing else changed) and publishes what it writes: the record matches
    the round's rows and learns the curve again, so planning (demo, coordinator deploy) accepts
    it without --any-curve and deploys tau = 0.025 > 0; the audit's curve.reproduces passes.
    The menu asks 33, 51, 141 rows instead of 31, 48, 131 and the coordinator's true expected
    accuracy rises from 0.95759 to 0.95874. What must hold: every type's true expected utility,
    expected compensation included, stays at or above its true outside option. It does not:
    1.8 to 3.3 value units below (seeds 4, 8, 10, 11 break it too; default sizes with
    --repeats 2 --seed 0: 2.8 to 4.3; sizes up to 230 rows: tau 0.23, 3.6 to 5.1)."""
    from modelpact.ml.curve import accuracy_toml, curve_reproduces, learn_curve
    from modelpact.ml.datasets import load_dataset
    from modelpact.round.planning import require_curve_for

    true = load_scenario(DEMO)
    rows = load_dataset("digits", seed=0)
    learned = learn_curve(rows, dataset="digits", repeats=8, seed=7, test_size=360)
    stated = parse_scenario(_with_accuracy(accuracy_toml(learned)))
    assert curve_reproduces(stated, rows) is None  # what its record learns again
    require_curve_for(stated, dataset="digits", rows=rows)  # planning accepts it, tau > 0
    menu = integerize_menu(stated, solve(stated, benchmarks=False))
    tau = compensation_terms(stated, menu=menu).tolerance_wad / WAD
    assert tau > 0.01
    slack = _true_slack(true, stated, menu, tau)
    assert min(slack) >= -1e-6, slack


def _edits() -> dict[str, str]:
    """Edits of the digits demo that leave a_max, b, alpha and residual_sd as learned."""
    text = DEMO.read_text()
    spread = next(x for x in text.splitlines() if x.startswith("spread_sd"))
    sds = ast.literal_eval(spread.split("=", 1)[1].strip())
    cov = next(x for x in text.splitlines() if x.startswith("covariance"))
    matrix = ast.literal_eval(cov.split("=", 1)[1].strip())
    head = 'kind = "power"'
    inflated = [[25.0 * c for c in r] for r in matrix]
    return {
        "spread_sd x 5": text.replace(spread, f"spread_sd = {[5.0 * s for s in sds]!r}"),
        "covariance x 25": text.replace(cov, f"covariance = {inflated!r}"),
        "tolerance_confidence 0.999999": text.replace(
            head, head + "\ntolerance_confidence = 0.999999"
        ),
        "tolerance 0.2": text.replace(head, head + "\ntolerance = 0.2"),
    }


@pytest.mark.parametrize("edit", list(_edits()))
def test_a_checked_curve_gets_only_its_records_tolerance(edit: str) -> None:
    """tau > 0 is granted to a learned curve because it is what its record learns, so tau must
    be the record's too: the digits demo deploys tau = 0.0286. Editing what tau is computed
    from (and nothing the check compares) must be refused by planning or leave tau as the
    record gives it. Before the fix spread_sd x 5 deployed tau = 0.078, covariance x 25 0.032,
    tolerance_confidence = 0.999999 0.059, tolerance = 0.2 0.2, all accepted without
    --any-curve and passed by curve.reproduces and curve.terms (the scenario's own terms);
    now the whole uncertainty must reproduce and a learned curve may not state its tolerance."""
    from modelpact.ml.datasets import load_dataset
    from modelpact.round.planning import PlanError, require_curve_for

    honest = load_scenario(DEMO)
    menu = integerize_menu(honest, solve(honest, benchmarks=False))
    want = compensation_terms(honest, menu=menu).tolerance_wad
    edited = parse_scenario(_edits()[edit])
    try:
        require_curve_for(edited, dataset="digits", rows=load_dataset("digits", seed=0))
    except PlanError:
        return
    got = compensation_terms(edited, menu=menu).tolerance_wad
    assert abs(got - want) <= 10**12, (got / WAD, want / WAD)


TABLE = DEMO.parent / "table_curve.toml"


@pytest.mark.parametrize(
    ("data", "accuracy"),
    [("[20, 21, 800]", "[0.3, 0.99999, 1.0]"), ("[5, 9, 10, 400]", "[0.1, 0.2, 1.0, 1.0]")],
)
@pytest.mark.parametrize("max_rows", [300, 2000])
def test_knots_clipped_at_one_still_predict_at_or_above_the_curve(
    data: str, accuracy: str, max_rows: int
) -> None:
    """A curve that reaches 1.0 (a table curve here) must still be predicted at or above a(S)
    at every whole row count up to the last knot, from the knots as the contract reads them:
    the lift of a knot clipped at 1 was lost, and the chord into it predicted up to 0.011
    below the curve (at 25 rows, max_rows 2000), uncompensated on top of tau."""
    from modelpact.encoding import predicted_accuracy
    from modelpact.round.planning import curve_knots

    text = TABLE.read_text().replace("data = [20, 50, 100, 200, 400, 800]", f"data = {data}")
    text = text.replace("accuracy = [0.3, 0.55, 0.7, 0.8, 0.86, 0.9]", f"accuracy = {accuracy}")
    scenario = parse_scenario(text)
    knots = curve_knots(scenario.accuracy, max_rows=max_rows)
    pairs = [(k.data_count, k.accuracy_wad) for k in knots]
    rows = np.arange(1, knots[-1].data_count + 1)
    curve = np.clip(np.asarray(scenario.accuracy(rows.astype(np.float64))), 0.0, 1.0)
    predicted = np.array([predicted_accuracy(pairs, int(r)) / WAD for r in rows])
    assert float(np.max(curve - predicted)) <= 1e-12


def test_a_quorum_below_the_scenarios_fails_the_audit() -> None:
    """The digits demo has no [participation]: its menu assumes all 10 seats fill (Q = N). A
    round deployed with quorum 1 on chain (the contract takes any quorum) runs at 1..9
    participants too, where nothing was promised: a lone eager participant gets
    1 x 100 x a(131) = 89.3 value units of its promised 95.9 (busy: 51.8 of 70.8), below its
    outside option. The audit must fail config.capacity naming the quorum; before, it checked
    the capacity only and passed. The scenario's own quorum (or a higher one) passes."""
    from test_audit_menu import honest as fixture

    honest = fixture.__wrapped__()
    low = replace(honest, config=replace(honest.config, quorum=1))
    finding = _run(low)["config.capacity"]
    assert finding.status is Status.FAIL
    assert finding.failures[0].subject == "quorum"
    assert _run(honest)["config.capacity"].status is Status.PASS
    full = replace(honest, config=replace(honest.config, quorum=0))  # 0 stands for N
    assert _run(full)["config.capacity"].status is Status.PASS


@pytest.mark.xfail(
    strict=True,
    reason="open (review 13b, finding 4): fill is the coordinator's unverifiable belief; "
    "fill = 0.9999 with quorum 1 is the refused fill = 1 in all but name",
)
def test_a_stated_fill_cannot_buy_rows_from_participants() -> None:
    """fill = 1 with quorum 1 is refused, but fill = 0.9999 gives the same menu (t 70.77,
    79.28, 95.89, as with every seat filled) and the contract runs it at any count from 1:
    a lone participant gets 51.8, 64.9, 89.3 value units (its own rows alone), 6.6 to 19 below
    t and its outside option. Stated against a true fill of 0.5 the menu asks 131 rows of the
    eager type instead of 124, the coordinator's true expected accuracy rises from 0.93456 to
    0.93557, and what must hold (each type's true expected utility at or above its outside
    option, expectations under the true law) fails by 1.25 to 1.54 value units."""
    text = DEMO.read_text() + "\n[participation]\nquorum = 1\nfill = {}\n"
    true, stated = (parse_scenario(text.format(q)) for q in ("0.5", "0.9999"))
    menu = integerize_menu(stated, solve(stated, benchmarks=False))
    m = np.array([o.m if o.served else 0.0 for o in menu.options])
    tbar_true, _, _ = conditional_values(true, m, belief="bayes")
    slack = []
    for k, option in enumerate(menu.options):
        cost = float(true.costs[k])
        outside, _ = reservation_utility(true.accuracy, true.valuation, cost)
        slack.append(option.ratio * tbar_true[k] - cost * option.m - outside)
    assert min(slack) >= -1e-6, slack


def test_a_tolerance_on_another_dataset_fails_curve_data() -> None:
    """Review 13b, finding 7: the digits curve deployed on generated rows with the scenario's
    tau > 0 (by the coordinator's own tool) passed every check. curve.data fails a round with
    tau > 0 whose committed test rows are not rows of the curve's recorded dataset, passes
    digits rows, and has nothing to check at tau = 0 (every shortfall is owed)."""
    from modelpact.audit.files import check_curve_data
    from modelpact.ml.datasets import load_dataset, split_test

    scenario = load_scenario(DEMO)
    s = _honest()
    assert s.config.curve_tolerance_wad > 0
    digits = split_test(load_dataset("digits", seed=3), test_size=360, seed=3).test
    generated = split_test(
        load_dataset("generated", generated_size=800, seed=0), test_size=360, seed=0
    ).test
    assert check_curve_data(s, scenario, digits).status is Status.PASS
    foreign = check_curve_data(s, scenario, generated)
    assert foreign.status is Status.FAIL
    assert "--any-curve" in foreign.failures[0].note
    free = replace(s, config=replace(s.config, curve_tolerance_wad=0))
    assert check_curve_data(free, scenario, generated).status is Status.SKIP

"""Unit tests of the pure audit rules on hand-built round snapshots.

Every rule passes on an honest snapshot and fails, with its own id and evidence, on a snapshot
doctored in exactly the way the rule exists to catch.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from modelpact.audit import rules
from modelpact.audit.report import Status
from modelpact.audit.snapshot import (
    ClaimRecord,
    ConfigRecord,
    CurveCheckRecord,
    CurveKnotRecord,
    DefaultRefundRecord,
    JoinRecord,
    ModelsPostedRecord,
    OptionRecord,
    ParticipantState,
    RevealRecord,
    RoundSnapshot,
    SweepRecord,
    TierRecord,
)
from modelpact.encoding import (
    Schedule,
    allot,
    assign_rung,
    coordinator_commitment,
    curve_compensation,
    curve_shortfall,
    draw_seed,
    participant_commitment_v2,
    predicted_accuracy,
)

WAD = 10**18
ROUND = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
COORD = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PEOPLE = [
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
]
CHAIN = 31337
BOND = 10**16
COORD_BOND = 5 * 10**16
SCENARIO_HASH = bytes.fromhex("ab" * 32)
COORD_SECRET = bytes.fromhex("11" * 32)


def _secret(i: int) -> bytes:
    return bytes([i + 1]) * 32


def _key(i: int) -> tuple[int, int]:
    # any two integers open the commitment; the audit recomputes, the contract checks the curve
    return (1000 + i, 2000 + i)


TAU = 5 * WAD // 100
RHO = 10**16


def _honest(*, revealers: int = 3, claimers: int = 3, undelivered: int = 0) -> RoundSnapshot:
    """A v2 round of four joiners: the last ``undelivered`` named undelivered at post, the first
    ``revealers`` revealed, the first ``claimers`` claimed; the collective model falls below the
    curve by more than tau, so every claim carries curve compensation."""
    menu = (
        OptionRecord(100, WAD // 2, 40 * WAD // 100, 80 * WAD // 100),
        OptionRecord(300, WAD, 90 * WAD // 100, 90 * WAD // 100),
    )
    config = ConfigRecord(
        capacity=10,
        participant_bond=BOND,
        scenario_hash=SCENARIO_HASH,
        test_set_commitment=bytes.fromhex("cd" * 32),
        coordinator_commitment=coordinator_commitment(COORD_SECRET, COORD, SCENARIO_HASH, CHAIN),
        schedule=Schedule(100, 200, 3600, 3600, 3600),
        quorum=2,
        test_row_count=10,
        curve_tolerance_wad=TAU,
        shortfall_wei_per_wad=RHO,
    )
    options = [0, 1, 0, 1]
    joins = []
    total = 0
    for i, who in enumerate(PEOPLE):
        total += menu[options[i]].data_count
        x, y = _key(i)
        joins.append(
            JoinRecord(
                participant=who,
                index=i,
                option_id=options[i],
                data_root=bytes([0x40 + i]) * 32,
                row_count=menu[options[i]].data_count,
                commitment=participant_commitment_v2(_secret(i), x, y, who, ROUND, CHAIN),
                bond=BOND,
                total_data=total,
            )
        )
    excluded = tuple(sorted(PEOPLE[len(PEOPLE) - undelivered :], key=lambda a: int(a, 16)))
    delivered = [j for j in joins if j.participant not in excluded]
    rows = sum(menu[j.option_id].data_count for j in delivered)
    tiers = (TierRecord(b"\x01" * 32, 3 * WAD // 10), TierRecord(b"\x02" * 32, 6 * WAD // 10))
    curve = (CurveKnotRecord(100, WAD // 2), CurveKnotRecord(1000, 9 * WAD // 10))
    predicted = predicted_accuracy([(k.data_count, k.accuracy_wad) for k in curve], rows)
    measured = 7 * WAD // 10
    models = ModelsPostedRecord(
        b"\x03" * 32, measured, tiers, rows, predicted, delivered=len(delivered)
    )
    shortfall = curve_shortfall(predicted, measured, TAU)
    share_of_b = allot(COORD_BOND, len(delivered))
    owed = {
        j.participant: curve_compensation(menu[j.option_id].ratio_wad, shortfall, RHO, share_of_b)
        for j in delivered
    }
    check = CurveCheckRecord(
        rows, predicted, measured, TAU, shortfall, share_of_b, sum(owed.values())
    )
    reveals = tuple(
        RevealRecord(
            PEOPLE[i], i, _secret(i), draw_seed(COORD_SECRET, _secret(i), ROUND, i), *_key(i)
        )
        for i in range(revealers)
    )
    collective = models.collective
    ladder = rules.rungs(collective, tiers)
    share = 0  # forfeited bonds are burned, never shared (review hole 3)
    claims = []
    for r in reveals[:claimers]:
        opt = options[r.index]
        rung, _, target = assign_rung(
            menu[opt].ratio_wad,
            collective.accuracy_wad,
            [t.accuracy_wad for t in tiers],
            r.draw_seed,
        )
        claims.append(
            ClaimRecord(
                r.participant,
                r.index,
                opt,
                target,
                rung,
                ladder[rung].accuracy_wad,
                ladder[rung].model_hash,
                BOND,
                share,
                owed[r.participant],
            )
        )
    states = {
        j.participant: ParticipantState(
            j.index,
            j.option_id,
            j.index < revealers,
            j.index < claimers,
            j.participant in excluded,
            False,
            owed[j.participant] if j.index < claimers else 0,
        )
        for j in joins
    }
    paid = sum(c.bond_refund + c.slash_share + c.compensation for c in claims)
    balance = COORD_BOND + len(PEOPLE) * BOND - paid
    return RoundSnapshot(
        chain_id=CHAIN,
        address=ROUND,
        coordinator=COORD,
        menu=menu,
        config=config,
        curve=curve,
        coordinator_bond=COORD_BOND,
        joins=tuple(joins),
        coordinator_secret=COORD_SECRET,
        models=models,
        reveals=reveals,
        claims=tuple(claims),
        refunds=(),
        sweeps=(),
        balance_wei=balance,
        block_number=50,
        timestamp=350,
        phase=3,
        states=states,
        storage_menu=menu,
        storage_config=config,
        storage_tiers=tiers,
        storage_collective=collective,
        storage_counts=(len(joins), revealers, rows),
        event_order=(
            "RoundPublished",
            *["Joined"] * len(joins),
            "CoordinatorRevealed",
            *["Undelivered"] * len(excluded),
            "ModelsPosted",
            "CurveChecked",
            *["Revealed"] * revealers,
            *["Claimed"] * claimers,
        ),
        undelivered=excluded,
        curve_check=check,
    )


def _ids_failed(s: RoundSnapshot) -> set[str]:
    return {f.id for f in rules.chain_checks(s) if f.status is Status.FAIL}


def test_honest_snapshot_passes_every_rule() -> None:
    """An honest round (one non-revealer whose bond is burned, claims) fails no chain rule."""
    s = _honest()
    findings = rules.chain_checks(s)
    assert [f.id for f in findings if f.status is Status.FAIL] == []
    ran = {f.id for f in findings if f.status is Status.PASS}
    assert {"join.bond", "reveal.commitment", "draw.recomputes", "assignment.recomputes"} <= ran
    assert {"balance.reconciles", "reveal.penalty", "tiers.budget", "coordinator.reveal"} <= ran
    assert "events.order" in ran


@pytest.mark.parametrize(
    ("doctor", "finding"),
    [
        (lambda s: replace(s, storage_menu=(s.menu[1], s.menu[1])), "storage.matches_events"),
        (lambda s: replace(s, storage_counts=(4, 4, 800)), "storage.matches_events"),
        (
            lambda s: replace(s, menu=(replace(s.menu[0], ratio_wad=WAD + 1), s.menu[1])),
            "menu.well_formed",
        ),
        (lambda s: replace(s, menu=(s.menu[1], s.menu[0]), storage_menu=None), "menu.well_formed"),
        (
            lambda s: replace(s, joins=(replace(s.joins[0], row_count=99), *s.joins[1:])),
            "join.menu",
        ),
        (lambda s: replace(s, joins=(replace(s.joins[0], bond=1), *s.joins[1:])), "join.bond"),
        (
            lambda s: replace(s, joins=(s.joins[0], replace(s.joins[1], index=5), *s.joins[2:])),
            "join.sequence",
        ),
        (
            lambda s: replace(s, joins=(*s.joins[:3], replace(s.joins[3], total_data=1))),
            "join.sequence",
        ),
        (lambda s: replace(s, coordinator_secret=b"\x22" * 32), "coordinator.reveal"),
        (
            lambda s: replace(
                s, reveals=(replace(s.reveals[0], secret=b"\x09" * 32), *s.reveals[1:])
            ),
            "reveal.commitment",
        ),
        (
            lambda s: replace(
                s, reveals=(replace(s.reveals[0], draw_seed=b"\x09" * 32), *s.reveals[1:])
            ),
            "draw.recomputes",
        ),
        (
            lambda s: replace(s, models=replace(s.models, tiers=(TierRecord(b"\x01" * 32, WAD),))),
            "tiers.budget",
        ),
        (
            lambda s: replace(
                s, claims=(replace(s.claims[0], rung=(s.claims[0].rung + 1) % 4), *s.claims[1:])
            ),
            "assignment.recomputes",
        ),
        (
            lambda s: replace(
                s, claims=(replace(s.claims[0], target_accuracy_wad=1), *s.claims[1:])
            ),
            "assignment.recomputes",
        ),
        (
            lambda s: replace(s, claims=(replace(s.claims[0], slash_share=1), *s.claims[1:])),
            "reveal.penalty",
        ),
        (lambda s: replace(s, balance_wei=s.balance_wei - 1), "balance.reconciles"),
        (
            lambda s: replace(
                s,
                event_order=(
                    "RoundPublished",
                    "Joined",
                    "CoordinatorRevealed",
                    "Revealed",
                    "ModelsPosted",
                ),
            ),
            "events.order",
        ),
        (lambda s: replace(s, event_order=("Joined", "RoundPublished")), "events.order"),
        (
            lambda s: replace(s, sweeps=(SweepRecord(COORD, 5),)),
            "balance.reconciles",
        ),
        (
            lambda s: replace(s, refunds=(DefaultRefundRecord(PEOPLE[3], BOND, 0),)),
            "refund.default",
        ),
    ],
)
def test_doctored_snapshot_fails_its_rule(doctor, finding: str) -> None:
    """Each doctored snapshot fails the rule that exists to catch that lie, with evidence."""
    s = doctor(_honest())
    failed = {f.id: f for f in rules.chain_checks(s) if f.status is Status.FAIL}
    assert finding in failed
    assert failed[finding].failures, "a failed finding carries its evidence"
    assert all(e.expected != e.found for e in failed[finding].failures)


def test_non_revealer_claim_is_a_penalty_finding() -> None:
    """A claim by a participant who never revealed is caught (it must forfeit its reward)."""
    s = _honest(revealers=3, claimers=3)
    fake = replace(s.claims[0], participant=PEOPLE[3], index=3)
    assert "reveal.penalty" in _ids_failed(replace(s, claims=(*s.claims, fake)))


def test_predicted_accuracy_rule_uses_given_curve() -> None:
    """The posted prediction must equal the predictor applied to the committed curve."""
    s = _honest()
    assert rules.check_predicted_accuracy(s).status is Status.PASS
    assert s.models is not None
    assert s.models.predicted_accuracy_wad == WAD // 2 + (4 * WAD // 10) * 700 // 900
    bad = rules.check_predicted_accuracy(s, lambda knots, n: 1)
    assert bad.status is Status.FAIL
    assert bad.id == "models.predicted"


def test_rules_skip_phases_not_reached() -> None:
    """Before reveals, claims and posts, those rules are skipped rather than passed or failed."""
    s = replace(
        _honest(revealers=0, claimers=0), models=None, coordinator_secret=None, phase=0, claims=()
    )
    by_id = {f.id: f.status for f in rules.chain_checks(s)}
    assert by_id["reveal.commitment"] is Status.SKIP
    assert by_id["assignment.recomputes"] is Status.SKIP
    assert by_id["tiers.budget"] is Status.SKIP
    assert by_id["balance.reconciles"] is Status.PASS


def test_storage_undelivered_flag_matches_events() -> None:
    """v2 stores no commitment or seed per participant (they live under the data root and in the
    Revealed event); a stored undelivered flag that disagrees with the Undelivered events is a
    storage finding."""
    s = _honest()
    who = PEOPLE[3]
    doctored = dict(s.states)
    doctored[who] = replace(s.states[who], undelivered=True)
    assert "storage.matches_events" in _ids_failed(replace(s, states=doctored))


def test_honest_round_with_an_undelivered_participant_passes() -> None:
    """A participant named undelivered at post: its rows are out of the total, it neither
    reveals nor gets its bond back, and every rule still passes."""
    s = _honest(revealers=2, claimers=2, undelivered=1)
    assert _ids_failed(s) == set()
    assert rules.check_undelivered(s).status is Status.PASS
    assert s.models is not None
    assert s.models.total_data == 500


@pytest.mark.parametrize(
    ("doctor", "finding"),
    [
        # an undelivered participant who revealed anyway
        (
            lambda s: replace(s, undelivered=(PEOPLE[0],)),
            "undelivered.valid",
        ),
        # an outsider named undelivered
        (lambda s: replace(s, undelivered=(COORD,)), "undelivered.valid"),
        # a shortfall the contract under-reported
        (
            lambda s: replace(s, curve_check=replace(s.curve_check, shortfall_wad=0)),
            "curve.compensation",
        ),
        # a claim paid less compensation than owed
        (
            lambda s: replace(s, claims=(replace(s.claims[0], compensation=0), *s.claims[1:])),
            "curve.compensation",
        ),
        # the coordinator sweeping what belongs to participants
        (
            lambda s: replace(
                s,
                sweeps=(SweepRecord(COORD, COORD_BOND),),
                balance_wei=s.balance_wei - COORD_BOND,
            ),
            "sweep.own_only",
        ),
    ],
)
def test_doctored_v2_money_rules_fail(doctor, finding: str) -> None:
    """The v2 rules (undelivered list, curve compensation, sweep of the coordinator's own part
    only) each catch the lie they exist for."""
    s = doctor(_honest())
    assert finding in _ids_failed(s)


def test_curve_compensation_is_paid_when_the_curve_overpredicts() -> None:
    """Issue 13: the collective model 0.7 falls below the curve's 0.81 by more than tau, so each
    claim is paid ratio x shortfall x rho, capped by its allot, and the audit recomputes it."""
    s = _honest()
    assert s.curve_check is not None
    assert s.curve_check.shortfall_wad > 0
    assert all(c.compensation > 0 for c in s.claims)
    assert rules.check_curve(s).status is Status.PASS


def test_record_claims_compared_with_chain() -> None:
    """A deployment record agreeing with the chain passes record.matches_chain; one naming
    another coordinator fails it; empty record fields are not compared."""
    from modelpact.audit import check_record

    s = _honest()
    claims = {
        "coordinator": COORD.lower(),
        "scenario_hash": "0x" + SCENARIO_HASH.hex(),
        "test_set_root": "",
    }
    ok = check_record(s, claims)
    assert ok.status is Status.PASS
    assert ok.checked == 2
    bad = check_record(s, {**claims, "coordinator": PEOPLE[0]})
    assert bad.status is Status.FAIL
    assert bad.failures[0].subject == "coordinator"


def test_audit_snapshot_without_chain_or_files() -> None:
    """audit_snapshot runs every rule on a plain snapshot: the honest one is ok, with the file
    and scenario checks skipped (not passed) for lack of input, and a doctored balance fails."""
    from modelpact.audit import audit_snapshot

    report = audit_snapshot(_honest(), check_source=False)
    assert report.ok
    assert report.finding("data.root").status is Status.SKIP
    assert report.finding("menu.optimal").status is Status.SKIP
    doctored = audit_snapshot(replace(_honest(), balance_wei=0), check_source=False)
    assert not doctored.ok
    assert doctored.failed_ids() == {"balance.reconciles"}


def test_audit_core_imports_neither_web3_nor_cli_libraries() -> None:
    """The audit's rule modules are pure core: importing them loads no web3, typer or rich
    (only modelpact.audit.fetch talks to a node, through modelpact.chain)."""
    import subprocess
    import sys

    code = (
        "import sys, modelpact.audit, modelpact.audit.rules, modelpact.audit.menu, "
        "modelpact.audit.files, modelpact.audit.bytecode, modelpact.audit.decode; "
        "print(sorted(m for m in ('web3', 'typer', 'rich') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _defaulted(*, timestamp: int, phase: int) -> RoundSnapshot:
    """Everyone joined, the coordinator never posted, and every participant took its refund."""
    s = _honest(revealers=0, claimers=0)
    comp = COORD_BOND // len(PEOPLE)
    refunds = tuple(DefaultRefundRecord(who, BOND, comp) for who in PEOPLE)
    return replace(
        s,
        models=None,
        coordinator_secret=None,
        reveals=(),
        claims=(),
        refunds=refunds,
        balance_wei=COORD_BOND + len(PEOPLE) * BOND - len(PEOPLE) * (BOND + comp),
        timestamp=timestamp,
        phase=phase,
        states={a: replace(st_, claimed=True) for a, st_ in s.states.items()},
        storage_tiers=None,
        storage_collective=None,
        storage_counts=(len(PEOPLE), 0, s.storage_counts[2] if s.storage_counts else 0),
        event_order=("RoundPublished", *["Joined"] * len(PEOPLE), *["DefaultRefunded"] * 4),
    )


@pytest.mark.parametrize(("timestamp", "phase"), [(250, 5), (450, 4)])
def test_default_refunds_pass_in_aborted_and_after_the_claim_deadline(timestamp, phase) -> None:
    """A coordinator default is recognised by the contract's rule (no ModelsPosted, post deadline
    passed), so refunded non-revealers are no penalty finding both while the round is Aborted and
    once it reads Closed after the claim deadline."""
    s = _defaulted(timestamp=timestamp, phase=phase)
    assert rules.coordinator_defaulted(s)
    assert _ids_failed(s) == set()
    assert rules.check_default_refunds(s).status is Status.PASS


def test_default_needs_no_models_and_a_passed_post_deadline() -> None:
    """Without refunds, a round is defaulted only once the post deadline passed without models;
    a round whose models were posted never is."""
    s = replace(_defaulted(timestamp=150, phase=1), refunds=())
    assert not rules.coordinator_defaulted(s)
    assert rules.coordinator_defaulted(replace(s, timestamp=201))
    assert not rules.coordinator_defaulted(replace(_honest(), timestamp=10_000))


def test_claimed_state_of_non_revealer_without_default_is_a_penalty_finding() -> None:
    """A non-revealer stored as claimed in a round whose models were posted is caught even when
    the round is audited after its claim deadline (phase Closed)."""
    s = _honest()
    who = PEOPLE[3]
    doctored = dict(s.states)
    doctored[who] = replace(s.states[who], claimed=True)
    closed = replace(s, states=doctored, timestamp=10_000, phase=4)
    assert "reveal.penalty" in _ids_failed(closed)


def test_cli_start_does_not_load_the_audit_machinery() -> None:
    """Every `modelpact` command imports the CLI package; that must not load the audit's rule
    modules (numpy, eth-abi, the ML stack, the chain adapter): they load when `audit` runs."""
    import subprocess
    import sys

    heavy = (
        "modelpact.audit.files",
        "modelpact.audit.rules",
        "modelpact.audit.snapshot",
        "modelpact.audit.fetch",
        "modelpact.audit.menu",
        "modelpact.audit.source",
    )
    code = f"import sys, modelpact.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    from modelpact.audit import RoundSnapshot as LazySnapshot
    from modelpact.audit.snapshot import RoundSnapshot

    assert LazySnapshot is RoundSnapshot


def _coordinator_cancelled(*, compensation: int = 0, swept: int = 0) -> RoundSnapshot:
    """The coordinator named PEOPLE[0] undelivered and cancelled; the other participants took
    their refunds (``compensation`` of B each) and the coordinator swept ``swept``."""
    s = _honest(revealers=0, claimers=0)
    named = PEOPLE[0]
    others = [p for p in PEOPLE if p != named]
    refunds = tuple(DefaultRefundRecord(who, BOND, compensation) for who in others)
    burned = BOND + COORD_BOND
    out = len(others) * (BOND + compensation) + swept
    return replace(
        s,
        models=None,
        coordinator_secret=None,
        reveals=(),
        claims=(),
        undelivered=(named,),
        cancelled=(len(PEOPLE), len(others), len(PEOPLE), burned),
        cancel_refunds=refunds,
        sweeps=(SweepRecord(COORD, swept),),
        balance_wei=COORD_BOND + len(PEOPLE) * BOND - out,
    )


def test_coordinator_cancel_refunds_exactly_the_bond_and_burns_b() -> None:
    """The cancel rule: after the coordinator's cancel each participant not named gets exactly
    its bond, the sweep pays nothing, the event's burned is the named bond plus B and the
    balance keeps it; a refund with a share of B, any sweep, a wrong burned amount or a balance
    below what was burned each fail their rule."""
    s = _coordinator_cancelled()
    for check in (rules.check_cancel_refunds, rules.check_sweep, rules.check_balance):
        assert check(s).status is Status.PASS, check(s)
    assert s.balance_wei == BOND + COORD_BOND
    assert (
        rules.check_cancel_refunds(_coordinator_cancelled(compensation=COORD_BOND // 4)).status
        is Status.FAIL
    )
    assert (
        rules.check_sweep(_coordinator_cancelled(swept=COORD_BOND % 4 or 1)).status is Status.FAIL
    )
    assert s.cancelled is not None
    wrong = replace(s, cancelled=(*s.cancelled[:3], COORD_BOND))
    assert rules.check_cancel_refunds(wrong).status is Status.FAIL
    assert rules.check_balance(replace(s, balance_wei=0)).status is Status.FAIL


def test_compensation_capped_by_a_small_bond_follows_the_contract_rule_but_fails_the_audit() -> (
    None
):
    """A coordinator bond too small to pay the shortfall: the contract pays each deliverer its
    allot (the contract's own rule is followed) but every deliverer received less than promised
    beyond tau, so curve.compensation fails and names each deliverer with what it was short."""
    s = _honest()
    c = s.curve_check
    assert c is not None
    tiny = 4 * 1000  # about 1,000 wei a deliverer
    allot_ = allot(tiny, len(s.delivered))
    assert 0 < allot_ < min(cl.compensation for cl in s.claims)
    s = replace(
        s,
        coordinator_bond=tiny,
        claims=tuple(replace(cl, compensation=allot_) for cl in s.claims),
        curve_check=replace(c, allot=allot_, liability=allot_ * len(s.delivered)),
    )
    broken = rules.check_curve(s)
    assert broken.status is Status.FAIL
    short = [f for f in broken.failures if f.note.startswith("short beyond tau")]
    assert len(short) == len(s.delivered)
    assert len(broken.evidence) == len(s.delivered)  # promised vs received, every deliverer


def test_uncompensated_shortfall_is_exact_in_accuracy_units() -> None:
    """ratio x shortfall - paid / rho exactly: 0 when paid in full, the lost part when paid less
    (a floor to the wei at a tiny rho loses a visible amount), the whole of it without a rate."""
    ratio, shortfall = WAD // 2, WAD // 10
    full = ratio * shortfall * RHO // (WAD * WAD)
    kw = {"ratio_wad": ratio, "shortfall_wad": shortfall}
    assert rules.uncompensated_shortfall(**kw, wei_per_wad=RHO, paid_wei=full) == 0
    assert rules.uncompensated_shortfall(**kw, wei_per_wad=RHO, paid_wei=full - RHO) == 1
    tiny_rho = 3
    floored = ratio * shortfall * tiny_rho // (WAD * WAD)
    lost = rules.uncompensated_shortfall(**kw, wei_per_wad=tiny_rho, paid_wei=floored)
    assert lost > rules.COMPENSATION_ROUNDING_TOLERANCE
    assert rules.uncompensated_shortfall(**kw, wei_per_wad=0, paid_wei=0) == Fraction(1, 20)

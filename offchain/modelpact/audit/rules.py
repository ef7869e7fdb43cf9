"""The audit's chain rules: pure checks over a :class:`~modelpact.audit.snapshot.RoundSnapshot`.

Each public ``check_*`` function takes plain values and returns one
:class:`~modelpact.audit.report.Finding` with a stable id. Nothing here talks to a node, so every
rule is tested on hand-built snapshots (honest ones pass, doctored ones fail with that rule's id).

Every value shared with Solidity (commitments, draw seeds, the rung rule, the curve) is
recomputed with :mod:`modelpact.encoding`, the project's single source of truth, whose golden
vectors Foundry checks against the real contract: the auditor's recomputation is exactly the
contract's rule, not a second copy that could drift from it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction

from modelpact.audit.report import Evidence, Finding, make_finding, skipped
from modelpact.audit.snapshot import (
    ZERO32,
    OptionRecord,
    RoundSnapshot,
    TierRecord,
)
from modelpact.encoding import (
    WAD,
    EncodingError,
    Phase,
    allot,
    assign_rung,
    coordinator_commitment,
    curve_compensation,
    curve_shortfall,
    draw_seed,
    participant_commitment_v2,
    predicted_accuracy,
)

__all__ = [
    "COMPENSATION_ROUNDING_TOLERANCE",
    "PHASES",
    "chain_checks",
    "check_assignments",
    "check_balance",
    "check_cancel_refunds",
    "check_coordinator_reveal",
    "check_curve",
    "check_default_refunds",
    "check_draw_seeds",
    "check_event_order",
    "check_joins_bond",
    "check_joins_menu",
    "check_joins_sequence",
    "check_menu_well_formed",
    "check_penalties",
    "check_predicted_accuracy",
    "check_reveal_commitments",
    "check_storage_matches_events",
    "check_sweep",
    "check_tiers_budget",
    "check_undelivered",
    "coordinator_defaulted",
    "promised_versus_received",
    "rungs",
    "uncompensated_shortfall",
]

PHASES = tuple(p.name.title() for p in Phase)
"""Phase names in ``IModelpactRound.Phase`` order (Join, Post, Reveal, Claim, Closed, Aborted)."""
# Tolerance on ratio_wad versus promised/budget: the three are rounded independently to WAD.
RATIO_TOLERANCE_WAD = 10**9


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _who(address: str, index: int | None = None) -> str:
    return address if index is None else f"#{index} {address}"


# ---------------------------------------------------------------------------------------------
# The rung ladder and the round's default
# ---------------------------------------------------------------------------------------------


def rungs(collective: TierRecord, tiers: Sequence[TierRecord]) -> list[TierRecord]:
    """Rung 0 = no model, rungs 1..L = posted tiers, rung L+1 = the collective model."""
    return [TierRecord(ZERO32, 0), *tiers, collective]


def coordinator_defaulted(s: RoundSnapshot) -> bool:
    """Whether the coordinator defaulted: no ``ModelsPosted`` and the post deadline has passed.

    This is the contract's own rule (``_phase``: without posted models, a time after
    ``deadlines.post`` is Aborted until the claim deadline, then Closed), so it holds in both of
    those phases; ``phase == Aborted`` alone misses a refunded round audited after its claim
    deadline. A ``DefaultRefunded`` event proves the default too (the contract only refunds then).
    """
    if s.cancelled is not None:
        return False
    return s.models is None and (s.timestamp > s.config.schedule.post or bool(s.refunds))


# ---------------------------------------------------------------------------------------------
# Menu and storage
# ---------------------------------------------------------------------------------------------


def _rootless(model: TierRecord) -> TierRecord:
    """A posted model as the views return it: without its log root."""
    return replace(model, log_root=ZERO32)


def check_storage_matches_events(s: RoundSnapshot) -> Finding:
    """``storage.matches_events``: views agree with the published events (immutable menu)."""
    title = "Storage views agree with the events"
    failures: list[Evidence] = []
    checked = 0
    pairs: list[tuple[str, object, object]] = [
        ("menu", s.menu, s.storage_menu),
        ("config", s.config, s.storage_config),
    ]
    if s.models is not None:
        # The views return log root 0 (the roots live in the post commitment and the event).
        pairs.append(("tiers", tuple(map(_rootless, s.models.tiers)), s.storage_tiers))
        pairs.append(("collective model", _rootless(s.models.collective), s.storage_collective))
    for name, event_value, view_value in pairs:
        if view_value is None:
            continue
        checked += 1
        if event_value != view_value:
            failures.append(Evidence(name, repr(event_value), repr(view_value), "event vs view"))
    if s.storage_counts is not None:
        checked += 1
        rows = s.models.total_data if s.models is not None else None
        if rows is None:
            rows = s.joins[-1].total_data if s.joins else 0
            if s.cancelled is not None:  # a cancel subtracts the undelivered rows too
                rows = sum(s.menu[j.option_id].data_count for j in s.delivered)
        events = (len(s.joins), len({r.participant for r in s.reveals}), rows)
        if events != s.storage_counts:
            failures.append(
                Evidence(
                    "joinedCount, revealedCount, totalData",
                    repr(events),
                    repr(s.storage_counts),
                    "events vs views",
                )
            )
    for join in s.joins:
        state = s.states.get(join.participant)
        checked += 1
        if state is None:
            failures.append(Evidence(_who(join.participant, join.index), "a stored entry", "none"))
            continue
        # v2 keeps the commitment under the data root (never overwritten) and no seed
        want = (join.index, join.option_id, join.participant in s.undelivered)
        got = (state.index, state.option_id, state.undelivered)
        if want != got:
            failures.append(
                Evidence(
                    _who(join.participant, join.index), repr(want), repr(got), "Joined vs view"
                )
            )
    return make_finding(
        "storage.matches_events",
        title,
        checked=checked,
        failures=failures,
        detail_pass=f"{checked} stored records equal their events",
    )


def check_menu_well_formed(s: RoundSnapshot) -> Finding:
    """``menu.well_formed``: sorted, ratio <= 1, rows > 0, ratio = t / t_bar."""
    failures: list[Evidence] = []
    menu = s.menu
    if not menu:
        failures.append(Evidence("menu", "at least one option", "empty"))
    for i, opt in enumerate(menu):
        subject = f"option {i}"
        if opt.data_count <= 0:
            failures.append(Evidence(subject, "dataCount > 0", str(opt.data_count)))
        if opt.ratio_wad > WAD:
            failures.append(Evidence(subject, f"ratio <= {WAD}", str(opt.ratio_wad)))
        if opt.promised_value_wad > opt.budget_value_wad:
            failures.append(
                Evidence(
                    subject, f"t <= t_bar = {opt.budget_value_wad}", str(opt.promised_value_wad)
                )
            )
        if opt.budget_value_wad > 0:
            implied = opt.promised_value_wad * WAD // opt.budget_value_wad
            if abs(implied - opt.ratio_wad) > RATIO_TOLERANCE_WAD:
                failures.append(
                    Evidence(subject, f"ratio = t*WAD/t_bar = {implied}", str(opt.ratio_wad))
                )
        if i > 0 and (menu[i - 1].data_count, menu[i - 1].ratio_wad) > (
            opt.data_count,
            opt.ratio_wad,
        ):
            failures.append(Evidence(subject, "sorted by (dataCount, ratio)", "out of order"))
    return make_finding(
        "menu.well_formed",
        "On-chain menu is well formed",
        checked=len(menu),
        failures=failures,
        detail_pass=f"{len(menu)} options sorted, ratios <= 1 and equal to t/t_bar",
    )


# ---------------------------------------------------------------------------------------------
# Joins
# ---------------------------------------------------------------------------------------------


def check_joins_menu(s: RoundSnapshot) -> Finding:
    """``join.menu``: every join names an existing option and commits exactly its row count."""
    failures: list[Evidence] = []
    for j in s.joins:
        who = _who(j.participant, j.index)
        if j.option_id >= len(s.menu):
            failures.append(Evidence(who, f"option < {len(s.menu)}", str(j.option_id)))
            continue
        need = s.menu[j.option_id].data_count
        if j.row_count != need:
            failures.append(Evidence(who, f"{need} rows (option {j.option_id})", str(j.row_count)))
        if j.data_root == ZERO32 or j.commitment == ZERO32:
            failures.append(Evidence(who, "non-zero data root and commitment", "zero"))
    return make_finding(
        "join.menu",
        "Joins match the menu (option, row count)",
        checked=len(s.joins),
        failures=failures,
        detail_pass=f"{len(s.joins)} joins name a menu option and commit its row count",
    )


def check_joins_bond(s: RoundSnapshot) -> Finding:
    """``join.bond``: every join posted exactly the participant bond."""
    bond = s.config.participant_bond
    failures = [
        Evidence(_who(j.participant, j.index), f"{bond} wei", f"{j.bond} wei")
        for j in s.joins
        if j.bond != bond
    ]
    return make_finding(
        "join.bond",
        "Joins posted the participant bond",
        checked=len(s.joins),
        failures=failures,
        detail_pass=f"{len(s.joins)} bonds of {bond} wei",
    )


def check_joins_sequence(s: RoundSnapshot) -> Finding:
    """``join.sequence``: indices 0..n-1, one entry per address, capacity, running total."""
    failures: list[Evidence] = []
    running = 0
    seen: Counter[str] = Counter(j.participant for j in s.joins)
    for pos, j in enumerate(s.joins):
        who = _who(j.participant, j.index)
        if j.index != pos:
            failures.append(Evidence(who, f"index {pos}", str(j.index)))
        if j.option_id < len(s.menu):
            running += s.menu[j.option_id].data_count
        if j.total_data != running:
            failures.append(Evidence(who, f"totalData {running}", str(j.total_data)))
    for address, count in seen.items():
        if count > 1:
            failures.append(Evidence(address, "one join", f"{count} joins"))
    if len(s.joins) > s.config.capacity:
        failures.append(Evidence("capacity", f"<= {s.config.capacity}", str(len(s.joins))))
    return make_finding(
        "join.sequence",
        "Join order, uniqueness, capacity and running data total",
        checked=len(s.joins),
        failures=failures,
        detail_pass=f"{len(s.joins)} joins of {s.config.capacity}, total {running} rows",
    )


# ---------------------------------------------------------------------------------------------
# Randomness
# ---------------------------------------------------------------------------------------------


def check_coordinator_reveal(s: RoundSnapshot) -> Finding:
    """``coordinator.reveal``: the revealed secret opens the published commitment."""
    title = "Coordinator's secret opens its commitment"
    if s.coordinator_secret is None:
        return skipped("coordinator.reveal", title, "the coordinator has not revealed")
    computed = coordinator_commitment(
        s.coordinator_secret, s.coordinator, s.config.scenario_hash, s.chain_id
    )
    ev = Evidence("coordinator", _hex(s.config.coordinator_commitment), _hex(computed))
    return make_finding(
        "coordinator.reveal",
        title,
        checked=1,
        failures=[ev] if computed != s.config.coordinator_commitment else [],
        detail_pass="keccak(secret, coordinator, scenarioHash, chainid) equals the commitment",
        evidence=[ev],
    )


def _joins_by_address(s: RoundSnapshot) -> dict[str, int]:
    return {j.participant: pos for pos, j in enumerate(s.joins)}


def check_reveal_commitments(s: RoundSnapshot) -> Finding:
    """``reveal.commitment``: every reveal opens its joiner's commitment, once."""
    title = "Reveals match their commitments"
    if not s.reveals:
        return skipped("reveal.commitment", title, "no participant has revealed")
    joined = _joins_by_address(s)
    failures: list[Evidence] = []
    count: Counter[str] = Counter(r.participant for r in s.reveals)
    for r in s.reveals:
        who = _who(r.participant, r.index)
        pos = joined.get(r.participant)
        if pos is None:
            failures.append(Evidence(who, "a joined participant", "never joined"))
            continue
        join = s.joins[pos]
        if r.index != join.index:
            failures.append(Evidence(who, f"index {join.index}", str(r.index)))
        computed = participant_commitment_v2(
            r.secret, r.delivery_key_x, r.delivery_key_y, r.participant, s.address, s.chain_id
        )
        if computed != join.commitment:
            failures.append(Evidence(who, _hex(join.commitment), _hex(computed), "commitment"))
        if count[r.participant] > 1:
            failures.append(Evidence(who, "one reveal", f"{count[r.participant]} reveals"))
    for address, pos in joined.items():
        state = s.states.get(address)
        if state is not None and state.revealed != (address in count):
            failures.append(
                Evidence(_who(address, pos), f"revealed={address in count}", f"{state.revealed}")
            )
    return make_finding(
        "reveal.commitment",
        title,
        checked=len(s.reveals),
        failures=failures,
        detail_pass=f"{len(s.reveals)} of {len(s.joins)} participants revealed valid secrets",
    )


def check_draw_seeds(s: RoundSnapshot) -> Finding:
    """``draw.recomputes``: every draw seed is keccak(coordinator secret, secret, round, index)."""
    title = "Draw seeds recompute from the revealed secrets"
    if not s.reveals:
        return skipped("draw.recomputes", title, "no participant has revealed")
    if s.coordinator_secret is None:
        return make_finding(
            "draw.recomputes",
            title,
            checked=len(s.reveals),
            failures=[Evidence("coordinator", "a revealed secret before any draw", "none")],
            detail_pass="",
        )
    failures: list[Evidence] = []
    for r in s.reveals:
        want = draw_seed(s.coordinator_secret, r.secret, s.address, r.index)
        if want != r.draw_seed:
            failures.append(Evidence(_who(r.participant, r.index), _hex(want), _hex(r.draw_seed)))
    return make_finding(
        "draw.recomputes",
        title,
        checked=len(s.reveals),
        failures=failures,
        detail_pass=f"{len(s.reveals)} seeds recomputed",
    )


# ---------------------------------------------------------------------------------------------
# Models and assignments
# ---------------------------------------------------------------------------------------------


def check_tiers_budget(s: RoundSnapshot) -> Finding:
    """``tiers.budget``: tiers strictly ascending, non-zero, strictly below the collective model."""
    title = "Reward tiers within the budget (below the collective model)"
    if s.models is None:
        return skipped("tiers.budget", title, "models not posted")
    m = s.models
    failures: list[Evidence] = []
    if not 0 < m.collective_accuracy_wad <= WAD:
        failures.append(
            Evidence("collective", f"0 < accuracy <= {WAD}", str(m.collective_accuracy_wad))
        )
    previous = 0
    for i, t in enumerate(m.tiers):
        subject = f"tier {i}"
        if t.accuracy_wad >= m.collective_accuracy_wad:
            failures.append(
                Evidence(subject, f"< collective {m.collective_accuracy_wad}", str(t.accuracy_wad))
            )
        if t.accuracy_wad <= previous:
            failures.append(Evidence(subject, f"> previous {previous}", str(t.accuracy_wad)))
        if t.model_hash == ZERO32:
            failures.append(Evidence(subject, "a model hash", "zero"))
        previous = t.accuracy_wad
    delivered_total = sum(s.menu[j.option_id].data_count for j in s.delivered)
    if m.total_data != delivered_total:
        failures.append(
            Evidence("deliveredRows", str(delivered_total), str(m.total_data), "ModelsPosted")
        )
    hashes = Counter([m.collective_model_hash, *(t.model_hash for t in m.tiers)])
    for digest, count in hashes.items():
        if count > 1:
            failures.append(Evidence(_hex(digest), "each model hash once", f"{count} times"))
    return make_finding(
        "tiers.budget",
        title,
        checked=len(m.tiers) + 1,
        failures=failures,
        detail_pass=f"{len(m.tiers)} tiers strictly below the collective accuracy "
        f"{m.collective_accuracy_wad / WAD:.6f}",
    )


def check_predicted_accuracy(
    s: RoundSnapshot,
    predict: Callable[[Sequence[tuple[int, int]], int], int] | None = predicted_accuracy,
) -> Finding:
    """``models.predicted``: the posted prediction is the committed curve at the total data."""
    title = "Predicted accuracy recomputes from the committed curve"
    if s.models is None:
        return skipped("models.predicted", title, "models not posted")
    if predict is None:
        return skipped("models.predicted", title, "no curve predictor available")
    knots = [(k.data_count, k.accuracy_wad) for k in s.curve]
    want = predict(knots, s.models.total_data)
    ev = Evidence("predictedAccuracyWad", str(want), str(s.models.predicted_accuracy_wad))
    return make_finding(
        "models.predicted",
        title,
        checked=1,
        failures=[ev] if want != s.models.predicted_accuracy_wad else [],
        detail_pass=f"curve({s.models.total_data} rows) = {want / WAD:.6f} as posted",
        evidence=[ev],
    )


def check_assignments(s: RoundSnapshot) -> Finding:
    """``assignment.recomputes``: every claim's target, rung, accuracy and model hash recompute."""
    title = "Every assignment recomputes from its seed and the menu"
    if not s.claims:
        return skipped("assignment.recomputes", title, "no claims yet")
    failures: list[Evidence] = []
    if s.models is None:
        return make_finding(
            "assignment.recomputes",
            title,
            checked=len(s.claims),
            failures=[Evidence("models", "posted before any claim", "not posted")],
            detail_pass="",
        )
    collective = s.models.collective
    ladder = rungs(collective, s.models.tiers)
    accs = [t.accuracy_wad for t in s.models.tiers]
    joined = _joins_by_address(s)
    seeds = {r.participant: r.draw_seed for r in s.reveals}
    claimed: Counter[str] = Counter(c.participant for c in s.claims)
    for c in s.claims:
        who = _who(c.participant, c.index)
        pos = joined.get(c.participant)
        seed = seeds.get(c.participant)
        if pos is None or seed is None:
            failures.append(Evidence(who, "a joined, revealed participant", "not revealed"))
            continue
        join = s.joins[pos]
        if (c.index, c.option_id) != (join.index, join.option_id):
            failures.append(
                Evidence(
                    who, f"index {join.index} option {join.option_id}", f"{c.index} {c.option_id}"
                )
            )
        if join.option_id >= len(s.menu):
            continue
        option: OptionRecord = s.menu[join.option_id]
        try:
            rung, _, target = assign_rung(option.ratio_wad, collective.accuracy_wad, accs, seed)
        except EncodingError as error:  # tiers or ratio the contract would have refused
            failures.append(Evidence(who, "a valid rung ladder", "none", error.one_line()))
            continue
        if c.target_accuracy_wad != target:
            failures.append(Evidence(who, f"target {target}", str(c.target_accuracy_wad)))
        if c.rung != rung:
            failures.append(
                Evidence(who, f"rung {rung}", f"rung {c.rung}", "draw gives another rung")
            )
        elif (c.accuracy_wad, c.model_hash) != (ladder[rung].accuracy_wad, ladder[rung].model_hash):
            failures.append(
                Evidence(
                    who,
                    f"{ladder[rung].accuracy_wad} {_hex(ladder[rung].model_hash)}",
                    f"{c.accuracy_wad} {_hex(c.model_hash)}",
                    "model of the rung",
                )
            )
        if claimed[c.participant] > 1:
            failures.append(Evidence(who, "one claim", f"{claimed[c.participant]} claims"))
    return make_finding(
        "assignment.recomputes",
        title,
        checked=len(s.claims),
        failures=failures,
        detail_pass=f"{len(s.claims)} claims recomputed (target, rung, model)",
    )


# ---------------------------------------------------------------------------------------------
# Money
# ---------------------------------------------------------------------------------------------


def expected_slash_share(s: RoundSnapshot) -> int:
    """0: the bonds of deliverers who did not reveal are burned, never shared (a seat the
    coordinator holds would otherwise collect an honest participant's missed window; the Claimed
    event keeps the field). ``s`` is kept for the rule's signature."""
    del s
    return 0


def check_penalties(s: RoundSnapshot) -> Finding:
    """``reveal.penalty``: non-revealers get nothing; revealers get their bond (no share)."""
    title = "Non-revealers penalised, revealers repaid per the rules"
    if not s.claims and s.phase < Phase.CLAIM:
        return skipped("reveal.penalty", title, "claim phase not reached")
    failures: list[Evidence] = []
    revealed = {r.participant for r in s.reveals}
    share = expected_slash_share(s)
    bond = s.config.participant_bond
    for c in s.claims:
        who = _who(c.participant, c.index)
        if c.participant not in revealed:
            failures.append(Evidence(who, "no claim (did not reveal)", "claimed"))
            continue
        if c.bond_refund != bond or c.slash_share != share:
            failures.append(
                Evidence(
                    who,
                    f"bond {bond} + share {share}",
                    f"bond {c.bond_refund} + share {c.slash_share}",
                )
            )
    defaulted = coordinator_defaulted(s)
    for ref in s.refunds:
        if ref.participant not in revealed and not defaulted:
            failures.append(Evidence(ref.participant, "no refund (did not reveal)", "refunded"))
    for j in s.joins:
        state = s.states.get(j.participant)
        if j.participant not in revealed and state is not None and state.claimed and not defaulted:
            failures.append(Evidence(_who(j.participant, j.index), "claimed=false", "claimed=true"))
    for address in s.undelivered:
        if address in revealed or any(c.participant == address for c in s.claims):
            failures.append(Evidence(address, "no reveal or claim (undelivered)", "revealed"))
    forfeiting = len(s.joins) - len(revealed)
    return make_finding(
        "reveal.penalty",
        title,
        checked=len(s.joins),
        failures=failures,
        detail_pass=f"{forfeiting} non-revealers forfeited {forfeiting * bond} wei; "
        f"each revealer's share is {share} wei",
    )


def check_default_refunds(s: RoundSnapshot) -> Finding:
    """``refund.default``: only after a default: bond + equal share of the coordinator bond."""
    title = "Default refunds follow the rules"
    if not s.refunds:
        return skipped("refund.default", title, "no default refunds")
    failures: list[Evidence] = []
    if s.models is not None:
        failures.append(Evidence("round", "no refunds once models are posted", "refunds"))
    joined = _joins_by_address(s)
    comp = s.coordinator_bond // len(s.joins) if s.joins else 0
    counts: Counter[str] = Counter(r.participant for r in s.refunds)
    for ref in s.refunds:
        if ref.participant not in joined:
            failures.append(Evidence(ref.participant, "a participant", "never joined"))
            continue
        if (ref.bond, ref.compensation) != (s.config.participant_bond, comp):
            failures.append(
                Evidence(
                    ref.participant,
                    f"bond {s.config.participant_bond} + compensation {comp}",
                    f"{ref.bond} + {ref.compensation}",
                )
            )
        if counts[ref.participant] > 1:
            failures.append(Evidence(ref.participant, "one refund", f"{counts[ref.participant]}"))
    return make_finding(
        "refund.default",
        title,
        checked=len(s.refunds),
        failures=failures,
        detail_pass=f"{len(s.refunds)} refunds of bond + {comp} wei compensation",
    )


def check_event_order(s: RoundSnapshot) -> Finding:
    """``events.order``: the protocol's sequence held on chain.

    Published first; every join before the coordinator's reveal; the reveal before the models;
    the models before any participant reveal (so tiers could not be chosen after seeing draws);
    claims after the models; no default refund once models are posted; sweeps last.
    """
    title = "Events follow the protocol's order"
    order = s.event_order
    if not order:
        return skipped("events.order", title, "event order not recorded")
    failures: list[Evidence] = []

    def first(name: str) -> int | None:
        return order.index(name) if name in order else None

    def last(name: str) -> int | None:
        return len(order) - 1 - order[::-1].index(name) if name in order else None

    if order[0] != "RoundPublished":
        failures.append(Evidence("first event", "RoundPublished", order[0]))
    rules_ = [
        ("Joined", "last", "CoordinatorRevealed", "every join before the coordinator's reveal"),
        ("CoordinatorRevealed", "first", "ModelsPosted", "coordinator reveals before posting"),
        ("ModelsPosted", "first", "Revealed", "models posted before any participant reveals"),
        ("ModelsPosted", "first", "Claimed", "models posted before any claim"),
        ("Claimed", "last", "Swept", "sweeps after claims"),
        ("Undelivered", "last", "ModelsPosted", "undelivered named at the post"),
        ("CurveChecked", "first", "Revealed", "curve checked before any participant reveals"),
    ]
    for before, which, after, meaning in rules_:
        b = last(before) if which == "last" else first(before)
        a = first(after)
        if b is not None and a is not None and b > a:
            failures.append(
                Evidence(f"{before} / {after}", meaning, f"{after} at #{a}, {before} at #{b}")
            )
    if "ModelsPosted" in order and "DefaultRefunded" in order:
        failures.append(Evidence("DefaultRefunded", "no refund once models are posted", "both"))
    return make_finding(
        "events.order",
        title,
        checked=len(order),
        failures=failures,
        detail_pass=f"{len(order)} events in protocol order (models before participant reveals)",
    )


def check_balance(s: RoundSnapshot) -> Finding:
    """``balance.reconciles``: bonds in minus claims, refunds and sweeps out equals the balance."""
    inflow = s.coordinator_bond + sum(j.bond for j in s.joins)
    claims = sum(c.bond_refund + c.slash_share + c.compensation for c in s.claims)
    refunds = sum(r.bond + r.compensation for r in (*s.refunds, *s.cancel_refunds))
    refunds += sum(amount for _, amount in s.compensation_payments)
    refunds += sum(f.paid for f in s.delivery_failures) + sum(f.reward for f in s.frauds)
    swept = sum(w.amount for w in s.sweeps)
    expected = inflow - claims - refunds - swept
    ev = Evidence(
        "balance",
        f"{expected} wei",
        f"{s.balance_wei} wei",
        f"in {inflow} (coordinator {s.coordinator_bond}); out: claims {claims}, "
        f"refunds {refunds}, sweeps {swept}",
    )
    failures = [ev] if expected != s.balance_wei else []
    burned = cancel_burned(s)
    if s.balance_wei < burned:  # burned wei never leaves the contract
        failures.append(Evidence("burned", f">= {burned} wei held", f"{s.balance_wei} wei"))
    if expected < 0:
        failures.append(Evidence("outflow", f"<= {inflow} wei", f"{claims + refunds + swept} wei"))
    return make_finding(
        "balance.reconciles",
        "Every wei accounted for; the balance reconciles",
        checked=1,
        failures=failures,
        detail_pass=f"balance {s.balance_wei} wei = in {inflow} - out {claims + refunds + swept}",
        evidence=[ev],
    )


def chain_checks(
    s: RoundSnapshot,
    *,
    predict: Callable[[Sequence[tuple[int, int]], int], int] | None = predicted_accuracy,
) -> list[Finding]:
    """Every chain-only rule, in report order."""
    return [
        check_storage_matches_events(s),
        check_menu_well_formed(s),
        check_joins_menu(s),
        check_joins_bond(s),
        check_joins_sequence(s),
        check_coordinator_reveal(s),
        check_reveal_commitments(s),
        check_draw_seeds(s),
        check_event_order(s),
        check_tiers_budget(s),
        check_predicted_accuracy(s, predict),
        check_assignments(s),
        check_penalties(s),
        check_default_refunds(s),
        check_undelivered(s),
        check_curve(s),
        check_cancel_refunds(s),
        check_sweep(s),
        check_deliveries(s),
        check_fraud(s),
        check_balance(s),
    ]


# ---------------------------------------------------------------------------------------------
# v2: undelivered participants, the curve check, cancel refunds, the sweep
# ---------------------------------------------------------------------------------------------


def check_undelivered(s: RoundSnapshot) -> Finding:
    """``undelivered.valid``: the participants named undelivered joined, are named once, never
    revealed or claimed, and the deliverers reach the quorum when models were posted. (Whether
    each named participant really failed to deliver is checked against the published data roots
    by ``files.undelivered`` when the delivered files are given.)"""
    title = "Undelivered participants named per the rules"
    if s.models is None and s.cancelled is None:
        return skipped("undelivered.valid", title, "no post or cancel yet")
    joined = _joins_by_address(s)
    failures: list[Evidence] = []
    for address, count in Counter(s.undelivered).items():
        if address not in joined:
            failures.append(Evidence(address, "a joined participant", "never joined"))
        if count > 1:
            failures.append(Evidence(address, "named once", f"{count} times"))
    revealed = {r.participant for r in s.reveals}
    for address in set(s.undelivered) & revealed:
        failures.append(Evidence(address, "no reveal (undelivered)", "revealed"))
    delivered, quorum = len(s.delivered), s.config.effective_quorum
    if s.models is not None and delivered < quorum:
        failures.append(Evidence("quorum", f">= {quorum} deliverers", str(delivered)))
    if s.cancelled is not None and delivered >= quorum and s.undelivered:
        failures.append(Evidence("cancel", f"< {quorum} deliverers", str(delivered)))
    return make_finding(
        "undelivered.valid",
        title,
        checked=len(s.joins),
        failures=failures,
        detail_pass=f"{len(s.undelivered)} undelivered, {delivered} delivered (quorum {quorum})",
    )


def expected_compensation(s: RoundSnapshot) -> dict[str, int]:
    """Each deliverer's curve compensation: min(allot, ratio x shortfall x rho / 1e36)."""
    if s.models is None or s.curve_check is None:
        return {}
    share = allot(s.coordinator_bond, len(s.delivered)) if s.delivered else 0
    shortfall = s.curve_check.shortfall_wad
    rho = s.config.shortfall_wei_per_wad
    return {
        j.participant: curve_compensation(s.menu[j.option_id].ratio_wad, shortfall, rho, share)
        for j in s.delivered
        if j.option_id < len(s.menu)
    }


COMPENSATION_ROUNDING_TOLERANCE = Fraction(1, 10**9)
"""Accuracy units a deliverer may lose to the wei: floor(ratio x shortfall x rho / 1e36) loses
at most 1 / rho, which is below 1e-16 at the demo's rho = 1e16 but a whole value unit at
unit_wei = 1 (rho = scale): such a price cannot pay a shortfall back."""


def uncompensated_shortfall(
    *, ratio_wad: int, shortfall_wad: int, wei_per_wad: int, paid_wei: int
) -> Fraction:
    """What a deliverer's promise lost beyond tau and was not paid back, in accuracy units:
    ratio x shortfall - paid / rho, exactly (the demo and :func:`promised_versus_received` judge
    it against :data:`COMPENSATION_ROUNDING_TOLERANCE`). Without a rate (rho = 0, a round with
    no compensation) nothing is ever paid back: the whole ratio x shortfall."""
    owed = Fraction(ratio_wad * shortfall_wad, WAD * WAD)
    return owed if wei_per_wad == 0 else owed - Fraction(paid_wei, wei_per_wad)


def promised_versus_received(s: RoundSnapshot) -> tuple[list[Evidence], list[Evidence]]:
    """Every deliverer's promise against what it receives, in accuracy units (x the valuation's
    scale for value units): promised ratio x curve(delivered rows), received in expectation
    ratio x measured (its draw's target) plus its compensation / rho. The rule lets a
    participant fall short by ratio x tau; (evidence for all, failures) where the compensation
    owed falls below ratio x shortfall (exactly, in accuracy units) by more than
    :data:`COMPENSATION_ROUNDING_TOLERANCE`: capped by the allot, or lost to the wei at a tiny
    rho. Short beyond tau and uncompensated (issue 13: never "all checks passed" then)."""
    c, rho = s.curve_check, s.config.shortfall_wei_per_wad
    if s.models is None or c is None or rho == 0:  # rho = 0: curve.terms states it
        return [], []
    owed = expected_compensation(s)
    evidence, failures = [], []
    for j in sorted(s.delivered, key=lambda j: j.index):
        if j.option_id >= len(s.menu):
            continue
        ratio = Fraction(s.menu[j.option_id].ratio_wad, WAD)
        paid = owed.get(j.participant, 0)
        short = uncompensated_shortfall(
            ratio_wad=s.menu[j.option_id].ratio_wad,
            shortfall_wad=c.shortfall_wad,
            wei_per_wad=rho,
            paid_wei=paid,
        )
        promised = ratio * Fraction(c.predicted_wad, WAD)
        got = ratio * Fraction(c.measured_wad, WAD) + Fraction(paid, rho)
        floor = promised - ratio * Fraction(c.tolerance_wad, WAD)
        ev = Evidence(
            _who(j.participant, j.index),
            f"promised {float(promised):.6f} (ratio x curve), at least {float(floor):.6f} "
            "within tau",
            f"received {float(got):.6f} (ratio x measured + compensation {paid} wei / rho)",
            f"short beyond tau by {float(short):.6g}, uncompensated (capped by the allot or "
            "lost to the wei)"
            if short > COMPENSATION_ROUNDING_TOLERANCE
            else "",
        )
        evidence.append(ev)
        if short > COMPENSATION_ROUNDING_TOLERANCE:
            failures.append(ev)
    return evidence, failures


def check_curve(s: RoundSnapshot) -> Finding:
    """``curve.compensation``: the curve check recomputes (prediction from the committed knots at
    the delivered rows, shortfall = max(0, predicted - tau - measured), allot, liability) and
    every claim paid exactly its compensation (issue 13); and no deliverer is short of its
    promise beyond tau uncompensated (:func:`promised_versus_received`)."""
    title = "Curve check and compensation recompute"
    c = s.curve_check
    if s.models is None or c is None:
        return skipped("curve.compensation", title, "models not posted")
    knots = [(k.data_count, k.accuracy_wad) for k in s.curve]
    predicted = predicted_accuracy(knots, s.models.total_data)
    shortfall = curve_shortfall(
        predicted, s.models.collective_accuracy_wad, s.config.curve_tolerance_wad
    )
    share = allot(s.coordinator_bond, len(s.delivered)) if s.delivered else 0
    owed = expected_compensation(s)
    want = (
        s.models.total_data,
        predicted,
        s.models.collective_accuracy_wad,
        s.config.curve_tolerance_wad,
        shortfall,
        share,
        sum(owed.values()),
    )
    got = (
        c.delivered_rows,
        c.predicted_wad,
        c.measured_wad,
        c.tolerance_wad,
        c.shortfall_wad,
        c.allot,
        c.liability,
    )
    failures = [] if want == got else [Evidence("CurveChecked", repr(want), repr(got))]
    for claim in s.claims:
        expected = owed.get(claim.participant, 0)
        if claim.compensation != expected:
            failures.append(
                Evidence(
                    _who(claim.participant, claim.index),
                    f"{expected} wei",
                    f"{claim.compensation} wei",
                )
            )
    paid = sum(cl.compensation for cl in s.claims)
    shown, short = promised_versus_received(s)
    return make_finding(
        "curve.compensation",
        title,
        checked=1 + len(s.claims) + len(shown),
        failures=failures + short,
        evidence=shown,
        detail_pass=f"predicted {predicted / WAD:.4f} vs measured "
        f"{s.models.collective_accuracy_wad / WAD:.4f} "
        f"(tau {s.config.curve_tolerance_wad / WAD:.4f}): shortfall {shortfall / WAD:.4f}, "
        f"compensation owed {sum(owed.values())} wei, paid at claims {paid} wei",
    )


def cancel_burned(s: RoundSnapshot) -> int:
    """What the coordinator's cancel (RoundCancelled: always with J >= Q) burns: the bonds of
    the participants it named undelivered and all of its own bond B; 0 without that cancel."""
    if s.cancelled is None:
        return 0
    named = len(s.joins) - len(s.delivered)
    return named * s.config.participant_bond + s.coordinator_bond


def check_cancel_refunds(s: RoundSnapshot) -> Finding:
    """``refund.cancel``: after a cancel, only participants not named undelivered are
    refunded, each exactly its bond and nothing of B (the coordinator's cancel burns B, so no
    seat, the coordinator's or a griefer's, collects any of it); the RoundCancelled event states
    exactly the named bonds plus B as burned."""
    title = "Cancel refunds follow the rules"
    if s.cancelled is None and not s.cancel_refunds:
        return skipped("refund.cancel", title, "the round was not cancelled")
    failures: list[Evidence] = []
    deliverers = {j.participant for j in s.delivered}
    counts: Counter[str] = Counter(r.participant for r in s.cancel_refunds)
    for ref in s.cancel_refunds:
        if ref.participant not in deliverers:
            failures.append(Evidence(ref.participant, "a deliverer", "undelivered or never joined"))
        expected = (s.config.participant_bond, 0)
        if (ref.bond, ref.compensation) != expected:
            failures.append(
                Evidence(
                    ref.participant,
                    f"bond {expected[0]} + {expected[1]} of B",
                    f"bond {ref.bond} + {ref.compensation} of B",
                )
            )
        if counts[ref.participant] > 1:
            failures.append(Evidence(ref.participant, "one refund", str(counts[ref.participant])))
    if s.cancelled is not None and s.cancelled[3] != cancel_burned(s):
        failures.append(Evidence("burned", f"{cancel_burned(s)} wei", f"{s.cancelled[3]} wei"))
    return make_finding(
        "refund.cancel",
        title,
        checked=max(len(s.cancel_refunds), 1),
        failures=failures,
        detail_pass=f"{len(s.cancel_refunds)} refunds of exactly the bond; burned "
        f"{cancel_burned(s)} wei",
    )


def allowed_sweep(s: RoundSnapshot) -> int:
    """The most the coordinator may sweep: B when joining closed below the quorum; nothing after
    its own cancel (B is burned); B - J floor(B / J) after a default; B - liability after a
    post. Never a participant's bond or a forfeited bond."""
    b = s.coordinator_bond
    joined = len(s.joins)
    if s.cancelled is not None:
        return 0
    if s.models is None:
        if joined < s.config.effective_quorum:
            return b
        return b - joined * (b // joined) if joined else b
    if s.frauds:  # issue 14: a proven fraud gives all of B to the challenger and deliverers
        return 0
    liability = s.curve_check.liability if s.curve_check is not None else 0
    owed = expected_compensation(s)
    # issue 15: each failed delivery raises that deliverer's entitlement to its allot
    share = allot(b, len(s.delivered)) if s.delivered else 0
    liability += sum(share - owed.get(f.participant, 0) for f in s.delivery_failures)
    return b - liability


def check_sweep(s: RoundSnapshot) -> Finding:
    """``sweep.own_only``: the coordinator swept at most its own part, once (v2 money rule: it
    gains nothing from anyone missing a window)."""
    title = "The coordinator swept only its own part"
    if not s.sweeps:
        return skipped("sweep.own_only", title, "no sweep")
    limit = allowed_sweep(s)
    total = sum(w.amount for w in s.sweeps)
    failures = []
    if total > limit:
        failures.append(Evidence("sweep", f"<= {limit} wei", f"{total} wei"))
    if len(s.sweeps) > 1:
        failures.append(Evidence("sweep", "once", f"{len(s.sweeps)} times"))
    for w in s.sweeps:
        if w.to != s.coordinator:
            failures.append(Evidence("sweep", s.coordinator, w.to, "recipient"))
    return make_finding(
        "sweep.own_only",
        title,
        checked=len(s.sweeps),
        failures=failures,
        detail_pass=f"swept {total} wei of at most {limit} wei (bond {s.coordinator_bond})",
    )


# ---------------------------------------------------------------------------------------------
# Issues 14 and 15: chain delivery and fraud proofs
# ---------------------------------------------------------------------------------------------


def owed_rungs(s: RoundSnapshot) -> dict[str, int]:
    """The rung each revealed participant draws (its model is owed when above 0)."""
    if s.models is None:
        return {}
    accs = [t.accuracy_wad for t in s.models.tiers]
    options = {j.participant: j.option_id for j in s.joins}
    out = {}
    for r in s.reveals:
        option = options.get(r.participant)
        if option is None or option >= len(s.menu):
            continue
        try:
            rung, _, _ = assign_rung(
                s.menu[option].ratio_wad, s.models.collective.accuracy_wad, accs, r.draw_seed
            )
        except EncodingError:
            continue  # tiers the contract would have refused: check_tiers_budget says so
        out[r.participant] = rung
    return out


def check_deliveries(s: RoundSnapshot) -> Finding:
    """``deliveries.onchain`` (issue 15): every ``Delivered`` event carries the (E, ciphertext)
    whose hash the contract stores for that participant, once; after the delivery deadline every
    revealed participant with a rung above 0 has a delivery (missing ones are named); every
    delivery proven wrong or missing on chain (``DeliveryFailed``) is named."""
    # The audit cannot decrypt deliveries: it checks that one exists, not what it holds; the
    # receiver checks the contents (`participant fetch`, then `dispute` if wrong).
    title = (
        "A delivery exists on chain for every owed model and no delivery failed"
        " (contents are checked by the receiver with fetch/dispute)"
    )
    owed = {p: r for p, r in owed_rungs(s).items() if r > 0}
    if not owed and not s.deliveries:
        return skipped("deliveries.onchain", title, "no model owed yet")
    failures: list[Evidence] = []
    seen: Counter[str] = Counter(d.participant for d in s.deliveries)
    for d in s.deliveries:
        if d.event_hash != d.stored_hash:
            failures.append(
                Evidence(d.participant, _hex(d.stored_hash), _hex(d.event_hash), "Delivered event")
            )
        if seen[d.participant] > 1:
            failures.append(Evidence(d.participant, "one delivery", f"{seen[d.participant]}"))
    closed = s.delivery_deadline and s.timestamp > s.delivery_deadline
    missing = sorted(p for p in owed if p not in seen)
    if closed:
        for p in missing:
            failures.append(Evidence(p, f"rung {owed[p]} delivered", "nothing delivered"))
    reasons = {1: "wrong model proven", 2: "non-delivery proven"}
    for f in s.delivery_failures:
        failures.append(
            Evidence(
                f.participant,
                "delivery accepted",
                reasons.get(f.reason, str(f.reason)),
                f"paid its allot {f.entitlement} wei from the coordinator's bond",
            )
        )
    pending = "" if closed or not missing else f"; {len(missing)} pending (window open)"
    return make_finding(
        "deliveries.onchain",
        title,
        checked=len(owed) + len(s.deliveries),
        failures=failures,
        detail_pass=f"{len(s.deliveries)} deliveries match their stored hash{pending}",
    )


FRAUD_KINDS = (
    "none",
    "wrong prediction",
    "broken running count",
    "wrong accuracy",
    "malformed model",
    "unevaluable test row",
    "log root mismatch",
)
"""``IModelpactRound.FraudKind`` names, in enum order."""


def check_fraud(s: RoundSnapshot) -> Finding:
    """``fraud.none`` (issue 14): no posted claim was proven false on chain (``FraudProven``)."""
    title = "No posted accuracy or log was proven false"
    if s.models is None:
        return skipped("fraud.none", title, "no models posted")
    failures = [
        Evidence(
            f"rung {f.rung} row {f.row}",
            "an honest posted claim",
            FRAUD_KINDS[f.kind] if f.kind < len(FRAUD_KINDS) else str(f.kind),
            f"proven by {f.challenger}, reward {f.reward} wei",
        )
        for f in s.frauds
    ]
    return make_finding(
        "fraud.none",
        title,
        checked=1,
        failures=failures,
        detail_pass="no FraudProven event",
    )

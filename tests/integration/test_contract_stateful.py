"""Stateful protocol fuzzing (titanoboa style): a Python model of the round rules against the
real contract on the embedded chain, with honest and malicious participants and coordinators.

Participants join (honestly, twice, with wrong row counts, wrong bonds, unknown options, zero or
copied commitments, commitments made for another round or another chain), reveal (honestly, with
a wrong secret, with another participant's secret) or withhold, claim (twice, without revealing),
refund after a default or a cancel; the coordinator reveals (wrong secret, twice, as someone
else), posts tiers at or above the collective model or honestly; anybody sweeps; time jumps past
each deadline (v2: the reveal and claim deadlines are measured from the post; below the quorum of 2
joiners the round is cancelled; posting opens MIN_WINDOW after joining closed; the sweep pays the
coordinator only its own part, once).
Every call must succeed or revert exactly as the model says (with the model's error name), and
after every step: the contract's balance and every payment reconcile to the wei, no posted tier is
at or above the collective model, nobody is paid twice, the phase only moves forward, and every
slash share is 0 (forfeited bonds are burned, never shared).

The round is deployed once per test run and each example starts from a snapshot of that
deployment (the chain backend's ``snapshot``/``revert_to``), so examples are cheap. CI runs
250 examples from seven start stages (more rule outcomes reached per run than 500 from the five
earlier stages; SECURITY.md has the counts); ``MODELPACT_STATEFUL_EXAMPLES=500`` (or 5000, and
optionally ``MODELPACT_STATEFUL_STEPS``) runs a longer profile by hand.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings
from hypothesis import event as count_event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.compiler import compile_round

BOND = 10**16
COORD_BOND = 10**18 + 1  # odd: default compensation leaves dust for the sweep
PHASE = 1000
WINDOW = enc.MIN_WINDOW_SECONDS
QUORUM = 2
TEST_ROWS = 10
MENU = (
    enc.OnchainOption(10, 3 * 10**17, 3 * 10**17, 10**18),
    enc.OnchainOption(20, 10**18, 10**18, 10**18),
)


def _model(name: bytes, accuracy_wad: int) -> enc.Tier:
    return enc.Tier(enc.model_hash(name), accuracy_wad, enc.keccak256(b"log:" + name))


TIERS = (_model(b"t1", 2 * 10**17), _model(b"t2", 6 * 10**17))
COLLECTIVE = 8 * 10**17


def _key() -> tuple[int, int]:
    from modelpact.delivery import public_key

    point = public_key(11)
    return (point.x, point.y)


KEY = _key()
ACTORS = 5
CAPACITY = 4
EXAMPLES = int(os.environ.get("MODELPACT_STATEFUL_EXAMPLES", "250"))
STEPS = int(os.environ.get("MODELPACT_STATEFUL_STEPS", "12"))
OTHER_ROUND = "0x000000000000000000000000000000000000dEaD"

P = enc.Phase
# Phases only move forward: Join -> (Cancelled | Post -> (Reveal -> Claim -> Closed | Aborted)).
_RANK = {
    P.JOIN: 0,
    P.POST: 1,
    P.CANCELLED: 1,
    P.REVEAL: 2,
    P.ABORTED: 2,
    P.CLAIM: 3,
    P.CLOSED: 4,
}
_ALLOWED_NEXT = {
    P.JOIN: {P.JOIN, P.POST, P.ABORTED, P.CANCELLED},
    P.POST: {P.POST, P.REVEAL, P.CLAIM, P.ABORTED},
    P.REVEAL: {P.REVEAL, P.CLAIM, P.CLOSED},
    P.CLAIM: {P.CLAIM, P.CLOSED},
    P.ABORTED: {P.ABORTED},
    P.CANCELLED: {P.CANCELLED},
    P.CLOSED: {P.CLOSED},
}
for _ in range(len(_ALLOWED_NEXT)):  # reflexive-transitive closure: several moves per step
    for _p, _next in _ALLOWED_NEXT.items():
        _next |= set().union(*(_ALLOWED_NEXT[q] for q in _next))


_MODEL_FIELDS = (
    "joined",
    "commitment_kind",
    "commitments",
    "revealed",
    "paid",
    "coordinator_revealed",
    "posted",
    "posted_at",
    "closed_at",
    "swept",
    "expected_balance",
    "last_phase",
)


class _Deployment:
    """One deployment per test process; every example reverts to a snapshot of it, taken either
    right after deployment (stage 0) or after an honest prefix of the round (stages 1-4, built
    once by the machine's own rules so the model and the chain agree)."""

    chain: ch.Chain
    rc: ch.RoundContract
    coordinator: LocalAccount
    secret: bytes
    config: enc.RoundConfig
    secrets: dict[str, bytes]
    stages: dict[int, tuple[Any, dict[str, Any]]]
    base: Any
    born: float = 0.0

    @classmethod
    def get(cls) -> type[_Deployment]:
        # eth-tester's pending block follows the wall clock after a revert: redeploy before the
        # wall clock could reach the join deadline (matters for the long profile only).
        if time.monotonic() - cls.born > PHASE / 4:
            cls.born = time.monotonic()
            cls.chain = ch.connect(chain="embedded")
            cls.coordinator = cls.chain.local_account(0)
            # views name their sender: eth-tester's middleware would otherwise fetch the account
            # list on every call to guess one (accounts[0], the same) - 15% of this test's CPU
            cls.chain.w3.eth.default_account = cls.chain.accounts[0]
            cls.secret = enc.random_secret()
            cls.secrets = {cls.chain.accounts[i]: enc.random_secret() for i in range(1, 1 + ACTORS)}
            scenario = enc.keccak256(b"stateful")
            cls.config = enc.RoundConfig(
                capacity=CAPACITY,
                participant_bond=BOND,
                scenario_hash=scenario,
                test_set_commitment=enc.keccak256(b"t"),
                coordinator_commitment=enc.coordinator_commitment(
                    cls.secret, cls.coordinator.address, scenario, cls.chain.chain_id
                ),
                # the post deadline leaves the data window (issue 11.7) and PHASE to post
                schedule=enc.Schedule.after(
                    ch.chain_time(cls.chain), join=PHASE, post=WINDOW + PHASE
                ),
                quorum=QUORUM,
                test_row_count=TEST_ROWS,
            )
            cls.rc = ch.deploy_round(
                cls.chain,
                sender=cls.coordinator,
                menu_options=MENU,
                config=cls.config,
                coordinator_bond=COORD_BOND,
                compiled=compile_round(),
            )
            cls.stages = {}
            cls.base = cls.chain.snapshot()
        return cls


class RoundMachine(RuleBasedStateMachine):
    @initialize(stage=st.sampled_from((0, 0, 1, 2, 2, 3, 4, 5, 6)))
    def deploy(self, stage: int) -> None:
        """Start from the deployment or from an honest prefix (see :meth:`_prefix`)."""
        d = _Deployment.get()
        self.chain, self.rc, self.config = d.chain, d.rc, d.config
        self.coordinator, self.secret = d.coordinator, d.secret
        self.actors = [self.chain.local_account(i) for i in range(1, ACTORS + 1)]
        self.secrets: dict[str, bytes] = d.secrets
        self.dirty = True  # the views are re-read only after a step that could change them
        if stage in d.stages:
            snapshot, model = d.stages[stage]
            d.chain.revert_to(snapshot)
            for name in _MODEL_FIELDS:
                value = model[name]
                setattr(self, name, value.copy() if hasattr(value, "copy") else value)
            return
        d.chain.revert_to(d.base)
        self.joined: dict[str, int] = {}  # address -> option
        self.commitment_kind: dict[str, str] = {}  # address -> own / copied / other_round / ...
        self.commitments: dict[str, bytes] = {}
        self.revealed: set[str] = set()
        self.paid: set[str] = set()
        self.coordinator_revealed = False
        self.posted = False
        self.posted_at = 0
        self.closed_at = 0  # when the join that filled the round was mined (0: not full)
        self.swept = False
        self.expected_balance = COORD_BOND
        self.last_phase = P.JOIN
        assert self.rc.balance() == COORD_BOND
        assert self.rc.joined_count() == 0
        self._prefix(stage)
        self.chain_matches_model()
        model = {name: getattr(self, name) for name in _MODEL_FIELDS}
        d.stages[stage] = (
            d.chain.snapshot(),
            {k: v.copy() if hasattr(v, "copy") else v for k, v in model.items()},
        )

    def _prefix(self, stage: int) -> None:
        """The honest prefix of ``stage``, played by the machine's own rules: 1: 3 joins; 2: a
        full round whose 4th member copied the 1st one's commitment; 3: models posted; 4: two
        reveals and the reveal deadline passed (one honest withholder, one copier who cannot
        reveal). Stages 5 and 6 start where rare branches are one step away (without them a
        500-example run could miss both): 5: one joiner, joining closed below the quorum
        (cancelled: refunds, a sweep); 6: stage 2 with the coordinator revealed and the data
        window over (posts with tiers at or above the collective model, or honest). Stages 0
        and 2 are drawn twice as often: most join-phase and pre-post refusals start there."""
        depth = {5: 0, 6: 2}.get(stage, stage)
        if stage == 5:
            self.join(0, 0, 0, 0, "own")
            self.advance(self.config.schedule.join - self.now() + 1)
        if depth >= 1:
            for i, option in ((0, 0), (1, 1), (2, 0)):
                self.join(i, option, 0, 0, "own")
        if depth >= 2:
            self.join(3, 1, 0, 0, "copied")
        if depth >= 3 or stage == 6:
            self.coordinator_reveal("honest")
            self.advance(self.data_deadline() - self.now() + 1)
        if depth >= 3:
            self.coordinator_post("honest")
        if depth >= 4:
            self.reveal(0, "own")
            self.reveal(1, "own")
            self.advance(self.posted_at + WINDOW - self.now() + 1)

    # ------------------------------------------------------------------ model

    def now(self) -> int:
        return ch.chain_time(self.chain)

    def phase_at(self, t: int) -> enc.Phase:
        d = self.config.schedule
        if not self.posted:
            if t <= d.join and len(self.joined) < self.config.capacity:
                return P.JOIN
            if len(self.joined) < QUORUM:
                return P.CANCELLED
            return P.POST if t <= d.post else P.ABORTED
        if t <= self.posted_at + WINDOW and len(self.revealed) < len(self.joined):
            return P.REVEAL
        return P.CLAIM if t <= self.posted_at + 3 * WINDOW else P.CLOSED

    def data_deadline(self) -> int:
        """The last second of the data window: MIN_WINDOW after joining closed (issue 11.7)."""
        return (self.closed_at or self.config.schedule.join) + WINDOW

    def deadline_list(self) -> list[int]:
        d = self.config.schedule
        posted = [self.posted_at + k * WINDOW for k in (1, 2, 3)] if self.posted else []
        return sorted([d.join, self.data_deadline(), d.post, *posted])

    def root(self, a: LocalAccount) -> bytes:
        return enc.keccak256(a.address.encode())

    def opening(self, a: LocalAccount, secret: bytes) -> dict[str, Any]:
        return {"data_root": self.root(a), "secret": secret, "delivery_key": KEY}

    def pending_time(self) -> int:
        """The timestamp the next transaction runs at (eth-tester's pending block: latest + 1 s,
        or the wall clock when that is later, e.g. after reverting to the snapshot)."""
        return self.chain.pending_time()

    def tx_phase(self) -> enc.Phase:
        """The phase the next transaction sees."""
        return self.phase_at(self.pending_time())

    def advance(self, seconds: int) -> None:
        """Move the chain clock forward by at least ``seconds`` (never behind the pending block)."""
        now = self.now()
        ch.advance_time(self.chain, max(seconds, self.pending_time() - now))
        self.dirty = True

    def expect(self, error: str | None, action: Callable[[], Any]) -> Any:
        """Run ``action``: it must succeed iff ``error`` is None, else revert with ``error``."""
        if error is None:
            self.dirty = True
            return action()
        with pytest.raises(ch.ContractRevertError) as info:
            action()
        assert info.value.error_name == error, (error, str(info.value))
        return None

    def paid_exactly(self, who: str, amount: int, action: Callable[[], ch.TxResult]) -> ch.TxResult:
        """Run ``action`` sent by ``who``; its balance must change by ``amount`` minus the fee."""
        before = self.chain.balance(who)
        self.dirty = True
        result = action()
        receipt = self.chain.w3.eth.get_transaction_receipt(result.tx_hash)  # type: ignore[arg-type]
        fee = int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
        assert self.chain.balance(who) - before == amount - fee
        return result

    def _member(self, i: int) -> LocalAccount:
        """A joined actor when there is one (most attempts are meaningful), else any actor."""
        joined = [a for a in self.actors if a.address in self.joined]
        return joined[i % len(joined)] if joined and i < 4 else self.actors[i % ACTORS]

    def _commitment(self, a: LocalAccount, kind: str) -> bytes:
        own = self.secrets[a.address]
        rc, chain_id = self.rc.address, self.chain.chain_id
        if kind == "own":
            return enc.participant_commitment_v2(own, *KEY, a.address, rc, chain_id)
        if kind == "copied":  # the latest commitment another participant published in Joined
            others = [c for addr, c in self.commitments.items() if addr != a.address]
            if others:
                return others[-1]
            return enc.participant_commitment_v2(own, *KEY, self.actors[0].address, rc, 1)
        if kind == "other_round":
            return enc.participant_commitment_v2(own, *KEY, a.address, OTHER_ROUND, chain_id)
        if kind == "other_chain":
            return enc.participant_commitment_v2(own, *KEY, a.address, rc, 1 + chain_id)
        assert kind == "zero"
        return b"\x00" * 32

    # ------------------------------------------------------------------ time

    @rule(seconds=st.sampled_from([1, PHASE // 3]))
    def wait(self, seconds: int) -> None:
        self.advance(seconds)

    @rule()
    def wait_past_next_deadline(self) -> None:
        now = self.now()
        upcoming = [t for t in self.deadline_list() if t >= now]
        if upcoming:
            self.advance(upcoming[0] - now + 1)

    # ------------------------------------------------------------------ honest progress

    def _progress(self, i: int) -> None:
        """The honest next move of the current phase (so examples reach claims and refunds)."""
        phase = self.tx_phase()
        free = [k for k, a in enumerate(self.actors) if a.address not in self.joined]
        if phase is P.JOIN and free:
            self.join(free[i % len(free)], i % len(MENU), 0, 0, "own")
        elif phase is P.POST and i == ACTORS - 1:  # the coordinator disappears: it defaults
            self.advance(self.config.schedule.post - self.now() + 1)
        elif phase is P.POST and not self.coordinator_revealed:
            self.coordinator_reveal("honest")
        elif phase is P.POST and self.pending_time() <= self.data_deadline():
            self.advance(self.data_deadline() - self.now() + 1)
        elif phase is P.POST:
            self.coordinator_post("honest")
        elif phase is P.REVEAL:
            self.reveal(i % 4, "own")
        elif phase is P.CLAIM:
            self.claim(i % 4)
        elif phase is P.ABORTED and i % 2:
            self.withdraw_after_default(i % 4)
        elif phase is P.CANCELLED and i % 2:
            self.withdraw_after_cancel(i % 4)
        else:
            self.sweep(by_participant=bool(i % 2))

    @rule(i=st.integers(0, ACTORS - 1))
    def progress(self, i: int) -> None:
        self._progress(i)

    @rule(i=st.integers(0, ACTORS - 1))
    def progress_again(self, i: int) -> None:
        self._progress(i)

    # ------------------------------------------------------------------ participants

    @rule(
        i=st.integers(0, ACTORS - 1),
        option=st.integers(0, 2),
        rows_off=st.sampled_from([0, 0, 0, 1, -1]),
        bond_off=st.sampled_from([0, 0, 0, 1, -1, -BOND]),
        kind=st.sampled_from(["own", "own", "own", "copied", "other_round", "other_chain", "zero"]),
    )
    def join(self, i: int, option: int, rows_off: int, bond_off: int, kind: str) -> None:
        """Honest and malicious joins; duplicates happen when ``i`` repeats."""
        a = self.actors[i]
        rows = (MENU[option].data_count if option < len(MENU) else 10) + rows_off
        value = BOND + bond_off
        commitment = self._commitment(a, kind)
        error: str | None = None
        if self.pending_time() > self.config.schedule.join or len(self.joined) >= CAPACITY:
            error = "JoinClosed"
        elif a.address in self.joined:
            error = "AlreadyJoined"
        elif option >= len(MENU):
            error = "UnknownOption"
        elif rows != MENU[option].data_count:
            error = "WrongRowCount"
        elif value != BOND:
            error = "WrongBond"
        elif kind == "zero":
            error = "ZeroCommitment"
        self.expect(
            error,
            lambda: self.rc.join(
                a,
                option_id=option,
                data_root=self.root(a),
                row_count=rows,
                commitment=commitment,
                value=value,
            ),
        )
        if error is None:
            self.joined[a.address] = option
            if len(self.joined) == CAPACITY:
                self.closed_at = self.now()
            self.commitment_kind[a.address] = kind
            self.commitments[a.address] = commitment
            self.expected_balance += BOND

    @rule(i=st.integers(0, ACTORS - 1), how=st.sampled_from(["own", "own", "wrong", "stolen"]))
    def reveal(self, i: int, how: str) -> None:
        """Honest reveals, wrong secrets, and a copier replaying another participant's secret."""
        a = self._member(i)
        if how == "own":
            secret = self.secrets[a.address]
        elif how == "wrong":
            secret = enc.keccak256(b"wrong" + self.secrets[a.address])
        else:
            others = [x.address for x in self.actors if x.address != a.address]
            victims = [x for x in self.revealed if x != a.address] or others
            secret = self.secrets[victims[0]]
        error: str | None = None
        if self.tx_phase() is not P.REVEAL:
            error = "WrongPhase"
        elif a.address not in self.joined:
            error = "NotParticipant"
        elif a.address in self.revealed:
            error = "AlreadyRevealed"
        elif how != "own" or self.commitment_kind[a.address] != "own":
            # A copied commitment or one made for another round/chain cannot be opened, not even
            # with the secret its owner revealed: the preimage binds address, round and chain.
            error = "RevealMismatch"
        self.expect(error, lambda: self.rc.reveal(a, **self.opening(a, secret)))
        if error is None:
            self.revealed.add(a.address)

    @rule(i=st.integers(0, ACTORS - 1))
    def claim(self, i: int) -> None:
        a = self._member(i)
        opening = self.opening(a, self.secrets[a.address])
        error: str | None = None
        if self.tx_phase() not in (P.CLAIM, P.CLOSED):  # v2: claims never expire
            error = "WrongPhase"
        elif a.address not in self.joined:
            error = "NotParticipant"
        elif a.address not in self.revealed:
            error = "NotRevealed"
        elif a.address in self.paid:
            error = "AlreadyClaimed"
        if error is not None:
            self.expect(error, lambda: self.rc.claim(a, **opening))
            return
        share = 0  # forfeited bonds are burned, never shared (review hole 3)
        result = self.paid_exactly(a.address, BOND + share, lambda: self.rc.claim(a, **opening))
        (event,) = result.events
        index = self.rc.participant(a.address).index
        seed = enc.draw_seed(self.secret, self.secrets[a.address], self.rc.address, index)
        expected = enc.assign_rung(
            MENU[self.joined[a.address]].ratio_wad,
            COLLECTIVE,
            [t.accuracy_wad for t in TIERS],
            seed,
        )
        assert (event.args["rung"], event.args["accuracyWad"]) == expected[:2]
        assert event.args["slashShare"] == share == self.rc.slash_share()
        assert event.args["bondRefund"] == BOND
        self.paid.add(a.address)
        self.expected_balance -= BOND + share
        count_event("claim paid" + (" with a slash share" if share else ""))

    @rule(i=st.integers(0, ACTORS - 1))
    def withdraw_after_default(self, i: int) -> None:
        a = self._member(i)
        error: str | None = None
        if self.tx_phase() is not P.ABORTED:
            error = "WrongPhase"
        elif a.address not in self.joined:
            error = "NotParticipant"
        elif a.address in self.paid:
            error = "AlreadyClaimed"
        if error is not None:
            self.expect(error, lambda: self.rc.withdraw_after_default(a))
            return
        compensation = COORD_BOND // len(self.joined)
        self.paid_exactly(a.address, BOND + compensation, lambda: self.rc.withdraw_after_default(a))
        self.paid.add(a.address)
        self.expected_balance -= BOND + compensation
        count_event("refund after default")

    @rule(i=st.integers(0, ACTORS - 1))
    def withdraw_after_cancel(self, i: int) -> None:
        a = self._member(i)
        error: str | None = None
        if self.tx_phase() is not P.CANCELLED:
            error = "WrongPhase"
        elif a.address not in self.joined:
            error = "NotParticipant"
        elif a.address in self.paid:
            error = "AlreadyClaimed"
        if error is not None:
            self.expect(error, lambda: self.rc.withdraw_after_cancel(a))
            return
        self.paid_exactly(a.address, BOND, lambda: self.rc.withdraw_after_cancel(a))
        self.paid.add(a.address)
        self.expected_balance -= BOND
        count_event("refund after cancel")

    # ------------------------------------------------------------------ coordinator

    @rule(how=st.sampled_from(["honest", "honest", "wrong_secret", "not_coordinator"]))
    def coordinator_reveal(self, how: str) -> None:
        sender = self.actors[0] if how == "not_coordinator" else self.coordinator
        secret = self.secret if how != "wrong_secret" else enc.keccak256(self.secret)
        error: str | None = None
        if how == "not_coordinator":
            error = "NotCoordinator"
        elif self.coordinator_revealed:
            error = "CoordinatorAlreadyRevealed"
        elif self.tx_phase() is not P.POST:
            error = "WrongPhase"
        elif how == "wrong_secret":
            error = "CoordinatorRevealMismatch"
        self.expect(error, lambda: self.rc.reveal_coordinator(sender, secret))
        if error is None:
            self.coordinator_revealed = True
            assert self.rc.coordinator_secret() == self.secret

    @rule(how=st.sampled_from(["honest", "honest", "tier_at", "tier_above", "not_coordinator"]))
    def coordinator_post(self, how: str) -> None:
        tiers = list(TIERS)
        if how == "tier_at":
            tiers.append(_model(b"t3", COLLECTIVE))
        elif how == "tier_above":
            tiers.append(_model(b"t3", COLLECTIVE + 10**17))
        sender = self.actors[1] if how == "not_coordinator" else self.coordinator
        error: str | None = None
        if how == "not_coordinator":
            error = "NotCoordinator"
        elif self.tx_phase() is not P.POST:  # v2: a second post finds phase reveal or later
            error = "WrongPhase"
        elif self.pending_time() <= self.data_deadline():
            error = "DataWindowOpen"
        elif not self.coordinator_revealed:
            error = "CoordinatorNotRevealed"
        elif how in ("tier_at", "tier_above"):
            error = "TierAboveCollective"
        self.expect(
            error,
            lambda: self.rc.post_models(
                sender,
                collective=_model(b"c", COLLECTIVE),
                logs=[bytes(enc.PACKED_LOG_ROW_BYTES * TEST_ROWS)] * (len(tiers) + 1),
                tiers=tiers,
            ),
        )
        if error is None:
            self.posted = True
            self.posted_at = self.rc.deadlines().reveal - WINDOW
            collective = self.rc.collective_model().accuracy_wad
            assert collective == COLLECTIVE
            assert all(t.accuracy_wad < collective for t in self.rc.tiers())

    # ------------------------------------------------------------------ anybody

    @rule(by_participant=st.booleans())
    def sweep(self, by_participant: bool) -> None:
        phase = self.tx_phase()
        amount = {P.CANCELLED: COORD_BOND, P.CLOSED: COORD_BOND}.get(phase, 0)  # no liability
        if phase is P.ABORTED:  # the dust: each joiner is owed floor(B / J)
            amount = COORD_BOND % len(self.joined)
        error = None
        if self.swept:
            error = "AlreadySwept"
        elif phase not in (P.CANCELLED, P.CLOSED, P.ABORTED):
            error = "SweepTooEarly"
        sender = self.actors[2] if by_participant else self.coordinator
        if error is not None:
            self.expect(error, lambda: self.rc.sweep(sender))
            return
        coordinator = self.coordinator.address
        before = self.chain.balance(coordinator)
        self.dirty = True
        result = self.rc.sweep(sender)
        fee = 0
        if sender.address == coordinator:
            receipt = self.chain.w3.eth.get_transaction_receipt(result.tx_hash)  # type: ignore[arg-type]
            fee = int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
        # The coordinator's own part goes to the coordinator, never to the caller, and never a
        # participant's bond, a forfeited bond or dust (v2).
        assert self.chain.balance(coordinator) - before == amount - fee
        (event,) = result.events
        assert event.args["amount"] == amount
        self.expected_balance -= amount
        self.swept = True
        count_event("swept")

    # ------------------------------------------------------------------ invariants

    @invariant()
    def chain_matches_model(self) -> None:
        if not hasattr(self, "rc"):
            return
        # Balances reconcile to the wei after EVERY step (a refused call must move nothing):
        # coordinator bond + bonds in - payments out - sweeps.
        assert self.rc.balance() == self.expected_balance
        assert self.expected_balance >= 0
        if not self.dirty:  # a reverted call: no state, time or phase change to re-read
            return
        self.dirty = False
        phase = self.rc.phase()
        assert phase is self.phase_at(self.now())
        assert phase in _ALLOWED_NEXT[self.last_phase], (self.last_phase, phase)
        assert _RANK[phase] >= _RANK[self.last_phase]
        self.last_phase = phase
        assert self.rc.joined_count() == len(self.joined)
        assert self.rc.revealed_count() == len(self.revealed)


RoundMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_round_state_machine = RoundMachine.TestCase

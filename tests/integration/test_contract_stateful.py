"""Stateful test (titanoboa style): a Python model of the round checked against the contract.

Random sequences of joins, reveals, claims, refunds, time jumps and the coordinator's actions run
on the embedded chain; after every step the contract's phase, counts, balance and each payment
must equal what the model (built on modelpact.encoding) predicts, and every revert must be one
the model expects.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.compiler import compile_round

BOND = 10**16
COORD_BOND = 10**18 + 1
PHASE = 1000
MENU = (enc.OnchainOption(10, 3 * 10**17), enc.OnchainOption(20, 10**18))
TIERS = (enc.Tier(enc.model_hash(b"t1"), 2 * 10**17), enc.Tier(enc.model_hash(b"t2"), 6 * 10**17))
COLLECTIVE = 8 * 10**17
ACTORS = 5


class RoundMachine(RuleBasedStateMachine):
    @initialize()
    def deploy(self) -> None:
        self.chain = ch.connect(chain="embedded")
        self.coordinator = self.chain.local_account(0)
        self.secret = enc.random_secret()
        scenario = enc.keccak256(b"stateful")
        self.config = enc.RoundConfig(
            capacity=4,
            participant_bond=BOND,
            scenario_hash=scenario,
            test_set_commitment=enc.keccak256(b"t"),
            coordinator_commitment=enc.coordinator_commitment(
                self.secret, self.coordinator.address, scenario, self.chain.chain_id
            ),
            deadlines=enc.Deadlines.after(
                ch.chain_time(self.chain), join=PHASE, post=PHASE, reveal=PHASE, claim=PHASE
            ),
        )
        self.rc = ch.deploy_round(
            self.chain,
            sender=self.coordinator,
            menu_options=MENU,
            config=self.config,
            coordinator_bond=COORD_BOND,
            compiled=compile_round(),
        )
        self.actors = [self.chain.local_account(i) for i in range(1, ACTORS + 1)]
        self.secrets = {a.address: enc.random_secret() for a in self.actors}
        self.joined: dict[str, int] = {}  # address -> option
        self.revealed: set[str] = set()
        self.paid: set[str] = set()
        self.coordinator_revealed = False
        self.posted = False
        self.expected_balance = COORD_BOND

    # ------------------------------------------------------------------ model

    def phase(self) -> enc.Phase:
        now = ch.chain_time(self.chain)
        d = self.config.deadlines
        if not self.posted:
            if now <= d.join and len(self.joined) < self.config.capacity:
                return enc.Phase.JOIN
            if now <= d.post:
                return enc.Phase.POST
            return enc.Phase.ABORTED if now <= d.claim else enc.Phase.CLOSED
        if now <= d.reveal and len(self.revealed) < len(self.joined):
            return enc.Phase.REVEAL
        return enc.Phase.CLAIM if now <= d.claim else enc.Phase.CLOSED

    def expect(self, ok: bool, action, error: str | None = None) -> object:
        """Run ``action``; it must succeed iff ``ok`` (else revert, with ``error`` if given)."""
        if ok:
            return action()
        with pytest.raises(ch.ContractRevertError) as info:
            action()
        if error is not None:
            assert info.value.error_name == error
        return None

    # ------------------------------------------------------------------ rules

    @rule(seconds=st.sampled_from([1, PHASE // 2]))
    def wait(self, seconds: int) -> None:
        ch.advance_time(self.chain, seconds)

    @rule()
    def wait_past_next_deadline(self) -> None:
        now = ch.chain_time(self.chain)
        upcoming = [t for t in self.config.deadlines.as_tuple() if t >= now]
        if upcoming:
            ch.advance_time(self.chain, upcoming[0] - now + 1)

    def _member(self, i: int):  # a joined actor when there is one (most attempts are meaningful)
        joined = [a for a in self.actors if a.address in self.joined]
        return joined[i % len(joined)] if joined and i < 4 else self.actors[i % ACTORS]

    @rule(i=st.integers(0, ACTORS - 1), option=st.integers(0, 1))
    @precondition(lambda self: self.phase() is enc.Phase.JOIN)
    def join(self, i: int, option: int) -> None:
        a = self.actors[i]
        ok = self.phase() is enc.Phase.JOIN and a.address not in self.joined
        commitment = enc.participant_commitment(
            self.secrets[a.address], a.address, self.rc.address, self.chain.chain_id
        )
        self.expect(
            ok,
            lambda: self.rc.join(
                a,
                option_id=option,
                data_root=enc.keccak256(a.address.encode()),
                row_count=MENU[option].data_count,
                commitment=commitment,
            ),
        )
        if ok:
            self.joined[a.address] = option
            self.expected_balance += BOND

    @rule()
    @precondition(lambda self: self.phase() is enc.Phase.POST)
    def coordinator_reveals_and_posts(self) -> None:
        ok = self.phase() is enc.Phase.POST
        self.expect(ok, lambda: self.rc.reveal_coordinator(self.coordinator, self.secret))
        if ok:
            self.rc.post_models(
                self.coordinator,
                collective_model_hash=enc.model_hash(b"c"),
                collective_accuracy_wad=COLLECTIVE,
                tiers=TIERS,
            )
            self.posted = True

    @rule(i=st.integers(0, ACTORS - 1))
    @precondition(lambda self: self.phase() is enc.Phase.REVEAL)
    def reveal(self, i: int) -> None:
        a = self._member(i)
        ok = (
            self.phase() is enc.Phase.REVEAL
            and a.address in self.joined
            and a.address not in self.revealed
        )
        self.expect(ok, lambda: self.rc.reveal(a, self.secrets[a.address]))
        if ok:
            self.revealed.add(a.address)

    @rule(i=st.integers(0, ACTORS - 1))
    @precondition(lambda self: self.phase() is enc.Phase.CLAIM)
    def claim(self, i: int) -> None:
        a = self._member(i)
        ok = (
            self.phase() is enc.Phase.CLAIM
            and a.address in self.revealed
            and a.address not in self.paid
        )
        result = self.expect(ok, lambda: self.rc.claim(a))
        if ok:
            assert isinstance(result, ch.TxResult)
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
            share = (len(self.joined) - len(self.revealed)) * BOND // len(self.revealed)
            assert event.args["slashShare"] == share
            self.paid.add(a.address)
            self.expected_balance -= BOND + share

    @rule(i=st.integers(0, ACTORS - 1))
    @precondition(lambda self: self.phase() is enc.Phase.ABORTED)
    def withdraw(self, i: int) -> None:
        a = self._member(i)
        ok = (
            self.phase() is enc.Phase.ABORTED
            and a.address in self.joined
            and a.address not in self.paid
        )
        self.expect(ok, lambda: self.rc.withdraw_after_default(a))
        if ok:
            self.paid.add(a.address)
            self.expected_balance -= BOND + COORD_BOND // len(self.joined)

    @rule(
        action=st.sampled_from(["join", "coordinator", "reveal", "claim", "withdraw"]),
        i=st.integers(0, ACTORS - 1),
    )
    def out_of_phase_attempt(self, action: str, i: int) -> None:
        """Any action at any time: the contract must accept or refuse exactly as the model says."""
        if action == "join":
            self.join(i, i % 2)
        elif action == "coordinator":
            self.coordinator_reveals_and_posts()
        else:
            getattr(self, action)(i)

    @rule()
    def sweep(self) -> None:
        now = ch.chain_time(self.chain)
        d = self.config.deadlines
        opens = d.join if not self.joined else d.claim
        ok = now > opens
        self.expect(ok, lambda: self.rc.sweep(self.coordinator), "SweepTooEarly")
        if ok:
            self.expected_balance = 0

    # ------------------------------------------------------------------ invariants

    @invariant()
    def chain_matches_model(self) -> None:
        if not hasattr(self, "rc"):
            return
        assert self.rc.phase() is self.phase()
        assert self.rc.joined_count() == len(self.joined)
        assert self.rc.revealed_count() == len(self.revealed)
        assert self.rc.balance() == self.expected_balance


RoundMachine.TestCase.settings = settings(
    max_examples=8,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_round_state_machine = RoundMachine.TestCase

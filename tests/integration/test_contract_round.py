"""A full round from Python on both chains (eth-tester and anvil), and revert decoding."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any

import pytest
from conftest import commitment, data_root, delivery_key, past_data_window, posted, stand_in_logs

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.compiler import CompiledContract

BOND = 10**17  # conftest.BOND
COORDINATOR_BOND = 10**18  # conftest.COORDINATOR_BOND


def address_of(sender: ch.Sender) -> str:
    return sender if isinstance(sender, str) else sender.address


TIERS = (posted(b"tier-1", 2 * 10**17), posted(b"tier-2", 5 * 10**17))
COLLECTIVE = 9 * 10**17


def _join_all(s: Any, count: int) -> dict[str, bytes]:
    secrets: dict[str, bytes] = {}
    for i, p in enumerate(s.participants[:count]):
        who = address_of(p)
        secret = enc.random_secret()
        secrets[who] = secret
        option = s.menu[i % len(s.menu)]
        s.round.join(
            p,
            option_id=i % len(s.menu),
            data_root=data_root(who, i),
            row_count=option.data_count,
            commitment=commitment(s, who, secret, i),
        )
    return secrets


def _opening(s: Any, p: ch.Sender, secrets: dict[str, bytes]) -> dict[str, Any]:
    """reveal/claim arguments of participant ``p`` (its index in s.participants)."""
    i = list(s.participants).index(p)
    who = address_of(p)
    return {"data_root": data_root(who, i), "secret": secrets[who], "delivery_key": delivery_key(i)}


def _to(s: Any, deadline: int) -> None:
    ch.advance_time(s.chain, deadline - ch.chain_time(s.chain) + 1)


def test_full_round_matches_python_model(round_setup) -> None:
    """Deploy, join, coordinator reveal, post, reveals (one withheld), claims, sweep: every rung,
    seed and payment on chain equals what modelpact.encoding computes; every wei is accounted."""
    s = round_setup
    rc = s.round
    assert rc.phase() is enc.Phase.JOIN
    assert rc.options() == s.menu
    assert rc.config() == s.config
    secrets = _join_all(s, 4)
    assert rc.joined_count() == 4
    assert rc.total_data() == sum(s.menu[i % 3].data_count for i in range(4))
    assert [rc.option_join_count(i) for i in range(3)] == [2, 1, 1]
    assert rc.phase() is enc.Phase.POST  # capacity reached
    assert rc.balance() == COORDINATOR_BOND + 4 * BOND

    rc.reveal_coordinator(s.coordinator, s.coordinator_secret)
    assert rc.coordinator_secret() == s.coordinator_secret
    past_data_window(s.chain, rc)
    result = rc.post_models(
        s.coordinator,
        collective=posted(b"collective", COLLECTIVE),
        logs=stand_in_logs(len(TIERS)),
        tiers=TIERS,
    )
    names = [e.name for e in result.events]
    assert names == ["CurveChecked", "ModelsPosted"]
    knots = [(100, 2 * 10**17), (1000, 8 * 10**17)]
    checked = result.events[0].args
    assert checked["predictedAccuracyWad"] == enc.predicted_accuracy(knots, rc.total_data())
    assert checked["shortfallWad"] == 0  # the collective beats the curve: nothing owed
    # v2 views return log root 0: the roots live in the post commitment and ModelsPosted
    assert rc.tiers() == tuple(replace(t, log_root=bytes(32)) for t in TIERS)
    assert rc.phase() is enc.Phase.REVEAL

    revealers = s.participants[:3]
    for p in revealers:
        rc.reveal(p, **_opening(s, p, secrets))
    _to(s, rc.deadlines().reveal)
    assert rc.phase() is enc.Phase.CLAIM
    share = 0  # the non-revealer's bond is burned, never shared (review hole 3)
    assert rc.slash_share() == share

    accuracies = [t.accuracy_wad for t in TIERS]
    for p in revealers:
        who = address_of(p)
        state = rc.participant(who)
        seed = enc.draw_seed(s.coordinator_secret, secrets[who], rc.address, state.index)
        assert state.revealed
        expected = enc.assign_rung(s.menu[state.option_id].ratio_wad, COLLECTIVE, accuracies, seed)
        assert rc.assignment(who, secrets[who]) == expected
        before = s.chain.balance(who)
        result = rc.claim(p, **_opening(s, p, secrets))
        (claimed,) = result.events
        assert claimed.args["rung"] == expected.rung
        assert claimed.args["slashShare"] == share
        if isinstance(p, str):  # node-unlocked sender: only checked through the event
            continue
        # the fee is what the receipt says was paid (gasUsed x effectiveGasPrice); a transaction's
        # "gasPrice" field is the node's view of it, which anvil under load reported 0.05% off
        receipt = s.chain.w3.eth.get_transaction_receipt(result.tx_hash)
        gas = receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert s.chain.balance(who) == before + BOND + share - gas

    with pytest.raises(ch.ContractRevertError) as info:
        rc.claim(s.participants[3], **_opening(s, s.participants[3], secrets))
    assert info.value.error_name == "NotRevealed"

    _to(s, rc.deadlines().claim)
    assert rc.phase() is enc.Phase.CLOSED
    left = COORDINATOR_BOND + 4 * BOND - 3 * (BOND + share)
    assert rc.balance() == left
    # v2: the sweep pays the coordinator its bond (nothing owed from it here), never the
    # forfeited bond of the non-revealer or the rounding dust: those stay in the contract
    swept = rc.sweep(s.participants[3])
    assert swept.events[0].args == {
        "to": address_of(s.coordinator),
        "amount": COORDINATOR_BOND,
        "liability": 0,
    }
    assert rc.balance() == left - COORDINATOR_BOND

    names = [e.name for e in ch.round_events(rc)]
    assert names == ["RoundPublished"] + ["Joined"] * 4 + [
        "CoordinatorRevealed",
        "CurveChecked",
        "ModelsPosted",
    ] + ["Revealed"] * 3 + ["Claimed"] * 3 + ["Swept"]
    # round_at binds the same contract by address alone.
    again = ch.round_at(s.chain, rc.address)
    assert again.collective_model() == replace(
        posted(b"collective", COLLECTIVE), log_root=bytes(32)
    )


def test_coordinator_default_refunds_bond_and_share(round_setup) -> None:
    """If the coordinator never posts, each participant withdraws bond + coordinatorBond/joined
    once, and the sweep after the claim deadline takes exactly the dust."""
    s = round_setup
    rc = s.round
    _join_all(s, 3)
    _to(s, s.config.schedule.post)
    assert rc.phase() is enc.Phase.ABORTED
    compensation = COORDINATOR_BOND // 3
    for p in s.participants[:3]:
        (event,) = rc.withdraw_after_default(p).events
        assert event.name == "DefaultRefunded"
        assert event.args["compensation"] == compensation
        assert event.args["bond"] == BOND
    with pytest.raises(ch.ContractRevertError) as info:
        rc.withdraw_after_default(s.participants[0])
    assert info.value.error_name == "AlreadyClaimed"
    assert rc.balance() == COORDINATOR_BOND - 3 * compensation
    # v2: after a default the coordinator may sweep the dust at once (nothing else is left)
    rc.sweep(s.participants[0])
    assert rc.balance() == 0


def test_reverts_are_decoded_into_named_errors(round_setup) -> None:
    """Reverts surface as ContractRevertError with the ABI error's name, typed args and a hint."""
    s = round_setup
    rc = s.round
    p = s.participants[0]
    who = address_of(p)
    secret = enc.random_secret()
    sealed = commitment(s, who, secret, 0)
    root = data_root(who, 0)
    rc.join(p, option_id=0, data_root=root, row_count=100, commitment=sealed)
    with pytest.raises(ch.ContractRevertError) as twice:
        rc.join(p, option_id=0, data_root=root, row_count=100, commitment=sealed)
    assert twice.value.error_name == "AlreadyJoined"
    assert twice.value.args == (who,)
    assert twice.value.named_args == {"participant": who}
    assert twice.value.hint
    assert "AlreadyJoined" in twice.value.one_line()

    q = s.participants[1]
    with pytest.raises(ch.ContractRevertError) as rows:
        rc.join(q, option_id=1, data_root=root, row_count=5, commitment=sealed)
    assert (rows.value.error_name, rows.value.args) == ("WrongRowCount", (1, 200, 5))
    with pytest.raises(ch.ContractRevertError) as bond:
        rc.join(q, option_id=0, data_root=root, row_count=100, commitment=sealed, value=1)
    assert (bond.value.error_name, bond.value.args) == ("WrongBond", (BOND, 1))
    with pytest.raises(ch.ContractRevertError) as copied:  # issue 11.6: a copied root
        rc.join(q, option_id=0, data_root=root, row_count=100, commitment=sealed)
    assert (copied.value.error_name, copied.value.args) == ("DuplicateDataRoot", (root,))
    with pytest.raises(ch.ContractRevertError) as phase:
        rc.reveal(p, data_root=root, secret=secret, delivery_key=delivery_key(0))
    assert phase.value.error_name == "WrongPhase"
    assert phase.value.args == (enc.Phase.JOIN, enc.Phase.REVEAL)
    with pytest.raises(ch.ContractRevertError) as who_error:
        rc.reveal_coordinator(q, s.coordinator_secret)
    assert who_error.value.error_name == "NotCoordinator"
    with pytest.raises(ch.ContractRevertError) as missing:
        rc.participant(address_of(s.participants[2]))
    assert missing.value.error_name == "NotParticipant"


def test_constructor_reverts_are_decoded(
    any_chain: ch.Chain, compiled_round: CompiledContract, deploy_setup
) -> None:
    """Deploying an unsorted menu fails with OptionsNotSorted(1) before anything is mined."""
    good = deploy_setup(any_chain)
    option = enc.OnchainOption(200, 10**17, 10**17, 10**18)
    bad_menu = [option, enc.OnchainOption(100, 10**17, 10**17, 10**18)]
    with pytest.raises(ch.ContractRevertError) as info:
        ch.deploy_round(
            any_chain,
            sender=good.coordinator,
            menu_options=bad_menu,
            config=good.config,
            compiled=compiled_round,
        )
    assert (info.value.error_name, info.value.args) == ("OptionsNotSorted", (1,))
    # issue 11: a reveal window shorter than MIN_WINDOW is refused by the contract itself
    short = replace(good.config.schedule, reveal_window=enc.MIN_WINDOW_SECONDS - 1)
    with pytest.raises(ch.ContractRevertError) as window:
        ch.deploy_round(
            any_chain,
            sender=good.coordinator,
            menu_options=[option],
            config=replace(good.config, schedule=short),
            compiled=compiled_round,
        )
    assert window.value.error_name == "WindowTooShort"
    assert window.value.args[1:] == (enc.MIN_WINDOW_SECONDS - 1, enc.MIN_WINDOW_SECONDS)


def test_send_then_wait_lets_callers_record_the_hash(round_setup) -> None:
    """send() returns the tx hash before the receipt; wait() then returns the mined result."""
    s = round_setup
    p = s.participants[0]
    who = address_of(p)
    sealed = commitment(s, who, enc.random_secret(), 0)
    call = s.round.join.call(
        option_id=0, data_root=data_root(who, 0), row_count=100, commitment=sealed, value=BOND
    )
    tx_hash = s.round.send(call, p)
    assert tx_hash.startswith("0x")
    assert len(tx_hash) == 66
    result = s.round.wait(tx_hash)
    assert result.tx_hash == tx_hash
    assert result.events[0].name == "Joined"
    assert result.gas_used <= 100_000


def test_hi_probability_matches_the_draw_width() -> None:
    """The exact draw probability is (target - lo) / (hi - lo) for the tiers used above."""
    p = enc.hi_probability(3 * 10**17, COLLECTIVE, [t.accuracy_wad for t in TIERS])
    assert p == Fraction(27 - 20, 50 - 20)


def test_node_down_is_a_named_error() -> None:
    """Connecting to a port nobody listens on raises NodeUnavailableError with a hint."""
    from modelpact.chain.backends.anvil import free_port

    with pytest.raises(ch.NodeUnavailableError) as info:
        ch.connect(rpc_url=f"http://127.0.0.1:{free_port()}", timeout=2)
    assert info.value.hint


@pytest.mark.anvil
def test_anvil_state_survives_a_restart(tmp_path, deploy_setup) -> None:
    """A round deployed on anvil with --state is still there, with its joins, after a restart."""
    state = tmp_path / "state.json"
    with AnvilNode(state_file=state) as node:
        chain = ch.connect(chain="anvil", rpc_url=node.rpc_url, expected_chain_id=31337)
        s = deploy_setup(chain)
        _join_all(s, 2)
        address = s.round.address
    assert state.exists()
    with AnvilNode(state_file=state) as node:
        chain = ch.connect(chain="anvil", rpc_url=node.rpc_url)
        rc = ch.round_at(chain, address)
        assert rc.joined_count() == 2
        assert rc.balance() == COORDINATOR_BOND + 2 * BOND

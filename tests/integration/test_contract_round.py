"""A full round from Python on both chains (eth-tester and anvil), and revert decoding."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.compiler import CompiledContract

BOND = 10**17  # conftest.BOND
COORDINATOR_BOND = 10**18  # conftest.COORDINATOR_BOND


def address_of(sender: ch.Sender) -> str:
    return sender if isinstance(sender, str) else sender.address


TIERS = (
    enc.Tier(enc.model_hash(b"tier-1"), 2 * 10**17),
    enc.Tier(enc.model_hash(b"tier-2"), 5 * 10**17),
)
COLLECTIVE = 9 * 10**17


def _join_all(s: Any, count: int) -> dict[str, bytes]:
    secrets: dict[str, bytes] = {}
    for i, p in enumerate(s.participants[:count]):
        who = address_of(p)
        secret = enc.random_secret()
        secrets[who] = secret
        option = s.menu[i % len(s.menu)]
        rows = [[r, i, r * i] for r in range(3)]
        s.round.join(
            p,
            option_id=i % len(s.menu),
            data_root=enc.dataset_merkle_root(rows),
            row_count=option.data_count,
            commitment=enc.participant_commitment(secret, who, s.round.address, s.chain.chain_id),
        )
    return secrets


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
    posted = rc.post_models(
        s.coordinator,
        collective_model_hash=enc.model_hash(b"collective"),
        collective_accuracy_wad=COLLECTIVE,
        tiers=TIERS,
    )
    (event,) = posted.events
    assert event.name == "ModelsPosted"
    knots = [(100, 2 * 10**17), (1000, 8 * 10**17)]
    assert event.args["predictedAccuracyWad"] == enc.predicted_accuracy(knots, rc.total_data())
    assert rc.tiers() == TIERS
    assert rc.phase() is enc.Phase.REVEAL

    revealers = s.participants[:3]
    for p in revealers:
        rc.reveal(p, secrets[address_of(p)])
    _to(s, s.config.deadlines.reveal)
    assert rc.phase() is enc.Phase.CLAIM
    share = BOND // 3
    assert rc.slash_share() == share

    accuracies = [t.accuracy_wad for t in TIERS]
    for p in revealers:
        who = address_of(p)
        state = rc.participant(who)
        seed = enc.draw_seed(s.coordinator_secret, secrets[who], rc.address, state.index)
        assert state.draw_seed == seed
        assert state.commitment == b"\0" * 32  # the slot now holds the seed
        expected = enc.assign_rung(s.menu[state.option_id].ratio_wad, COLLECTIVE, accuracies, seed)
        assert rc.assignment(who) == expected
        before = s.chain.balance(who)
        result = rc.claim(p)
        (claimed,) = result.events
        assert claimed.args["rung"] == expected.rung
        assert claimed.args["slashShare"] == share
        if isinstance(p, str):  # node-unlocked sender: only checked through the event
            continue
        price = s.chain.w3.eth.get_transaction(result.tx_hash)["gasPrice"]  # type: ignore[index]
        gas = result.gas_used * price
        assert s.chain.balance(who) == before + BOND + share - gas

    with pytest.raises(ch.ContractRevertError) as info:
        rc.claim(s.participants[3])
    assert info.value.error_name == "NotRevealed"

    _to(s, s.config.deadlines.claim)
    assert rc.phase() is enc.Phase.CLOSED
    left = COORDINATOR_BOND + 4 * BOND - 3 * (BOND + share)
    assert rc.balance() == left
    swept = rc.sweep(s.participants[3])
    assert swept.events[0].args == {"to": address_of(s.coordinator), "amount": left}
    assert rc.balance() == 0

    names = [e.name for e in ch.round_events(rc)]
    assert names == ["RoundPublished"] + ["Joined"] * 4 + [
        "CoordinatorRevealed",
        "ModelsPosted",
    ] + ["Revealed"] * 3 + ["Claimed"] * 3 + ["Swept"]
    # round_at binds the same contract by address alone.
    again = ch.round_at(s.chain, rc.address)
    assert again.collective_model() == enc.Tier(enc.model_hash(b"collective"), COLLECTIVE)


def test_coordinator_default_refunds_bond_and_share(round_setup) -> None:
    """If the coordinator never posts, each participant withdraws bond + coordinatorBond/joined
    once, and the sweep after the claim deadline takes exactly the dust."""
    s = round_setup
    rc = s.round
    _join_all(s, 3)
    _to(s, s.config.deadlines.post)
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
    with pytest.raises(ch.ContractRevertError) as early:
        rc.sweep(s.participants[0])
    assert early.value.error_name == "SweepTooEarly"
    _to(s, s.config.deadlines.claim)
    rc.sweep(s.participants[0])
    assert rc.balance() == 0


def test_reverts_are_decoded_into_named_errors(round_setup) -> None:
    """Reverts surface as ContractRevertError with the ABI error's name, typed args and a hint."""
    s = round_setup
    rc = s.round
    p = s.participants[0]
    who = address_of(p)
    commitment = enc.participant_commitment(enc.random_secret(), who, rc.address, s.chain.chain_id)
    root = enc.keccak256(b"root")
    rc.join(p, option_id=0, data_root=root, row_count=100, commitment=commitment)
    with pytest.raises(ch.ContractRevertError) as twice:
        rc.join(p, option_id=0, data_root=root, row_count=100, commitment=commitment)
    assert twice.value.error_name == "AlreadyJoined"
    assert twice.value.args == (who,)
    assert twice.value.named_args == {"participant": who}
    assert twice.value.hint
    assert "AlreadyJoined" in twice.value.one_line()

    q = s.participants[1]
    with pytest.raises(ch.ContractRevertError) as rows:
        rc.join(q, option_id=1, data_root=root, row_count=5, commitment=commitment)
    assert (rows.value.error_name, rows.value.args) == ("WrongRowCount", (1, 200, 5))
    with pytest.raises(ch.ContractRevertError) as bond:
        rc.join(q, option_id=0, data_root=root, row_count=100, commitment=commitment, value=1)
    assert (bond.value.error_name, bond.value.args) == ("WrongBond", (BOND, 1))
    with pytest.raises(ch.ContractRevertError) as phase:
        rc.reveal(p, b"\1" * 32)
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
    bad_menu = [enc.OnchainOption(200, 10**17), enc.OnchainOption(100, 10**17)]
    with pytest.raises(ch.ContractRevertError) as info:
        ch.deploy_round(
            any_chain,
            sender=good.coordinator,
            menu_options=bad_menu,
            config=good.config,
            compiled=compiled_round,
        )
    assert (info.value.error_name, info.value.args) == ("OptionsNotSorted", (1,))


def test_send_then_wait_lets_callers_record_the_hash(round_setup) -> None:
    """send() returns the tx hash before the receipt; wait() then returns the mined result."""
    s = round_setup
    p = s.participants[0]
    who = address_of(p)
    commitment = enc.participant_commitment(
        enc.random_secret(), who, s.round.address, s.chain.chain_id
    )
    call = s.round.join.call(
        option_id=0, data_root=enc.keccak256(b"r"), row_count=100, commitment=commitment, value=BOND
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

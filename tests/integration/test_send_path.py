"""The send path of a round's actions: calldata encoded without web3's ContractFunction is
web3's, byte for byte; every gas bound covers the worst case its function allows with room to
spare; a bound that does not suffice falls back to the estimate; a revert is decoded from the
pre-flight call before anything is sent."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import RoundSetup, delivery_key, deploy, past_data_window, posted, stand_in_logs
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from web3.exceptions import InvalidAddress, MismatchedABI

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.contract import GAS_BOUNDS, Call, GasBound
from modelpact.chain.transactions import EncodedCall, _plain, decode_logs
from modelpact.compiler import CompiledContract

pytestmark = pytest.mark.anvil

HEADROOM = 1.3
"""Each bound is at least this multiple of the gas its worst case needs."""

words = st.binary(min_size=32, max_size=32)
uint256 = st.integers(min_value=0, max_value=2**256 - 1)
points = st.tuples(uint256, uint256)
addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
tiers = st.builds(enc.Tier, words, st.integers(min_value=0, max_value=2**64 - 1), words)
openings = st.fixed_dictionaries({"data_root": words, "secret": words, "delivery_key": points})
merkle = st.tuples(uint256, uint256, st.lists(words, max_size=3))
evidence = st.tuples(
    st.integers(min_value=0, max_value=255),
    uint256,
    st.lists(
        st.tuples(words, st.integers(min_value=0, max_value=2**64 - 1), words, words), max_size=3
    ),
    st.binary(max_size=80),
    uint256,
    st.lists(st.integers(min_value=-(2**255), max_value=2**255 - 1), max_size=3),
    st.lists(words, max_size=3),
    merkle,
    merkle,
    st.binary(max_size=80),
)


def _calls(rc: ch.RoundContract) -> st.SearchStrategy[Call]:
    """Every action of the round with random arguments of the right types."""
    return st.one_of(
        st.builds(
            lambda o, root, rows, c, v: rc.join.call(
                option_id=o, data_root=root, row_count=rows, commitment=c, value=v
            ),
            st.integers(min_value=0, max_value=255),
            words,
            st.integers(min_value=0, max_value=2**64 - 1),
            words,
            uint256,
        ),
        openings.map(lambda kw: rc.reveal.call(**kw)),
        openings.map(lambda kw: rc.claim.call(**kw)),
        openings.map(lambda kw: rc.prove_non_delivery.call(**kw)),
        words.map(rc.reveal_coordinator.call),
        st.builds(
            lambda who, e, text: rc.deliver.call(participant=who, ephemeral=e, ciphertext=text),
            addresses,
            points,
            st.binary(max_size=300),
        ),
        st.builds(
            lambda root, secret, key, e, text: rc.dispute_delivery.call(
                data_root=root, secret=secret, delivery_secret_key=key, ephemeral=e, ciphertext=text
            ),
            words,
            words,
            uint256,
            points,
            st.binary(max_size=300),
        ),
        st.builds(
            lambda c, ts, logs, out: rc.post_models.call(
                collective=c, tiers=ts, logs=logs, undelivered=out
            ),
            tiers,
            st.lists(tiers, max_size=4),
            st.lists(st.binary(max_size=90), max_size=5),
            st.lists(addresses, max_size=4),
        ),
        st.lists(addresses, max_size=4).map(rc.cancel_below_quorum.call),
        evidence.map(rc.challenge.call),
        st.sampled_from(
            [
                rc.withdraw_compensation.call(),
                rc.withdraw_after_default.call(),
                rc.withdraw_after_cancel.call(),
                rc.sweep.call(),
            ]
        ),
    )


@pytest.fixture(scope="module")
def offline_round(anvil_node: AnvilNode, compiled_round: CompiledContract) -> ch.RoundContract:
    """A round contract object (nothing deployed: encoding needs only the ABI)."""
    chain = ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url)
    address = to_checksum_address("0x" + os.urandom(20).hex())
    return ch.RoundContract(chain, address, compiled_round.abi)


def test_encoded_calls_are_web3s_bytes(offline_round: ch.RoundContract) -> None:
    """Every action with random arguments (every argument type of the ABI: words, integers up
    to 2^256, signed integers, addresses, byte strings, structs, arrays of structs) is encoded
    to exactly the calldata web3's ContractFunction produces, with the round's address."""
    rc = offline_round

    @settings(max_examples=300, deadline=None)
    @given(call=_calls(rc))
    def check(call: Call) -> None:
        encoded = rc._encoded(call)
        assert isinstance(encoded, EncodedCall)
        web3_function = getattr(rc.web3_contract.functions, call.function)(*call.args)
        assert encoded.data == web3_function._encode_transaction_data()
        assert encoded.to == rc.address

    check()


@pytest.mark.parametrize(
    "args",
    [
        (0, b"\x01" * 31, 100, b"\x02" * 32),  # a word one byte short
        (True, b"\x01" * 32, 100, b"\x02" * 32),  # a bool for a uint8
        (256, b"\x01" * 32, 100, b"\x02" * 32),  # out of range
        (0, b"\x01" * 32, 100),  # an argument missing
    ],
)
def test_values_web3_refuses_are_refused_by_web3(
    offline_round: ch.RoundContract, args: tuple[Any, ...]
) -> None:
    """Arguments the strict codec refuses are left to web3's ContractFunction, which refuses
    them with its own error, as it did before the lean encoder."""
    with pytest.raises(MismatchedABI):
        offline_round._encoded(Call("join", args))


def test_values_web3_converts_go_through_web3(offline_round: ch.RoundContract) -> None:
    """A hex string for a bytes32 is not a plain value: web3 converts it (the bytes' calldata)."""
    rc = offline_round
    as_hex = rc._encoded(Call("join", (0, "0x" + "01" * 32, 100, b"\x02" * 32)))
    as_bytes = rc._encoded(Call("join", (0, b"\x01" * 32, 100, b"\x02" * 32)))
    assert not isinstance(as_hex, EncodedCall)
    assert as_hex._encode_transaction_data() == as_bytes.data


def test_lowercase_addresses_go_through_web3(offline_round: ch.RoundContract) -> None:
    """web3 refuses an address that is not checksummed (when it encodes); the lean encoder
    leaves it to web3."""
    function = offline_round._encoded(Call("deliver", ("0x" + "ab" * 20, 1, 2, b"x")))
    assert not isinstance(function, EncodedCall)
    with pytest.raises(InvalidAddress):
        function._encode_transaction_data()


# ---------------------------------------------------------------------------- the gas bounds


def test_bounds_exceed_the_foundry_gas_targets() -> None:
    """The contract's own gas targets (the most gasUsed its Foundry gas tests allow a join, a
    reveal and a claim) are below each bound by HEADROOM: raising a target past a bound fails
    here, not in a user's transaction."""
    source = Path(__file__).parents[2] / "contracts" / "test" / "ModelpactRound.gas.t.sol"
    targets = {
        name.lower(): int(value.replace("_", ""))
        for name, value in re.findall(r"(\w+)_TARGET = ([\d_]+);", source.read_text())
    }
    for function in ("join", "reveal", "claim"):
        assert targets[function] * HEADROOM <= GAS_BOUNDS[function].limit("0x"), function


def _needed(rc: ch.RoundContract, call: Call, sender: ch.Sender) -> int:
    """The node's estimate for ``call`` (the least gas limit it succeeds with) right now."""
    encoded = rc._encoded(call)
    assert isinstance(encoded, EncodedCall)
    who = sender if isinstance(sender, str) else sender.address
    probe = {"from": who, "to": encoded.to, "data": encoded.data, "value": call.value}
    return int(rc.chain.w3.eth.estimate_gas(probe))  # type: ignore[arg-type]


def _sent_with(rc: ch.RoundContract, call: Call, sender: ch.Sender, bound: GasBound) -> ch.TxResult:
    """Send ``call`` after checking its bound covers what it needs with HEADROOM; the mined
    transaction's gas limit is the bound (one eth_call, no estimate)."""
    needed = _needed(rc, call, sender)
    encoded = rc._encoded(call)
    assert needed * HEADROOM <= bound.limit(encoded.data), (call.function, needed)
    result = rc.transact(call, sender)
    sent = rc.chain.w3.eth.get_transaction(result.tx_hash)  # type: ignore[arg-type]
    assert sent["gas"] == bound.limit(encoded.data)
    return result


def _worst_round(anvil_node: AnvilNode, compiled: CompiledContract) -> RoundSetup:
    """A round of one seat: its only join is the first (every counter and the option's count
    go from zero) and the one that fills the round (it starts the data window)."""
    return deploy(ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url), compiled, capacity=1)


def _play(s: RoundSetup, send: Callable[[Call, ch.Sender], ch.TxResult]) -> ch.TxResult:
    """The costliest path of a one-seat round, each bounded action sent with ``send``: the join
    that is both the first and the filling one (words of 0xff, the costliest calldata), the
    reveal, a delivery of the longest ciphertext the contract takes (MAX_DELIVERY_BYTES of
    costly bytes), and a claim paid its bond plus compensation for a collective model below
    the curve (with two tiers posted). Returns the claim's result."""
    rc, who = s.round, s.participants[0]
    assert not isinstance(who, str)
    secret, root, key = b"\xfe" * 32, b"\xff" * 32, delivery_key(0)
    sealed = enc.participant_commitment_v2(secret, *key, who.address, rc.address, s.chain.chain_id)
    option = len(s.menu) - 1
    send(
        rc.join.call(
            option_id=option, data_root=root, row_count=s.menu[option].data_count, commitment=sealed
        ),
        who,
    )
    rc.reveal_coordinator(s.coordinator, s.coordinator_secret)
    past_data_window(s.chain, rc)
    tiers = (posted(b"tier-1", 10**17), posted(b"tier-2", 2 * 10**17))
    rc.post_models(
        s.coordinator,
        collective=posted(b"collective", 3 * 10**17),  # the curve says 0.4: compensation owed
        logs=stand_in_logs(len(tiers)),
        tiers=tiers,
    )
    opening = {"data_root": root, "secret": secret, "delivery_key": key}
    send(rc.reveal.call(**opening), who)
    longest = os.urandom(131_072).replace(b"\x00", b"\x01")
    assert rc.chain.w3.eth.call(  # type: ignore[arg-type]
        {"to": rc.address, "data": rc._encoded(Call("MAX_DELIVERY_BYTES")).data}
    ) == (131_072).to_bytes(32, "big")
    ephemeral = (2**255, 2**255)
    send(
        rc.deliver.call(participant=who.address, ephemeral=ephemeral, ciphertext=longest),
        s.coordinator,
    )
    ch.advance_time(s.chain, rc.deadlines().reveal - ch.chain_time(s.chain) + 1)
    return send(rc.claim.call(**opening), who)


def test_gas_bounds_cover_the_worst_case_of_each_function(
    anvil_node: AnvilNode, compiled_round: CompiledContract
) -> None:
    """On the costliest path of a one-seat round (:func:`_play`), each of join, reveal,
    deliver and claim needs at most 1/HEADROOM of its bound and is sent with the bound as its
    gas limit."""
    s = _worst_round(anvil_node, compiled_round)
    claimed = _play(s, lambda call, who: _sent_with(s.round, call, who, GAS_BOUNDS[call.function]))
    (event,) = claimed.events
    assert event.args["compensation"] > 0


def test_decoded_events_are_web3s(anvil_node: AnvilNode, compiled_round: CompiledContract) -> None:
    """Every log of a played round (publication with its menu and curve, join, coordinator
    reveal, the post's curve check and models, reveal, delivery, claim) decodes to the args
    web3's ``get_event_data`` gives (structs as name trees, addresses checksummed)."""
    from web3._utils.events import get_event_data

    s = _worst_round(anvil_node, compiled_round)
    rc = s.round
    _play(s, rc.transact)
    logs = s.chain.w3.eth.get_logs({"address": rc.address, "fromBlock": 0})
    names = []
    for log in logs:
        (ours,) = decode_logs(rc.web3_contract, [log])
        abi = next(e for e in rc.abi if e["type"] == "event" and e["name"] == ours.name)
        theirs = get_event_data(s.chain.w3.codec, abi, log)  # type: ignore[arg-type]
        assert ours.args == _plain(theirs["args"]), ours.name
        names.append(ours.name)
    assert names == [
        "RoundPublished",
        "Joined",
        "CoordinatorRevealed",
        "CurveChecked",
        "ModelsPosted",
        "Revealed",
        "Delivered",
        "Claimed",
    ]


def test_a_bound_too_small_falls_back_to_the_estimate(
    any_chain: ch.Chain, compiled_round: CompiledContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a join bound below what a join needs, the pre-flight call runs out of gas: the join
    is estimated instead and sent with the estimate as its limit (nothing fails, nothing is sent
    twice). On anvil and on the embedded chain."""
    import modelpact.chain.contract as contract

    monkeypatch.setattr(contract, "GAS_BOUNDS", {"join": GasBound(30_000)})
    s = deploy(any_chain, compiled_round, capacity=1)
    rc, who = s.round, s.participants[0]
    assert not isinstance(who, str)
    call = rc.join.call(
        option_id=0,
        data_root=enc.keccak256(b"root"),
        row_count=s.menu[0].data_count,
        commitment=enc.keccak256(b"c"),
    )
    needed = _needed(rc, call, who)
    result = rc.transact(call, who)
    assert [e.name for e in result.events] == ["Joined"]
    assert rc.chain.w3.eth.get_transaction(result.tx_hash)["gas"] == needed  # type: ignore[arg-type]
    assert rc.joined_count() == 1


def test_a_revert_is_decoded_from_the_pre_flight_call_and_nothing_is_sent(
    any_chain: ch.Chain, compiled_round: CompiledContract
) -> None:
    """A bounded action that would revert (a wrong bond) raises the contract's named error with
    its arguments from the pre-flight call, before signing: the sender's nonce is unchanged. On
    anvil and on the embedded chain."""
    s = deploy(any_chain, compiled_round, capacity=1)
    rc, who = s.round, s.participants[0]
    assert not isinstance(who, str)
    nonce = s.chain.w3.eth.get_transaction_count(who.address)
    with pytest.raises(ch.ContractRevertError) as info:
        rc.join(
            who,
            option_id=0,
            data_root=enc.keccak256(b"root"),
            row_count=s.menu[0].data_count,
            commitment=enc.keccak256(b"c"),
            value=1,
        )
    assert (info.value.error_name, info.value.args) == ("WrongBond", (s.config.participant_bond, 1))
    assert s.chain.w3.eth.get_transaction_count(who.address) == nonce


def test_a_batch_transaction_at_a_later_nonce_is_pre_flighted_and_signed(
    any_chain: ch.Chain, compiled_round: CompiledContract
) -> None:
    """A batch signs its transactions at consecutive nonces before any is sent (the
    coordinator's deliveries): the pre-flight of the second, at the pending nonce + 1, runs on
    the latest state whatever its nonce, and the signed bytes carry that nonce. On anvil and on
    the embedded chain (whose eth_call and estimate refused a nonce not next: every embedded
    round with two deliveries failed there)."""
    from eth_account import Account
    from eth_account.typed_transactions import TypedTransaction
    from hexbytes import HexBytes

    from modelpact.chain.transactions import pending_nonce

    s = deploy(any_chain, compiled_round, capacity=1)
    rc, who = s.round, s.participants[0]
    assert not isinstance(who, str)
    call = rc.join.call(
        option_id=0,
        data_root=enc.keccak256(b"root"),
        row_count=s.menu[0].data_count,
        commitment=enc.keccak256(b"c"),
    )
    later = pending_nonce(s.chain, who) + 1
    raw = rc.signed(call, who, nonce=later)
    assert Account.recover_transaction(raw) == who.address
    assert TypedTransaction.from_bytes(HexBytes(raw)).as_dict()["nonce"] == later

"""One backend protocol for every chain: the embedded eth-tester chain and a real anvil node
answer the same calls for time travel, snapshots, the pending block and revert extraction, so
tests and workflows never reach into a provider."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import commitment, delivery_key

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.chain.backends import ChainKind, ChainSettings, ChainSettingsError, open_chain


def test_snapshot_revert_and_time_travel_on_both_chains(round_setup) -> None:
    """A snapshot taken before a join comes back with no join; time moves forward by at least
    the asked seconds and the pending block is never behind the latest one."""
    s = round_setup
    chain, rc = s.chain, s.round
    snapshot = chain.snapshot()
    who = s.participants[0]
    address = who if isinstance(who, str) else who.address
    rc.join(
        who,
        option_id=0,
        data_root=enc.keccak256(b"r"),
        row_count=s.menu[0].data_count,
        commitment=commitment(s, address, enc.random_secret(), 0),
    )
    assert rc.joined_count() == 1
    chain.revert_to(snapshot)
    assert rc.joined_count() == 0
    before = chain.time()
    assert chain.advance_time(100) >= before + 100
    assert chain.pending_time() >= chain.time()
    assert chain.advance_time_to(before) == chain.time()  # already past: nothing mined


def test_each_backend_extracts_its_reverts(round_setup) -> None:
    """A reverting call on either backend is the contract's named error, decoded from the data
    the backend extracted from its own provider's exception."""
    s = round_setup
    with pytest.raises(ch.ContractRevertError) as info:
        s.round.reveal(
            s.participants[0],
            data_root=enc.keccak256(b"r"),
            secret=enc.random_secret(),
            delivery_key=delivery_key(0),
        )
    assert info.value.error_name == "WrongPhase"
    assert info.value.hint


def test_settings_pick_a_backend_and_refuse_unknown_kinds(tmp_path: Path) -> None:
    """--chain accepts the selectable kinds only, --rpc wins over --chain, and the embedded
    backend opens without a node and reports its kind."""
    with pytest.raises(ChainSettingsError, match="unknown --chain 'mainnet'"):
        ChainSettings.build(chain="mainnet", rpc_url=None, chain_id=None, state_dir=tmp_path)
    rpc = ChainSettings.build(
        chain=ChainKind.EMBEDDED, rpc_url="http://127.0.0.1:1", chain_id=None, state_dir=tmp_path
    )
    assert rpc.kind is ChainKind.RPC
    embedded = ChainSettings.build(
        chain="embedded", rpc_url=None, chain_id=None, state_dir=tmp_path
    )
    with open_chain(embedded) as chain:
        assert chain.kind is ChainKind.EMBEDDED
        assert chain.rpc_url is None
        assert len(chain.private_keys) == len(chain.accounts) > 0


@pytest.mark.anvil
def test_deadline_passing_between_estimate_and_block_is_named(anvil_node, deploy_setup) -> None:
    """A join whose gas estimate still saw the join phase but whose block came after the join
    deadline fails in its receipt; the replay on its own block names the error (JoinClosed)
    instead of "failed without a revert reason"."""
    chain = ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url)
    s = deploy_setup(chain)
    who = s.participants[0]
    address = who if isinstance(who, str) else who.address
    after = s.config.schedule.join + 1
    chain.w3.provider.make_request("evm_setNextBlockTimestamp", [after])  # type: ignore[arg-type]
    with pytest.raises(ch.ContractRevertError) as info:
        s.round.join(
            who,
            option_id=0,
            data_root=enc.keccak256(b"late"),
            row_count=s.menu[0].data_count,
            commitment=commitment(s, address, enc.random_secret(), 0),
        )
    assert info.value.error_name == "JoinClosed"
    assert s.round.joined_count() == 0


def test_events_decode_as_web3_does_and_filter_by_name(round_setup) -> None:
    """The round's own event decoder (built once per ABI) gives exactly web3's ``process_log``
    arguments for every log of a deployment and two joins, on both chains, and
    ``events(names=...)`` returns just those events, in chain order."""
    s = round_setup
    chain, rc = s.chain, s.round
    for i, who in enumerate(s.participants[:2]):
        address = who if isinstance(who, str) else who.address
        rc.join(
            who,
            option_id=0,
            data_root=enc.keccak256(address.encode()),
            row_count=s.menu[0].data_count,
            commitment=commitment(s, address, enc.random_secret(), i),
        )
    logs = list(chain.w3.eth.get_logs({"address": rc.address, "fromBlock": 0}))
    contract = rc.web3_contract
    topics = {
        bytes(log["topics"][0]): name
        for name in {e["name"] for e in rc.abi if e.get("type") == "event"}
        for log in logs
        if bytes(log["topics"][0]) == bytes.fromhex(ch.event_topic(rc.abi, name)[2:])
    }
    expected = [
        (
            topics[bytes(log["topics"][0])],
            contract.events[topics[bytes(log["topics"][0])]]().process_log(log),
        )
        for log in logs
    ]
    got = rc.events()
    assert [e.name for e in got] == [name for name, _ in expected]
    for event, (_, ref) in zip(got, expected, strict=True):
        assert dict(event.args) == {k: _plain(v) for k, v in dict(ref["args"]).items()}
    joined = rc.events(names=("Joined",))
    assert [e.name for e in joined] == ["Joined", "Joined"]
    assert [e.log_index for e in joined] == [e.log_index for e in got if e.name == "Joined"]


def _plain(value):
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return bytes(value) if isinstance(value, bytes) else value

"""join with a local state whose data root is not 32 bytes of hex (a hand-edited or damaged
state file): its own checks refuse it in one line, in their order, and nothing is sent.

join builds its call before its checks so that the call's pre-flight rides with the standing
read; that build must not turn a damaged local root into an "unexpected ValueError" ahead of
the checks (reveal and claim already read such a root as none: ``_local_root``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpact.chain import transfer, wait_for_receipt
from modelpact.chain.backends import ChainSettings

SCENARIO = (
    Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"
)


def test_a_damaged_local_root_is_refused_in_one_line_before_and_after_joining(
    tmp_path: Path,
) -> None:
    """Not joined yet: a damaged root is one ParticipantError naming it, nothing sent (the
    nonce is unchanged). Joined (its hash record lost): the damaged root is refused as any
    other root than the joined one, as before join built its call first."""
    from eth_account import Account

    from modelpact.chain.backends import open_chain
    from modelpact.ml.datasets import load_dataset, save_rows, split_test
    from modelpact.round import coordinator as coord
    from modelpact.round import participant as part

    settings = ChainSettings.build(
        chain="embedded", rpc_url=None, chain_id=None, state_dir=tmp_path
    )
    with open_chain(settings) as node:
        deployed = coord.deploy_scenario(
            node,
            scenario_path=SCENARIO,
            sender=node.accounts[0],
            deploy_dir=tmp_path / "deploy",
            state_dir=tmp_path / "state",
        )
        handle = deployed.bind(node)
        account = Account.from_key("0x" + "43" * 32)
        wait_for_receipt(node, transfer(node, node.accounts[1], account.address, 10**18))
        m = handle.contract.option(0).data_count
        rows = split_test(load_dataset("digits"), test_size=360, seed=0).pool[:m]
        state = part.participant_state(tmp_path / "state", deployed.record, account.address)
        part.commit_dataset(state, dataset=save_rows(tmp_path / "d.npy", rows), spec_name="digits")
        good = state.load().data_root
        assert good is not None
        nonce = node.w3.eth.get_transaction_count(account.address)

        state.update(data_root="0x" + "zz" * 32)
        with pytest.raises(part.ParticipantError) as refused:
            part.join(handle, state, account=account, option_id=0)
        assert "data root" in refused.value.one_line()
        assert node.w3.eth.get_transaction_count(account.address) == nonce

        state.update(data_root=good)
        part.join(handle, state, account=account, option_id=0)
        assert handle.contract.joined_count() == 1

        state.update(data_root="0x1234", join_tx=None)  # hash record lost, root damaged
        with pytest.raises(part.ParticipantError, match="joined this round with data root"):
            part.join(handle, state, account=account, option_id=0)
        assert handle.contract.joined_count() == 1

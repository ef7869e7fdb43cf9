"""Round workflows in process on the embedded chain (eth-tester): the demo end to end, and the
crash-safety of a participant's join (hash recorded before waiting; a re-run never joins twice)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import quorum_scenario

from modelpact.chain import RecordedStep, TxResult, transfer, wait_for_receipt
from modelpact.chain.backends import ChainSettings
from modelpact.compiler import verification_paths
from modelpact.round.guard import check_genuine
from modelpact.round.records import find_record, list_records


def _embedded(tmp_path: Path) -> ChainSettings:
    return ChainSettings.build(chain="embedded", rpc_url=None, chain_id=None, state_dir=tmp_path)


def test_demo_round_passes_every_check_and_writes_the_audit_files(tmp_path: Path) -> None:
    """A 4-participant demo round on the embedded chain passes every check (including the
    independent audit), each participant receives a model whose hash and accuracy verify, no
    reward exceeds the collective model, and DIR holds the record, files and report."""
    from modelpact.round.demo import DemoConfig, run_demo

    out = tmp_path / "out"
    result = run_demo(
        DemoConfig(participants=4, seed=3, out_dir=out, settings=_embedded(tmp_path / "s"))
    )
    report = result.report
    assert report.passed, [c for c in report.checks if not c.passed]
    assert len(report.outcomes) == 4
    for outcome in report.outcomes:
        assert outcome.received_accuracy <= report.collective_accuracy
        assert outcome.verified
    for name in (
        "deployment.json",
        "scenario.toml",
        "menu.json",
        "test_set.npy",
        "report.json",
        "menu.png",
        "rewards.png",
        "promised.png",
        "audit.json",
    ):
        assert (out / name).is_file(), name
    assert len(list((out / "delivered").glob("0x*.npy"))) == 4
    record = json.loads((out / "deployment.json").read_text())
    assert record["address"] == report.address
    assert json.loads((out / "report.json").read_text())["passed"] is True


class _CrashError(Exception):
    pass


def _crash_after_send(self: RecordedStep, send: Callable[[], str]) -> TxResult:
    """A process that dies right after sending (hash recorded, receipt never seen)."""
    raise _CrashError(self.start(send))


def test_join_rerun_after_crash_between_send_and_receipt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A participant process that dies right after sending its join (hash recorded, receipt not
    seen) re-runs join: it finds the recorded transaction, sends nothing, and the bond is paid
    once. Its secret survives in the state, so it can still reveal."""
    from eth_account import Account

    from modelpact.chain.backends import open_chain
    from modelpact.ml.datasets import load_dataset, save_rows, split_test
    from modelpact.round import coordinator as coord
    from modelpact.round import participant as part

    scenario = (
        Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"
    )
    with open_chain(_embedded(tmp_path)) as node:
        deployed = coord.deploy_scenario(
            node,
            scenario_path=scenario,
            sender=node.accounts[0],
            deploy_dir=tmp_path / "deploy",
            state_dir=tmp_path / "state",
        )
        handle = deployed.bind(node)
        account = Account.from_key("0x" + "42" * 32)
        wait_for_receipt(node, transfer(node, node.accounts[1], account.address, 10**18))
        m = handle.contract.option(0).data_count
        rows = split_test(load_dataset("digits"), test_size=360, seed=0).pool[:m]
        state = part.participant_state(tmp_path / "state", deployed.record, account.address)
        part.commit_dataset(state, dataset=save_rows(tmp_path / "d.npy", rows), spec_name="digits")

        monkeypatch.setattr(RecordedStep, "send", _crash_after_send)
        with pytest.raises(_CrashError):
            part.join(handle, state, account=account, option_id=0)
        monkeypatch.undo()
        recorded = state.load().join_tx
        assert recorded
        balance_after_first = node.balance(account.address)
        again = part.join(handle, state, account=account, option_id=0)
        assert again.already_done
        assert again.tx_hash == recorded
        assert node.balance(account.address) == balance_after_first
        assert handle.contract.joined_count() == 1
        assert state.load().secret


def test_coordinator_default_refunds_bond_plus_compensation_once(tmp_path: Path) -> None:
    """If the coordinator never posts models, after the post deadline the round is aborted and a
    participant withdraws its bond plus the whole coordinator bond (sole participant, quorum 1);
    a second withdrawal and a claim are refused with clear errors."""
    from eth_account import Account

    from modelpact.chain.backends import open_chain
    from modelpact.encoding import Phase
    from modelpact.ml.datasets import load_dataset, save_rows, split_test
    from modelpact.round import coordinator as coord
    from modelpact.round import participant as part

    scenario = quorum_scenario(tmp_path, 1)
    with open_chain(_embedded(tmp_path)) as node:
        deployed = coord.deploy_scenario(
            node,
            scenario_path=scenario,
            sender=node.accounts[0],
            deploy_dir=tmp_path / "deploy",
            state_dir=tmp_path / "state",
        )
        handle = deployed.bind(node)
        account = Account.from_key("0x" + "43" * 32)
        wait_for_receipt(node, transfer(node, node.accounts[1], account.address, 10**18))
        m = handle.contract.option(1).data_count
        rows = split_test(load_dataset("digits"), test_size=360, seed=0).pool[:m]
        state = part.participant_state(tmp_path / "state", deployed.record, account.address)
        part.commit_dataset(state, dataset=save_rows(tmp_path / "d.npy", rows), spec_name="digits")
        part.join(handle, state, account=account, option_id=1)
        post_deadline = handle.contract.config().schedule.post
        node.advance_time_to(post_deadline + 1)
        assert handle.phase() == Phase.ABORTED
        with pytest.raises(part.ParticipantError, match="phase aborted"):
            part.claim(handle, state, account=account)
        refund = part.withdraw_after_default(handle, state, account=account)
        assert refund.bond == 10**16
        assert refund.compensation == 10**17
        with pytest.raises(part.AlreadyClaimedError, match="already paid out"):
            part.withdraw_after_default(handle, state, account=account)


def test_coordinator_refuses_out_of_order_steps_and_tampered_deliveries(tmp_path: Path) -> None:
    """The coordinator cannot reveal while joining is open, another account's reveal reverts
    with the contract's named error (NotCoordinator), models cannot be posted before the reveal;
    ingest rejects (names undelivered, v2: no longer aborts) a missing delivery, a delivery with
    another row count, and a delivery whose rows do not hash to the committed Merkle root (one
    changed pixel), and accepts the committed rows."""
    import numpy as np
    from eth_account import Account

    from modelpact.chain.backends import open_chain
    from modelpact.ml.datasets import load_dataset, save_rows, split_test
    from modelpact.round import coordinator as coord
    from modelpact.round import participant as part

    scenario = quorum_scenario(tmp_path, 1)
    with open_chain(_embedded(tmp_path)) as node:
        coordinator = node.accounts[0]
        deployed = coord.deploy_scenario(
            node,
            scenario_path=scenario,
            sender=coordinator,
            deploy_dir=tmp_path / "deploy",
            state_dir=tmp_path / "state",
        )
        handle = deployed.bind(node)
        cstate = coord.coordinator_state(tmp_path / "state", deployed.record)
        account = Account.from_key("0x" + "44" * 32)
        wait_for_receipt(node, transfer(node, node.accounts[1], account.address, 10**18))
        m = handle.contract.option(0).data_count
        rows = split_test(load_dataset("digits"), test_size=360, seed=0).pool[:m]
        state = part.participant_state(tmp_path / "state", deployed.record, account.address)
        part.commit_dataset(state, dataset=save_rows(tmp_path / "d.npy", rows), spec_name="digits")
        part.join(handle, state, account=account, option_id=0)

        with pytest.raises(coord.CoordinatorError, match="phase join"):
            coord.reveal_coordinator(handle, cstate, sender=coordinator)
        node.advance_time_to(handle.contract.config().schedule.join + 1)
        from modelpact.chain import ContractRevertError

        with pytest.raises(ContractRevertError, match="NotCoordinator") as reverted:
            coord.reveal_coordinator(handle, cstate, sender=node.accounts[2])
        assert reverted.value.error_name == "NotCoordinator"
        assert reverted.value.hint
        with pytest.raises(coord.CoordinatorError, match="not revealed its secret"):
            coord.train_and_post(
                handle,
                cstate,
                deliveries=[],
                test_rows=rows,
                models_dir=tmp_path / "m",
                sender=coordinator,
                seed=0,
            )
        inbox = tmp_path / "inbox"
        inbox.mkdir()

        def rejected(files: dict[str, Path]) -> str:
            ingested = coord.ingest(
                handle, files=files, delivered_dir=tmp_path / "dd", spec_name="digits"
            )
            assert ingested.deliveries == ()
            assert ingested.undelivered == (account.address,)
            return ingested.rejected[0].reason

        assert "delivered no data" in rejected({})
        short = save_rows(inbox / f"{account.address}.npy", rows[:-1])
        assert "committed" in rejected({account.address: short})
        tampered = np.array(rows, copy=True)
        tampered[0, 0] = (tampered[0, 0] + 1) % 17
        bad = save_rows(inbox / f"{account.address}.npy", tampered)
        assert "does not match its committed Merkle" in rejected({account.address: bad})
        good = save_rows(inbox / f"{account.address}.npy", rows)
        ingested = coord.ingest(
            handle,
            files={account.address: good},
            delivered_dir=tmp_path / "dd",
            spec_name="digits",
        )
        assert [d.row_count for d in ingested.deliveries] == [m]
        assert ingested.rejected == ()


def test_deploy_rerun_after_crash_or_plain_rerun_deploys_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A coordinator deploy that dies between sending its first transaction (the shared proofs
    implementation) and seeing its receipt (hash recorded) is finished by a re-run without a
    second deployment: the three shared contracts and one createRound; a plain re-run after
    success reports the same round and sends nothing; only ``new_round`` creates another round
    (one createRound: the shared contracts are reused). The coordinator's nonce counts the
    transactions actually sent."""
    from modelpact.chain.backends import open_chain
    from modelpact.round import coordinator as coord

    scenario = (
        Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"
    )
    with open_chain(_embedded(tmp_path)) as node:
        sender = node.accounts[0]

        def sent() -> int:
            return int(node.w3.eth.get_transaction_count(sender))

        def deploy(*, new_round: bool = False) -> coord.Deployed:
            return coord.deploy_scenario(
                node,
                scenario_path=scenario,
                sender=sender,
                deploy_dir=tmp_path / "deploy",
                state_dir=tmp_path / "state",
                new_round=new_round,
            )

        before = sent()

        monkeypatch.setattr(RecordedStep, "send", _crash_after_send)
        with pytest.raises(_CrashError):
            deploy()
        monkeypatch.undo()
        assert sent() == before + 1
        assert not list_records(tmp_path / "deploy")

        finished = deploy()
        assert not finished.already_done
        assert finished.shared is not None
        assert sent() == before + 4
        assert finished.record.block_number > 0
        assert list_records(tmp_path / "deploy") == [finished.record_path]
        # The verification files sit beside the record and are never mistaken for one.
        for published in verification_paths(finished.record_path):
            assert json.loads(published.read_text())
        assert find_record("latest", deploy_dir=tmp_path / "deploy")[1] == finished.record_path
        cstate = coord.coordinator_state(tmp_path / "state", finished.record)
        assert cstate.load().secret
        assert cstate.load().deploy_tx == finished.record.tx_hash

        again = deploy()
        assert again.already_done
        assert again.record.address == finished.record.address
        assert sent() == before + 4

        other = deploy(new_round=True)
        assert other.record.address != finished.record.address
        assert other.shared is not None
        assert other.shared.factory == finished.shared.factory
        assert sent() == before + 5


@pytest.mark.parametrize("crash_at", [1, 2, 3, 4])
def test_deploy_crash_between_any_two_transactions_deploys_each_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_at: int
) -> None:
    """A coordinator deploy dies right after sending its ``crash_at``-th transaction (proofs
    implementation, round implementation, factory, createRound; hash recorded, receipt never
    seen). The re-run sends only what is missing: four transactions in all, one factory, one
    round, and the round (recovered from the recorded createRound's RoundCreated event when the
    crash came last) is the one the factory created."""
    from modelpact.chain.backends import open_chain
    from modelpact.round import coordinator as coord

    scenario = (
        Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"
    )
    calls = {"n": 0}
    real_send = RecordedStep.send

    def crash_on_nth(self: RecordedStep, send: Callable[[], str]) -> TxResult:
        calls["n"] += 1
        if calls["n"] == crash_at:
            return _crash_after_send(self, send)
        return real_send(self, send)

    with open_chain(_embedded(tmp_path)) as node:
        sender = node.accounts[0]
        before = int(node.w3.eth.get_transaction_count(sender))

        def deploy() -> coord.Deployed:
            return coord.deploy_scenario(
                node, scenario_path=scenario, sender=sender, deploy_dir=tmp_path / "deploy",
                state_dir=tmp_path / "state",
            )  # fmt: skip

        monkeypatch.setattr(RecordedStep, "send", crash_on_nth)
        with pytest.raises(_CrashError):
            deploy()
        monkeypatch.undo()
        assert int(node.w3.eth.get_transaction_count(sender)) == before + crash_at
        done = deploy()
        assert int(node.w3.eth.get_transaction_count(sender)) == before + 4
        code = bytes(node.w3.eth.get_code(done.record.address))
        factory = "0x" + code[45 + 12 : 45 + 32].hex()  # the clone's args: factory first
        created = node.w3.eth.get_transaction_receipt(done.record.tx_hash)  # type: ignore[arg-type]
        assert str(created["to"]).lower() == factory
        assert list_records(tmp_path / "deploy") == [done.record_path]
        check_genuine(done.bind(node))  # the recovered round is the factory's, initialized

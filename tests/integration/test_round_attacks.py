"""Issue 11 and 13 attacks played through the Python workflows (the wallet and coordinator
code a user runs) on the embedded chain with the v2 contract: none of them profits.

- a participant that joins and never delivers: the round still runs (it is named undelivered),
  it loses its bond, the bond goes to nobody (burned), and the deliverers get their models;
- windows shorter than the contract's MIN_WINDOW: refused at deploy before anything is sent;
- a copied data root: refused on chain (DuplicateDataRoot), and copied rows under the copier's
  own root make the coordinator's ingest name every sharer undelivered, whoever joined first
  (review hole 6: the copier loses its bond and gets no model);
- below the quorum, the coordinator's cancel gives the deliverers exactly their bonds and burns B
  with the named bonds (cancelling costs the coordinator B, what a default costs, and pays no seat);
- the coordinator gains nothing when a participant misses the reveal window: its bond is
  burned (review hole 3), the sweep pays the coordinator exactly its bond minus what it owes;
- issue 13: a curve that over-predicts the collective accuracy makes the contract pay
  compensation out of the coordinator's bond, and the audit recomputes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_SCENARIO, quorum_scenario
from eth_account import Account
from eth_account.signers.local import LocalAccount

from modelpact.chain import Chain, ContractRevertError, transfer, wait_for_receipt
from modelpact.chain.backends import ChainSettings, open_chain
from modelpact.encoding import MIN_WINDOW_SECONDS, Phase
from modelpact.round import coordinator as coord
from modelpact.round import participant as part
from modelpact.round.deployed import DeployedRound

BOND = 10**16
COORDINATOR_BOND = 10**17


def _settings(tmp_path: Path) -> ChainSettings:
    return ChainSettings.build(chain="embedded", rpc_url=None, chain_id=None, state_dir=tmp_path)


@dataclass
class _Round:
    chain: Chain
    handle: DeployedRound
    coordinator: str
    accounts: list[LocalAccount]
    shards: list[np.ndarray]
    tmp: Path

    def state(self, account: LocalAccount) -> part.ParticipantStateFile:
        return part.participant_state(self.tmp / "state", self.handle.record, account.address)

    def cstate(self) -> coord.CoordinatorStateFile:
        return coord.coordinator_state(self.tmp / "state", self.handle.record)


def _deploy(node: Chain, tmp: Path, scenario: Path, people: int) -> _Round:
    """Deploy ``scenario`` and fund ``people`` wallets with a shard of the pool each (option 0)."""
    from modelpact.ml.datasets import load_dataset, shard_pool, split_test

    deployed = coord.deploy_scenario(
        node,
        scenario_path=scenario,
        sender=node.accounts[0],
        deploy_dir=tmp / "deploy",
        state_dir=tmp / "state",
    )
    handle = deployed.bind(node)
    m = handle.contract.option(0).data_count
    pool = split_test(load_dataset("digits"), test_size=360, seed=0).pool
    shards = shard_pool(pool, [m] * people, seed=1)
    accounts = [Account.from_key(bytes([0x50 + i]) * 32) for i in range(people)]
    for a in accounts:
        wait_for_receipt(node, transfer(node, node.accounts[1], a.address, 10**18))
    return _Round(node, handle, str(node.accounts[0]), accounts, shards, tmp)


def _join(r: _Round, i: int, rows: np.ndarray | None = None) -> None:
    from modelpact.ml.datasets import save_rows

    account = r.accounts[i]
    data = save_rows(r.tmp / f"data-{i}.npy", r.shards[i] if rows is None else rows)
    part.commit_dataset(r.state(account), dataset=data, spec_name="digits")
    part.join(r.handle, r.state(account), account=account, option_id=0)


def _post(r: _Round, delivering: list[int]) -> coord.PostResult | coord.CancelResult:
    """Close joining, reveal, ingest what the ``delivering`` participants sent, train, post."""
    from modelpact.ml.datasets import load_rows, save_rows

    # past the join deadline and the data window after it (issue 11.7)
    r.chain.advance_time_to(r.handle.contract.config().schedule.join + MIN_WINDOW_SECONDS + 1)
    coord.reveal_coordinator(r.handle, r.cstate(), sender=r.coordinator)
    inbox = r.tmp / "inbox"
    inbox.mkdir(exist_ok=True)
    for i in delivering:
        save_rows(inbox / f"{r.accounts[i].address}.npy", np.load(r.tmp / f"data-{i}.npy"))
    test_rows = load_rows(r.handle.test_set_path)
    ingested = coord.ingest(
        r.handle,
        files=coord.inbox_files(inbox),
        delivered_dir=r.tmp / "delivered",
        spec_name="digits",
        test_rows=test_rows,
    )
    return coord.train_and_post(
        r.handle,
        r.cstate(),
        deliveries=ingested.deliveries,
        test_rows=test_rows,
        models_dir=r.tmp / "models",
        sender=r.coordinator,
        seed=0,
    )


def _sweep_gain(r: _Round) -> int:
    """Move past the claim deadline and sweep; the coordinator's balance change (gas is paid by
    a dev account whose price the test cannot separate, so the Swept amount is returned)."""
    r.chain.advance_time_to(r.handle.contract.deadlines().claim + 1)
    _, amount, _ = coord.sweep(r.handle, r.cstate(), sender=r.coordinator)
    return amount


def test_a_non_delivering_griefer_loses_its_bond_and_stops_nothing(tmp_path: Path) -> None:
    """Issue 11.2: three join, one never delivers. The coordinator names it undelivered and the
    round runs (quorum 2); the griefer cannot reveal, gets no model and loses its bond, which
    nobody receives (it stays burned in the contract, so neither the coordinator nor a
    colluding participant profits); the deliverers reveal and claim bond + compensation."""
    with open_chain(_settings(tmp_path / "chain")) as node:
        r = _deploy(node, tmp_path, quorum_scenario(tmp_path, 2), 3)
        for i in range(3):
            _join(r, i)
        griefer = r.accounts[2]
        start = node.balance(griefer.address)
        posted = _post(r, delivering=[0, 1])
        assert isinstance(posted, coord.PostResult)
        assert posted.undelivered == (griefer.address,)
        assert r.handle.contract.participant(griefer.address).undelivered
        with pytest.raises(part.ParticipantError, match="undelivered"):
            part.reveal(r.handle, r.state(griefer), account=griefer)
        for account in r.accounts[:2]:
            part.reveal(r.handle, r.state(account), account=account)
        assert r.handle.phase() == Phase.CLAIM  # every deliverer revealed: no wait
        claims = [part.claim(r.handle, r.state(a), account=a) for a in r.accounts[:2]]
        assert all(c.bond_refund == BOND and c.slash_share == 0 for c in claims)
        assert all(c.rung > 0 for c in claims)
        swept = _sweep_gain(r)
        liability = r.handle.contract.liability()
        assert swept == COORDINATOR_BOND - liability
        assert node.balance(griefer.address) == start  # it paid its bond at join, got nothing
        assert r.handle.contract.balance() == BOND  # the griefer's bond, burned


def test_below_quorum_the_round_is_cancelled_and_deliverers_are_refunded(tmp_path: Path) -> None:
    """Two join, one delivers, quorum 2: train-and-post cancels instead of posting. The
    deliverer withdraws exactly its bond, the non-deliverer nothing, the coordinator's sweep
    nothing: the named bond and all of B are burned (held for ever, `burned()`), so the cancel
    costs the coordinator B, what a default costs, and nobody collects any of it."""
    with open_chain(_settings(tmp_path / "chain")) as node:
        r = _deploy(node, tmp_path, quorum_scenario(tmp_path, 2), 2)
        for i in range(2):
            _join(r, i)
        cancelled = _post(r, delivering=[0])
        assert isinstance(cancelled, coord.CancelResult)
        assert cancelled.undelivered == (r.accounts[1].address,)
        assert r.handle.phase() == Phase.CANCELLED
        refund = part.withdraw_after_cancel(r.handle, r.state(r.accounts[0]), account=r.accounts[0])
        assert (refund.bond, refund.compensation) == (BOND, 0)
        with pytest.raises(part.ParticipantError, match="undelivered"):
            part.withdraw_after_cancel(r.handle, r.state(r.accounts[1]), account=r.accounts[1])
        _, amount, _ = coord.sweep(r.handle, r.cstate(), sender=r.coordinator)
        assert amount == 0
        # the non-deliverer's bond and all of B, burned
        assert r.handle.contract.balance() == BOND + COORDINATOR_BOND == r.handle.contract.burned()


def test_windows_shorter_than_min_window_are_refused_before_sending(tmp_path: Path) -> None:
    """Issue 11.1: a reveal, delivery or claim window below MIN_WINDOW (1 hour) is refused by
    deploy with one line naming the fix, and no transaction is sent."""
    with open_chain(_settings(tmp_path / "chain")) as node:
        sender = node.accounts[0]
        before = node.w3.eth.get_transaction_count(sender)
        for field in ("reveal_window", "delivery_window", "claim_window"):
            deadlines = coord.Deadlines(**{field: 3599})  # type: ignore[arg-type]
            with pytest.raises(coord.CoordinatorError, match="shorter than the contract") as info:
                coord.deploy_scenario(
                    node,
                    scenario_path=DEMO_SCENARIO,
                    sender=sender,
                    deploy_dir=tmp_path / "deploy",
                    state_dir=tmp_path / "state",
                    terms=coord.RoundTerms(deadlines=deadlines),
                )
            assert "\n" not in info.value.one_line()
        assert node.w3.eth.get_transaction_count(sender) == before


def test_a_copied_root_or_copied_rows_are_refused(tmp_path: Path) -> None:
    """Issue 11.6: joining with another participant's data root reverts DuplicateDataRoot (and
    cannot open at reveal anyway: leaves and commitment bind the address); a wallet that commits
    another participant's rows gets its own root, joins, and is then named undelivered by the
    coordinator's ingest for copied rows, together with the participant it copied (review hole
    6: which one is the original cannot be told, so a copy earns nothing)."""
    with open_chain(_settings(tmp_path / "chain")) as node:
        r = _deploy(node, tmp_path, quorum_scenario(tmp_path, 1), 3)
        _join(r, 0)
        victim_root = bytes.fromhex(str(r.state(r.accounts[0]).load().data_root)[2:])
        thief = r.accounts[1]
        rc = r.handle.contract
        with pytest.raises(ContractRevertError) as info:
            rc.join(
                thief,
                option_id=0,
                data_root=victim_root,
                row_count=rc.option(0).data_count,
                commitment=b"\x01" * 32,
            )
        assert info.value.error_name == "DuplicateDataRoot"
        _join(r, 1, rows=r.shards[0])  # the victim's rows under the thief's own root
        _join(r, 2)
        posted = _post(r, delivering=[0, 1, 2])
        assert isinstance(posted, coord.PostResult)
        assert sorted(posted.undelivered) == sorted([r.accounts[0].address, thief.address])


def test_ingest_over_workers_equals_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coordinator's per-file checks run over forked workers accept and reject exactly what
    one process (MODELPACT_WORKERS=1) does, with the same reasons, in join order, and store the
    same verified files: here a good delivery, its copy, another good one, a missing file and a
    file with one changed value."""
    from modelpact.ml.datasets import load_rows, save_rows

    with open_chain(_settings(tmp_path / "chain")) as node:
        r = _deploy(node, tmp_path, quorum_scenario(tmp_path, 1), 5)
        for i in range(5):
            _join(r, i, rows=r.shards[0] if i == 1 else None)
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        for i in (0, 1, 2, 4):
            rows = np.load(r.tmp / f"data-{i}.npy")
            if i == 4:
                rows[0, 0] = (rows[0, 0] + 1) % 17
            save_rows(inbox / f"{r.accounts[i].address}.npy", rows)
        test_rows = load_rows(r.handle.test_set_path)
        monkeypatch.setattr(coord, "_FORK_FROM_FILES", 2)  # fork for these few files
        results = {}
        for workers in ("1", "2"):
            monkeypatch.setenv("MODELPACT_WORKERS", workers)
            out = tmp_path / f"delivered-{workers}"
            ingested = coord.ingest(
                r.handle,
                files=coord.inbox_files(inbox),
                delivered_dir=out,
                spec_name="digits",
                test_rows=test_rows,
            )
            stored = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
            results[workers] = (
                [(d.participant, d.index, d.row_count, d.data_root) for d in ingested.deliveries],
                ingested.rejected,
                stored,
            )
    assert results["1"] == results["2"]
    accepted, rejected, _ = results["2"]
    assert [a for a, *_ in accepted] == [r.accounts[2].address]
    assert [x.index for x in rejected] == [0, 1, 3, 4]


def test_the_coordinator_gains_nothing_from_a_missed_reveal(tmp_path: Path) -> None:
    """Issue 11.1: a deliverer that misses the reveal window forfeits its bond, burned (review
    hole 3: shared with the revealers it would pay any seat the coordinator holds): the sweep
    pays exactly B minus the compensation owed. A revealer whose state file was lost still
    reveals and claims."""
    with open_chain(_settings(tmp_path / "chain")) as node:
        r = _deploy(node, tmp_path, quorum_scenario(tmp_path, 1), 3)
        for i in range(3):
            _join(r, i)
        posted = _post(r, delivering=[0, 1, 2])
        assert isinstance(posted, coord.PostResult)
        # issue 11.5: losing the local state file forfeits nothing (secrets derive from the key,
        # the data root is read back from the Joined event)
        r.state(r.accounts[0]).path.unlink()
        for account in r.accounts[:2]:
            part.reveal(r.handle, r.state(account), account=account)
        node.advance_time_to(r.handle.contract.deadlines().reveal + 1)
        claims = [part.claim(r.handle, r.state(a), account=a) for a in r.accounts[:2]]
        assert [c.slash_share for c in claims] == [0, 0]
        assert [c.bond_refund for c in claims] == [BOND, BOND]
        swept = _sweep_gain(r)
        assert swept == COORDINATOR_BOND - r.handle.contract.liability()
        assert swept <= COORDINATOR_BOND


def test_a_state_file_naming_another_root_still_opens_with_the_joined_one(
    tmp_path: Path,
) -> None:
    """A participant whose state file names a data root it did not join with (edited, or
    copied from elsewhere) reveals and claims with the root of its own Joined event: the local
    root is used only when the contract stores this account's commitment under it."""
    from modelpact.encoding import keccak256

    with open_chain(_settings(tmp_path / "chain")) as node:
        r = _deploy(node, tmp_path, quorum_scenario(tmp_path, 1), 2)
        for i in range(2):
            _join(r, i)
        assert isinstance(_post(r, delivering=[0, 1]), coord.PostResult)
        r.state(r.accounts[0]).update(data_root="0x" + keccak256(b"not joined").hex())
        for account in r.accounts:
            part.reveal(r.handle, r.state(account), account=account)
        node.advance_time_to(r.handle.contract.deadlines().reveal + 1)
        claims = [part.claim(r.handle, r.state(a), account=a) for a in r.accounts]
        assert [c.bond_refund for c in claims] == [BOND, BOND]


def test_an_overpredicting_curve_pays_compensation_the_audit_shows(tmp_path: Path) -> None:
    """Issue 13: a scenario whose curve over-predicts (a_max 0.999, tolerance 0) makes the
    contract's curve check find a shortfall; every participant's claim carries ratio x shortfall
    x rho wei out of the coordinator's bond, the report shows it, and the audit's
    curve.compensation check recomputes it. The curve is stated (run with --any-curve): kept
    under the digits [accuracy.fitted_on] record it would be a record copied onto an inflated
    curve, which the audit's curve.reproduces fails (review 13)."""
    import json
    import re

    from modelpact.round.demo import DemoConfig, run_demo

    text = DEMO_SCENARIO.read_text().replace(
        "a_max = 0.9785069279855858", "a_max = 0.999\ntolerance = 0.0"
    )
    text = re.sub(r"\[accuracy\.fitted_on\]\n(?:[^\[\n].*\n)*", "", text)
    scenario = tmp_path / "overpredicting.toml"
    scenario.write_text(text)
    out = tmp_path / "out"
    result = run_demo(
        DemoConfig(
            participants=4,
            seed=3,
            out_dir=out,
            settings=_settings(tmp_path / "s"),
            scenario=scenario,
            any_curve=True,
        )
    )
    report = result.report
    assert report.passed, [c for c in report.checks if not c.passed]
    assert report.curve_shortfall > 0
    assert report.compensation_paid_wei > 0
    assert all(o.compensation_wei > 0 for o in report.outcomes)
    audit = json.loads((out / "audit.json").read_text())
    found = {f["id"]: f for f in audit["findings"]}
    assert found["curve.compensation"]["status"] == "pass"

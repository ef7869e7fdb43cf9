"""Chain delivery and fraud proofs through the real entry point (issues 14 and 15), on anvil.

Each round is set up in process with the demo's own phases (plan, deploy, join, coordinate: real
digits shards, real training, the real contract), each on its own anvil node (the tests move the
clock). What is under test then runs as a user runs it, one ``python -m modelpact`` process per
command: ``coordinator deliver``, ``participant fetch`` / ``dispute``, ``participant
check-models`` / ``challenge``. Money is reconciled to the wei from receipts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from modelpact import delivery as dc
from modelpact import encoding as enc
from modelpact.chain import Chain
from modelpact.round import coordinator as coord
from modelpact.round import demo
from modelpact.round import participant as part

pytestmark = pytest.mark.anvil

PASSWORD = "correct horse"


@dataclass
class Played:
    """A round set up in process, and how to run commands against it."""

    chain: Chain
    run: demo._Round
    plan: demo.Planned
    out: Path
    rpc: str

    def cli(self, *args: str, password: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs the CLI; ``password=False``: no MODELPACT_PASSWORD and nothing on stdin."""
        argv = [sys.executable, "-m", "modelpact", *args, "--rpc", self.rpc]
        argv += ["--deployment", str(self.out / "deployment.json")]
        argv += ["--state-dir", str(self.out / "state")]
        env = {k: v for k, v in os.environ.items() if k != "MODELPACT_PASSWORD"}
        if password:
            env["MODELPACT_PASSWORD"] = PASSWORD
        return subprocess.run(
            argv,
            cwd=self.out,
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )

    def ok(self, *args: str) -> str:
        done = self.cli(*args)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout

    def fails(self, *args: str, match: str, password: bool = True) -> str:
        """One line on stderr naming the problem, exit 2, no traceback."""
        done = self.cli(*args, password=password)
        assert done.returncode == 2, done.stdout + done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("error: "), done.stderr
        assert match in lines[0], lines[0]
        return lines[0]

    def fee(self, tx_hash: str) -> int:
        receipt = self.chain.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])

    def keystore(self, account: LocalAccount) -> str:
        """The participant's keystore, made on first use (most tests unlock only some)."""
        path = self.out / f"p{self.run.accounts.index(account)}.json"
        if not path.exists():
            keystore_file(path, "0x" + account.key.hex())
        return str(path)


_KEYSTORES: dict[str, bytes] = {}


def keystore_file(path: Path, private_key: str) -> Path:
    """A keystore of ``private_key`` under PASSWORD at ``path``. Each scrypt encryption costs about
    a second of CPU, so the keystore made first for a key in this test process is copied after
    that: a user's existing keystore file, unlocked by each command as before."""
    from modelpact.round.wallet import import_keystore

    if private_key not in _KEYSTORES:
        import_keystore(path, private_key=private_key, password=PASSWORD)
        _KEYSTORES[private_key] = path.read_bytes()
    else:
        path.write_bytes(_KEYSTORES[private_key])
    return path


Poster = Callable[[demo._Round, demo.Planned, demo.DemoConfig, Path, Path], None]


def _honest(run: demo._Round, plan: demo.Planned, config: demo.DemoConfig, inbox, out) -> None:
    demo._coordinate(run, plan, config, inbox, out)


@pytest.fixture
def play(tmp_path: Path) -> Iterator[Callable[..., Played]]:
    """Set up a round of three participants on a fresh anvil, models posted by ``poster``."""
    from modelpact.chain.backends import ChainSettings, open_chain
    from modelpact.chain.backends.anvil import AnvilNode

    with ExitStack() as stack:

        def setup(poster: Poster = _honest) -> Played:
            rpc = stack.enter_context(AnvilNode()).rpc_url
            out = tmp_path / "round"
            out.mkdir()
            settings = ChainSettings.build(
                chain="anvil", rpc_url=rpc, chain_id=None, state_dir=out / "state"
            )
            config = demo.DemoConfig(participants=3, seed=0, out_dir=out, settings=settings)
            plan, cast = demo._plan(config, out, lambda _: None)
            chain = stack.enter_context(open_chain(settings))
            run = demo._deploy(chain, config, plan, out, lambda _: None)
            inbox = demo._join_all(run, cast, config, out)
            poster(run, plan, config, inbox, out)
            return Played(chain, run, plan, out, rpc)

        yield setup


def _reveal(p: Played, account: LocalAccount) -> None:
    part.reveal(p.run.deployed, p.run.state(account), account=account)


def _rung(p: Played, account: LocalAccount) -> int:
    secret, _ = part.round_secrets(p.run.deployed, account)  # derived: survives a lost state
    return p.run.deployed.contract.assignment(account.address, secret).rung


def _deliver_wrong(p: Played, account: LocalAccount) -> None:
    """The cheating coordinator delivers another rung's model (a real model, correctly
    encrypted to the participant's key: only the hash check can catch it)."""
    rc = p.run.deployed.contract
    rung = _rung(p, account)
    other = rung - 1 if rung > 1 else rung + 1
    wrong = rc.rung_model(other).model_hash
    data = (p.out / "models" / f"0x{wrong.hex()}.bin").read_bytes()
    revealed = next(
        e for e in p.run.deployed.events("Revealed") if e.args["participant"] == account.address
    )
    key = dc.CurvePoint(int(revealed.args["deliveryKeyX"]), int(revealed.args["deliveryKeyY"]))
    sealed = dc.encrypt(plaintext=data, recipient=key)
    rc.deliver(
        p.run.coordinator,
        participant=account.address,
        ephemeral=(sealed.ephemeral.x, sealed.ephemeral.y),
        ciphertext=sealed.ciphertext,
    )


def _crash_after_sending(p: Played, account: LocalAccount) -> None:
    """What a deliver run leaves when it dies between broadcasting Carol's delivery and its
    receipt: the recorded step's first half (send, record the hash), no wait."""
    rc = p.run.deployed.contract
    model = rc.rung_model(_rung(p, account)).model_hash
    revealed = next(
        e for e in p.run.deployed.events("Revealed") if e.args["participant"] == account.address
    )
    key = dc.CurvePoint(int(revealed.args["deliveryKeyX"]), int(revealed.args["deliveryKeyY"]))
    data = (p.out / "models" / f"0x{model.hex()}.bin").read_bytes()
    sealed = dc.encrypt(plaintext=data, recipient=key)
    call = rc.deliver.call(
        participant=account.address,
        ephemeral=(sealed.ephemeral.x, sealed.ephemeral.y),
        ciphertext=sealed.ciphertext,
    )
    slot = p.run.coordinator_state().keyed_slot("deliveries", account.address)
    rc.step(slot, "deliver").start(lambda: rc.send(call, p.run.coordinator))
    assert slot.get()


def _json_tx(output: str) -> str:
    return str(json.loads(output)["step"]["tx_hash"])


def test_withheld_and_wrong_deliveries_are_proven_and_paid_to_the_wei(play) -> None:
    """Bob is delivered a lower rung's model and Alice nothing; Carol is delivered honestly by
    `coordinator deliver` (re-run: nothing sent twice). Carol's fetch stores her model and her
    dispute is refused before sending; Bob's fetch names the wrong delivery in one line and his
    dispute is paid his allot; Alice cannot dispute before the delivery deadline, after it her
    proof of non-delivery is paid her allot. Each balance moves by exactly allot minus the fee;
    the coordinator cannot deliver after the deadline; the audit names both failures."""
    p = play()
    alice, bob, carol = p.run.accounts
    rc = p.run.deployed.contract
    assert all(_rung(p, a) > 0 for a in (bob, carol)) or pytest.skip("a rung 0 draw")
    _reveal(p, bob)
    _reveal(p, carol)
    _deliver_wrong(p, bob)
    _crash_after_sending(p, carol)
    first = p.ok("coordinator", "deliver", "--keystore", str(_coordinator_keystore(p)))
    assert "delivered 0 models now" in first  # Carol's recorded tx is found, Bob's is on chain
    assert "sending" not in first
    assert f"{carol.address}: rung {_rung(p, carol)}, already" in first
    assert p.run.deployed.events("Delivered")[-1].args["participant"] == carol.address
    assert len(p.run.deployed.events("Delivered")) == 2
    _reveal(p, alice)  # after the deliver run: the coordinator withholds hers

    # Issue 15: the delivery key is derived from the unlocked keystore, never kept in the state.
    # Without the password fetch is one line naming the fix; Carol lost her state file and fetch
    # still works with the password (the keystore and the round are all it needs).
    for who in (alice, bob, carol):
        assert "delivery_key" not in p.run.state(who).path.read_text()
    p.run.state(carol).path.unlink()
    p.fails("participant", "fetch", "--keystore", p.keystore(carol), "--out", "carol.bin",
            match="set MODELPACT_PASSWORD", password=False)  # fmt: skip
    assert not (p.out / "carol.bin").exists()
    got = p.ok("participant", "fetch", "--keystore", p.keystore(carol), "--out", "carol.bin")
    assert "fetched your model" in got
    assert "delivery_key" not in p.run.state(carol).path.read_text()
    carol_model = enc.model_hash((p.out / "carol.bin").read_bytes())
    assert carol_model == rc.rung_model(_rung(p, carol)).model_hash
    p.fails("participant", "dispute", "--keystore", p.keystore(carol), match="nothing to dispute")

    # An honest post: check-models finds no fault, a challenge is refused before sending.
    honest = p.ok("participant", "check-models", "--models", "models")
    assert "no fault" in honest
    assert honest.count(": honest") == rc.tier_count() + 1
    p.fails("participant", "challenge", "--keystore", p.keystore(carol), "--models", "models",
            match="no provable fault")  # fmt: skip
    from modelpact.ml.datasets import save_rows

    save_rows(p.out / "easier.npy", p.plan.data.test_rows[:-1])
    p.fails("participant", "check-models", "--test-set", "easier.npy",
            match="is not the test set this round committed to")  # fmt: skip

    p.fails("participant", "fetch", "--keystore", p.keystore(bob), "--out", "bob.bin",
            match="does not decrypt to your model")  # fmt: skip
    assert not (p.out / "bob.bin").exists()
    _, allot = rc.shortfall()
    before = p.chain.balance(bob.address)
    done = p.ok("participant", "dispute", "--keystore", p.keystore(bob), "--json")
    tx = _json_tx(done)
    assert p.chain.balance(bob.address) == before + allot - p.fee(tx)
    assert rc.participant(bob.address).delivery_failed

    p.fails("participant", "fetch", "--keystore", p.keystore(alice), "--out", "a.bin",
            match="not delivered yet")  # fmt: skip
    p.fails("participant", "dispute", "--keystore", p.keystore(alice), match="window is open")
    p.chain.advance_time_to(rc.deadlines().delivery + 1)
    p.fails("coordinator", "deliver", "--keystore", str(_coordinator_keystore(p)),
            match="delivery deadline")  # fmt: skip
    p.fails("participant", "fetch", "--keystore", p.keystore(alice), "--out", "a.bin",
            match="arrived by the delivery deadline")  # fmt: skip
    before = p.chain.balance(alice.address)
    tx = _json_tx(p.ok("participant", "dispute", "--keystore", p.keystore(alice), "--json"))
    assert p.chain.balance(alice.address) == before + allot - p.fee(tx)
    again = p.ok("participant", "dispute", "--keystore", p.keystore(alice))
    assert "already recorded" in again
    assert rc.entitlement(alice.address) == (allot, allot)
    audit = _audit(p)
    assert "deliveries.onchain" in audit.failed_ids()
    found = {e.subject: e.found for e in audit.finding("deliveries.onchain").failures}
    assert found == {
        bob.address: "wrong model proven",
        alice.address: "non-delivery proven",
    }
    assert audit.finding("balance.reconciles").status.value == "pass"
    assert audit.finding("model.logs").status.value == "pass"


def _audit(p: Played):
    from modelpact.audit import run_audit

    return run_audit(
        deployment=p.out / "deployment.json",
        chain=p.chain,
        rpc_url=p.rpc,
        data_dir=p.out / "delivered",
        models_dir=p.out / "models",
        dataset="digits",
    )


def _coordinator_keystore(p: Played) -> Path:
    path = p.out / "coordinator.json"
    if not path.exists():
        keystore_file(path, "0x" + p.run.coordinator.key.hex())
    return path


# ------------------------------------------------------------------------------------------
# Fraud proofs: a lying coordinator, a third-party challenger
# ------------------------------------------------------------------------------------------

Lie = Callable[[list[coord.TierPlan]], list[coord.TierPlan]]


def _relog(plan: coord.TierPlan, entries: list[tuple[int, int]], count: int) -> coord.TierPlan:
    """``plan`` posted with ``entries`` as its log and accuracy ``count`` / T."""
    tree = enc.EvalLogTree.of(entries)
    return replace(
        plan,
        accuracy_wad=enc.accuracy_of_count(count, len(entries)),
        log_root="0x" + tree.root.hex(),
        packed_log=enc.pack_eval_log(entries),
    )


def _entries(plan: coord.TierPlan) -> list[tuple[int, int]]:
    return list(enc.unpack_eval_log(plan.packed_log, len(plan.packed_log) // 3))


def _overstate_tier(models: list[coord.TierPlan]) -> list[coord.TierPlan]:
    """Tier 0 claims one more correct row; its log's last count agrees with the claim."""
    tier = models[1]
    entries = _entries(tier)
    entries[-1] = (entries[-1][0], entries[-1][1] + 1)
    return [models[0], _relog(tier, entries, entries[-1][1]), *models[2:]]


def _understate_collective(models: list[coord.TierPlan]) -> list[coord.TierPlan]:
    """The collective model claims one row fewer than its (honest) log ends with."""
    entries = _entries(models[0])
    return [_relog(models[0], entries, entries[-1][1] - 1), *models[1:]]


def _one_prediction_wrong(models: list[coord.TierPlan]) -> list[coord.TierPlan]:
    """The collective log names another label at one correctly predicted row; the counts
    follow the lie, so only the prediction is false."""
    entries = _entries(models[0])
    j = next(k for k in range(len(entries)) if entries[k][1] > (entries[k - 1][1] if k else 0))
    label = entries[j][0]
    lied = [*entries[:j], ((label + 1) % 10, entries[j][1] - 1)]
    lied += [(p, c - 1) for p, c in entries[j + 1 :]]
    return [_relog(models[0], lied, lied[-1][1]), *models[1:]]


def _lying(lie: Lie) -> Poster:
    def poster(run, plan, config, inbox, out) -> None:  # the demo's phases
        cstate = run.coordinator_state()
        coord.reveal_coordinator(run.deployed, cstate, sender=run.coordinator)
        ingested = coord.ingest(
            run.deployed,
            files=coord.inbox_files(inbox),
            delivered_dir=out / "delivered",
            spec_name=config.dataset,
            test_rows=plan.data.test_rows,
        )
        trained = coord._train(
            run.deployed,
            list(ingested.deliveries),
            test_rows=plan.data.test_rows,
            models_dir=out / "models",
            seed=config.seed,
            tier_mode="deterministic",
            lottery_tiers=1,
        )
        models = lie([trained.collective, *trained.tiers])
        demo._close_data_window(run)  # posting opens after the data window (issue 11.7)
        call = run.deployed.contract.post_models.call(
            collective=models[0].posted(),
            logs=[m.packed_log for m in models],
            tiers=[m.posted() for m in models[1:]],
        )
        run.deployed.send_recorded(call, run.coordinator, cstate.slot("post_tx"))

    return poster


@pytest.mark.parametrize(
    ("lie", "kind"),
    [
        (_overstate_tier, "broken count"),
        (_understate_collective, "wrong accuracy"),
        (_one_prediction_wrong, "wrong prediction"),
    ],
)
def test_a_false_post_is_challenged_by_a_third_party(play, lie: Lie, kind: str) -> None:
    """A coordinator posts one false claim. Eve, who never joined, reads the logs from the post
    transaction, `check-models` names the fault (exit 1), `challenge` proves it: Eve is paid the
    fraud reward to the wei (minus her fee), a re-run sends nothing, every deliverer's
    entitlement is its allot of the rest, a claim pays it, and the audit names the fraud."""
    from eth_account import Account

    p = play(_lying(lie))
    rc = p.run.deployed.contract
    eve = Account.from_key("0x" + "e7" * 32)
    demo._fund(p.chain, p.chain.accounts[0], eve.address, 10**18)
    keystore_file(p.out / "eve.json", "0x" + "e7" * 32)
    done = p.cli("participant", "check-models", "--models", "models")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAULT" in done.stdout
    assert "provable fault" in done.stdout
    before = p.chain.balance(eve.address)
    out = json.loads(p.ok("participant", "challenge", "--keystore", "eve.json", "--json"))
    assert out["fault"]["kind"] == kind.replace(" ", "_")
    reward = enc.fraud_reward(rc.coordinator_bond())
    assert out["reward"] == reward
    assert p.chain.balance(eve.address) == before + reward - p.fee(out["step"]["tx_hash"])
    assert rc.fraud_proven()
    assert "already proven" in p.ok("participant", "challenge", "--keystore", "eve.json")
    assert p.chain.balance(eve.address) == before + reward - p.fee(out["step"]["tx_hash"])
    _, allot = rc.shortfall()
    assert allot == (rc.coordinator_bond() - reward) // 3
    assert all(rc.entitlement(a.address) == (allot, 0) for a in p.run.accounts)
    first = p.run.accounts[0]
    _reveal(p, first)
    p.chain.advance_time_to(rc.deadlines().reveal + 1)
    claimed = part.claim(p.run.deployed, p.run.state(first), account=first)
    assert claimed.compensation == allot
    audit = _audit(p)
    assert audit.finding("fraud.none").status.value == "fail"
    assert audit.finding("model.logs").status.value == "fail"  # names the false row too


def _one_by_one(each: Callable[..., str]) -> Callable[..., None]:
    """A ``RoundContract.broadcast_all`` that hands the batch's transactions to ``each`` one at a
    time, in order: where a test makes the node (or the process) fail between two of them."""

    def broadcast_all(self: Any, raws: Any, sender: LocalAccount, *, action: str) -> None:
        for raw in raws:
            each(self, raw, sender, action=action)

    return broadcast_all


def test_a_delivery_batch_records_every_hash_before_sending_and_resumes_after_a_crash(
    play, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coordinator's deliveries are signed at consecutive nonces, their hashes written in
    one durable write, then broadcast back to back: when the first goes out, the state file on
    disk already names every delivery's hash. A run that dies after the first broadcast leaves
    the rest recorded but never sent; the re-run finds the first on chain ("already"), sends
    the others once each, and every participant ends with exactly one delivery of its rung's
    model."""
    from modelpact.chain.contract import RoundContract
    from modelpact.round.chain_delivery import deliver_models

    p = play()
    accounts = p.run.accounts
    assert all(_rung(p, a) > 0 for a in accounts) or pytest.skip("a rung 0 draw")
    for account in accounts:
        _reveal(p, account)
    state = p.run.coordinator_state()
    sent: list[str] = []
    original = RoundContract.broadcast

    def dying(self: RoundContract, raw: bytes, sender: LocalAccount, *, action: str) -> str:
        on_disk = json.loads(state.path.read_text())["deliveries"]
        assert len(on_disk) == len(accounts)  # every hash durable before the first send
        if sent:
            raise KeyboardInterrupt  # the process dies after its first broadcast
        sent.append(original(self, raw, sender, action=action))
        return sent[-1]

    monkeypatch.setattr(RoundContract, "broadcast_all", _one_by_one(dying))
    models = p.out / "models"
    with pytest.raises(KeyboardInterrupt):
        deliver_models(p.run.deployed, state, models_dir=models, sender=p.run.coordinator)
    monkeypatch.undo()
    assert len(p.run.deployed.events("Delivered")) == 1
    again = deliver_models(p.run.deployed, state, models_dir=models, sender=p.run.coordinator)
    assert [s.status for s in again].count("already") == 1
    assert [s.status for s in again].count("delivered") == len(accounts) - 1
    delivered = p.run.deployed.events("Delivered")
    assert sorted(e.args["participant"] for e in delivered) == sorted(a.address for a in accounts)
    rc = p.run.deployed.contract
    for s in again:
        assert s.model_hash == "0x" + rc.rung_model(s.rung).model_hash.hex()
    assert all(s.status == "already" for s in deliver_models(
        p.run.deployed, state, models_dir=models, sender=p.run.coordinator
    ))  # fmt: skip


def test_a_node_answering_each_reveal_twice_gets_one_delivery_sent_per_participant(
    play, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node answers every ``Revealed`` log twice (a lying or broken node; logs are not
    authenticated). The delivery batch must still sign and send ONE deliver per participant:
    a second one at the next nonce passes its pre-flight (the first is not mined yet), is
    mined, reverts AlreadyDelivered and burns a delivery's calldata gas; and the state must
    keep the hash of the delivery that landed, not of the one that reverted (a re-run and
    `status` report what the chain holds)."""
    from modelpact.chain.backends.jsonrpc import JsonRpcClient
    from modelpact.round.chain_delivery import deliver_models

    p = play()
    accounts = p.run.accounts
    assert all(_rung(p, a) > 0 for a in accounts) or pytest.skip("a rung 0 draw")
    for account in accounts:
        _reveal(p, account)
    original = JsonRpcClient.request

    def doubling(self: JsonRpcClient, method: str, params: Any = ()) -> Any:
        answer = original(self, method, params)
        if method == "eth_getLogs" and isinstance(answer, list):
            return answer + answer  # every log answered twice
        return answer

    monkeypatch.setattr(JsonRpcClient, "request", doubling)
    coordinator = p.run.coordinator.address
    nonce = p.chain.w3.eth.get_transaction_count(coordinator)
    state = p.run.coordinator_state()
    sent = deliver_models(
        p.run.deployed, state, models_dir=p.out / "models", sender=p.run.coordinator
    )
    monkeypatch.setattr(JsonRpcClient, "request", original)
    assert p.chain.w3.eth.get_transaction_count(coordinator) == nonce + len(accounts)
    delivered = {e.args["participant"]: e.tx_hash for e in p.run.deployed.events("Delivered")}
    assert sorted(delivered) == sorted(a.address for a in accounts)
    for account in accounts:
        assert state.keyed_slot("deliveries", account.address).get() == delivered[account.address]
    assert sorted(s.participant for s in sent) == sorted(delivered)


def test_a_dropped_delivery_ahead_of_queued_ones_is_resent_not_waited_on_forever(
    play, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch's first delivery is dropped (the node answered its hash, then lost it) while
    the later ones, at the next nonces, are held by the node behind the gap. A run that waits
    for the first dies (not mined). The re-run must send the dropped delivery again (at the
    pending nonce: it fills the gap) BEFORE it waits for the queued ones, which it recorded
    and the node knows: waiting for them first would time out on every re-run, for ever, and
    the deadline would pass with nothing delivered. Every participant ends with one delivery."""
    from modelpact.chain import transactions as tx
    from modelpact.chain.contract import RoundContract
    from modelpact.round.chain_delivery import deliver_models

    p = play()
    accounts = p.run.accounts
    assert all(_rung(p, a) > 0 for a in accounts) or pytest.skip("a rung 0 draw")
    for account in accounts:
        _reveal(p, account)
    state = p.run.coordinator_state()
    client = p.chain.backend.rpc  # type: ignore[attr-defined]
    seen: list[bytes] = []

    def dropping(self: RoundContract, raw: bytes, sender: LocalAccount, *, action: str) -> str:
        seen.append(raw)
        if len(seen) > 1:  # the node takes the later ones (queued behind the missing nonce)
            client.request("eth_sendRawTransaction", ["0x" + raw.hex()])
        return "0x" + enc.keccak256(raw).hex()  # the first: answered, never kept

    monkeypatch.setattr(RoundContract, "broadcast_all", _one_by_one(dropping))
    monkeypatch.setattr(tx, "RECEIPT_TIMEOUT", 1.0)
    models = p.out / "models"
    with pytest.raises(tx.NotMinedError):
        deliver_models(p.run.deployed, state, models_dir=models, sender=p.run.coordinator)
    monkeypatch.undo()
    monkeypatch.setattr(tx, "RECEIPT_TIMEOUT", 5.0)
    again = deliver_models(p.run.deployed, state, models_dir=models, sender=p.run.coordinator)
    assert sorted(s.status for s in again) == ["already"] * (len(accounts) - 1) + ["delivered"]
    delivered = p.run.deployed.events("Delivered")
    assert sorted(e.args["participant"] for e in delivered) == sorted(a.address for a in accounts)


def test_deliveries_are_not_broadcast_once_the_deadline_passed_while_the_batch_was_signed(
    play, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delivery deadline passes while the batch is encrypted and signed (a large round
    signs hundreds). Nothing may be broadcast then: each delivery would be mined, revert
    DeliveryClosed and burn its calldata gas (up to millions a model), where sending one at a
    time looked at the latest block before each send. The run stops in one line, nothing sent,
    and the participants may prove non-delivery."""
    from modelpact.chain.contract import RoundContract
    from modelpact.round.chain_delivery import DeliveryProblemError, deliver_models

    p = play()
    accounts = p.run.accounts
    assert all(_rung(p, a) > 0 for a in accounts) or pytest.skip("a rung 0 draw")
    for account in accounts:
        _reveal(p, account)
    rc = p.run.deployed.contract
    deadline = rc.deadlines().delivery
    original = RoundContract.signed_batch
    signed: list[bytes] = []

    def slow(
        self: RoundContract, calls: Any, sender: LocalAccount, *, first_nonce: int
    ) -> list[bytes]:
        signed.extend(original(self, calls, sender, first_nonce=first_nonce))
        if len(signed) == len(accounts):  # the last one signed: the deadline has passed
            p.chain.advance_time_to(deadline + 1)
        return signed

    monkeypatch.setattr(RoundContract, "signed_batch", slow)
    coordinator = p.run.coordinator.address
    nonce = p.chain.w3.eth.get_transaction_count(coordinator)
    state = p.run.coordinator_state()
    with pytest.raises(DeliveryProblemError, match="deadline"):
        deliver_models(p.run.deployed, state, models_dir=p.out / "models", sender=p.run.coordinator)
    assert p.chain.w3.eth.get_transaction_count(coordinator) == nonce  # nothing sent
    assert p.run.deployed.events("Delivered") == []


def test_a_smart_account_whose_receive_needs_more_gas_than_the_bound_still_claims(
    play,
) -> None:
    """A participant whose address runs code (an EIP-7702 delegated account, a smart wallet)
    when paid, more than the claim's gas bound leaves for it: the claim's pre-flight at the
    bound reverts TransferFailed (the round's payment ran out of gas, a reason the contract
    names), yet the claim succeeds with the gas the node estimates. The claim must go through
    (paid to the wei as the bond back), not be refused for ever as a revert."""
    p = play()
    rc = p.run.deployed.contract
    for account in p.run.accounts:
        _reveal(p, account)
    p.chain.advance_time_to(rc.deadlines().reveal + 1)
    first = p.run.accounts[0]
    # receive(): three fresh storage slots written (~66k gas), delegated to by `first`
    hungry = "0x" + "7a" * 20
    code = "0x" + "600160005560016001556001600255" + "00"
    p.chain.w3.provider.make_request("anvil_setCode", [hungry, code])  # type: ignore[arg-type]
    p.chain.w3.provider.make_request(  # type: ignore[arg-type]
        "anvil_setCode", [first.address, "0xef0100" + hungry[2:]]
    )
    claimed = part.claim(p.run.deployed, p.run.state(first), account=first)
    assert claimed.bond_refund == rc.config().participant_bond
    assert claimed.gas_used > 100_000  # more than the bound: the estimate's limit was sent
    assert rc.participant(first.address).claimed

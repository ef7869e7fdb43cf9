"""Integration: real rounds on the embedded chain (eth-tester) and on anvil, audited from the chain.

``execute_round`` is a small coordinator + participants script driving the real contract through
``modelpact.chain`` with real data (digits), real training and real files; its ``Lies`` switch on
dishonest behaviour for the tamper suite (``test_tamper_suite.py``). An honest execution must
audit clean, at every phase, from the chain alone plus the published files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from modelpact.audit import AuditReport, Status, run_audit
from modelpact.chain import Chain, RoundContract, advance_time, chain_time, connect, deploy_round
from modelpact.compensation import committed_knot_values
from modelpact.compiler import CompiledContract
from modelpact.encoding import (
    MIN_WINDOW_SECONDS,
    CurveKnot,
    OnchainOption,
    RoundConfig,
    Schedule,
    Tier,
    accuracy_of_count,
    coordinator_commitment,
    dataset_merkle_root,
    model_hash,
    participant_commitment_v2,
    participant_dataset_root,
    to_wad,
)
from modelpact.ml.datasets import digits_rows, save_rows, shard_pool, split_test
from modelpact.ml.models import correct_count, store_model, train_model_bytes
from modelpact.optimizer import integerize_menu, solve
from modelpact.scenario import load_scenario, scenario_sha256

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "offchain/modelpact/data/scenarios/digits_demo.toml"
# The demo with quorum 1 (each seat fills with probability 0.9): the honest round runs with 6 of
# its 10 seats, which the demo's own law (all seats fill, Q = N) does not cover, and the audit's
# config.capacity requires the on-chain quorum to be at least the scenario's (review 13b).
SCENARIO = Path(tempfile.mkdtemp(prefix="modelpact-audit-round-")) / "digits_quorum_1.toml"
SCENARIO.write_text(DEMO.read_text() + "\n[participation]\nquorum = 1\nfill = 0.9\n")
WAD = 10**18
BOND = 10**16
COORD_BOND = 6 * 10**16
# The type of each participant (0-based, type 1 = highest cost), cycling.
TYPES = (0, 1, 2, 2, 1, 2, 0, 2, 1)


@dataclass(frozen=True)
class Lies:
    """What a dishonest coordinator does (all off = an honest round)."""

    menu: Sequence[OnchainOption] | None = None  # deploy this menu instead of the re-solve
    # deploy the shared contracts (round and proofs implementations, factory) of this build
    contract: Mapping[str, CompiledContract] | None = None
    overstate_accuracy_wad: int = 0  # added to the measured collective accuracy when posting
    curve_boost_wad: int = 0  # added to every committed curve knot
    no_reveal: frozenset[int] = frozenset()  # participants (by position) who never reveal
    stop_after: str = "sweep"  # "join", "post", "reveal", "claim" or "sweep"
    withhold_delivery: frozenset[int] = frozenset()  # participants whose model is not delivered


@dataclass(frozen=True)
class Executed:
    """A finished execution: where the round is and the files an auditor would be given."""

    chain: Chain
    round: RoundContract
    out: Path
    scenario: Path
    data: Path
    models: Path
    test_set: Path

    def audit(self, **overrides: object) -> AuditReport:
        """Audit with every published file, from the chain alone (no coordinator state)."""
        kwargs: dict[str, object] = {
            "chain": self.chain,
            "address": str(self.round.address),
            "scenario": self.scenario,
            "data_dir": self.data,
            "models_dir": self.models if self.models.exists() else None,
            "test_set": self.test_set,
        }
        kwargs.update(overrides)
        return run_audit(**kwargs)  # type: ignore[arg-type]


_CACHE: dict[str, object] = {}


def honest_menu() -> list[OnchainOption]:
    """The integerized re-solve of the digits scenario as on-chain options."""
    if "menu" not in _CACHE:
        from modelpact.round.planning import onchain_menu

        scenario = load_scenario(SCENARIO)
        menu = integerize_menu(scenario, solve(scenario, benchmarks=False))
        _CACHE["menu"] = onchain_menu(menu)  # v2: ratio = floor(t * WAD / t_bar) exactly
    return list(_CACHE["menu"])  # type: ignore[call-overload]


def honest_terms(scenario_path: Path) -> tuple[int, int]:
    """(tau, rho) the coordinator deploys ``scenario_path`` with (what the audit's curve.terms
    re-derives): its compensation terms for the integerized re-solve, or (1, 0) without terms."""
    from modelpact.compensation import compensation_terms
    from modelpact.errors import ScenarioError

    key = f"terms:{scenario_path}"
    if key not in _CACHE:
        scenario = load_scenario(scenario_path)
        menu = integerize_menu(scenario, solve(scenario, benchmarks=False))
        try:
            terms = compensation_terms(scenario, menu=menu)
            _CACHE[key] = (terms.tolerance_wad, terms.shortfall_wei_per_wad)
        except ScenarioError:  # deployed with --no-compensation
            _CACHE[key] = (WAD, 0)
    return _CACHE[key]  # type: ignore[return-value]


def _best(options: Sequence[OnchainOption], cost: float) -> int:
    utilities = [o.promised_value_wad / WAD - cost * o.data_count for o in options]
    return int(np.argmax(utilities))


def _key(i: int) -> tuple[int, int]:
    from modelpact.delivery import public_key

    point = public_key(100 + i)
    return (point.x, point.y)


def _posted(model: bytes, test: np.ndarray, extra_count: int = 0) -> Tier:
    """A posted model: its hash, its exact-count accuracy (plus ``extra_count`` correct rows the
    model does not have: a lie) and the root of its evaluation log."""
    from modelpact.ml.evallog import build_eval_log

    log = build_eval_log(model, test)
    count = min(log.row_count, log.correct + extra_count)
    return Tier(model_hash(model), accuracy_of_count(count, log.row_count), log.root)


def _packed(model: bytes, test: np.ndarray) -> bytes:
    """The model's honest evaluation log as postModels takes it."""
    from modelpact.encoding import pack_eval_log
    from modelpact.ml.evallog import build_eval_log

    return pack_eval_log(build_eval_log(model, test).entries)


def _deliver_all(
    rc: RoundContract,
    coord: str,
    people: Sequence[str],
    secrets: Sequence[bytes],
    models: Path,
    *,
    skip: frozenset[int],
) -> None:
    """The coordinator delivers each revealed participant's rung model on chain (issue 15),
    encrypted to its delivery key, except to the participants in ``skip``."""
    from modelpact.delivery import CurvePoint, encrypt

    for i, who in enumerate(people):
        rung = rc.assignment(who, secrets[i]).rung
        if i in skip or rung == 0:
            continue
        data = (models / f"0x{rc.rung_model(rung).model_hash.hex()}.bin").read_bytes()
        sealed = encrypt(plaintext=data, recipient=CurvePoint(*_key(i)))
        e = sealed.ephemeral
        rc.deliver(coord, participant=who, ephemeral=(e.x, e.y), ciphertext=sealed.ciphertext)


def _pass(chain: Chain, deadline: int) -> None:
    """Move the chain's clock just past ``deadline``."""
    advance_time(chain, max(0, deadline - chain_time(chain) + 1))


def execute_round(
    chain: Chain,
    out: Path,
    *,
    participants: int = 6,
    lies: Lies = Lies(),
    dataset: tuple[np.ndarray, np.ndarray] | None = None,
    scenario_path: Path = SCENARIO,
    trainer: Callable[[np.ndarray], bytes] | None = None,
) -> Executed:
    """Run one round for real: deploy, join, reveal, train, post, reveal, claim, sweep."""
    scenario = load_scenario(scenario_path)
    out.mkdir(parents=True, exist_ok=True)
    published = out / "scenario.toml"
    shutil.copyfile(scenario_path, published)
    if dataset is None:
        split = split_test(digits_rows(), test_size=360, seed=0)
        test, pool = split.test, split.pool
    else:
        test, pool = dataset
    test_file = save_rows(out / "test.npy", test)
    coord = chain.accounts[0]
    people = list(chain.accounts[1 : participants + 1])
    assert len(people) == participants, "not enough funded accounts"
    menu = list(lies.menu) if lies.menu is not None else honest_menu()
    costs = scenario.costs
    picks = [_best(menu, float(costs[TYPES[i % len(TYPES)]])) for i in range(participants)]
    shards = shard_pool(pool, [menu[p].data_count for p in picks], seed=1)
    data_dir = out / "data"
    data_dir.mkdir(exist_ok=True)
    for who, rows in zip(people, shards, strict=True):
        save_rows(data_dir / f"{who}.npy", rows)

    secret = bytes(range(1, 33))
    scenario_hash = bytes.fromhex(scenario_sha256(scenario))
    now = chain_time(chain)
    config = RoundConfig(
        capacity=scenario.participants,
        participant_bond=BOND,
        scenario_hash=scenario_hash,
        test_set_commitment=dataset_merkle_root(test.tolist()),
        coordinator_commitment=coordinator_commitment(secret, coord, scenario_hash, chain.chain_id),
        schedule=Schedule(now + 1000, now + 2000 + MIN_WINDOW_SECONDS),
        quorum=1,  # fewer joiners than seats: the round runs
        test_row_count=int(test.shape[0]),
        curve_tolerance_wad=honest_terms(scenario_path)[0],
        shortfall_wei_per_wad=honest_terms(scenario_path)[1],
    )
    xs = [8, 16, 32, 64, 128, 256, 512, 1024, 1437]
    # the knots planning commits: lifted so no chord predicts below the curve
    accs = committed_knot_values(scenario.accuracy, np.array(xs, dtype=np.float64))
    curve = [
        CurveKnot(x, min(WAD, to_wad(float(a)) + lies.curve_boost_wad))
        for x, a in zip(xs, accs.tolist(), strict=True)
    ]
    rc = deploy_round(
        chain,
        sender=coord,
        menu_options=menu,
        config=config,
        curve=curve,
        coordinator_bond=COORD_BOND,
        contracts=lies.contract,
    )
    secrets = [bytes([i + 7]) * 32 for i in range(participants)]
    for i, who in enumerate(people):
        rc.join(
            who,
            option_id=picks[i],
            data_root=participant_dataset_root(who, shards[i].tolist()),
            row_count=int(shards[i].shape[0]),
            commitment=participant_commitment_v2(
                secrets[i], *_key(i), who, rc.address, chain.chain_id
            ),
        )
    done = Executed(chain, rc, out, published, data_dir, out / "models", test_file)
    if lies.stop_after == "join":
        return done
    _pass(chain, config.schedule.join + MIN_WINDOW_SECONDS)  # joining and the data window
    rc.reveal_coordinator(coord, secret)
    train = trainer or (lambda rows: train_model_bytes(rows, seed=0))
    everything = np.concatenate(shards)
    collective = train(everything)
    store_model(done.models, collective)
    total = int(test.shape[0])
    acc = correct_count(collective, test) * WAD // total
    tiers: list[Tier] = []
    logs = [_packed(collective, test)]
    for n in (40, 120):
        model = train(everything[:n])
        tier_acc = correct_count(model, test) * WAD // total
        if tier_acc < acc and all(t.accuracy_wad < tier_acc for t in tiers):
            store_model(done.models, model)
            tiers.append(_posted(model, test))
            logs.append(_packed(model, test))
    # v2 posts exact counts: an overstatement is a whole number of extra "correct" rows
    extra = -(-lies.overstate_accuracy_wad * total // WAD)
    rc.post_models(coord, collective=_posted(collective, test, extra), logs=logs, tiers=tiers)
    if lies.stop_after == "post":
        return done

    def opening(i: int, who: str) -> dict[str, object]:
        root = participant_dataset_root(who, shards[i].tolist())
        return {"data_root": root, "secret": secrets[i], "delivery_key": _key(i)}

    for i, who in enumerate(people):
        if i not in lies.no_reveal:
            rc.reveal(who, **opening(i, who))  # type: ignore[arg-type]
    if lies.stop_after == "reveal":
        return done
    _deliver_all(
        rc, coord, people, secrets, done.models, skip=lies.withhold_delivery | lies.no_reveal
    )
    if lies.no_reveal:
        _pass(chain, rc.deadlines().reveal)
    for i, who in enumerate(people):
        if i not in lies.no_reveal:
            rc.claim(who, **opening(i, who))  # type: ignore[arg-type]
    if lies.stop_after == "claim":
        return done
    _pass(chain, rc.deadlines().claim)
    rc.sweep(coord)
    return done


@pytest.fixture(scope="module")
def embedded_round(tmp_path_factory) -> Executed:
    """One honest round with a non-revealer, executed to the end on eth-tester."""
    chain = connect(chain="embedded")
    return execute_round(
        chain, tmp_path_factory.mktemp("honest"), lies=Lies(no_reveal=frozenset({4}))
    )


def test_honest_embedded_round_audits_clean(embedded_round) -> None:
    """An honest round (with a non-revealer whose bond is burned) passes every check, and every
    file and menu check actually ran (none skipped)."""
    report = embedded_round.audit()
    assert report.ok, [(f.id, f.failures[:2]) for f in report.failed]
    ran = {f.id for f in report.findings if f.status is Status.PASS}
    must = {
        "bytecode.matches_source",
        "scenario.hash",
        "curve.matches_scenario",
        "menu.resolve",
        "menu.ir",
        "menu.ic",
        "menu.budget",
        "menu.optimal",
        "join.menu",
        "join.bond",
        "coordinator.reveal",
        "reveal.commitment",
        "draw.recomputes",
        "reveal.penalty",
        "tiers.budget",
        "models.predicted",
        "assignment.recomputes",
        "balance.reconciles",
        "data.root",
        "data.count",
        "data.sample",
        "model.hash",
        "model.accuracy",
        "model.collective_retrained",
        "testset.root",
        "events.order",
        "storage.matches_events",
        "config.capacity",
        "undelivered.valid",
        "curve.compensation",
        "sweep.own_only",
        "deliveries.onchain",
        "fraud.none",
        "bytecode.proofs_matches_source",
        "model.logs",
    }
    assert must <= ran, must - ran
    # the non-revealer's bond stays burned in the contract (review hole 3: never shared)
    bond = embedded_round.round.config().participant_bond
    assert report.finding("balance.reconciles").evidence[0].found == f"{bond} wei"


def test_a_withheld_delivery_is_named_by_the_audit(tmp_path) -> None:
    """A coordinator that delivers nobody's model on chain: after the delivery deadline the
    audit fails deliveries.onchain and names every participant whose model is missing."""
    chain = connect(chain="embedded")
    done = execute_round(
        chain, tmp_path, participants=3, lies=Lies(withhold_delivery=frozenset({0, 1, 2}))
    )
    report = done.audit()
    assert report.failed_ids() == {"deliveries.onchain"}
    named = {e.subject for e in report.finding("deliveries.onchain").failures}
    owed = {a for a in chain.accounts[1:4] if done.round.participant(a).revealed}
    assert named
    assert named <= owed
    failures = report.finding("deliveries.onchain").failures
    assert all(e.found == "nothing delivered" for e in failures)


@pytest.mark.parametrize("stop", ["join", "post", "reveal", "claim"])
def test_honest_round_audits_clean_at_every_phase(tmp_path, stop) -> None:
    """Mid-round, an honest execution audits clean; checks of phases not reached are skipped."""
    chain = connect(chain="embedded")
    done = execute_round(chain, tmp_path, participants=3, lies=Lies(stop_after=stop))
    report = done.audit()
    assert report.ok, [(f.id, f.failures[:2]) for f in report.failed]
    assert report.finding("balance.reconciles").status is Status.PASS


def test_audit_over_workers_equals_one_process(embedded_round, tmp_path, monkeypatch) -> None:
    """The audit's offline checks run over forked workers give the findings of one process
    (MODELPACT_WORKERS=1), equal and in the same order, for a clean round and for a tampered
    delivery (failures and their evidence); an error inside a worker is raised as the same
    error the serial audit raises."""
    from modelpact.ml.datasets import load_rows, save_rows

    tampered = tmp_path / "data"
    shutil.copytree(embedded_round.data, tampered)
    first = sorted(tampered.iterdir())[0]
    save_rows(first, load_rows(first)[:-1])  # one row short: another root and count
    reports = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("MODELPACT_WORKERS", workers)
        clean, bad = embedded_round.audit(), embedded_round.audit(data_dir=tampered)
        with pytest.raises(ValueError, match="negative") as caught:
            embedded_round.audit(sample_rows=-1)
        reports[workers] = (clean.findings, bad.findings, type(caught.value), str(caught.value))
    assert reports["1"] == reports["2"]
    assert {"data.root", "data.count"} <= {f.id for f in reports["2"][1] if not f.passed}


def test_audit_json_round_trips(embedded_round, tmp_path) -> None:
    """The JSON report names every finding with its status and the stated tolerances."""
    import json

    report = embedded_round.audit()
    data = json.loads(report.to_json())
    assert data["ok"] is True
    assert {f["id"] for f in data["findings"]} == {f.id for f in report.findings}
    assert data["tolerances"]["accuracy"] > 0


def test_not_a_round_is_one_clear_error(embedded_round) -> None:
    """Auditing an address without code, or a coordinator wallet, is a clear ModelpactError."""
    from modelpact.errors import ModelpactError

    with pytest.raises(ModelpactError, match="no contract"):
        run_audit(chain=embedded_round.chain, address=embedded_round.chain.accounts[5])


def test_cli_entry_point_is_registered() -> None:
    """`modelpact audit --help` lists the documented options."""
    done = subprocess.run(
        [sys.executable, "-m", "modelpact", "audit", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for option in ("--deployment", "--rpc", "--address", "--scenario", "--data", "--models"):
        assert option in done.stdout


@pytest.mark.anvil
def test_demo_round_audits_clean_after_the_fact(tmp_path) -> None:
    """The auditor's workflow on the demo's anvil round: after `modelpact demo --chain anvil`
    stopped its node, restart anvil from the saved state and audit through the CLI with only the
    deployment record, the delivered data and the model files: exit 0, nothing failed."""
    import json

    from modelpact.chain.backends.anvil import AnvilNode
    from modelpact.cli import main

    out, state = tmp_path / "out", tmp_path / "state"
    command = [sys.executable, "-m", "modelpact", "demo", "--participants", "3"]
    command += ["--chain", "anvil", "--state-dir", str(state), "--out", str(out)]
    demo = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=tmp_path,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    with AnvilNode(state_file=state / "anvil-state.json") as node:
        argv = ["audit", "--deployment", str(out / "deployment.json"), "--rpc", node.rpc_url]
        argv += ["--data", str(out / "delivered"), "--models", str(out / "models")]
        argv += ["--json", str(tmp_path / "audit.json"), "--quiet"]
        code = main(argv)
    report = json.loads((tmp_path / "audit.json").read_text())
    assert code == 0, [f["id"] for f in report["findings"] if f["status"] == "fail"]
    assert report["counts"]["fail"] == 0
    assert report["counts"]["pass"] >= 28


def test_coordinator_default_round_audits_clean(tmp_path) -> None:
    """A coordinator who never posts: after the post deadline participants withdraw bond plus an
    equal share of the coordinator's bond; the audit checks the refunds and the balance."""
    chain = connect(chain="embedded")
    done = execute_round(chain, tmp_path, participants=3, lies=Lies(stop_after="join"))
    config = done.round.config()
    _pass(chain, config.schedule.post)
    for who in chain.accounts[1:3]:  # the third participant has not withdrawn yet
        done.round.withdraw_after_default(who)
    report = done.audit()
    assert report.ok, [(f.id, f.failures[:2]) for f in report.failed]
    assert report.phase == "Aborted"
    assert report.finding("refund.default").status is Status.PASS
    assert report.finding("refund.default").checked == 2
    assert report.finding("balance.reconciles").status is Status.PASS


def test_coordinator_default_audited_after_claim_deadline(tmp_path) -> None:
    """A refunded and swept default (v2: Aborted is final and the coordinator sweeps the dust at
    once) still audits clean: the default is recognised by "no ModelsPosted and the post deadline
    passed", so refunded participants are not taken for rule-breaking non-revealers, and the
    sweep took only the dust."""
    chain = connect(chain="embedded")
    done = execute_round(chain, tmp_path, participants=3, lies=Lies(stop_after="join"))
    config = done.round.config()
    _pass(chain, config.schedule.post)
    for who in chain.accounts[1:4]:
        done.round.withdraw_after_default(who)
    # v2: a default's claim deadline is never set (no post); the sweep of the dust opens at once
    done.round.sweep(chain.accounts[0])
    report = done.audit()
    assert report.phase == "Aborted"
    assert report.ok, [(f.id, f.failures[:2]) for f in report.failed]
    assert report.finding("refund.default").checked == 3
    assert report.finding("reveal.penalty").status is Status.PASS
    assert report.finding("sweep.own_only").status is Status.PASS
    assert report.finding("balance.reconciles").status is Status.PASS

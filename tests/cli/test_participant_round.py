"""A whole round through the real entry point (``python -m modelpact``), one process per step,
on one anvil node: coordinator and two participants, every step re-run once, and the bad inputs
a user can type. Each failure must be one line on stderr and exit code 2, with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelpact.round.records import list_records

pytestmark = pytest.mark.anvil

SCENARIO = (
    Path(__file__).resolve().parents[2]
    / "offchain"
    / "modelpact"
    / "data"
    / "scenarios"
    / "digits_demo.toml"
)
# anvil's well-known dev keys #1 and #2 (funded by the node); #0 is the coordinator.
ALICE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
BOB_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"


@pytest.fixture(scope="module")
def node() -> Iterator[str]:
    from modelpact.chain.backends.anvil import AnvilNode

    with AnvilNode() as anvil:
        yield anvil.rpc_url


class Runner:
    def __init__(self, root: Path, rpc: str) -> None:
        self.root = root
        self.rpc = rpc
        self.env = {**os.environ, "MODELPACT_PASSWORD": "correct horse"}

    def __call__(self, *args: str, chain: bool = True, password: str | None = None):
        argv = [sys.executable, "-m", "modelpact", *args]
        if chain:
            argv += ["--rpc", self.rpc]
        env = dict(self.env)
        if password is not None:
            env["MODELPACT_PASSWORD"] = password
        return subprocess.run(
            argv, cwd=self.root, capture_output=True, text=True, env=env, check=False, timeout=300
        )

    def ok(self, *args: str, chain: bool = True) -> str:
        done = self(*args, chain=chain)
        assert done.returncode == 0, done.stderr + done.stdout
        return done.stdout

    def fails(self, *args: str, match: str, chain: bool = True, password: str | None = None):
        done = self(*args, chain=chain, password=password)
        assert done.returncode == 2, done.stdout + done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("error: "), lines
        assert match in lines[0], lines[0]
        assert "Traceback" not in done.stderr
        return lines[0]


def _forged_test_set_fails_verify(run: Runner, record_path: Path) -> None:
    """A test set and record root swapped together (a consistent forgery by whoever handed the
    files over) fail `verify`: it checks the chain's commitment recorded at join, not the
    record's copy. Both files are restored afterwards."""
    from modelpact.ml.datasets import load_rows, save_rows
    from modelpact.round._protocol import data_root

    original_record = record_path.read_bytes()
    doc = json.loads(original_record)
    test_path = record_path.parent / doc["test_set_file"]
    original_test = test_path.read_bytes()
    fewer = load_rows(test_path)[:-1]
    save_rows(test_path, fewer)
    doc["test_set_root"] = "0x" + data_root(fewer).hex()
    record_path.write_text(json.dumps(doc))
    try:
        done = run("participant", "verify", "--keystore", "alice.json", chain=False)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "public test set root: MISMATCH" in done.stdout
    finally:
        record_path.write_bytes(original_record)
        test_path.write_bytes(original_test)


def advance(rpc: str, seconds: int) -> None:
    from modelpact.chain import connect

    connect(chain="anvil", rpc_url=rpc).advance_time(seconds)


def balance(rpc: str, address: str) -> int:
    from web3 import Web3

    return int(Web3(Web3.HTTPProvider(rpc)).eth.get_balance(address))


def test_round_from_wallets_with_reruns_and_bad_inputs(tmp_path: Path, node: str) -> None:
    """Deploy (quorum 2 of 10 seats), two participants join (re-run join: no second join, no
    second bond; menu and join show the deadlines, the bond and the fees), bad inputs are
    refused with one line, the coordinator reveals/ingests/posts (re-runs are no-ops),
    participants reveal, claim (a second claim is refused), fetch (an existing --out needs
    --force; the keystore is never replaced) and verify their models; the coordinator sweeps
    once (a second sweep is refused before sending)."""
    import numpy as np

    from modelpact.ml.datasets import load_dataset, save_rows, shard_pool, split_test

    run = Runner(tmp_path, node)
    # v2: with fewer joiners than seats the round needs a quorum below the capacity, else
    # joining closes below quorum and the round is cancelled
    scenario = tmp_path / "quorum2.toml"
    scenario.write_text(SCENARIO.read_text() + "\n[participation]\nquorum = 2\nfill = 0.9\n")
    deploy_out = run.ok("coordinator", "deploy", "--scenario", str(scenario), "--dev-account", "0")
    assert "deployed round" in deploy_out
    record_path = list_records(tmp_path / "deploy")[0]
    record = json.loads(record_path.read_text())
    assert record["chain_id"] == 31337

    # Wallets: import the funded dev keys into encrypted keystores.
    for name, key in (("alice", ALICE_KEY), ("bob", BOB_KEY)):
        (tmp_path / f"{name}.key").write_text(key)
        run.ok(
            "participant",
            "import-account",
            "--keystore",
            f"{name}.json",
            "--private-key-file",
            f"{name}.key",
            chain=False,
        )
    run.fails(
        "participant", "join", "--keystore", "nobody.json", "--option", "0", match="no keystore"
    )

    menu_out = run.ok("participant", "menu", "--cost", "0.2")
    assert "best option for cost 0.2: 2" in menu_out
    assert "training alone (the published scenario's curve) is worth 69.6" in menu_out
    assert "joining pays" in menu_out
    assert "bond 10000000000000000 wei; quorum 2 of 10" in menu_out
    assert "reveal within 6 h" in menu_out
    assert "claims never expire" in menu_out
    assert "gwei per gas now (cap 100 gwei, --max-fee-gwei); a join uses under 100k gas" in menu_out
    options = [line.split() for line in menu_out.splitlines() if line.strip()[:1].isdigit()]
    rows_needed = [int(o[1]) for o in options]

    # Data: shards of the pool, one of the wrong size for a bad-input check.
    split = split_test(load_dataset("digits", seed=0), test_size=360, seed=0)
    alice_rows, bob_rows = shard_pool(split.pool, [rows_needed[2], rows_needed[0]], seed=1)
    save_rows(tmp_path / "alice.csv", alice_rows)
    save_rows(tmp_path / "bob.npy", bob_rows)

    run.ok("participant", "commit", "--keystore", "bob.json", "--data", "bob.npy", chain=False)
    run.fails(
        "participant",
        "join",
        "--keystore",
        "bob.json",
        "--option",
        "7",
        match="option 7 does not exist",
    )
    run.fails(
        "participant",
        "join",
        "--keystore",
        "bob.json",
        "--option",
        "2",
        match=f"requires exactly {rows_needed[2]}",
    )
    run.fails(
        "participant",
        "join",
        "--keystore",
        "bob.json",
        "--option",
        "0",
        password="wrong",
        match="wrong password",
    )
    before = balance(node, record["address"])
    out = run.ok(
        "participant", "join", "--keystore", "bob.json", "--option", "0", "--inbox", "inbox"
    )
    assert "joined with option 0" in out
    assert "delivery window 6 h" in out
    assert balance(node, record["address"]) == before + 10**16
    rerun = run.ok("participant", "join", "--keystore", "bob.json", "--option", "0")
    assert "already joined" in rerun
    assert balance(node, record["address"]) == before + 10**16  # no second bond
    # Other data committed in another state folder never replaces the good delivery.
    save_rows(tmp_path / "bob2.npy", split.pool[-rows_needed[0] :])
    delivered = {p.name: p.read_bytes() for p in (tmp_path / "inbox").iterdir()}
    run.ok("participant", "commit", "--keystore", "bob.json", "--data", "bob2.npy",
           "--state-dir", "other", chain=False)  # fmt: skip
    run.fails("participant", "join", "--keystore", "bob.json", "--option", "0", "--inbox",
              "inbox", "--state-dir", "other",
              match="joined this round with data root")  # fmt: skip
    assert {p.name: p.read_bytes() for p in (tmp_path / "inbox").iterdir()} == delivered

    run.ok("participant", "commit", "--keystore", "alice.json", "--data", "alice.csv", chain=False)
    # An inbox the delivery cannot be written to is refused before the bond is sent.
    paid_in = balance(node, record["address"])
    run.fails("participant", "join", "--keystore", "alice.json", "--option", "2", "--inbox",
              "/proc/modelpact-inbox", match="cannot create --inbox")  # fmt: skip
    assert balance(node, record["address"]) == paid_in
    run.ok("participant", "join", "--keystore", "alice.json", "--option", "2", "--inbox", "inbox")

    status = run.ok("coordinator", "status")
    assert "participants 2/10" in status
    assert "phase join" in status

    # Joining closes at the deadline: a late participant is refused before anything is sent.
    advance(node, 3700)
    # Carol's keystore and commitment are made in process (those commands are covered above).
    from modelpact.round.participant import commit_dataset, participant_state
    from modelpact.round.records import read_record
    from modelpact.round.wallet import import_keystore

    carol = import_keystore(
        tmp_path / "carol.json", private_key="0x" + "7c" * 32, password="correct horse"
    )
    save_rows(tmp_path / "carol.npy", np.asarray(split.pool[: rows_needed[0]]))
    commit_dataset(
        participant_state(tmp_path / ".modelpact", read_record(record_path), carol),
        dataset=tmp_path / "carol.npy",
        spec_name="digits",
    )
    run.fails(
        "participant",
        "join",
        "--keystore",
        "carol.json",
        "--option",
        "0",
        match="joining is closed",
    )

    assert "revealed" in run.ok("coordinator", "reveal", "--dev-account", "0")
    assert "already revealed" in run.ok("coordinator", "reveal", "--dev-account", "0")
    # A wrong --inbox (no deliveries at all) is refused, not read as "everyone undelivered".
    run.fails("coordinator", "ingest", "--inbox", "deploy", match="holds no deliveries")
    assert "2 deliveries verified, 0 undelivered" in run.ok(
        "coordinator", "ingest", "--inbox", "inbox"
    )
    # Issue 11.7: nobody can be named undelivered (nor models posted) inside the data window,
    # MIN_WINDOW after joining closed; the one line says when it closes.
    run.fails("coordinator", "train-and-post", "--dev-account", "0",
              match="the data window is open until")  # fmt: skip
    advance(node, 3600)
    posted = run.ok("coordinator", "train-and-post", "--dev-account", "0")
    assert "posted (tx" in posted
    assert "curve check: predicted" in posted
    assert "already posted" in run.ok("coordinator", "train-and-post", "--dev-account", "0")

    for name in ("alice", "bob"):
        assert "revealed (tx" in run.ok("participant", "reveal", "--keystore", f"{name}.json")
    assert "already revealed" in run.ok("participant", "reveal", "--keystore", "alice.json")
    bob_claim = run.ok("participant", "claim", "--keystore", "bob.json")
    assert "claimed rung" in bob_claim
    run.fails("participant", "claim", "--keystore", "bob.json", match="already claimed")
    claimed = run.ok("participant", "claim", "--keystore", "alice.json")
    paid = sum(
        int(text.split("curve compensation ", 1)[1].split(" wei", 1)[0])
        for text in (bob_claim, claimed)
    )
    assert "rung 0:" not in claimed  # option 2 has ratio 1: the collective model itself
    # issue 15: the models come through the chain, encrypted to each participant
    delivered_now = run.ok("coordinator", "deliver", "--dev-account", "0")
    assert "sending deliver to" in delivered_now  # shown before it is sent
    assert "delivered 2 models now" in delivered_now or "rung 0" in delivered_now
    assert "delivered 0 models now" in run.ok("coordinator", "deliver", "--dev-account", "0")
    run.ok("participant", "fetch", "--keystore", "alice.json", "--out", "a.json")
    # issue 15: after join, reveal and fetch no local file holds a round delivery secret key
    # (fetch derives it from the unlocked keystore)
    states = [f for f in tmp_path.rglob("*.json") if b'"reveal_tx"' in f.read_bytes()]
    assert states
    assert not [f for f in states if b"delivery_key" in f.read_bytes()]
    fetch_again = ("participant", "fetch", "--keystore", "alice.json", "--out")
    run.fails(*fetch_again, "a.json", match="a.json already exists")
    run.ok(*fetch_again, "a.json", "--force")
    keystore = (tmp_path / "alice.json").read_bytes()
    run.fails(*fetch_again, "alice.json", "--force", match="is a keystore")
    assert (tmp_path / "alice.json").read_bytes() == keystore
    verified = run.ok("participant", "verify", "--keystore", "alice.json", chain=False)
    assert verified.count(": ok") == 3, verified
    _forged_test_set_fails_verify(run, record_path)
    # bonds back; the coordinator bond remains, less the curve compensation paid out of it
    assert balance(node, record["address"]) == 10**17 - paid

    # After the claim deadline the coordinator sweeps what is left; a second sweep (from another
    # state directory, so nothing is recorded) is refused before it spends gas for nothing.
    advance(node, 100_000)  # v2: the claim deadline is the post plus three windows
    assert f"swept {10**17} wei" in run.ok("coordinator", "sweep", "--dev-account", "0")
    run.fails("coordinator", "sweep", "--dev-account", "0", "--state-dir", "elsewhere",
              match="nothing to sweep")  # fmt: skip


def test_a_copier_that_joins_first_gains_nothing(tmp_path: Path, node: str) -> None:
    """Review hole 6, end to end through the CLI: Bob copies Alice's rows (under his own,
    address-bound root) and joins FIRST; Alice then joins with her rows, Carol with her own.
    The coordinator's ingest names both sharers of the rows undelivered (which one is the
    original cannot be told; before the fix the earlier joiner, the copier, was kept). Bob gets
    no model and cannot take his bond back; the contract ends holding exactly the two sharers'
    bonds (burned: paid to nobody), Carol gets her bond and model, and the coordinator sweeps
    exactly its bond minus what it paid Carol out of it."""
    from modelpact.ml.datasets import load_dataset, save_rows, shard_pool, split_test

    run = Runner(tmp_path, node)
    scenario = tmp_path / "quorum1.toml"
    scenario.write_text(SCENARIO.read_text() + "\n[participation]\nquorum = 1\nfill = 0.9\n")
    run.ok("coordinator", "deploy", "--scenario", str(scenario), "--dev-account", "0")
    record = json.loads(list_records(tmp_path / "deploy")[0].read_text())
    carol_key = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
    menu_out = run.ok("participant", "menu", "--cost", "0.2")
    options = [line.split() for line in menu_out.splitlines() if line.strip()[:1].isdigit()]
    rows = int(options[0][1])
    split = split_test(load_dataset("digits", seed=0), test_size=360, seed=0)
    original, other = shard_pool(split.pool, [rows, rows], seed=2)
    for name, key, data in (
        ("bob", BOB_KEY, original),  # the copier: Alice's rows
        ("alice", ALICE_KEY, original),
        ("carol", carol_key, other),
    ):
        (tmp_path / f"{name}.key").write_text(key)
        run.ok("participant", "import-account", "--keystore", f"{name}.json",
               "--private-key-file", f"{name}.key", chain=False)  # fmt: skip
        save_rows(tmp_path / f"{name}.npy", data)
        run.ok("participant", "commit", "--keystore", f"{name}.json", "--data", f"{name}.npy",
               chain=False)  # fmt: skip
        run.ok("participant", "join", "--keystore", f"{name}.json", "--option", "0",
               "--inbox", "inbox")  # fmt: skip
    advance(node, 3600 + 3601)  # past the join deadline and the data window
    run.ok("coordinator", "reveal", "--dev-account", "0")
    ingested = run.ok("coordinator", "ingest", "--inbox", "inbox")
    assert "1 deliveries verified, 2 undelivered" in ingested, ingested
    assert ingested.count("another participant also delivered") == 2
    posted = run.ok("coordinator", "train-and-post", "--dev-account", "0")
    alice, bob = (
        json.loads((tmp_path / f"{n}.json").read_text())["address"] for n in ("alice", "bob")
    )
    named = {line.split()[1].lower() for line in posted.splitlines() if "undelivered:" in line}
    assert named == {"0x" + a.lower().removeprefix("0x") for a in (alice, bob)}
    run.fails("participant", "reveal", "--keystore", "bob.json", match="undelivered")
    run.ok("participant", "reveal", "--keystore", "carol.json")
    claimed = run.ok("participant", "claim", "--keystore", "carol.json")
    paid = int(claimed.split("curve compensation ", 1)[1].split(" wei", 1)[0])
    advance(node, 100_000)
    swept = run.ok("coordinator", "sweep", "--dev-account", "0")
    assert f"swept {10**17 - paid} wei" in swept, swept
    assert balance(node, record["address"]) == 2 * 10**16  # the sharers' bonds, burned


def test_unknown_deployment_and_node_not_running(tmp_path: Path) -> None:
    """An unknown deployment and a node that does not answer are one line each, exit 2."""
    from modelpact.chain.backends.anvil import free_port

    run = Runner(tmp_path, f"http://127.0.0.1:{free_port()}")
    run.fails("participant", "menu", "--deployment", "0x" + "12" * 20, match="unknown deployment")
    line = run.fails(
        "coordinator",
        "deploy",
        "--scenario",
        str(SCENARIO),
        "--dev-account",
        "0",
        match="127.0.0.1",
    )
    assert "node" in line.lower()
    run.fails("participant", "menu", "--chain", "embedded", chain=False, match="embedded chain")

"""Nothing a participant does twice or by mistake loses anything (issue 12), through the real
entry point (``python -m modelpact``) on a real anvil node, one process per command:

- two commands at once for the same keystore and round are refused by a lock before anything is
  read or sent (a deterministic holder process), and a real race of two joins leaves exactly one
  join whose commitment the local secret opens;
- ``participant fetch --out`` never replaces a keystore (even with ``--force``) and replaces an
  existing file only with ``--force``.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.anvil

SCENARIO = (
    Path(__file__).resolve().parents[2] / "offchain/modelpact/data/scenarios/digits_demo.toml"
)
ALICE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil #1
BOB_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"  # anvil #2
_HOLDER = """
import sys
from pathlib import Path
from modelpact.round.locks import holding
with holding(Path(sys.argv[1]), what="the test"):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture(scope="module")
def node() -> Iterator[str]:
    from modelpact.chain.backends.anvil import AnvilNode

    with AnvilNode() as anvil:
        yield anvil.rpc_url


def _env() -> dict[str, str]:
    return {**os.environ, "MODELPACT_PASSWORD": "pw"}


def _argv(rpc: str | None, *args: str) -> list[str]:
    return [sys.executable, "-m", "modelpact", *args, *(["--rpc", rpc] if rpc else [])]


def _run(cwd: Path, rpc: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _argv(rpc, *args), cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def _ok(cwd: Path, rpc: str | None, *args: str) -> str:
    done = _run(cwd, rpc, *args)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.fixture(scope="module")
def round_dir(tmp_path_factory: pytest.TempPathFactory, node: str) -> Path:
    """A deployed round, and alice and bob with funded keystores and committed datasets of
    option 0's size."""
    from modelpact.ml.datasets import load_dataset, save_rows, shard_pool, split_test

    d = tmp_path_factory.mktemp("wallet")
    _ok(d, node, "coordinator", "deploy", "--scenario", str(SCENARIO), "--dev-account", "0")
    _, rc = _round(d, node)
    rows = rc.option(0).data_count
    split = split_test(load_dataset("digits", seed=0), test_size=360, seed=0)
    shards = shard_pool(split.pool, [rows, rows], seed=1)
    for name, key, shard in (("alice", ALICE_KEY, shards[0]), ("bob", BOB_KEY, shards[1])):
        (d / f"{name}.key").write_text(key)
        _ok(d, None, "participant", "import-account", "--keystore", f"{name}.json",
            "--private-key-file", f"{name}.key")  # fmt: skip
        save_rows(d / f"{name}.csv", shard)
        _ok(d, None, "participant", "commit", "--keystore", f"{name}.json", "--data",
            f"{name}.csv")  # fmt: skip
    return d


def _round(d: Path, rpc: str) -> tuple[Any, Any]:
    from modelpact import chain as ch
    from modelpact.round.records import list_records, read_record

    record = read_record(list_records(d / "deploy")[-1])
    chain = ch.connect(chain="anvil", rpc_url=rpc)
    return record, ch.round_at(chain, record.address)


def test_a_held_lock_refuses_a_second_command_before_anything_is_sent(
    round_dir: Path, node: str
) -> None:
    """While another process holds the lock of alice's state in this round, `participant join`
    exits 2 with one line naming that process, and sends nothing (alice's nonce and the round's
    balance and join count unchanged); once the holder exits, the same join goes through."""
    from eth_account import Account

    from modelpact.round.participant import participant_state

    record, rc = _round(round_dir, node)

    address = Account.from_key(ALICE_KEY).address
    state = participant_state(round_dir / ".modelpact", record, address)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(state.path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        w3 = rc.chain.w3
        nonce, balance, joined = (
            w3.eth.get_transaction_count(address),
            rc.balance(),
            rc.joined_count(),
        )
        line = _one_line(
            _run(
                round_dir, node, "participant", "join", "--keystore", "alice.json", "--option", "0"
            )
        )
        assert f"another modelpact process (pid {holder.pid}" in line, line
        assert "nothing was sent" in line
        assert w3.eth.get_transaction_count(address) == nonce
        assert rc.balance() == balance
        assert rc.joined_count() == joined
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)
    joined = _ok(round_dir, node, "participant", "join", "--keystore", "alice.json", "--option",
                 "0")  # fmt: skip
    assert "joined with option" in joined


def test_two_concurrent_joins_leave_one_join_the_local_secret_opens(
    round_dir: Path, node: str
) -> None:
    """Two `participant join` processes for bob started at once: each either joins, reports it
    already joined, or is refused by the lock in one line; exactly one join and one bond land on
    chain, and the secret in bob's local state opens the commitment on chain (so his reveal
    cannot fail and forfeit the bond, the loss issue 12 reports)."""
    from eth_account import Account

    from modelpact.delivery import delivery_key_pair
    from modelpact.encoding import stored_commitment
    from modelpact.round import _protocol
    from modelpact.round.participant import participant_state

    record, rc = _round(round_dir, node)
    bob = Account.from_key(BOB_KEY).address
    balance = rc.balance()
    argv = _argv(node, "participant", "join", "--keystore", "bob.json", "--option",
                 "0")  # fmt: skip
    racers = [
        subprocess.Popen(
            argv,
            cwd=round_dir,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.communicate(timeout=300), p.returncode) for p in racers]
    for (out, err), code in results:
        if code == 2:
            assert len(err.splitlines()) == 1, err
            assert "another modelpact process" in err, err
        else:
            assert code == 0, err
            assert "joined with option" in out or "already joined" in out, out
    assert any(code == 0 for _, code in results)
    bond = rc.config().participant_bond
    assert rc.balance() == balance + bond
    local = participant_state(round_dir / ".modelpact", record, bob).load()
    secret = local.secret
    assert secret is not None
    assert local.data_root is not None
    onchain = rc.commitment_of(bytes.fromhex(local.data_root.removeprefix("0x")))
    pair = delivery_key_pair(
        account_key=bytes.fromhex(BOB_KEY[2:]), round_address=rc.address, chain_id=record.chain_id
    )
    key = (pair.public_key.x, pair.public_key.y)
    opened = _protocol.participant_commitment_v2(
        bytes.fromhex(secret.removeprefix("0x")), key, bob, rc.address, record.chain_id
    )
    assert stored_commitment(opened, bob) == onchain


def test_fetch_never_overwrites_a_keystore_and_needs_force_for_a_file(
    round_dir: Path, node: str
) -> None:
    """`participant fetch --out alice.json` (alice's own keystore) is refused in one line even
    with --force, before anything else is looked at, and the keystore is unchanged; an existing
    plain file is refused without --force; a folder and a missing folder are one line each."""
    keystore = (round_dir / "alice.json").read_bytes()
    fetch = ("participant", "fetch", "--keystore", "alice.json")
    for extra in ((), ("--force",)):
        line = _one_line(_run(round_dir, None, *fetch, "--out", "alice.json", *extra))
        assert line == (
            "error: --out alice.json is a keystore; modelpact never overwrites one, even with "
            "--force; pass another path"
        )
    assert (round_dir / "alice.json").read_bytes() == keystore
    (round_dir / "old-model.json").write_text("{}")
    assert _one_line(_run(round_dir, None, *fetch, "--out", "old-model.json")) == (
        "error: --out old-model.json already exists; pass another path, or --force to replace it"
    )
    assert _one_line(_run(round_dir, None, *fetch, "--out", "deploy")) == (
        "error: --out deploy is a folder; pass the path of a file (inside that folder or elsewhere)"
    )
    assert _one_line(_run(round_dir, None, *fetch, "--out", "nowhere/m.json")) == (
        "error: --out nowhere/m.json: folder nowhere does not exist; create it first (mkdir -p "
        "nowhere) or pass another path"
    )


def test_an_unfunded_account_is_refused_before_joining(round_dir: Path, node: str) -> None:
    """A fresh account with no ether (created by `participant new-account`) that commits and
    joins gets one line naming its balance, the bond and how to fund it; nothing is sent."""
    from modelpact.ml.datasets import load_dataset, save_rows

    _, rc = _round(round_dir, node)
    _ok(round_dir, None, "participant", "new-account", "--keystore", "fresh.json")
    rows = rc.option(0).data_count
    save_rows(round_dir / "fresh.csv", load_dataset("digits", seed=0)[-rows:])
    _ok(round_dir, None, "participant", "commit", "--keystore", "fresh.json", "--data",
        "fresh.csv")  # fmt: skip
    balance, joined = rc.balance(), rc.joined_count()
    line = _one_line(
        _run(round_dir, node, "participant", "join", "--keystore", "fresh.json", "--option", "0")
    )
    bond = rc.config().participant_bond
    assert line.startswith("error: account 0x"), line
    assert f"holds 0 wei; joining needs the bond of {bond} wei plus gas; send ETH to" in line
    assert line.endswith("then re-run; nothing was sent")
    assert (rc.balance(), rc.joined_count()) == (balance, joined)


def test_odd_inputs_on_a_live_round_are_one_line(round_dir: Path, node: str) -> None:
    """On a live round: `menu --cost nan`, a keystore with unusual fields (no 'version', an
    unknown key derivation) and one whose address field is not its key's are each one line
    with the fix, exit 2, no traceback."""
    assert _one_line(_run(round_dir, node, "participant", "menu", "--cost", "nan")) == (
        "error: Invalid value for --cost: the cost per row must be a number in [0, 1e+09], got "
        "nan; see `modelpact participant menu --help`"
    )
    keystore = json.loads((round_dir / "alice.json").read_text())
    odd = {
        "noversion.json": {k: v for k, v in keystore.items() if k != "version"},
        "kdf.json": {**keystore, "crypto": {**keystore["crypto"], "kdf": "weird"}},
        "otheraddress.json": {**keystore, "address": "11" * 20},
    }
    for name, document in odd.items():
        (round_dir / name).write_text(json.dumps(document))
        line = _one_line(_run(round_dir, node, "participant", "reveal", "--keystore", name))
        assert line.startswith(f"error: keystore {name} "), line
    assert "cannot be decrypted (KeyError: 'version')" in _one_line(
        _run(round_dir, node, "participant", "reveal", "--keystore", "noversion.json")
    )
    assert "holds the key of 0x" in _one_line(
        _run(round_dir, node, "participant", "reveal", "--keystore", "otheraddress.json")
    )


class _Html(http.server.BaseHTTPRequestHandler):
    """A plain web server: answers every POST with an HTML page."""

    def do_POST(self) -> None:
        body = b"<html>hello</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_web_server_and_a_stalled_endpoint_as_rpc_are_one_line(round_dir: Path) -> None:
    """`--rpc` naming a plain web server, or an endpoint that accepts connections and never
    answers, is one line saying so (the stalled one within the RPC time budget, not minutes)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts (the kernel does), never answers
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert _one_line(_run(round_dir, url, "participant", "menu")) == (
            f"error: the node at {url} answered something that is not JSON-RPC (is it an "
            "Ethereum node?); start it, pass the right --rpc URL, or use --chain anvil with no "
            "--rpc and no MODELPACT_RPC to let modelpact start a local node"
        )
        stalled = f"http://127.0.0.1:{silent.getsockname()[1]}"
        assert _one_line(_run(round_dir, stalled, "participant", "menu")) == (
            f"error: the node at {stalled} did not answer in time (stalled); start it, pass the "
            "right --rpc URL, or use --chain anvil with no --rpc and no MODELPACT_RPC to let "
            "modelpact start a local node"
        )
    finally:
        server.shutdown()
        silent.close()


def test_menu_refuses_a_published_scenario_that_is_not_the_committed_one(
    round_dir: Path, node: str
) -> None:
    """A copy of the published files whose scenario was edited (a lower cost for a type, which
    would change the participant's outside option) is refused by `menu --cost` in one line
    naming the on-chain scenarioHash (issue 11.4), instead of being used."""
    import shutil

    from modelpact.round.records import list_records

    tampered = round_dir / "tampered"
    shutil.copytree(round_dir / "deploy", tampered)
    record = list_records(tampered)[-1]
    scenario = next(tampered.glob("files-*/scenario.toml"))
    text = scenario.read_text()
    assert "cost = 0.2\n" in text
    scenario.write_text(text.replace("cost = 0.2\n", "cost = 0.19\n", 1))
    line = _one_line(
        _run(round_dir, node, "participant", "menu", "--deployment", str(record), "--cost", "0.2")
    )
    assert "does not hash to the round's on-chain scenarioHash 0x" in line, line
    assert line.endswith("nothing was computed from it")


def test_coordinator_commands_hold_the_round_lock_too(round_dir: Path, node: str) -> None:
    """While another process holds the coordinator's state lock of this round, `coordinator
    reveal` and `coordinator sweep` are refused in one line naming it, before sending."""
    from modelpact.round.coordinator import coordinator_state

    record, rc = _round(round_dir, node)
    state = coordinator_state(round_dir / ".modelpact", record)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(state.path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        balance = rc.balance()
        for command in ("reveal", "sweep"):
            line = _one_line(_run(round_dir, node, "coordinator", command, "--dev-account", "0"))
            assert f"another modelpact process (pid {holder.pid}" in line, line
        assert rc.balance() == balance
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)


def test_menu_shows_the_terms_and_the_value_if_the_round_closes_now(
    round_dir: Path, node: str
) -> None:
    """`participant menu` shows, from the chain, the coordinator, the bond, how full the round is
    and the deadlines; while the round may close below capacity it shows per option the
    value if joining closed now (the committed curve at the rows joined so far plus the
    option's), which is below the promised t, and says why."""
    _, rc = _round(round_dir, node)
    out = _ok(round_dir, node, "participant", "menu", "--cost", "0.2")
    assert f"coordinator {rc.coordinator()}; {rc.joined_count()}/10 joined" in out
    assert "join until 20" in out
    assert "the coordinator posts by 20" in out
    assert "collective model is trained on fewer rows than the menu assumes" in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert rows
    for row in rows:
        promised, if_closed_now = float(row[3]), float(row[5])
        assert 0 < if_closed_now < promised

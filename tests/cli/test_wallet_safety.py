"""Nothing a participant does twice or by mistake loses anything (issue 12), through the real
entry point (``python -m modelpact``) on a real anvil node, one process per command:

- two commands at once for the same keystore and round are refused by a lock before anything is
  read or sent (a deterministic holder process), and a real race of two joins leaves exactly one
  join whose commitment the local secret opens;
- ``participant fetch --out`` never replaces a keystore (even with ``--force``) and replaces an
  existing file only with ``--force``.
"""

from __future__ import annotations

import os
import subprocess
import sys
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
    from modelpact.round.records import read_record

    record = read_record(next((d / "deploy").glob("*.json")))
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
    onchain = rc.participant(bob).commitment
    secret = participant_state(round_dir / ".modelpact", record, bob).load().secret
    assert secret is not None
    opened = _protocol.participant_commitment(
        bytes.fromhex(secret.removeprefix("0x")),
        bob,
        rc.address,
        record.chain_id,
    )
    assert opened == onchain


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

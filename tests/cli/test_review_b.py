"""Hostile review B of the second wave (round guard, chain delivery, fraud proofs from a wallet,
the lean JSON-RPC backend): each attack a hostile coordinator, a hostile or flaky RPC node or a
careless user can mount against the Python tools, reproduced on a real anvil node (through the
CLI where a user would meet it). What must hold: no bond, key or model is lost, the tools never
record or report something the chain did not do, and every user-facing error is one line naming
the problem and the fix, exit 2, no traceback."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from modelpact.errors import ModelpactError

pytestmark = pytest.mark.anvil

DEV_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil #1

Rewrite = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


class HostileNode:
    """A JSON-RPC proxy in front of a real anvil node: every request is forwarded, and
    ``rewrite(request, answer)`` may change the answer (or ``drop`` swallow a request and
    answer what the rewrite says)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rewrite: Rewrite = lambda _req, answer: answer
        self.drop: set[str] = set()
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                payload = json.loads(body)
                items = payload if isinstance(payload, list) else [payload]
                answers = [proxy.answer(item) for item in items]
                out = json.dumps(answers if isinstance(payload, list) else answers[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(self, item: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.upstream, json.dumps(item).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def answer(self, item: dict[str, Any]) -> dict[str, Any]:
        self.seen.append(str(item.get("method")))
        if item.get("method") in self.drop:
            return self.rewrite(item, {"jsonrpc": "2.0", "id": item.get("id"), "result": None})
        return self.rewrite(item, self.forward(item))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def anvil() -> Iterator[str]:
    from modelpact.chain.backends.anvil import AnvilNode

    with AnvilNode() as node:
        yield node.rpc_url


@pytest.fixture
def hostile(anvil: str) -> Iterator[HostileNode]:
    node = HostileNode(anvil)
    try:
        yield node
    finally:
        node.close()


def _chain(url: str) -> Any:
    from modelpact import chain as ch

    return ch.connect(rpc_url=url)


# ------------------------------------------------------------------------------------------
# A hostile or flaky RPC node
# ------------------------------------------------------------------------------------------


def test_a_node_answering_another_hash_for_a_signed_send_is_not_believed(
    hostile: HostileNode,
) -> None:
    """The hash of a signed transaction is keccak256 of its bytes, known before sending. A node
    that answers ``eth_sendRawTransaction`` with another hash (an older, successful transaction
    of the same account: the wallet would record it and report that step done) is refused in
    one ModelpactError naming both hashes, and the transaction's own hash is what is recorded
    by a re-run."""
    from eth_account import Account

    from modelpact.chain.transactions import transfer, wait_for_receipt

    chain = _chain(hostile.url)
    sender = Account.from_key(DEV_KEY)
    earlier = transfer(chain, sender, "0x" + "22" * 20, 1)
    wait_for_receipt(chain, earlier)

    def lie(req: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if req.get("method") == "eth_sendRawTransaction":
            return {**answer, "result": earlier}
        return answer

    hostile.rewrite = lie
    with pytest.raises(ModelpactError, match="answered hash") as caught:
        transfer(chain, sender, "0x" + "22" * 20, 2)
    assert earlier[:10] in str(caught.value)


def test_a_dropped_transaction_is_one_user_error_and_is_not_sent_twice(
    hostile: HostileNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node that accepts a signed transaction and never reports it mined (dropped, or a flaky
    node): waiting for it ends in one ModelpactError (the CLI's exit 2 line: what happened,
    re-run), not web3's TimeExhausted (the CLI's "unexpected ..., report it" line, exit 1);
    and a re-run that finds the recorded transaction still pending raises the same error
    instead of answering None (which would make the step send a second transaction)."""
    from eth_account import Account

    import modelpact.chain.transactions as tx

    chain = _chain(hostile.url)
    sender = Account.from_key(DEV_KEY)
    hostile.drop = {"eth_getTransactionReceipt"}  # the node never reports it mined
    tx_hash = tx.transfer(chain, sender, "0x" + "33" * 20, 1)
    with pytest.raises(tx.NotMinedError, match="not mined") as caught:
        tx.wait_for_receipt(chain, tx_hash, timeout=0.3)
    assert "re-run" in caught.value.one_line()

    class Slot:
        def get(self) -> str | None:
            return tx_hash

        def put(self, _h: str) -> None:
            raise AssertionError("nothing may be recorded: nothing may be sent")

    monkeypatch.setattr(tx, "RECEIPT_TIMEOUT", 0.3)
    with pytest.raises(tx.NotMinedError):
        tx.RecordedStep(chain, Slot(), "transfer").previous()


def test_a_reused_nonce_is_one_user_error(hostile: HostileNode) -> None:
    """A node that answers a stale pending nonce (a reorg, or a lagging load-balanced node):
    the signed transaction is refused by the chain ("nonce too low") and is not the one it
    already has, so it is one ModelpactError (exit 2, re-run), not a bare RpcError."""
    from eth_account import Account

    import modelpact.chain.transactions as tx

    chain = _chain(hostile.url)
    sender = Account.from_key(DEV_KEY)
    tx.wait_for_receipt(chain, tx.transfer(chain, sender, "0x" + "44" * 20, 1))

    def stale(req: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if req.get("method") == "eth_getTransactionCount":
            return {**answer, "result": hex(int(answer["result"], 16) - 1)}
        return answer

    hostile.rewrite = stale
    with pytest.raises(ModelpactError, match="nonce") as caught:
        tx.transfer(chain, sender, "0x" + "44" * 20, 2)
    assert "re-run" in caught.value.one_line()


# ------------------------------------------------------------------------------------------
# A careless user on a real round (the round set up by test_chain_proofs' ``play`` fixture)
# ------------------------------------------------------------------------------------------

from test_chain_proofs import (  # noqa: E402 (the fixture and helpers of the delivery tests)
    PASSWORD,
    Played,
    _coordinator_keystore,
    _rung,
    play,
)

__all__ = ["play"]  # the imported fixture is used by name


def _nonce(p: Played, address: str) -> int:
    return int(p.chain.w3.eth.get_transaction_count(address))  # type: ignore[arg-type]


def test_a_careless_participant_loses_nothing(play: Callable[..., Played]) -> None:
    """Fetch and dispute before reveal, fetch before delivery, a keystore that never joined,
    --out naming a keystore or the record, a re-run of fetch, a dispute of a correct delivery,
    a wrong password, a new account over an existing keystore: each is one line, exit 2,
    nothing sent (nonce unchanged) and no file overwritten; the model is fetched once all is
    in place."""
    from eth_account import Account

    from modelpact import encoding as enc
    from modelpact.round.wallet import import_keystore

    p = play()
    _alice, bob, _carol = p.run.accounts
    rung = _rung(p, bob)
    assert rung > 0 or pytest.skip("bob drew rung 0")
    bob_ks = p.keystore(bob)
    p.fails("participant", "fetch", "--keystore", bob_ks, "--out", "bob.bin",
            match="participant reveal")  # fmt: skip
    before = _nonce(p, bob.address)
    p.fails("participant", "dispute", "--keystore", bob_ks, match="participant reveal")
    p.ok("participant", "reveal", "--keystore", bob_ks)
    p.fails("participant", "fetch", "--keystore", bob_ks, "--out", "bob.bin",
            match="not delivered yet")  # fmt: skip
    p.fails("participant", "dispute", "--keystore", bob_ks, match="window is open")
    assert _nonce(p, bob.address) == before + 1  # the reveal only

    eve = Account.from_key("0x" + "e7" * 32)
    import_keystore(p.out / "eve.json", private_key="0x" + eve.key.hex(), password=PASSWORD)
    p.fails("participant", "fetch", "--keystore", "eve.json", "--out", "eve.bin", match="")
    p.fails("participant", "dispute", "--keystore", "eve.json", match="")
    assert not (p.out / "eve.bin").exists()

    p.ok("coordinator", "deliver", "--keystore", str(_coordinator_keystore(p)))
    keystore_bytes = (p.out / bob_ks).read_bytes()
    record = (p.out / "deployment.json").read_bytes()
    p.fails("participant", "fetch", "--keystore", bob_ks, "--out", bob_ks, "--force",
            match="never overwrites")  # fmt: skip
    p.fails("participant", "fetch", "--keystore", bob_ks, "--out", "deployment.json", "--force",
            match="never overwrites")  # fmt: skip
    assert (p.out / bob_ks).read_bytes() == keystore_bytes
    assert (p.out / "deployment.json").read_bytes() == record
    p.ok("participant", "fetch", "--keystore", bob_ks, "--out", "bob.bin")
    p.fails("participant", "fetch", "--keystore", bob_ks, "--out", "bob.bin",
            match="already exists")  # fmt: skip
    p.ok("participant", "fetch", "--keystore", bob_ks, "--out", "bob.bin", "--force")
    owed = p.run.deployed.contract.rung_model(rung).model_hash
    assert enc.model_hash((p.out / "bob.bin").read_bytes()) == owed
    before = _nonce(p, bob.address)
    p.fails("participant", "dispute", "--keystore", bob_ks, match="nothing to dispute")
    assert _nonce(p, bob.address) == before

    import os
    import subprocess
    import sys

    for command in ("new-account", "import-account"):
        (p.out / "k.hex").write_text("0x" + "e8" * 32)
        argv = [sys.executable, "-m", "modelpact", "participant", command, "--keystore", bob_ks]
        argv += ["--private-key-file", "k.hex"] if command == "import-account" else []
        done = subprocess.run(argv, cwd=p.out, capture_output=True, text=True, check=False,
                              env={**os.environ, "MODELPACT_PASSWORD": "pw"})  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
    assert (p.out / bob_ks).read_bytes() == keystore_bytes


# ------------------------------------------------------------------------------------------
# The round guard's join, as a script runs it (the genuine round of test_round_guard)
# ------------------------------------------------------------------------------------------

from test_round_guard import Round, _run, genuine, node  # noqa: E402

__all__ += ["genuine", "node"]


def test_join_with_json_shows_the_bond_before_it_is_sent(genuine: Round, node: str) -> None:
    """``participant join --json`` (a script's wallet) posts the bond too: what is signed
    (round, coordinator, bond, deadlines) is shown on stderr before sending, while stdout
    stays the one JSON document."""
    bond = int(genuine.record["extra"]["participant_bond_wei"])
    done = _run(genuine.dir, node, "participant", "join", "--keystore", "alice.json",
                "--option", "0", "--deployment", str(genuine.record_path), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    assert "genuine ModelpactRound" in done.stderr
    assert f"bond {bond} wei" in done.stderr
    assert "join until" in done.stderr
    out = json.loads(done.stdout)
    assert out["step"]["tx_hash"]


# ------------------------------------------------------------------------------------------
# A hostile coordinator's deliveries
# ------------------------------------------------------------------------------------------


def _deliver_raw(p: Played, who: Any, ephemeral: tuple[int, int], ciphertext: bytes) -> None:
    p.run.deployed.contract.deliver(
        p.run.coordinator, participant=who.address, ephemeral=ephemeral, ciphertext=ciphertext
    )


def test_near_miss_deliveries_are_refused_by_fetch_and_paid_by_dispute(
    play: Callable[..., Played],
) -> None:
    """Bob is delivered his model with one byte appended (the plaintext starts with the right
    model: a prefix check would pass it), Carol a correct ciphertext under an ephemeral key off
    the curve (nobody can decrypt it). Fetch writes neither file and names the dispute; each
    dispute is paid the allot to the wei; a second dispute sends nothing; the audit names
    both deliveries."""
    from modelpact import delivery as dc
    from modelpact.round import participant as part

    p = play()
    _alice, bob, carol = p.run.accounts
    rc = p.run.deployed.contract
    assert all(_rung(p, a) > 0 for a in (bob, carol)) or pytest.skip("a rung 0 draw")
    for who in (bob, carol):
        part.reveal(p.run.deployed, p.run.state(who), account=who)
    keys = {
        str(e.args["participant"]): dc.CurvePoint(
            int(e.args["deliveryKeyX"]), int(e.args["deliveryKeyY"])
        )
        for e in p.run.deployed.events("Revealed")
    }

    def model(who: Any) -> bytes:
        h = rc.rung_model(_rung(p, who)).model_hash
        return (p.out / "models" / f"0x{h.hex()}.bin").read_bytes()

    longer = dc.encrypt(plaintext=model(bob) + b"\0", recipient=keys[bob.address])
    _deliver_raw(p, bob, longer.ephemeral.as_tuple(), longer.ciphertext)
    right = dc.encrypt(plaintext=model(carol), recipient=keys[carol.address])
    _deliver_raw(p, carol, (1, 1), right.ciphertext)  # (1, 1) is not on alt_bn128
    _, allot = rc.shortfall()
    for who in (bob, carol):
        p.fails("participant", "fetch", "--keystore", p.keystore(who), "--out", "m.bin",
                match="does not decrypt to your model")  # fmt: skip
        assert not (p.out / "m.bin").exists()
        before = p.chain.balance(who.address)
        out = json.loads(p.ok("participant", "dispute", "--keystore", p.keystore(who), "--json"))
        assert out["kind"] == "wrong model"
        assert p.chain.balance(who.address) == before + allot - p.fee(out["step"]["tx_hash"])
        nonce = _nonce(p, who.address)
        assert "already recorded" in p.ok("participant", "dispute", "--keystore", p.keystore(who))
        assert _nonce(p, who.address) == nonce
    from test_chain_proofs import _audit

    found = {e.subject: e.found for e in _audit(p).finding("deliveries.onchain").failures}
    assert found.get(bob.address) == found.get(carol.address) == "wrong model proven"


def test_a_node_of_another_chain_is_refused_in_one_line(
    genuine: Round, node: str, hostile: HostileNode
) -> None:
    """A node whose chain id is not the record's (another network under the same URL, or a
    node that lies about it) is refused before anything is read or sent: one line, exit 2."""

    def other_chain(req: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if req.get("method") in ("eth_chainId", "net_version"):
            return {**answer, "result": hex(5) if req["method"] == "eth_chainId" else "5"}
        return answer

    hostile.rewrite = other_chain
    done = _run(genuine.dir, hostile.url, "participant", "reveal", "--keystore", "alice.json",
                "--deployment", str(genuine.record_path))  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "chain 5" in done.stderr
    assert "eth_sendRawTransaction" not in hostile.seen

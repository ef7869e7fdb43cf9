"""Hostile review B of the second wave (round guard, chain delivery, fraud proofs from a wallet,
the lean JSON-RPC backend): each attack a hostile coordinator, a hostile or flaky RPC node or a
careless user can mount against the Python tools, reproduced on a real anvil node (through the
CLI where a user would meet it). What must hold: no bond, key or model is lost, the tools never
record or report something the chain did not do, and every user-facing error is one line naming
the problem and the fix, exit 2, no traceback."""

from __future__ import annotations

import copy
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


@pytest.mark.parametrize("send", ["eth_sendRawTransaction", "eth_sendRawTransactionSync"])
def test_a_node_answering_another_hash_for_a_signed_send_is_not_believed(
    hostile: HostileNode, send: str
) -> None:
    """The hash of a signed transaction is keccak256 of its bytes, known before sending. A node
    that answers ``eth_sendRawTransaction`` with another hash (an older, successful transaction
    of the same account: the wallet would record it and report that step done) is refused in
    one ModelpactError naming both hashes, and the transaction's own hash is what is recorded
    by a re-run. The same for the receipt of another transaction answered to a sync send."""
    from eth_account import Account

    from modelpact.chain.transactions import transfer, wait_for_receipt

    chain = _chain(hostile.url)
    chain.backend.rpc.sync_sends = send.endswith("Sync")
    sender = Account.from_key(DEV_KEY)
    earlier = transfer(chain, sender, "0x" + "22" * 20, 1)
    wait_for_receipt(chain, earlier)

    def lie(req: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if req.get("method") == send == "eth_sendRawTransaction":
            return {**answer, "result": earlier}
        if req.get("method") == send:
            return {**answer, "result": {**answer["result"], "transactionHash": earlier}}
        return answer

    hostile.rewrite = lie
    with pytest.raises(ModelpactError, match="answered hash") as caught:
        transfer(chain, sender, "0x" + "22" * 20, 2)
    assert earlier[:10] in str(caught.value)


@pytest.mark.parametrize("send", ["eth_sendRawTransaction", "eth_sendRawTransactionSync"])
def test_a_dropped_transaction_is_one_user_error_and_is_not_sent_twice(
    hostile: HostileNode, monkeypatch: pytest.MonkeyPatch, send: str
) -> None:
    """A node that accepts a signed transaction and never reports it mined (dropped, or a flaky
    node): waiting for it ends in one ModelpactError (the CLI's exit 2 line: what happened,
    re-run), not web3's TimeExhausted (the CLI's "unexpected ..., report it" line, exit 1);
    and a re-run that finds the recorded transaction still pending raises the same error
    instead of answering None (which would make the step send a second transaction). A sync
    send answered with EIP-7966's timeout error (accepted, not mined in time) is polled the
    same way."""
    from eth_account import Account

    import modelpact.chain.transactions as tx

    chain = _chain(hostile.url)
    chain.backend.rpc.sync_sends = send.endswith("Sync")
    sender = Account.from_key(DEV_KEY)
    hostile.drop = {"eth_getTransactionReceipt"}  # the node never reports it mined

    def timeout(req: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        if req.get("method") == "eth_sendRawTransactionSync":
            return {"jsonrpc": "2.0", "id": req.get("id"), "error": {"code": 4, "message": "t"}}
        return answer

    hostile.rewrite = timeout
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
    Played,
    _coordinator_keystore,
    _rung,
    keystore_file,
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
    keystore_file(p.out / "eve.json", "0x" + eve.key.hex())
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
    assert not [m for m in hostile.seen if m.startswith("eth_sendRawTransaction")]


# ------------------------------------------------------------------------------------------
# The audit's bytecode checks against a round whose chain of trust is broken (issue 17: a round
# is a clone of a shared implementation, made by the factory's createRound)
# ------------------------------------------------------------------------------------------


def _set_word(code: bytes, contract: str, old: bytes, new: bytes) -> bytes:
    """``code`` (of compiled ``contract``) with every immutable word equal to ``old`` set to
    ``new`` (32-byte words)."""
    from test_round_guard import _compiled

    out, swapped = bytearray(code), 0
    for spans in _compiled(contract)["immutable_references"].values():
        for span in spans:
            s, n = span["start"], span["length"]
            if out[s : s + n] == old:
                out[s : s + n], swapped = new, swapped + 1
    assert swapped > 0
    return bytes(out)


def _clone_parts(code: bytes) -> tuple[str, bytes]:
    from modelpact.audit.clones import split_clone

    parts = split_clone(code)
    assert parts is not None
    return parts


def test_the_audit_names_a_round_pointing_at_an_implementation_its_factory_does_not_clone(
    genuine: Round, node: str
) -> None:
    """The genuine round's code with its implementation address swapped for a copy of the
    genuine implementation whose _PROOFS immutable points at other proofs code (a fork: one
    comment more, so other metadata); modelled with anvil_setCode, restored after. Every byte
    is genuine outside immutables, so masking alone passes; now ``bytecode.matches_source``
    names the implementation its factory does not clone and ``bytecode.proofs_matches_source``
    the proofs code, while the genuine round's audit still passes both."""
    from modelpact.audit import run_audit
    from modelpact.audit.clones import clone_code
    from modelpact.compiler import compile_input, compiler_input

    w3, address = genuine.w3, genuine.record["address"]
    original = bytes(w3.eth.get_code(address))
    implementation, args = _clone_parts(original)
    proofs = w3.eth.contract(address=address, abi=genuine.record["abi"]).functions.proofs().call()
    standard = copy.deepcopy(compiler_input())
    unit = standard["sources"]["contracts/src/ModelpactProofs.sol"]
    unit["content"] += "\n// an unpublished fork\n"
    forked = compile_input(standard).contracts["ModelpactProofs"].runtime_bytecode
    fake_proofs, fake_impl = "0x" + "5e" * 20, "0x" + "5f" * 20
    w3.provider.make_request("anvil_setCode", [fake_proofs, forked])
    impl_code = _set_word(
        bytes(w3.eth.get_code(implementation)), "ModelpactRound",
        bytes.fromhex(proofs[2:]).rjust(32, b"\0"), bytes.fromhex(fake_proofs[2:]).rjust(32, b"\0"),
    )  # fmt: skip
    w3.provider.make_request("anvil_setCode", [fake_impl, "0x" + impl_code.hex()])
    swapped = clone_code(fake_impl, args)
    w3.provider.make_request("anvil_setCode", [address, "0x" + swapped.hex()])
    try:
        report = run_audit(address=address, rpc_url=node)
    finally:
        w3.provider.make_request("anvil_setCode", [address, "0x" + original.hex()])
    found = report.finding("bytecode.matches_source")
    assert found.status.value == "fail"
    assert [e.subject[:3] for e in found.failures] == ["(c)"]
    assert "the one its factory" in found.failures[0].expected
    proofs_found = report.finding("bytecode.proofs_matches_source")
    assert proofs_found.status.value == "fail"
    assert any("(b) the proofs implementation" in e.subject for e in proofs_found.failures)
    genuine_report = run_audit(address=address, rpc_url=node)
    for check in ("bytecode.matches_source", "bytecode.proofs_matches_source"):
        assert genuine_report.finding(check).status.value == "pass"


def _push32(value: bytes) -> bytes:
    return b"\x7f" + value.rjust(32, b"\0")


def _clone_init(runtime: bytes, storage: dict[str, str], logs: list[Any]) -> bytes:
    """Hand-written init code: write ``storage``, emit ``logs`` (the genuine creation's) and
    return ``runtime``. Data (log payloads, runtime) follow the code; offsets are patched in once
    the code's length is known."""
    blobs = [bytes(log["data"]) for log in logs] + [runtime]

    def code(offsets: list[int]) -> bytes:
        out = b""
        for slot, value in storage.items():
            out += _push32(bytes.fromhex(value[2:])) + _push32(bytes.fromhex(slot[2:])) + b"\x55"
        for i, log in enumerate(logs):
            n, off = len(blobs[i]), offsets[i]
            out += b"\x61" + n.to_bytes(2, "big") + b"\x61" + off.to_bytes(2, "big")
            out += b"\x60\x00\x39"  # CODECOPY(0, off, n)
            for topic in reversed(log["topics"]):
                out += _push32(bytes(topic))
            out += b"\x61" + n.to_bytes(2, "big") + b"\x60\x00" + bytes([0xA0 + len(log["topics"])])
        n, off = len(runtime), offsets[-1]
        out += b"\x61" + n.to_bytes(2, "big") + b"\x61" + off.to_bytes(2, "big") + b"\x60\x00\x39"
        out += b"\x61" + n.to_bytes(2, "big") + b"\x60\x00\xf3"  # RETURN(0, n)
        return out

    head = len(code([0] * len(blobs)))
    offsets, at = [], head
    for blob in blobs:
        offsets.append(at)
        at += len(blob)
    return code(offsets) + b"".join(blobs)


def test_the_audit_names_a_clone_made_by_hand_written_init_code(genuine: Round, node: str) -> None:
    """The clone a hostile coordinator can deploy on a live chain (no anvil_setCode) without the
    factory: the genuine round's exact code (same implementation, same arguments), its storage
    and its RoundPublished log, all written by hand-written init code. The wallet's guard
    refuses it (test_round_guard); the audit reads a round like the genuine one, and
    ``bytecode.matches_source`` fails naming the deployment (no RoundCreated of this round from
    the factory), while the genuine round still passes it."""
    from test_round_guard import ATTACKER

    from modelpact.audit import run_audit

    w3, address = genuine.w3, genuine.record["address"]
    tx_hash = genuine.record["tx_hash"]
    trace = w3.provider.make_request(
        "debug_traceTransaction",
        [tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
    )["result"]["post"]
    storage = trace[address.lower()]["storage"]
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    logs = [log for log in receipt["logs"] if log["address"] == address]
    attacker = w3.eth.accounts[ATTACKER]
    runtime = bytes(w3.eth.get_code(address))
    init = _clone_init(runtime, storage, logs)
    value = w3.eth.get_transaction(tx_hash)["value"]
    sent = w3.eth.send_transaction({"from": attacker, "data": "0x" + init.hex(), "value": value})
    made = w3.eth.wait_for_transaction_receipt(sent)
    assert made["status"] == 1
    clone = made["contractAddress"]
    assert bytes(w3.eth.get_code(clone)) == runtime
    report = run_audit(address=clone, rpc_url=node)
    failed = {f.id for f in report.findings if f.status.value == "fail"}
    assert failed == {"bytecode.matches_source"}, failed
    evidence = report.finding("bytecode.matches_source").failures
    assert [e.subject[:3] for e in evidence] == ["(d)"]
    assert "emitted no RoundCreated of this round" in evidence[0].found
    genuine_report = run_audit(address=address, rpc_url=node)
    assert genuine_report.finding("bytecode.matches_source").status.value == "pass"


def test_proof_commands_before_any_post_are_one_line(genuine: Round, node: str) -> None:
    """check-models, challenge and dispute run before the coordinator posted anything: one line
    each, exit 2, nothing sent."""
    from test_round_guard import ALICE_KEY, _one_line

    alice = genuine.w3.eth.account.from_key(ALICE_KEY).address
    before = genuine.wallet(alice)
    where = ("--deployment", str(genuine.record_path))
    for args in (
        ("check-models",),
        ("challenge", "--keystore", "alice.json"),
        ("dispute", "--keystore", "alice.json"),
    ):
        line = _one_line(_run(genuine.dir, node, "participant", *args, *where))
        assert "posted" in line or "reveal" in line or "join" in line, line
    assert genuine.wallet(alice) == before


def test_reveal_and_claim_say_what_they_send_before_sending(
    play: Callable[..., Played],
) -> None:
    """reveal and claim print the round, the action, the sending account and value 0 before
    sending (with --json on stderr: stdout stays one JSON document); a re-run that sends nothing
    and a withdrawal refused before sending print no such line."""
    p = play()
    alice, bob, carol = p.run.accounts
    where = p.run.deployed.address

    def said(account: Any, action: str) -> str:
        return f"sending {action} to round {where} from {account.address}, value 0 wei"

    done = p.cli("participant", "reveal", "--keystore", p.keystore(alice), "--json")
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)  # one JSON document
    assert said(alice, "reveal") in done.stderr.splitlines()
    assert said(bob, "reveal") in p.ok("participant", "reveal", "--keystore", p.keystore(bob))
    assert "sending" not in p.ok("participant", "reveal", "--keystore", p.keystore(bob))
    p.ok("participant", "reveal", "--keystore", p.keystore(carol))
    done = p.cli("participant", "claim", "--keystore", p.keystore(alice), "--json")
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)
    assert said(alice, "claim") in done.stderr.splitlines()
    refused = p.cli("participant", "withdraw-compensation", "--keystore", p.keystore(alice))
    assert refused.returncode == 2
    assert "sending" not in refused.stdout + refused.stderr

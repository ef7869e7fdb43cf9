"""Faults: an RPC endpoint that errors, stalls or loses responses is retried safely.

A tiny HTTP proxy on 127.0.0.1 (random port) sits in front of a real anvil node and fails, stalls
or swallows the response of chosen requests. modelpact.chain retries only idempotent calls
(reads, estimates, re-sending the SAME signed raw transaction) with bounded backoff; a node-signed
``eth_sendTransaction`` is never retried.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from modelpact import chain as ch
from modelpact import encoding as enc
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.backends.jsonrpc import RpcError
from modelpact.errors import ModelpactError
from modelpact.round.state import ParticipantProgress, StateFile

pytestmark = pytest.mark.anvil


class FaultyProxy:
    """Forwards JSON-RPC to ``upstream``; ``plan(method, n)`` says what to do with the n-th
    request of that method (1-based): "pass", "error" (HTTP 502, not forwarded), "stall" (sleep,
    then close, not forwarded), "lose" (forwarded, but the client gets HTTP 502) or "deny"
    (forwarded, but the client gets a JSON-RPC error, as a node that lies or fails late). A batch
    counts as one request of each method in it and gets the first fault any of them plans."""

    def __init__(self, upstream: str, plan: Callable[[str, int], str], stall: float = 2.0) -> None:
        self.upstream, self.plan, self.stall = upstream, plan, stall
        self.seen: dict[str, int] = {}
        self.faults = 0
        lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                payload = json.loads(body)
                items = payload if isinstance(payload, list) else [payload]
                action = "pass"
                with lock:
                    for item in items:
                        method = str(item.get("method", "?"))
                        proxy.seen[method] = proxy.seen.get(method, 0) + 1
                        planned = proxy.plan(method, proxy.seen[method])
                        action = planned if action == "pass" else action
                    if action != "pass":
                        proxy.faults += 1
                if action == "stall":
                    time.sleep(proxy.stall)
                    self.close_connection = True
                    return
                if action == "error":
                    self.send_error(502)
                    return
                request = urllib.request.Request(
                    proxy.upstream, data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = response.read()
                if action == "lose":
                    self.send_error(502)
                    return
                if action == "deny":
                    denied = {"code": -32000, "message": "internal error"}
                    answer = json.dumps({"jsonrpc": "2.0", "id": payload["id"], "error": denied})
                    answer = answer.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy_factory(anvil_node: AnvilNode) -> Iterator[Callable[..., FaultyProxy]]:
    made: list[FaultyProxy] = []

    def make(plan: Callable[[str, int], str], stall: float = 2.0) -> FaultyProxy:
        p = FaultyProxy(anvil_node.rpc_url, plan, stall)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def _join(setup: Any, rc: ch.RoundContract, who: Any) -> ch.TxResult:
    secret = enc.random_secret()
    return rc.join(
        who,
        option_id=0,
        data_root=enc.keccak256(who.address.encode()),
        row_count=setup.menu[0].data_count,
        commitment=enc.participant_commitment_v2(
            secret, 1, 2, who.address, rc.address, setup.chain.chain_id
        ),
    )


def _through(proxy: FaultyProxy, setup: Any, timeout: float = 30.0) -> ch.RoundContract:
    chain = ch.connect(chain="anvil", rpc_url=proxy.url, timeout=timeout)
    return ch.round_at(chain, setup.round.address, setup.round.abi)


@pytest.mark.parametrize("fault", ["error", "stall"])
def test_failing_endpoint_is_retried_for_reads_and_signed_sends(
    anvil_node: AnvilNode, deploy_setup: Any, proxy_factory: Any, fault: str
) -> None:
    """The first 3 requests of every method fail (HTTP 502), or the first 2 stall past the client
    timeout: connecting, reading and a signed join still succeed, with exactly one Joined on chain
    and the sender's nonce up by exactly one."""
    setup = deploy_setup(ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url))
    failures = 3 if fault == "error" else 2  # stalls cost a client timeout each: keep it short
    proxy = proxy_factory(lambda method, n: fault if n <= failures else "pass", stall=1.0)
    rc = _through(proxy, setup, timeout=0.5)
    who = rc.chain.local_account(5)
    nonce = rc.chain.w3.eth.get_transaction_count(who.address)
    result = _join(setup, rc, who)
    assert proxy.faults >= 3
    assert setup.round.joined_count() == 1
    assert len([e for e in result.events if e.name == "Joined"]) == 1
    assert setup.chain.w3.eth.get_transaction_count(who.address) == nonce + 1


@pytest.mark.parametrize("send", ["eth_sendRawTransaction", "eth_sendRawTransactionSync"])
def test_lost_broadcast_response_is_resent_not_resigned(
    anvil_node: AnvilNode, deploy_setup: Any, proxy_factory: Any, send: str
) -> None:
    """The node receives a signed join but its answer is lost twice: the SAME raw bytes are sent
    again (the node answers "already known" / "nonce too low") and the hash is recovered; one
    join, one nonce, one bond on chain. Whether the send answers the hash (then receipts are
    polled) or the receipt (EIP-7966's sync send, which anvil has)."""
    setup = deploy_setup(ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url))
    proxy = proxy_factory(lambda m, n: "lose" if m == send and n <= 2 else "pass")
    rc = _through(proxy, setup)
    rc.chain.backend.rpc.sync_sends = send.endswith("Sync")  # type: ignore[attr-defined]
    who = rc.chain.local_account(6)
    nonce = rc.chain.w3.eth.get_transaction_count(who.address)
    balance = setup.round.balance()
    _join(setup, rc, who)
    assert proxy.seen[send] >= 2
    assert setup.round.joined_count() == 1
    assert setup.chain.w3.eth.get_transaction_count(who.address) == nonce + 1
    assert setup.round.balance() == balance + setup.config.participant_bond


def test_node_signed_send_is_never_retried(
    anvil_node: AnvilNode, deploy_setup: Any, proxy_factory: Any
) -> None:
    """A failing ``eth_sendTransaction`` (the node would sign a NEW transaction) is not retried:
    the caller gets one error, the proxy saw exactly one such request, nothing was sent."""
    setup = deploy_setup(ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url))
    proxy = proxy_factory(lambda m, n: "error" if m == "eth_sendTransaction" else "pass")
    rc = _through(proxy, setup)
    who = rc.chain.accounts[7]  # node-unlocked: the node signs
    nonce = rc.chain.w3.eth.get_transaction_count(who)
    with pytest.raises(Exception):  # noqa: B017, PT011 (web3's HTTPError or NodeUnavailableError)
        rc.join(
            who,
            option_id=0,
            data_root=enc.keccak256(b"x"),
            row_count=setup.menu[0].data_count,
            commitment=enc.keccak256(b"c"),
        )
    assert proxy.seen["eth_sendTransaction"] == 1
    assert setup.round.joined_count() == 0
    assert setup.chain.w3.eth.get_transaction_count(who) == nonce


def test_sync_send_answers_the_receipt_on_anvil(
    anvil_node: AnvilNode, deploy_setup: Any, proxy_factory: Any
) -> None:
    """On automining anvil a signed join goes out with eth_sendRawTransactionSync (probed once
    per client) and its receipt comes back with it: no receipt poll, the Joined event decoded."""
    setup = deploy_setup(ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url))
    proxy = proxy_factory(lambda m, n: "pass")
    rc = _through(proxy, setup)
    results = [_join(setup, rc, rc.chain.local_account(i)) for i in (6, 7)]
    assert [[e.name for e in r.events] for r in results] == [["Joined"], ["Joined"]]
    assert proxy.seen["eth_sendRawTransactionSync"] == 3  # the probe, then one per join
    assert "eth_getTransactionReceipt" not in proxy.seen
    assert "eth_sendRawTransaction" not in proxy.seen


def test_without_automine_receipts_are_polled(
    anvil_node: AnvilNode, deploy_setup: Any, proxy_factory: Any
) -> None:
    """A node that does not mine each transaction as it arrives would hold a sync send for a
    block time: the probe says no, the join is sent plainly and its receipt polled."""
    setup = deploy_setup(ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url))
    proxy = proxy_factory(lambda m, n: "pass")
    rc = _through(proxy, setup)
    setup.chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        assert not rc.chain.backend.rpc.sends_sync()  # type: ignore[attr-defined]
    finally:
        setup.chain.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    result = _join(setup, rc, rc.chain.local_account(6))
    assert [e.name for e in result.events] == ["Joined"]
    assert proxy.seen["eth_sendRawTransaction"] == 1
    assert proxy.seen["eth_getTransactionReceipt"] >= 1


@pytest.mark.parametrize("fault", ["lose", "deny"])
@pytest.mark.parametrize("send", ["eth_sendRawTransaction", "eth_sendRawTransactionSync"])
def test_hash_is_recorded_before_a_send_whose_answer_never_comes(
    anvil_node: AnvilNode,
    deploy_setup: Any,
    proxy_factory: Any,
    tmp_path: Path,
    send: str,
    fault: str,
) -> None:
    """The node mines a signed join but every answer to its send is lost, or is an error (the
    command fails as if it crashed after the send): the state file already holds the join's
    hash, so the re-run waits for that transaction instead of sending a second one. One join,
    one nonce."""
    setup = deploy_setup(ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url))
    proxy = proxy_factory(lambda m, n: fault if m == send else "pass")
    rc = _through(proxy, setup, timeout=2.0)
    rc.chain.backend.rpc.sync_sends = send.endswith("Sync")  # type: ignore[attr-defined]
    who = rc.chain.local_account(6)
    nonce = setup.chain.w3.eth.get_transaction_count(who.address)
    state = StateFile(
        tmp_path / "participant.json",
        ParticipantProgress,
        deployment=rc.address,
        account=who.address,
    )
    call = rc.join.call(
        option_id=0,
        data_root=enc.keccak256(who.address.encode()),
        row_count=setup.menu[0].data_count,
        commitment=enc.keccak256(b"c"),
    )
    with pytest.raises((ModelpactError, RpcError)):
        rc.step(state.slot("join_tx"), "join").send(lambda: rc.send(call, who))
    assert setup.round.joined_count() == 1  # mined, though the command never heard of it
    recorded = state.load().join_tx
    assert recorded is not None, "the mined join's hash was never recorded: a re-run sends again"
    rerun = ch.round_at(ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url), rc.address, rc.abi)
    done = rerun.step(state.slot("join_tx"), "join").previous()
    assert done is not None
    assert [e.name for e in done.events] == ["Joined"]
    assert setup.chain.w3.eth.get_transaction_count(who.address) == nonce + 1

"""The round's views without web3's per-call machinery: answers equal to web3's, independent
views batched into one exchange, values the round cannot change read once, everything else
read every time, and a participant's own events filtered by its indexed topic (and checked again
here, whatever the node answers)."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import RoundSetup, commitment, data_root

from modelpact import chain as ch
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.chain.backends.jsonrpc import JsonRpcClient


def _join(s: RoundSetup, index: int) -> str:
    who = s.participants[index]
    address = who if isinstance(who, str) else who.address
    s.round.join(
        who,
        option_id=0,
        data_root=data_root(address, index),
        row_count=s.menu[0].data_count,
        commitment=commitment(s, address, bytes([index + 1]) * 32, index),
    )
    return address


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return bytes(value) if isinstance(value, bytes) else value


def _outcome(read: Any, abi: Any) -> Any:
    """A view's answer, or the name of the error it raised (web3's decoded against ``abi``)."""
    try:
        return ("ok", _plain(read()))
    except ch.ContractRevertError as error:
        return ("revert", error.error_name)
    except Exception as error:
        decoded = ch.revert_from_exception(abi, error)
        return ("revert", decoded.error_name if decoded is not None else repr(error))


def test_views_answer_as_web3_does(round_setup: RoundSetup) -> None:
    """Every view the workflows read answers what web3's ``fn.call()`` answers (structs as
    tuples, addresses checksummed, one output unwrapped), a revert is the same named error, and
    the same views in one batch answer the same, each revert in its own place."""
    s = round_setup
    rc = s.round
    joined = _join(s, 0)
    stranger = s.chain.accounts[5]
    calls: list[tuple[str, tuple[Any, ...]]] = [
        ("config", ()),
        ("coordinator", ()),
        ("coordinatorBond", ()),
        ("phase", ()),
        ("deadlines", ()),
        ("optionCount", ()),
        ("option", (1,)),
        ("option", (7,)),
        ("participant", (joined,)),
        ("participant", (stranger,)),
        ("commitmentOf", (data_root(joined, 0),)),
        ("predictedAccuracy", (150,)),
        ("assignment", (joined, bytes(32))),
        ("entitlement", (joined,)),
        ("deliveryOf", (joined,)),
        ("shortfall", ()),
        ("proofs", ()),
        ("MIN_WINDOW", ()),
    ]
    functions = rc.web3_contract.functions
    expected = [
        _outcome(lambda n=name, a=args: getattr(functions, n)(*a).call(), rc.abi)
        for name, args in calls
    ]
    got = [_outcome(lambda n=name, a=args: rc._view(n, *a), rc.abi) for name, args in calls]
    assert got == expected
    batched = rc.views(calls)
    assert [
        ("revert", b.error_name) if isinstance(b, ch.ContractRevertError) else ("ok", _plain(b))
        for b in batched
    ] == expected
    assert ("revert", "NotParticipant") in expected
    assert ("revert", "UnknownOption") in expected
    assert rc.standing(stranger).participant is None
    standing = rc.standing(joined, joined_since=0, balance=True)
    assert (standing.participant, standing.phase) == (rc.participant(joined), rc.phase())
    assert standing.balance == s.chain.balance(joined)
    assert standing.joined == rc.events(names=("Joined",), participant=joined)[0]
    assert rc.standing(stranger, joined_since=0).joined is None
    root = data_root(joined, 0)
    assert rc.standing(joined, stored_under=root).stored_commitment == rc.commitment_of(root)


class _Counted:
    """Counts the eth_calls a lean JSON-RPC client sends (single or batched) and the HTTP
    exchanges they take."""

    def __init__(self, client: JsonRpcClient, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        self.exchanges = 0
        exchange = client._exchange

        def counted(calls: Any, *, retry: bool) -> Any:
            self.exchanges += 1
            self.calls += [
                str(params[0]["data"])[:10] for method, params in calls if method == "eth_call"
            ]
            return exchange(calls, retry=retry)

        monkeypatch.setattr(client, "_exchange", counted)


@pytest.mark.anvil
def test_only_values_the_round_cannot_change_are_read_once(
    anvil_node: AnvilNode, deploy_setup: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clone's immutable args (config, coordinator, bond) and the initialized menu are
    asked once per contract object; the phase, counts and a participant's record every time;
    going back to a snapshot asks the kept values again."""
    chain = ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url)
    s = deploy_setup(chain)
    rc = ch.RoundContract(chain, s.round.address, s.round.abi)
    counted = _Counted(chain.backend.rpc, monkeypatch)  # type: ignore[attr-defined]
    for _ in range(3):
        assert rc.config() == s.config
        rc.coordinator()
        rc.coordinator_bond()
        assert rc.options() == s.menu
    assert len(counted.calls) == 3 + 1 + len(s.menu)  # config, coordinator, bond; the menu
    before = len(counted.calls)
    for _ in range(3):
        rc.phase()
        rc.joined_count()
    assert len(counted.calls) == before + 6
    snapshot = chain.snapshot()
    chain.revert_to(snapshot)
    before = len(counted.calls)
    rc.config()
    assert len(counted.calls) == before + 1


@pytest.mark.anvil
def test_a_batch_is_one_exchange(
    anvil_node: AnvilNode, deploy_setup: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Independent views go to the node in one HTTP exchange (a JSON-RPC batch)."""
    chain = ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url)
    s = deploy_setup(chain)
    counted = _Counted(chain.backend.rpc, monkeypatch)  # type: ignore[attr-defined]
    records = s.round.participants([chain.accounts[i] for i in range(5, 9)])
    assert records == [None] * 4
    assert counted.exchanges == 1
    assert len(counted.calls) == 4


def test_participant_events_are_that_participants_only(round_setup: RoundSetup) -> None:
    """``events(names, participant=...)`` answers only that participant's events (any spelling
    of its address), on both chains; asking for a participant's events without naming them is a
    bug, and so is naming an event that is not indexed by participant."""
    s = round_setup
    first, second = _join(s, 0), _join(s, 1)
    mine = s.round.events(names=("Joined",), participant=second.lower())
    assert [e.args["participant"] for e in mine] == [second]
    assert len(s.round.events(names=("Joined",))) == 2
    assert [
        e.args["participant"] for e in s.round.events(names=("Joined",), participant=first)
    ] == [first]
    with pytest.raises(ch.ChainError):
        s.round.events(participant=first)
    with pytest.raises(ch.ChainError):
        s.round.events(names=("RoundPublished",), participant=first)


class _Node:
    """A node with its own habits: a proxy in front of anvil. ``ignore_topics``: every log
    filter's topics past the first are dropped (asked for one participant's events, it answers
    every participant's); ``batches``: "serve", "refuse" (one error object for the whole
    batch) or "per call" (an error without revert data for each call, as a batch size limit)."""

    def __init__(self, upstream: str, *, ignore_topics: bool = False, batches: str = "serve"):
        node = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self._answer(node.answer(upstream, payload))

            def _answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.ignore_topics, self.batches = ignore_topics, batches
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, upstream: str, payload: Any) -> bytes:
        refusal = {"code": -32600, "message": "batch requests are not served"}
        if isinstance(payload, list) and len(payload) > 1 and self.batches == "refuse":
            return json.dumps({"jsonrpc": "2.0", "id": None, "error": refusal}).encode()
        if isinstance(payload, list) and len(payload) > 1 and self.batches == "per call":
            return json.dumps(
                [{"jsonrpc": "2.0", "id": i["id"], "error": refusal} for i in payload]
            ).encode()
        for item in payload if isinstance(payload, list) else [payload]:
            if self.ignore_topics and item.get("method") == "eth_getLogs":
                item["params"][0]["topics"] = item["params"][0].get("topics", [])[:1]
        request = urllib.request.Request(
            upstream,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            body: bytes = answer.read()
        return body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def topic_ignoring_node(anvil_node: AnvilNode) -> Iterator[str]:
    """A node that answers every participant's events to one participant's lookup."""
    node = _Node(anvil_node.rpc_url, ignore_topics=True)
    try:
        yield node.url
    finally:
        node.close()


@pytest.mark.anvil
@pytest.mark.parametrize("batches", ["refuse", "per call"])
def test_a_node_that_does_not_serve_batches_is_asked_call_by_call(
    anvil_node: AnvilNode, deploy_setup: Any, batches: str
) -> None:
    """A node that refuses batches (as a whole, or each call of one with an error that is no
    revert) still answers every read, each asked on its own; a revert stays its named error."""
    s = deploy_setup(ch.connect(chain="anvil", rpc_url=anvil_node.rpc_url))
    joined = _join(s, 0)
    node = _Node(anvil_node.rpc_url, batches=batches)
    try:
        chain = ch.connect(chain="anvil", rpc_url=node.url)
        rc = ch.RoundContract(chain, s.round.address, s.round.abi)
        standing = rc.standing(joined, joined_since=0, balance=True)
        assert standing.participant == s.round.participant(joined)
        assert standing.joined is not None
        assert standing.balance == s.chain.balance(joined)
        stranger, option = rc.views([("participant", (s.chain.accounts[6],)), ("option", (0,))])
        assert isinstance(stranger, ch.ContractRevertError)
        assert stranger.error_name == "NotParticipant"
        assert option == s.menu[0].as_tuple()
    finally:
        node.close()


@pytest.mark.anvil
def test_a_node_ignoring_the_participant_filter_gains_nothing(
    topic_ignoring_node: str, deploy_setup: Any
) -> None:
    """A node that answers every participant's events to one participant's lookup does not
    make another participant's event look like its own: they are checked after decoding."""
    chain = ch.connect(chain="anvil", rpc_url=topic_ignoring_node)
    s = deploy_setup(chain)
    _join(s, 0)
    second = _join(s, 1)
    nobody = "0x" + "00" * 32
    topic = ch.event_topic(s.round.abi, "Joined")
    query = {"address": s.round.address, "fromBlock": "0x0", "topics": [[topic], [nobody]]}
    answered = chain.backend.rpc.request("eth_getLogs", [query])  # type: ignore[attr-defined]
    assert len(answered) == 2  # the node does ignore the participant topic
    mine = s.round.events(names=("Joined",), participant=second)
    assert [e.args["participant"] for e in mine] == [second]

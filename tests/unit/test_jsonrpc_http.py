"""The JSON-RPC client's HTTP answer reader: every framing HTTP/1.1 allows, read in pieces of
any size, gives the body; a connection the node closes mid-answer is a transport error (retried
by the client for idempotent calls), a malformed answer a ValueError."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelpact.chain.backends.jsonrpc import JsonRpcClient, RpcTransportError, _read_response


def _answer(raw: bytes, pieces: list[int]) -> tuple[int, str, bool, bytes]:
    """``raw`` written by a peer in pieces of the given sizes (then the rest, then closed),
    read by :func:`_read_response`."""
    ours, theirs = socket.socketpair()

    def write() -> None:
        at = 0
        for size in pieces:
            theirs.sendall(raw[at : at + size])
            at += size
        theirs.sendall(raw[at:])
        theirs.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        ours.settimeout(5)
        return _read_response(ours)
    finally:
        writer.join()
        ours.close()


def _chunked(body: bytes, sizes: Iterator[int]) -> bytes:
    out, at = b"", 0
    while at < len(body):
        size = max(1, next(sizes))
        piece = body[at : at + size]
        out += b"%x;ext=1\r\n" % len(piece) + piece + b"\r\n"
        at += len(piece)
    return out + b"0\r\nX-Trailer: yes\r\n\r\n"


bodies = st.binary(max_size=3000)
pieces = st.lists(st.integers(min_value=1, max_value=700), max_size=12)


@settings(max_examples=80, deadline=None)
@given(body=bodies, split=pieces, chunk_sizes=st.lists(st.integers(1, 900), min_size=1))
def test_every_framing_gives_the_body(
    body: bytes, split: list[int], chunk_sizes: list[int]
) -> None:
    """Content-Length, chunked (with extensions and trailers) and close-delimited bodies, after
    a 100 Continue, arriving in arbitrary pieces, all read back exactly."""
    length = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    assert _answer(length, split) == (200, "OK", False, body)
    sizes = iter(chunk_sizes * (len(body) + 1))
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(body, sizes)
    assert _answer(chunked, split) == (200, "OK", False, body)
    until_close = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body
    assert _answer(until_close, split) == (200, "OK", True, body)
    continued = b"HTTP/1.1 100 Continue\r\n\r\n" + length
    assert _answer(continued, split) == (200, "OK", False, body)


def test_connection_close_and_error_status_are_reported() -> None:
    """``Connection: close`` (and HTTP/1.0) say the connection ends; a 502's status and reason
    come back for the client to raise as a transport error."""
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
    assert _answer(closing, []) == (200, "OK", True, b"{}")
    bad = b"HTTP/1.0 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad"
    assert _answer(bad, [5]) == (502, "Bad Gateway", True, b"bad")


def test_an_answer_cut_short_is_a_transport_error() -> None:
    """The node closing the connection before the whole body (or the headers) arrived is a
    transport error (the client retries idempotent calls on a new connection)."""
    with pytest.raises(RpcTransportError):
        _answer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", [])
    with pytest.raises(RpcTransportError):
        _answer(b"HTTP/1.1 200 OK\r\nContent-Le", [])


def test_what_is_not_http_is_refused() -> None:
    """A peer that does not speak HTTP is a ValueError (the client treats it as a failed
    exchange)."""
    with pytest.raises(ValueError, match="not an HTTP answer"):
        _answer(b"SSH-2.0-OpenSSH\r\n\r\n", [])


def test_a_hostile_framing_is_refused_before_it_fills_memory() -> None:
    """A chunk-size line that never ends, a negative chunk size and a negative Content-Length
    are ValueErrors (a failed exchange), not an answer nor an ever-growing buffer."""
    # just past the 64 KiB bound, and small enough for the socket pair's buffer
    endless = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 70_000
    with pytest.raises(ValueError, match="chunk line without end"):
        _answer(endless, [])
    with pytest.raises(ValueError, match="negative chunk size"):
        _answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabc\r\n0\r\n\r\n", [])
    with pytest.raises(ValueError, match="negative Content-Length"):
        _answer(b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n{}", [])


def _node_answering(answer: Callable[[Any], Any]) -> JsonRpcClient:
    """A client whose node answers every request with ``answer(request)`` (the request's
    parsed JSON in, the answer's JSON out): the transport is the node's, the rest ours."""
    import json

    client = JsonRpcClient("http://127.0.0.1:9")
    setattr(client, "_post", lambda body, left: json.dumps(answer(json.loads(body))).encode())  # noqa: B010
    return client


def test_a_batch_answer_is_matched_by_id_whatever_the_node_does_with_it() -> None:
    """A node answers a batch out of order, adds an answer to an id nobody asked, leaves one
    call unanswered and fails another: each call gets ITS answer (by id), the unanswered one
    an error, the failed one its error; nothing is shifted onto a neighbour."""
    from modelpact.chain.backends.jsonrpc import RpcError

    def node(requests: list[dict[str, object]]) -> list[dict[str, object]]:
        first, _second, third, fourth = requests
        return [
            {"jsonrpc": "2.0", "id": fourth["id"], "error": {"code": 3, "message": "no"}},
            {"jsonrpc": "2.0", "id": 10**9, "result": "0xbad"},  # an id never asked
            {"jsonrpc": "2.0", "id": third["id"], "result": "0x3"},
            {"jsonrpc": "2.0", "id": first["id"], "result": "0x1"},
        ]  # the second: no answer

    client = _node_answering(node)
    calls: list[tuple[str, list[Any]]] = [
        ("eth_blockNumber", []),
        ("eth_chainId", []),
        ("eth_gasPrice", []),
        ("eth_call", []),
    ]
    one, two, three, four = client.batch(calls)
    assert (one, three) == ("0x1", "0x3")
    assert isinstance(two, RpcError)
    assert "no answer" in str(two)
    assert isinstance(four, RpcError)
    assert four.code == 3


def test_a_single_answer_with_another_id_is_no_answer() -> None:
    """A node answering a single call with another request's id (a stale answer on a reused
    connection, or a lie) is not taken as this call's result."""
    from modelpact.chain.backends.jsonrpc import RpcError

    client = _node_answering(lambda r: {"jsonrpc": "2.0", "id": r["id"] + 1, "result": "0x5"})
    with pytest.raises(RpcError, match="no answer"):
        client.request("eth_blockNumber")

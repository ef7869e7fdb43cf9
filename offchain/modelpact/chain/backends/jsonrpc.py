"""A lean JSON-RPC 2.0 client over HTTP: what the transaction layer talks to a node through.

web3's provider stack costs more than the node on a local chain (middleware, request and result
formatters, and an ``eth_chainId`` round trip before every call, estimate and send), so the hot
path -- views, gas estimates, nonces, fees, broadcasts, receipts, logs -- goes through this
client instead: one keep-alive connection per thread, the request written in one ``send``, the
answer parsed with :mod:`json`, and several calls in one HTTP request when they are independent
(:meth:`JsonRpcClient.batch`). Results stay in JSON-RPC form (hex quantities); the callers in
:mod:`modelpact.chain.transactions` and :mod:`modelpact.chain.contract` decode what they need.

Forked processes (:mod:`modelpact.parallel`'s workers): a child never writes into a connection
it inherited (two processes on one keep-alive connection would each read the other's answers).
At every fork, each client in the child forgets the connections and locks it inherited and opens
its own on first use; the parent's connections are untouched (only the child's copies of their
descriptors are closed: a TCP connection ends with its last descriptor).

Retry rules (the same as the web3 provider's, :data:`~modelpact.chain.backends.rpc.RPC_ATTEMPTS`
attempts with backoff ``RPC_BACKOFF_SECONDS * 2**attempt`` within ``deadline`` seconds per call):
a method in :data:`IDEMPOTENT` -- reads, estimates, and re-sending the SAME signed raw
transaction -- is retried when the endpoint fails (connection refused or reset, timeout, an HTTP
error status); anything else, above all ``eth_sendTransaction`` (the node signs a NEW
transaction), is sent exactly once (and never through this client: it stays on web3).
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["IDEMPOTENT", "SEND_SYNC", "JsonRpcClient", "RpcError", "RpcTransportError"]

SEND_SYNC = "eth_sendRawTransactionSync"
"""EIP-7966: ``eth_sendRawTransaction`` that answers with the receipt once the transaction is
mined (anvil 1.7 has it), saving the receipt polls of every transaction."""
_SYNC_TIMEOUT_CODE = 4  # EIP-7966: accepted, not mined within the node's timeout
_MINED_KEPT = 4096  # receipts a sync send answered, kept until waited for (oldest dropped)

IDEMPOTENT = frozenset(
    {
        "eth_chainId",
        "eth_accounts",
        "eth_blockNumber",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getTransactionByHash",
        "eth_getTransactionReceipt",
        "eth_getTransactionCount",
        "eth_call",
        "eth_estimateGas",
        "eth_getLogs",
        "eth_sendRawTransaction",  # the same signed bytes: at most one transaction
        "eth_sendRawTransactionSync",  # the same, answered with the receipt (EIP-7966)
        "net_version",
        "txpool_status",
    }
)
"""Methods that are safe to send again when the endpoint failed (see the module doc)."""


class RpcError(Exception):
    """The node answered a call with a JSON-RPC error. ``data`` is the error's data (revert
    bytes as ``0x`` hex for a reverted call or estimate), read by
    :func:`~modelpact.chain.errors.web3_revert_data` like web3's own exceptions. Not a
    :class:`~modelpact.errors.ModelpactError`: callers decode it (a revert, insufficient funds,
    "already known") the way they decode web3's ``Web3RPCError``."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.code = int(error.get("code", 0))
        self.rpc_message = str(error.get("message", ""))
        self.data: Any = error.get("data")
        super().__init__(f"the node refused {method}: {self.rpc_message}")


class RpcTransportError(ConnectionError):
    """The endpoint did not answer (refused, reset, timed out, or an HTTP error status)."""


_Call = tuple[str, Sequence[Any]]
_BROADCASTS = frozenset({"eth_sendRawTransaction", SEND_SYNC})


class JsonRpcClient:
    """JSON-RPC over HTTP(S) at ``url`` (see the module doc). Thread-safe: each thread keeps its
    own connection."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        attempts: int = 5,
        backoff: float = 0.125,
        deadline: float = 10.0,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"not an http(s) URL: {url}")
        self.url = url
        self._https = parsed.scheme == "https"
        self._host = parsed.hostname
        self._port = parsed.port or (443 if self._https else 80)
        self._path = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
        host = self._host if ":" not in self._host else f"[{self._host}]"  # an IPv6 literal
        default_port = 443 if self._https else 80
        authority = host if parsed.port in (None, default_port) else f"{host}:{self._port}"
        self._head = (
            f"POST {self._path} HTTP/1.1\r\nHost: {authority}\r\nAccept-Encoding: identity\r\n"
            "Content-Type: application/json\r\nConnection: keep-alive\r\nContent-Length: "
        ).encode("ascii")
        """Every request's line and headers up to its Content-Length value."""
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.deadline = max(deadline, timeout)
        self._local = threading.local()
        self._ids = iter(range(1, 2**62))
        self._id_lock = threading.Lock()
        self.sync_sends: bool | None = None
        """Whether broadcasts use :data:`SEND_SYNC` (None until :meth:`sends_sync` asks the
        node; set False to always poll for receipts)."""
        self._mined: dict[str, dict[str, Any]] = {}
        self._mined_lock = threading.Lock()
        _CLIENTS.add(self)

    def _forget_inherited(self) -> None:
        """In a forked child: drop the connection and the locks inherited from the parent (see
        the module doc); the kept receipts stay (they are the chain's, whoever reads them)."""
        inherited: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        self._local = threading.local()
        self._id_lock = threading.Lock()  # a lock another parent thread held stays held here
        self._mined_lock = threading.Lock()
        if inherited is not None:
            inherited.close()  # this process's descriptor only: no shutdown, the parent's works

    # ------------------------------------------------------------------ public

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """The result of one call; :class:`RpcError` when the node answers with an error,
        :class:`RpcTransportError` when it does not answer (after the retries it allows)."""
        held: list[str] | None = getattr(self._local, "held", None)
        if held is not None and method in _BROADCASTS:
            return _held_hash(held, str(params[0]))
        (answer,) = self._exchange([(method, params)], retry=method in IDEMPOTENT)
        return _result(method, answer)

    @contextmanager
    def held_broadcasts(self) -> Iterator[list[str]]:
        """Within the block (this thread), signed transactions this client is asked to
        broadcast (``eth_sendRawTransaction``, :data:`SEND_SYNC`) are not sent: each is answered
        with its hash (the keccak of its bytes, what a node answers; no receipt) and kept, in
        order, in the list yielded (``0x`` hex), for the caller to broadcast in the order it
        chooses (:func:`~modelpact.chain.transactions.send_raw_once`). The demo's forked
        workers sign and record their participants' transactions this way and the parent sends
        them in participant order: the order of joins is the participants' seats, which their
        draws depend on. Every step records a hash before its broadcast, so a hash held and
        never sent (the process died first) is one the node never saw: the step's re-run sends
        again."""
        held: list[str] = []
        outer = getattr(self._local, "held", None)
        self._local.held = held
        try:
            yield held
        finally:
            self._local.held = outer

    def batch(self, calls: Sequence[_Call]) -> list[Any]:
        """Several independent calls in one HTTP request; each result, or the
        :class:`RpcError` of that call, in order. Retried only when every call is idempotent."""
        if not calls:
            return []
        retry = all(method in IDEMPOTENT for method, _ in calls)
        answers = self._exchange(calls, retry=retry)
        out: list[Any] = []
        for (method, _), answer in zip(calls, answers, strict=True):
            try:
                out.append(_result(method, answer))
            except RpcError as error:
                out.append(error)
        return out

    def sends_sync(self) -> bool:
        """Whether broadcasts should use :data:`SEND_SYNC`: asked once per client (one batched
        request, nothing sent or signed). Only a node that knows the method (it rejects empty
        transaction bytes as invalid params rather than as an unknown method) AND mines each
        transaction as it arrives (anvil's or Hardhat's automine) qualifies: elsewhere a sync
        send would hold the connection for a whole block time, so those nodes are polled."""
        if self.sync_sends is None:
            try:
                answers = self.batch(
                    [(SEND_SYNC, ["0x"]), ("anvil_getAutomine", []), ("hardhat_getAutomine", [])]
                )
            except (RpcError, RpcTransportError):
                return False  # not cached: a node that did not answer is asked again
            known = isinstance(answers[0], RpcError) and answers[0].code == -32602
            self.sync_sends = known and True in answers[1:]
        return self.sync_sends

    def send_sync(self, raw_hex: str, tx_hash: str) -> str | None:
        """Send signed bytes (whose hash is ``tx_hash``) with :data:`SEND_SYNC`; the hash the
        node answered (the receipt kept for :meth:`take_mined` when it is ``tx_hash``'s), or None
        when the node accepted it but did not mine it within its own timeout (then poll).
        Errors as :meth:`request`'s."""
        try:
            receipt = self.request(SEND_SYNC, [raw_hex])
        except RpcError as error:
            if error.code == _SYNC_TIMEOUT_CODE:
                return None
            raise
        if not isinstance(receipt, dict):  # a bare hash (or nothing): poll for the receipt
            return None if receipt is None else str(receipt).lower()
        answered = str(receipt.get("transactionHash")).lower()
        if answered == tx_hash.lower() and receipt.get("blockNumber") is not None:
            with self._mined_lock:
                self._mined[answered] = receipt
                while len(self._mined) > _MINED_KEPT:
                    del self._mined[next(iter(self._mined))]
        return answered

    def knows_mined(self, tx_hash: str) -> bool:
        """Whether a sync send answered the receipt of ``tx_hash`` (not yet taken)."""
        return tx_hash.lower() in self._mined

    def take_mined(self, tx_hash: str) -> dict[str, Any] | None:
        """The receipt a sync send answered for ``tx_hash`` (JSON-RPC form), once; else None."""
        with self._mined_lock:
            return self._mined.pop(tx_hash.lower(), None)

    def forget_mined(self) -> None:
        """Drop the kept receipts (the chain was reverted to a snapshot: they may be gone)."""
        with self._mined_lock:
            self._mined.clear()

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # ------------------------------------------------------------------ transport

    def _exchange(self, calls: Sequence[_Call], *, retry: bool) -> list[dict[str, Any]]:
        with self._id_lock:
            ids = [next(self._ids) for _ in calls]
        payload: Any = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": list(params)}
            for i, (method, params) in zip(ids, calls, strict=True)
        ]
        single = len(calls) == 1
        body = json.dumps(payload[0] if single else payload, separators=(",", ":")).encode()
        attempts = self.attempts if retry else 1
        deadline = time.monotonic() + self.deadline
        for attempt in range(attempts):
            try:
                answer = json.loads(self._post(body, deadline - time.monotonic()))
                break
            except (OSError, http.client.HTTPException, ValueError) as error:
                self.close()
                pause = self.backoff * 2**attempt
                if attempt == attempts - 1 or time.monotonic() + pause >= deadline:
                    if isinstance(error, RpcTransportError):
                        raise
                    raise RpcTransportError(f"{type(error).__name__}: {error}") from error
                time.sleep(pause)
        if single:
            answer = [answer]
        if not isinstance(answer, list):  # a batch refused as a whole: one error object
            raise RpcError(calls[0][0], dict(answer.get("error") or {"message": str(answer)}))
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        return [by_id.get(i, {"error": {"message": "no answer in the batch"}}) for i in ids]

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None and connection.sock is None:
            connection = None  # closed after an answer that ended it (Connection: close)
        if connection is not None and connection.sock is not None:
            # A keep-alive socket that is readable while idle was closed by the node: reconnect
            # before writing, so a request is never written into a dead connection.
            readable, _, _ = select.select([connection.sock], [], [], 0)
            if readable:
                connection.close()
                connection = None
        if connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = kind(self._host, self._port, timeout=self.timeout)
            connection.connect()
            # a request is one small write: without TCP_NODELAY Nagle's algorithm can hold it
            # until the node acknowledges the previous one (a delayed ACK: up to 40 ms)
            if connection.sock is not None:
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.connection = connection
        return connection

    def _post(self, body: bytes, left: float) -> bytes:
        """POST ``body`` on this thread's keep-alive connection and return the answer's body.
        The request goes out in one write (each write wakes the node: on a busy machine a
        scheduler slice each) and the answer is read by :func:`_read_response`: http.client's
        response object parses its headers with the email package, which cost more CPU than
        the node spends answering a call (~0.1 ms of ~0.24 ms per request, measured)."""
        connection = self._connection()
        sock = connection.sock
        if sock is None:  # connect() sets it
            raise RpcTransportError("not connected")
        sock.settimeout(max(0.1, min(self.timeout, left)))
        sock.sendall(self._head + b"%d\r\n\r\n" % len(body) + body)
        status, reason, close, data = _read_response(sock)
        if status != 200:
            connection.close()
            raise RpcTransportError(f"HTTP {status} {reason}")
        if close:
            connection.close()
        return data


_CLIENTS: weakref.WeakSet[JsonRpcClient] = weakref.WeakSet()
"""Every client of this process, for the fork hook (a client that is gone is gone from here)."""


def _forget_inherited_connections() -> None:
    for client in list(_CLIENTS):
        client._forget_inherited()


os.register_at_fork(after_in_child=_forget_inherited_connections)


def _held_hash(held: list[str], raw_hex: str) -> str:
    """Keep ``raw_hex`` for a later broadcast; its transaction hash."""
    from eth_utils.crypto import keccak

    held.append(raw_hex)
    return "0x" + bytes(keccak(hexstr=raw_hex)).hex()


_MAX_HEAD = 65536  # bytes of status line and headers an answer may have


def _read_response(sock: socket.socket) -> tuple[int, str, bool, bytes]:
    """One HTTP/1.x answer from ``sock``: (status, reason, whether the node closes the
    connection, body), the body framed by Content-Length, chunked, or the connection's end.
    Informational (1xx) answers are skipped. Malformed answers raise ValueError."""
    buffer = bytearray()
    while True:
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            if len(buffer) > _MAX_HEAD:
                raise ValueError("the node's answer has no end of headers")
            buffer += _recv(sock)
            end = buffer.find(b"\r\n\r\n")
        lines = bytes(buffer[:end]).decode("iso-8859-1").split("\r\n")
        del buffer[: end + 4]
        version, _, rest = lines[0].partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ValueError(f"not an HTTP answer: {lines[0][:80]!r}")
        if not 100 <= int(code) < 200:
            break
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return int(code), reason, close, _read_chunked(sock, buffer)
    if "content-length" in headers:
        size = int(headers["content-length"])
        if size < 0:
            raise ValueError("the node's answer has a negative Content-Length")
        while len(buffer) < size:
            buffer += _recv(sock)
        return int(code), reason, close, bytes(buffer[:size])
    while chunk := sock.recv(65536):  # no framing: the body runs to the connection's end
        buffer += chunk
    return int(code), reason, True, bytes(buffer)


def _recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise RpcTransportError("the node closed the connection mid-answer")
    return chunk


def _refuse_endless_line(buffer: bytearray) -> None:
    """A chunk-size or trailer line may not grow without end (a hostile node's answer would
    otherwise fill memory before any framing error)."""
    if len(buffer) > _MAX_HEAD:
        raise ValueError("the node's answer has a chunk line without end")


def _read_chunked(sock: socket.socket, buffer: bytearray) -> bytes:
    """A chunked body (RFC 9112 7.1) from ``buffer`` and then ``sock``; trailers dropped."""
    body = bytearray()
    while True:
        while (end := buffer.find(b"\r\n")) < 0:
            _refuse_endless_line(buffer)
            buffer += _recv(sock)
        size = int(bytes(buffer[:end]).split(b";")[0].strip(), 16)
        if size < 0:
            raise ValueError("the node's answer has a negative chunk size")
        del buffer[: end + 2]
        if size == 0:
            while (end := buffer.find(b"\r\n")) != 0:  # trailers, then the empty line
                if end > 0:
                    del buffer[: end + 2]
                else:
                    _refuse_endless_line(buffer)
                    buffer += _recv(sock)
            del buffer[:2]
            return bytes(body)
        while len(buffer) < size + 2:
            buffer += _recv(sock)
        body += buffer[:size]
        del buffer[: size + 2]


def _result(method: str, answer: dict[str, Any]) -> Any:
    if "error" in answer and answer["error"] is not None:
        error = answer["error"]
        raise RpcError(method, error if isinstance(error, dict) else {"message": str(error)})
    return answer.get("result")

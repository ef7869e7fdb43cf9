"""A lean JSON-RPC 2.0 client over HTTP: what the transaction layer talks to a node through.

web3's provider stack costs more than the node on a local chain (middleware, request and result
formatters, and an ``eth_chainId`` round trip before every call, estimate and send), so the hot
path -- views, gas estimates, nonces, fees, broadcasts, receipts, logs -- goes through this
client instead: one keep-alive connection per thread, the request written in one ``send``, the
answer parsed with :mod:`json`, and several calls in one HTTP request when they are independent
(:meth:`JsonRpcClient.batch`). Results stay in JSON-RPC form (hex quantities); the callers in
:mod:`modelpact.chain.transactions` and :mod:`modelpact.chain.contract` decode what they need.

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
import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

__all__ = ["IDEMPOTENT", "JsonRpcClient", "RpcError", "RpcTransportError"]

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
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.deadline = max(deadline, timeout)
        self._local = threading.local()
        self._ids = iter(range(1, 2**62))
        self._id_lock = threading.Lock()

    # ------------------------------------------------------------------ public

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """The result of one call; :class:`RpcError` when the node answers with an error,
        :class:`RpcTransportError` when it does not answer (after the retries it allows)."""
        (answer,) = self._exchange([(method, params)], retry=method in IDEMPOTENT)
        return _result(method, answer)

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
            # http.client sends the headers and the body in two writes: without TCP_NODELAY
            # the second can wait for the first's (delayed) acknowledgement
            if connection.sock is not None:
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.connection = connection
        return connection

    def _post(self, body: bytes, left: float) -> bytes:
        connection = self._connection()
        connection.timeout = max(0.1, min(self.timeout, left))
        if connection.sock is not None:
            connection.sock.settimeout(connection.timeout)
        connection.request(
            "POST",
            self._path,
            body=body,
            headers={"Content-Type": "application/json", "Connection": "keep-alive"},
        )
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RpcTransportError(f"HTTP {response.status} {response.reason}")
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
        return data


def _result(method: str, answer: dict[str, Any]) -> Any:
    if "error" in answer and answer["error"] is not None:
        error = answer["error"]
        raise RpcError(method, error if isinstance(error, dict) else {"message": str(error)})
    return answer.get("result")

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
        self.sync_sends: bool | None = None
        """Whether broadcasts use :data:`SEND_SYNC` (None until :meth:`sends_sync` asks the
        node; set False to always poll for receipts)."""
        self._mined: dict[str, dict[str, Any]] = {}
        self._mined_lock = threading.Lock()

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
        if connection is not None and connection.sock is not None:
            # A keep-alive socket that is readable while idle was closed by the node: reconnect
            # before writing, so a request is never written into a dead connection.
            readable, _, _ = select.select([connection.sock], [], [], 0)
            if readable:
                connection.close()
                connection = None
        if connection is None:
            kind = _OneWriteHTTPS if self._https else _OneWriteHTTP
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


class _OneWrite(http.client.HTTPConnection):
    """http.client writes the headers and the body with two ``send`` calls: each wakes the node,
    which on a busy machine costs a scheduler slice per write (measured: most of a local
    transaction's wall time at load 7 on 2 cores). A bytes body goes out with the headers."""

    def _send_output(self, message_body: Any = None, encode_chunked: bool = False) -> None:
        if not isinstance(message_body, bytes) or encode_chunked:
            super()._send_output(message_body, encode_chunked)  # type: ignore[misc]
            return
        buffer: list[bytes] = self._buffer  # type: ignore[attr-defined]
        buffer.extend((b"", message_body))
        message = b"\r\n".join(buffer)
        del buffer[:]
        self.send(message)


class _OneWriteHTTP(_OneWrite):
    """Plain HTTP, one write per request."""


class _OneWriteHTTPS(_OneWrite, http.client.HTTPSConnection):
    """HTTPS, one write per request."""


def _result(method: str, answer: dict[str, Any]) -> Any:
    if "error" in answer and answer["error"] is not None:
        error = answer["error"]
        raise RpcError(method, error if isinstance(error, dict) else {"message": str(error)})
    return answer.get("result")

"""Any EVM JSON-RPC endpoint (anvil, Hardhat, a testnet or mainnet node).

Idempotent JSON-RPC calls are retried with bounded backoff, restricted to methods that never make
the node sign (:data:`RPC_ATTEMPTS`), within a time budget per call (:data:`RPC_DEADLINE_SECONDS`):
a stalled endpoint fails in seconds, not after five full client timeouts. Dev nodes (anvil,
Hardhat) answer ``evm_increaseTime`` / ``evm_mine`` for time travel and ``evm_snapshot`` /
``evm_revert`` for snapshots; any other node refuses them with a one-line :class:`ChainError`.
Accounts the node reports that derive from anvil's default mnemonic get their private keys.
The transaction hot path (fees, nonces, estimates, broadcasts, receipts) goes through the lean
client of :mod:`modelpact.chain.backends.jsonrpc` (:attr:`RpcBackend.rpc`) under the same rules.
In a forked child, each backend's web3 provider forgets its pooled HTTP sessions (keyed by
thread id, which the forking thread keeps in the child: it would write into the parent's
connections) and its locks, as the lean client does.
"""

from __future__ import annotations

import functools
import os
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from modelpact.chain.backends import ChainKind
from modelpact.chain.backends.base import Chain, SnapshotId
from modelpact.chain.errors import (
    ChainError,
    is_connection_error,
    node_unavailable,
    web3_revert_data,
)

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress
    from web3 import Web3
    from web3.providers.rpc.utils import ExceptionRetryConfiguration

__all__ = [
    "ANVIL_MNEMONIC",
    "RPC_ATTEMPTS",
    "RPC_BACKOFF_SECONDS",
    "RPC_DEADLINE_SECONDS",
    "RPC_TIMEOUT_SECONDS",
    "RpcBackend",
    "connect_rpc",
    "open_rpc",
]

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
"""Anvil's default dev mnemonic (public knowledge: never use it on a real network)."""

#: Attempts per idempotent JSON-RPC call (reads, estimates, re-sending the SAME signed raw
#: transaction) when the endpoint fails (connection error, HTTP error, timeout), with backoff
#: ``RPC_BACKOFF_SECONDS * 2**attempt`` between attempts (0.125 + 0.25 + 0.5 + 1 s at most).
#: ``eth_sendTransaction`` (the node signs a NEW transaction) is never retried.
RPC_ATTEMPTS = 5
RPC_BACKOFF_SECONDS = 0.125
#: Seconds one request may take (read timeout); a node that takes longer is treated as stalled.
RPC_TIMEOUT_SECONDS = 8.0
#: Seconds one call may take in all, its retries included: a stalled endpoint (accepts the
#: connection, never answers) fails after about this long instead of RPC_ATTEMPTS full timeouts.
RPC_DEADLINE_SECONDS = 10.0
_CONNECT_TIMEOUT_SECONDS = 3.05  # TCP connect; just above a multiple of 3 s (SYN retransmits)


def _retry_configuration() -> ExceptionRetryConfiguration:
    """web3's own bounded retry (HTTPProvider ``exception_retry_configuration``) restricted to
    idempotent methods: web3's allowlist minus anything that makes the node sign."""
    import requests
    from web3.providers.rpc.utils import REQUEST_RETRY_ALLOWLIST, ExceptionRetryConfiguration

    allow = [m for m in REQUEST_RETRY_ALLOWLIST if m not in ("eth_sign", "eth_signTypedData")]
    return ExceptionRetryConfiguration(
        errors=(ConnectionError, requests.HTTPError, requests.Timeout),
        retries=RPC_ATTEMPTS,
        backoff_factor=RPC_BACKOFF_SECONDS,
        method_allowlist=allow,
    )


def _bounded_provider(url: str, timeout: float) -> Any:
    """web3's HTTP provider, with the retry of :func:`_retry_configuration` bounded in time."""
    from eth_typing import URI
    from web3 import HTTPProvider
    from web3.providers.rpc.utils import check_if_retry_on_failure

    url_text = url

    class BoundedHTTPProvider(HTTPProvider):
        """Retries an idempotent request until it succeeds, RPC_ATTEMPTS are spent or
        RPC_DEADLINE_SECONDS have passed (web3's own loop has no time budget)."""

        def _make_request(self, method: Any, request_data: bytes) -> bytes:
            config = self.exception_retry_configuration
            retry = config is not None and check_if_retry_on_failure(
                method, config.method_allowlist
            )
            attempts = config.retries if retry and config is not None else 1
            errors = tuple(config.errors) if config is not None else ()
            deadline = time.monotonic() + max(RPC_DEADLINE_SECONDS, timeout)
            url = URI(url_text)
            for attempt in range(attempts):
                left = deadline - time.monotonic()
                kwargs = self.get_request_kwargs()
                kwargs["timeout"] = (_CONNECT_TIMEOUT_SECONDS, max(0.1, min(timeout, left)))
                try:
                    answer: bytes = self._request_session_manager.make_post_request(
                        url, request_data, **kwargs
                    )
                    return answer
                except errors:
                    pause = RPC_BACKOFF_SECONDS * 2**attempt
                    if attempt == attempts - 1 or time.monotonic() + pause >= deadline:
                        raise
                    time.sleep(pause)
            raise AssertionError("unreachable: the last attempt returns or raises")

    return BoundedHTTPProvider(url, exception_retry_configuration=_retry_configuration())


@functools.cache
def _anvil_keys(count: int = 10) -> dict[ChecksumAddress, bytes]:
    from eth_account import Account
    from eth_utils.address import to_checksum_address

    Account.enable_unaudited_hdwallet_features()
    keys: dict[ChecksumAddress, bytes] = {}
    for i in range(count):
        acct = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        keys[to_checksum_address(acct.address)] = bytes(acct.key)
    return keys


class RpcBackend:
    """A JSON-RPC node at ``url`` (see the module doc). ``kind`` labels it: ``anvil`` for a dev
    node modelpact knows to be anvil, ``rpc`` for anything else."""

    def __init__(
        self, url: str, *, kind: ChainKind = ChainKind.RPC, timeout: float = RPC_TIMEOUT_SECONDS
    ) -> None:
        from web3 import Web3

        from modelpact.chain.backends.jsonrpc import JsonRpcClient

        self._url = url
        self._kind = kind
        self._w3 = Web3(_bounded_provider(url, timeout))
        self.rpc = JsonRpcClient(
            url,
            timeout=timeout,
            attempts=RPC_ATTEMPTS,
            backoff=RPC_BACKOFF_SECONDS,
            deadline=RPC_DEADLINE_SECONDS,
        )
        """The lean client the transaction hot path uses (same retry rules as the provider)."""
        _BACKENDS.add(self)

    def _forget_inherited(self) -> None:
        """In a forked child: a fresh session manager (new connection pools, new lock) for the
        web3 provider; the parent's sessions are left alone (the module doc)."""
        from web3._utils.http_session_manager import HTTPSessionManager

        provider: Any = self._w3.provider
        if hasattr(provider, "_request_session_manager"):
            manager = HTTPSessionManager()
            manager._lock = threading.Lock()  # the class's lock may be held by a parent thread
            provider._request_session_manager = manager
        if hasattr(provider, "_request_cache_lock"):
            provider._request_cache_lock = threading.Lock()

    @property
    def kind(self) -> ChainKind:
        """``anvil`` or ``rpc``."""
        return self._kind

    @property
    def url(self) -> str:
        """The node URL."""
        return self._url

    @property
    def w3(self) -> Web3:
        """The web3 handle over HTTP."""
        return self._w3

    def dev_keys(self, accounts: tuple[ChecksumAddress, ...]) -> Mapping[ChecksumAddress, bytes]:
        """Keys of the node's accounts that derive from anvil's default mnemonic."""
        known = _anvil_keys()
        return {a: known[a] for a in accounts if a in known}

    def _dev_call(self, method: str, params: list[Any]) -> Any:
        """A dev-node JSON-RPC call (``evm_*``); refused or failed calls raise one line."""
        try:
            response = self._w3.provider.make_request(method, params)  # type: ignore[arg-type]
        except Exception as exc:
            if is_connection_error(exc):
                raise node_unavailable(self._url, exc) from exc
            raise ChainError(
                f"the node refused {method}: {exc}",
                hint="time travel and snapshots need a dev node (anvil or the embedded chain)",
            ) from exc
        if "error" in response:
            raise ChainError(
                f"the node refused {method}: {response['error']}",
                hint="time travel and snapshots need a dev node (anvil or the embedded chain)",
            )
        return response.get("result")

    @contextmanager
    def blocks_on_demand(self) -> Iterator[None]:
        """Within the block, the automining anvil this process runs (its sends synchronous)
        holds each transaction it is sent instead of mining it at once; at the
        block's end every held transaction is mined, as many to a block as fit, and automine
        resumes (also after an error). anvil's cost is per block and grows with the chain
        (measured: a transfer alone in its block 0.9 ms on a fresh chain, 4.7 ms after 3,500
        such blocks; 50 to a block, 0.4 ms each, flat), so a batch of independent transactions
        (the demo's participants) costs a few blocks instead of one each. Sends inside are
        asynchronous (a synchronous send would wait for a block nobody mines); their hashes are
        recorded before the bytes go out as always, and the steps' re-runs wait for the receipts
        after the block. Only the anvil this process runs (``--chain anvil``): a process killed
        or interrupted inside the block takes that node down with it and what it held is lost
        (a recorded hash the node never saw counts as not sent: the step's re-run sends again),
        while a node someone else runs (``--rpc``) would be left holding transactions with its
        automine off. Any other node (``--rpc``, Hardhat, the embedded chain): nothing changes."""
        client = self.rpc
        if self._kind is not ChainKind.ANVIL or not client.sends_sync():
            yield
            return
        self._dev_call("evm_setAutomine", [False])
        client.sync_sends = False
        try:
            yield
        finally:
            try:
                self._mine_held()
            finally:
                self._dev_call("evm_setAutomine", [True])
                client.sync_sends = None  # asked again: the node's answer decides

    def _mine_held(self) -> None:
        """Mine until the node holds no pending transaction (a block takes what its gas limit
        fits); stop when a block takes none (a nonce gap: those wait for their predecessor).
        Each block's base fee is held at the last mined block's: the held transactions were
        priced on it (max fee 2 x base + tip), and full blocks would otherwise raise it 12.5%
        each, pricing the later ones out after ~10 full blocks (anvil then drops them: hashes
        recorded as sent that never mine). Automined one to a block, it only fell."""
        held = self._pending_count()
        base = self.rpc.request("eth_getBlockByNumber", ["latest", False]).get("baseFeePerGas")
        while held:
            if base is not None:
                self._dev_call("anvil_setNextBlockBaseFeePerGas", [base])
            self.mine()
            left = self._pending_count()
            if left >= held:
                return
            held = left

    def _pending_count(self) -> int:
        pending = self._dev_call("txpool_status", []).get("pending", 0)
        return int(pending, 16) if isinstance(pending, str) else int(pending)

    def pending_time(self) -> int:
        """The pending block's timestamp."""
        return int(self.rpc.request("eth_getBlockByNumber", ["pending", False])["timestamp"], 16)

    def advance_time(self, seconds: int) -> None:
        """``evm_increaseTime`` then ``evm_mine``."""
        self._dev_call("evm_increaseTime", [seconds])
        self.mine()

    def mine(self) -> None:
        """Mine one block now (dev nodes): its timestamp is the node's current time."""
        self._dev_call("evm_mine", [])

    def snapshot(self) -> SnapshotId:
        """``evm_snapshot``."""
        return str(self._dev_call("evm_snapshot", []))

    def revert_to(self, snapshot: SnapshotId) -> None:
        """``evm_revert`` (a snapshot can be reverted to once)."""
        self.rpc.forget_mined()  # receipts of reverted blocks are no longer the chain's
        if not self._dev_call("evm_revert", [snapshot]):
            raise ChainError(f"the node has no snapshot {snapshot}", hint="take a new snapshot")

    def revert_data(self, exc: BaseException) -> bytes | None:
        """The revert data web3 attached to ``exc``."""
        return web3_revert_data(exc)

    def close(self) -> None:
        """Close the lean client's keep-alive connection."""
        self.rpc.close()


_BACKENDS: weakref.WeakSet[RpcBackend] = weakref.WeakSet()
"""Every backend of this process, for the fork hook."""


def _forget_inherited_sessions() -> None:
    for backend in list(_BACKENDS):
        backend._forget_inherited()


os.register_at_fork(after_in_child=_forget_inherited_sessions)


def connect_rpc(
    url: str,
    *,
    kind: ChainKind = ChainKind.RPC,
    expected_chain_id: int | None = None,
    timeout: float = RPC_TIMEOUT_SECONDS,
) -> Chain:
    """Connect to the node at ``url``; :class:`NodeUnavailableError` when it does not answer,
    :class:`ChainError` when its chain id is not ``expected_chain_id``."""
    from eth_utils.address import to_checksum_address

    backend = RpcBackend(url, kind=kind, timeout=timeout)
    try:
        chain_id = int(backend.w3.eth.chain_id)
        accounts = tuple(to_checksum_address(a) for a in backend.w3.eth.accounts)
    except Exception as exc:
        raise node_unavailable(url, exc) from exc
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise ChainError(
            f"connected to chain {chain_id}, expected {expected_chain_id}",
            hint="check the RPC URL or the deployment record's chain id",
        )
    return Chain(backend, chain_id, accounts, backend.dev_keys(accounts))


@contextmanager
def open_rpc(url: str, *, expected_chain_id: int | None = None) -> Iterator[Chain]:
    """The node at ``url`` for the duration of the block."""
    yield connect_rpc(url, expected_chain_id=expected_chain_id)

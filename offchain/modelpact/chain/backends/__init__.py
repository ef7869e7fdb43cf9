"""Chain backends: which chain a command talks to, and where each kind of chain is implemented.

A backend (the :class:`~modelpact.chain.backends.base.Backend` protocol) owns everything that
differs between chains: the web3 handle, funded dev accounts, time travel, snapshots, and how a
revert's data is extracted from the exceptions its provider raises. One module per backend:

- ``embedded.py``  eth-tester (py-evm) inside this process: no node, gone with the process;
- ``rpc.py``       any EVM JSON-RPC endpoint (``--rpc URL``);
- ``anvil.py``     the pinned anvil binary, started by modelpact with its state in
                   ``--state-dir`` (an RPC backend whose node modelpact manages).

To add a backend: write its module (a class satisfying ``Backend`` and a context manager that
yields a connected :class:`~modelpact.chain.backends.base.Chain`), then add a :class:`ChainKind`
member and its opener in ``_OPENERS`` below.

This package's ``__init__`` is import-light (the CLI imports it at start-up): backend modules are
imported only when a chain is opened.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.chain.backends.base import Chain

__all__ = [
    "DEFAULT_MAX_FEE_GWEI",
    "DEFAULT_RPC_URL",
    "DEFAULT_STATE_DIR",
    "RPC_ENV",
    "ChainKind",
    "ChainSettings",
    "ChainSettingsError",
    "connect",
    "default_rpc_url",
    "open_chain",
    "parse_chain_kind",
    "state_directory",
]

DEFAULT_STATE_DIR = Path(".modelpact")
RPC_ENV = "MODELPACT_RPC"
"""The environment variable naming the node URL (the CLI's ``--rpc``)."""
_DEPRECATED_RPC_ENV = "MODELPACT_RPC_URL"  # named by the 0.1 API docs of connect(); say so once
DEFAULT_RPC_URL = "http://127.0.0.1:8545"
_URL_SCHEMES = ("http://", "https://")
DEFAULT_MAX_FEE_GWEI = 100
"""The default cap on the fee per gas of every transaction modelpact sends (``--max-fee-gwei``).

Fees come from the node (base fee, suggested tip); a hostile or broken node could ask for any fee,
so the wallet never offers more than this per gas. 100 gwei: Ethereum mainnet's base fee has
stayed under ~50 gwei outside rare congestion spikes since EIP-1559 (2021), so an honest round
almost never hits the cap, while a join (~85k gas) costs at most 0.0085 ETH in fees with it;
L2s and dev nodes (anvil, eth-tester: ~1 gwei) sit far below. Above the cap a transaction is
refused before it is sent, in one line saying to wait or raise the cap."""
MAX_FEE_GWEI_LIMIT = 1_000_000
"""``--max-fee-gwei`` above this (a million gwei per gas) is a typo, not a fee."""


class ChainKind(StrEnum):
    """The kinds of chain modelpact talks to (one backend module each, see the package doc).

    ``embedded`` and ``anvil`` are chosen with ``--chain``; ``rpc`` is any node given by
    ``--rpc URL``.
    """

    EMBEDDED = "embedded"
    ANVIL = "anvil"
    RPC = "rpc"

    @classmethod
    def selectable(cls) -> tuple[ChainKind, ...]:
        """The kinds ``--chain`` accepts (``rpc`` needs a URL: ``--rpc``)."""
        return tuple(k for k in cls if k is not cls.RPC)


class ChainSettingsError(ModelpactError, ValueError):
    """The chain options contradict each other."""


@dataclass(frozen=True)
class ChainSettings:
    """Where to find the chain: ``kind``, the node URL for ``rpc``, the chain id to insist on,
    the directory a managed anvil keeps its state in, and the fee cap (gwei per gas) of every
    transaction sent on it."""

    kind: ChainKind
    rpc_url: str | None
    chain_id: int | None
    state_dir: Path
    max_fee_gwei: float = DEFAULT_MAX_FEE_GWEI

    @classmethod
    def build(
        cls,
        *,
        chain: ChainKind | str,
        rpc_url: str | None,
        chain_id: int | None,
        state_dir: Path,
        max_fee_gwei: float = DEFAULT_MAX_FEE_GWEI,
    ) -> ChainSettings:
        """Validate the raw option values (``--rpc`` wins over ``--chain``)."""
        fee = _max_fee(max_fee_gwei)
        if chain_id is not None and chain_id <= 0:
            raise ChainSettingsError(f"--chain-id {chain_id} must be positive", hint="fix it")
        if rpc_url is not None:
            return cls(ChainKind.RPC, _rpc_url(rpc_url), chain_id, state_directory(state_dir), fee)
        kind = parse_chain_kind(str(chain))
        return cls(kind, None, chain_id, state_directory(state_dir), fee)

    @property
    def max_fee_wei(self) -> int:
        """The fee cap in wei per gas."""
        return int(self.max_fee_gwei * 10**9)

    @property
    def label(self) -> str:
        """Short human label: ``embedded``, ``anvil`` or the URL."""
        return self.rpc_url if self.kind is ChainKind.RPC and self.rpc_url else self.kind.value


def _rpc_url(url: str) -> str:
    """``--rpc``: an http(s) URL (modelpact speaks JSON-RPC over HTTP; a websocket endpoint is
    refused in one line rather than failing later with a transport error)."""
    if url.startswith(("ws://", "wss://")):
        raise ChainSettingsError(
            f"--rpc {url!r} is a websocket URL; modelpact talks to nodes over HTTP JSON-RPC",
            hint="pass the node's http(s) endpoint, e.g. --rpc http://127.0.0.1:8545",
        )
    if not url.startswith(_URL_SCHEMES):
        raise ChainSettingsError(
            f"--rpc {url!r} is not an http(s) URL",
            hint="pass e.g. --rpc http://127.0.0.1:8545",
        )
    return url


def _max_fee(gwei: float) -> float:
    """``--max-fee-gwei``: a finite number in (0, :data:`MAX_FEE_GWEI_LIMIT`]."""
    if not (math.isfinite(gwei) and 0 < gwei <= MAX_FEE_GWEI_LIMIT):
        raise ChainSettingsError(
            f"--max-fee-gwei {gwei!r} is not a fee cap in (0, {MAX_FEE_GWEI_LIMIT:,}] gwei",
            hint=f"pass e.g. --max-fee-gwei {DEFAULT_MAX_FEE_GWEI} (the default)",
        )
    return float(gwei)


def state_directory(path: Path) -> Path:
    """``--state-dir``, refused in one line when it names something that is not a directory."""
    if path.exists() and not path.is_dir():
        raise ChainSettingsError(
            f"--state-dir {path} is not a directory", hint="pass a directory for the local state"
        )
    return path


def parse_chain_kind(value: str) -> ChainKind:
    """``--chain`` as a :class:`ChainKind`; anything else is one line naming the choices."""
    for kind in ChainKind.selectable():
        if value.lower() == kind.value:
            return kind
    choices = ", ".join(f"--chain {k.value}" for k in ChainKind.selectable())
    raise ChainSettingsError(
        f"unknown --chain {value!r}", hint=f"use {choices}, or --rpc URL for another node"
    )


def _open_embedded(settings: ChainSettings) -> AbstractContextManager[Chain]:
    from modelpact.chain.backends.embedded import open_embedded

    return open_embedded()


def _open_anvil(settings: ChainSettings) -> AbstractContextManager[Chain]:
    from modelpact.chain.backends.anvil import open_managed_anvil

    return open_managed_anvil(settings.state_dir, chain_id=settings.chain_id)


def _open_rpc(settings: ChainSettings) -> AbstractContextManager[Chain]:
    from modelpact.chain.backends.rpc import open_rpc

    return open_rpc(settings.rpc_url or default_rpc_url(), expected_chain_id=settings.chain_id)


_OPENERS: dict[ChainKind, Callable[[ChainSettings], AbstractContextManager[Chain]]] = {
    ChainKind.EMBEDDED: _open_embedded,
    ChainKind.ANVIL: _open_anvil,
    ChainKind.RPC: _open_rpc,
}


@contextmanager
def open_chain(settings: ChainSettings) -> Iterator[Chain]:
    """Connect as ``settings`` says for the duration of the block (a managed anvil is started
    before and stopped after, which makes it write its state file).

    Raises :class:`~modelpact.chain.errors.NodeUnavailableError` when no node answers.
    """
    with _OPENERS[settings.kind](settings) as opened:
        chain = dataclasses.replace(opened, max_fee_per_gas=settings.max_fee_wei)
        try:
            yield chain
        finally:
            chain.backend.close()


def default_rpc_url() -> str:
    """``$MODELPACT_RPC``, else the deprecated ``$MODELPACT_RPC_URL`` (with one warning line on
    stderr), else ``http://127.0.0.1:8545``."""
    url = os.environ.get(RPC_ENV)
    if url:
        return url
    old = os.environ.get(_DEPRECATED_RPC_ENV)
    if old:
        sys.stderr.write(f"warning: {_DEPRECATED_RPC_ENV} is deprecated; set {RPC_ENV} instead\n")
        return old
    return DEFAULT_RPC_URL


def connect(
    *,
    chain: ChainKind | str | None = None,
    rpc_url: str | None = None,
    expected_chain_id: int | None = None,
    timeout: float = 8.0,
) -> Chain:
    """Connect to the embedded chain (``chain="embedded"``: a fresh one, no node), an anvil node
    (``chain="anvil"``) or any JSON-RPC endpoint (``rpc_url``, default :func:`default_rpc_url`).

    Raises :class:`~modelpact.chain.errors.NodeUnavailableError` when the node does not answer
    and :class:`~modelpact.chain.errors.ChainError` on a chain-id mismatch.
    """
    from modelpact.chain.errors import ChainError

    kind = ChainKind.RPC if chain is None else ChainKind(str(chain))
    if kind is ChainKind.EMBEDDED:
        if rpc_url is not None:
            raise ChainError("the embedded chain takes no node URL", hint="drop --rpc")
        from modelpact.chain.backends.embedded import connect_embedded

        result = connect_embedded()
        if expected_chain_id is not None and result.chain_id != expected_chain_id:
            raise ChainError(
                f"connected to chain {result.chain_id}, expected {expected_chain_id}",
                hint="check the RPC URL or the deployment record's chain id",
            )
        return result
    from modelpact.chain.backends.rpc import connect_rpc

    return connect_rpc(
        rpc_url or default_rpc_url(),
        kind=kind,
        expected_chain_id=expected_chain_id,
        timeout=timeout,
    )

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
_URL_SCHEMES = ("http://", "https://", "ws://", "wss://")


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
    and the directory a managed anvil keeps its state in."""

    kind: ChainKind
    rpc_url: str | None
    chain_id: int | None
    state_dir: Path

    @classmethod
    def build(
        cls,
        *,
        chain: ChainKind | str,
        rpc_url: str | None,
        chain_id: int | None,
        state_dir: Path,
    ) -> ChainSettings:
        """Validate the raw option values (``--rpc`` wins over ``--chain``)."""
        if rpc_url is not None:
            if not rpc_url.startswith(_URL_SCHEMES):
                raise ChainSettingsError(
                    f"--rpc {rpc_url!r} is not an http(s) or ws(s) URL",
                    hint="pass e.g. --rpc http://127.0.0.1:8545",
                )
            return cls(ChainKind.RPC, rpc_url, chain_id, state_directory(state_dir))
        kind = parse_chain_kind(str(chain))
        if chain_id is not None and chain_id <= 0:
            raise ChainSettingsError(f"--chain-id {chain_id} must be positive", hint="fix it")
        return cls(kind, None, chain_id, state_directory(state_dir))

    @property
    def label(self) -> str:
        """Short human label: ``embedded``, ``anvil`` or the URL."""
        return self.rpc_url if self.kind is ChainKind.RPC and self.rpc_url else self.kind.value


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
    with _OPENERS[settings.kind](settings) as chain:
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
    timeout: float = 30.0,
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

"""Which chain a command talks to, and opening it (embedded, a managed anvil, or any RPC URL).

``ChainSettings`` is what every chain-touching command receives from the shared CLI options.
``open_chain`` is a context manager: for ``anvil`` it starts the pinned anvil node with a state
file under the state directory (so a round survives a node restart) and stops it on exit, which
makes anvil write its state back; for ``rpc`` it connects to the URL and checks the chain id;
for ``embedded`` it builds an in-process eth-tester chain (only reachable from this process).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from modelpact.errors import ModelpactError

__all__ = [
    "CHAIN_KINDS",
    "DEFAULT_STATE_DIR",
    "ChainConnection",
    "ChainKind",
    "ChainSettings",
    "ChainSettingsError",
    "NodeNotRunningError",
    "open_chain",
]

ChainKind = Literal["embedded", "anvil", "rpc"]
CHAIN_KINDS: tuple[str, ...] = ("embedded", "anvil")
DEFAULT_STATE_DIR = Path(".modelpact")


class ChainSettingsError(ModelpactError, ValueError):
    """The chain options contradict each other."""


@dataclass(frozen=True)
class ChainSettings:
    """Where to find the chain.

    ``kind`` is ``embedded`` (eth-tester in this process), ``anvil`` (a node this process starts
    with ``state_dir/anvil-state.json``) or ``rpc`` (``rpc_url``, any EVM JSON-RPC endpoint).
    ``chain_id`` when given must match what the node reports.
    """

    kind: ChainKind
    rpc_url: str | None
    chain_id: int | None
    state_dir: Path

    @classmethod
    def build(
        cls, *, chain: str, rpc_url: str | None, chain_id: int | None, state_dir: Path
    ) -> ChainSettings:
        """Validate the raw option values (``--rpc`` wins over ``--chain``)."""
        if rpc_url is not None:
            if not rpc_url.startswith(("http://", "https://", "ws://", "wss://")):
                raise ChainSettingsError(
                    f"--rpc {rpc_url!r} is not an http(s) or ws(s) URL",
                    hint="pass e.g. --rpc http://127.0.0.1:8545",
                )
            return cls(kind="rpc", rpc_url=rpc_url, chain_id=chain_id, state_dir=state_dir)
        if chain not in CHAIN_KINDS:
            raise ChainSettingsError(
                f"unknown --chain {chain!r}",
                hint="use --chain embedded, --chain anvil, or --rpc URL for another node",
            )
        if chain_id is not None and chain_id <= 0:
            raise ChainSettingsError(f"--chain-id {chain_id} must be positive", hint="fix it")
        kind: ChainKind = "embedded" if chain == "embedded" else "anvil"
        return cls(kind=kind, rpc_url=None, chain_id=chain_id, state_dir=state_dir)

    @property
    def anvil_state_file(self) -> Path:
        """The file a managed anvil loads its state from and dumps it to."""
        return self.state_dir / "anvil-state.json"

    @property
    def label(self) -> str:
        """Short human label: ``embedded``, ``anvil`` or the URL."""
        return self.rpc_url if self.kind == "rpc" and self.rpc_url else self.kind


class NodeNotRunningError(ModelpactError, ConnectionError):
    """No EVM node answers at the configured URL."""


@dataclass
class ChainConnection:
    """An open chain: web3, the node's funded (unlocked) accounts, and time control."""

    w3: Any
    settings: ChainSettings
    funded_accounts: list[str]
    rpc_url: str | None = None

    def audit_chain(self) -> Any:
        """The connection the independent audit reads from (None: it connects to ``rpc_url``)."""
        return None

    def advance_time_to(self, timestamp: int) -> None:
        """Mine a block with a timestamp >= ``timestamp`` (embedded and local nodes only)."""
        latest = int(self.w3.eth.get_block("latest")["timestamp"])
        if latest >= timestamp:
            return
        if self.settings.kind == "embedded":
            self.w3.provider.ethereum_tester.time_travel(timestamp)
            self.w3.provider.ethereum_tester.mine_blocks(1)
            return
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
        self.w3.provider.make_request("evm_mine", [])


def _embedded() -> Any:
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider, Web3

    backend = PyEVMBackend(
        genesis_parameters=PyEVMBackend.generate_genesis_params(overrides={"gas_limit": 60_000_000})
    )
    return Web3(EthereumTesterProvider(EthereumTester(backend)))


def _http(url: str, settings: ChainSettings) -> Any:
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
    try:
        chain_id = int(w3.eth.chain_id)
    except Exception as error:  # requests raises several kinds; all mean "no node here"
        raise NodeNotRunningError(
            f"no EVM node answers at {url}",
            hint="start the node (e.g. anvil) or pass the right --rpc URL; nothing was sent",
        ) from error
    if settings.chain_id is not None and settings.chain_id != chain_id:
        raise ChainSettingsError(
            f"the node at {url} is chain {chain_id}, not --chain-id {settings.chain_id}",
            hint="connect to the intended chain or drop --chain-id",
        )
    return w3


@contextmanager
def open_chain(settings: ChainSettings) -> Iterator[ChainConnection]:
    """Connect as ``settings`` says; for ``anvil`` start the node (state file) and stop it after."""
    if settings.kind == "embedded":
        w3 = _embedded()
        yield ChainConnection(w3, settings, list(w3.eth.accounts))
        return
    if settings.kind == "rpc":
        assert settings.rpc_url is not None
        w3 = _http(settings.rpc_url, settings)
        yield ChainConnection(w3, settings, list(w3.eth.accounts), settings.rpc_url)
        return
    from modelpact.round._anvil import managed_anvil

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with managed_anvil(settings.anvil_state_file, chain_id=settings.chain_id) as url:
        w3 = _http(url, settings)
        yield ChainConnection(w3, settings, list(w3.eth.accounts), url)

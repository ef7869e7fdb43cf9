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
from typing import TYPE_CHECKING, Literal

from modelpact.errors import ModelpactError

if TYPE_CHECKING:  # web3 is slow to import: the CLI imports this module at start-up
    from modelpact.chain import Chain
    from modelpact.round.handle import RoundHandle
    from modelpact.round.records import DeploymentRecord

__all__ = [
    "CHAIN_KINDS",
    "DEFAULT_STATE_DIR",
    "ChainConnection",
    "ChainKind",
    "ChainSettings",
    "ChainSettingsError",
    "OpenRound",
    "open_chain",
    "open_round",
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


@dataclass
class ChainConnection:
    """An open chain (:class:`modelpact.chain.Chain`): funded accounts, time control."""

    chain: Chain
    settings: ChainSettings

    @property
    def funded_accounts(self) -> list[str]:
        """The node's funded dev accounts."""
        return list(self.chain.accounts)

    @property
    def rpc_url(self) -> str | None:
        """The node URL (None for the embedded chain)."""
        return None if self.chain.kind == "embedded" else str(self.chain.url)

    def audit_chain(self) -> Chain:
        """The connection the independent audit reads from."""
        return self.chain

    def advance_time_to(self, timestamp: int) -> None:
        """Mine a block with a timestamp >= ``timestamp`` (embedded and local dev nodes only)."""
        from modelpact.chain import advance_time, chain_time

        latest = chain_time(self.chain)
        if latest < timestamp:
            advance_time(self.chain, timestamp - latest)


@contextmanager
def open_chain(settings: ChainSettings) -> Iterator[ChainConnection]:
    """Connect as ``settings`` says; for ``anvil`` start the node (state file) and stop it after.

    Raises :class:`modelpact.chain.NodeUnavailableError` when no node answers at ``--rpc``.
    """
    from modelpact.chain import connect

    if settings.kind == "embedded":
        yield ChainConnection(connect(chain="embedded"), settings)
        return
    if settings.kind == "rpc":
        assert settings.rpc_url is not None
        yield ChainConnection(
            connect(rpc_url=settings.rpc_url, expected_chain_id=settings.chain_id), settings
        )
        return
    from modelpact.anvil import AnvilNode

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    node = AnvilNode(
        state_file=settings.anvil_state_file,
        chain_id=settings.chain_id or 31337,
        log_file=settings.state_dir / "anvil.log",
    )
    with node:
        yield ChainConnection(
            connect(chain="anvil", rpc_url=node.rpc_url, expected_chain_id=settings.chain_id),
            settings,
        )


@dataclass(frozen=True)
class OpenRound:
    """A deployment record bound to an open chain."""

    connection: ChainConnection
    handle: RoundHandle
    record: DeploymentRecord
    record_path: Path

    @property
    def files_dir(self) -> Path:
        """Directory of the published files (scenario, menu, test set, models, delivered data)."""
        return (self.record_path.parent / str(self.record.extra.get("files_dir", "."))).resolve()


@contextmanager
def open_round(
    settings: ChainSettings, *, deployment: str, deploy_dir: Path
) -> Iterator[OpenRound]:
    """Find the deployment record (path, address or ``latest``), open the chain, bind the round."""
    from modelpact.round.handle import RoundHandle
    from modelpact.round.records import find_record

    if settings.kind == "embedded":
        raise ChainSettingsError(
            "the embedded chain lives inside one process, so this command cannot reach a round "
            "deployed by another command",
            hint="use --chain anvil (a node kept in --state-dir) or --rpc URL; "
            "`modelpact demo` runs a whole round on the embedded chain",
        )
    record, record_path = find_record(deployment, deploy_dir=deploy_dir)
    with open_chain(settings) as connection:
        handle = RoundHandle.open(connection.chain, record)
        yield OpenRound(connection, handle, record, record_path)

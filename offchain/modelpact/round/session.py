"""Which chain a command talks to, and opening it (embedded, a managed anvil, or any RPC URL).

``ChainSettings`` is what every chain-touching command receives from the shared CLI options.
``open_chain`` is a context manager: for ``anvil`` it starts the pinned anvil node with a state
file under the state directory (so a round survives a node restart) and stops it on exit, which
makes anvil write its state back; for ``rpc`` it connects to the URL and checks the chain id;
for ``embedded`` it builds an in-process eth-tester chain (only reachable from this process).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from modelpact.errors import ModelpactError

__all__ = [
    "CHAIN_KINDS",
    "DEFAULT_STATE_DIR",
    "ChainKind",
    "ChainSettings",
    "ChainSettingsError",
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

"""The chain options every chain-touching command takes (``--chain``, ``--rpc``, ``--chain-id``,
``--state-dir``), declared once as annotated types so each command lists them the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelpact.round.session import DEFAULT_STATE_DIR, ChainSettings

__all__ = ["ChainIdOpt", "ChainOpt", "RpcOpt", "StateDirOpt", "chain_settings"]

ChainOpt = Annotated[
    str,
    typer.Option(
        "--chain",
        help="embedded: eth-tester inside this process (no node; other processes cannot reach "
        "it). anvil: start the pinned local anvil with a state file under --state-dir.",
        envvar="MODELPACT_CHAIN",
    ),
]
RpcOpt = Annotated[
    str | None,
    typer.Option(
        "--rpc",
        help="JSON-RPC URL of any EVM node (overrides --chain), e.g. http://127.0.0.1:8545.",
        envvar="MODELPACT_RPC",
    ),
]
ChainIdOpt = Annotated[
    int | None,
    typer.Option("--chain-id", help="Expected chain id; refuse to act on another chain."),
]
StateDirOpt = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        help="Directory for local state (anvil state file, participant and coordinator state).",
        envvar="MODELPACT_STATE_DIR",
    ),
]


def chain_settings(
    *, chain: str, rpc: str | None, chain_id: int | None, state_dir: Path
) -> ChainSettings:
    """Turn the raw option values into validated :class:`ChainSettings`."""
    return ChainSettings.build(chain=chain, rpc_url=rpc, chain_id=chain_id, state_dir=state_dir)


DEFAULT_CHAIN = "embedded"
DEFAULT_STATE = DEFAULT_STATE_DIR

"""What the chain-touching commands share, declared once: the chain options (``--chain``,
``--rpc``, ``--chain-id``, ``--state-dir``), the deployment options (``--deployment``,
``--deploy-dir``), the keystore password, and who signs a transaction (``--keystore`` or
``--dev-account``).

Import-light on purpose (typer and the standard library only): ``modelpact --help`` imports every
CLI module, and web3 is imported only inside the commands that need it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelpact.errors import ModelpactError
from modelpact.round.session import (
    DEFAULT_STATE_DIR,
    ChainConnection,
    ChainSettings,
    OpenRound,
    open_round,
)

if TYPE_CHECKING:
    from modelpact.chain import Sender

__all__ = [
    "DEFAULT_CHAIN",
    "DEFAULT_STATE",
    "PASSWORD_ENV",
    "TIER_MODES",
    "ChainIdOpt",
    "ChainOpt",
    "DeployDirOpt",
    "DeploymentOpt",
    "DevAccountOpt",
    "LotteryTiersOpt",
    "RpcOpt",
    "SenderError",
    "SignerKeystoreOpt",
    "StateDirOpt",
    "TiersOpt",
    "chain_settings",
    "open_deployment",
    "password",
    "sender",
    "tier_mode",
]

PASSWORD_ENV = "MODELPACT_PASSWORD"  # = modelpact.round.wallet.PASSWORD_ENV (kept import-light)
TIER_MODES = ("deterministic", "lottery")  # = modelpact.round.coordinator.TIER_MODES

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
DeploymentOpt = Annotated[
    str,
    typer.Option(
        "--deployment",
        help="Deployment record (deploy/*.json), a recorded round address, or 'latest'.",
    ),
]
DeployDirOpt = Annotated[
    Path, typer.Option("--deploy-dir", help="Directory of deployment records.")
]
SignerKeystoreOpt = Annotated[
    Path | None,
    typer.Option("--keystore", help="Signer's keystore (password: MODELPACT_PASSWORD/prompt)."),
]
DevAccountOpt = Annotated[
    int | None,
    typer.Option("--dev-account", help="Use the node's funded dev account #N (anvil, embedded)."),
]
TiersOpt = Annotated[
    str,
    typer.Option(
        "--tiers",
        help="Reward tiers: deterministic (one model per distinct target: more models trained, "
        "draws nearly deterministic) or lottery (--lottery-tiers evenly spaced models: fewer "
        "trained, the contract's lottery spreads the rest at the same expected value).",
        case_sensitive=False,
    ),
]

LotteryTiersOpt = Annotated[
    int,
    typer.Option(
        "--lottery-tiers",
        min=1,
        help="Tiers a --tiers lottery trains (from the lowest "
        "target up; 1 = one tier, the rest draw up to the collective model).",
    ),
]

DEFAULT_CHAIN = "embedded"
DEFAULT_STATE = DEFAULT_STATE_DIR


class SenderError(ModelpactError, ValueError):
    """No (or two) ways to sign the transactions were given."""


def chain_settings(
    *, chain: str, rpc: str | None, chain_id: int | None, state_dir: Path
) -> ChainSettings:
    """Turn the raw option values into validated :class:`ChainSettings`."""
    return ChainSettings.build(chain=chain, rpc_url=rpc, chain_id=chain_id, state_dir=state_dir)


@contextmanager
def open_deployment(
    deployment: str,
    deploy_dir: Path,
    chain: str,
    rpc: str | None,
    chain_id: int | None,
    state_dir: Path,
) -> Iterator[OpenRound]:
    """The shared chain and deployment options -> the recorded round on its open chain."""
    settings = chain_settings(chain=chain, rpc=rpc, chain_id=chain_id, state_dir=state_dir)
    with open_round(settings, deployment=deployment, deploy_dir=deploy_dir) as opened:
        yield opened


def tier_mode(value: str) -> str:
    """Validate ``--tiers``."""
    mode = value.lower()
    if mode not in TIER_MODES:
        raise typer.BadParameter(
            f"{value!r} is not one of {', '.join(TIER_MODES)}", param_hint="--tiers"
        )
    return mode


def password(*, confirm: bool = False) -> str:
    """The keystore password from MODELPACT_PASSWORD, else a hidden prompt."""
    value = os.environ.get(PASSWORD_ENV)
    if value is not None:
        return value
    entered: str = typer.prompt("keystore password", hide_input=True, confirmation_prompt=confirm)
    return entered


def sender(connection: ChainConnection, keystore: Path | None, dev_account: int | None) -> Sender:
    """Who signs: the account in ``keystore`` or the node's dev account #``dev_account``."""
    if (keystore is None) == (dev_account is None):
        raise SenderError(
            "say who signs: exactly one of --keystore FILE or --dev-account N",
            hint="e.g. --dev-account 0 on anvil, or --keystore coordinator.json",
        )
    if keystore is not None:
        from modelpact.round.wallet import load_account

        return load_account(keystore, password=password())
    assert dev_account is not None
    return connection.chain.local_account(dev_account)

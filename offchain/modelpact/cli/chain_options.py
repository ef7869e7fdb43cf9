"""What the chain-touching commands share, declared once and injected (as ApeWorX ape's
``ConnectedProviderCommand`` injects its network option): the chain options (``--chain``,
``--rpc``, ``--chain-id``, ``--state-dir``), the deployment options (``--deployment``,
``--deploy-dir``), the keystore password, and who signs a transaction (``--keystore`` or
``--dev-account``).

A command decorated with :func:`injected` declares, by parameter name, what it needs:

- ``settings: ChainSettings`` -- the validated chain options;
- ``deployed: DeployedRound`` -- the recorded round on its open chain (chain and deployment
  options; the chain is open while the command runs, a managed anvil stopped after);
- ``located: LocatedRecord`` -- the deployment record alone (deployment options, no chain);
- ``state_dir: Path`` -- the local state directory (``--state-dir``, part of the chain options).

The decorator replaces those parameters by the shared options in the signature Typer reads, so
every command spells them, their help and their defaults the same way. Import-light on purpose
(typer and the standard library only): ``modelpact --help`` imports every CLI module, and web3 is
imported only inside the commands that need it.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from modelpact.chain.backends import (
    DEFAULT_MAX_FEE_GWEI,
    DEFAULT_STATE_DIR,
    RPC_ENV,
    ChainKind,
    ChainSettings,
    ChainSettingsError,
    parse_chain_kind,
    state_directory,
)
from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.chain import Chain, Sender
    from modelpact.round.records import DeploymentRecord

__all__ = [
    "CHAIN_ENV",
    "PASSWORD_ENV",
    "STATE_DIR_ENV",
    "TIER_MODES",
    "AnyCurveOpt",
    "DeployDirOpt",
    "DevAccountOpt",
    "LocatedRecord",
    "LotteryTiersOpt",
    "NoCompensationOpt",
    "RpcOpt",
    "SenderError",
    "SignerKeystoreOpt",
    "TiersOpt",
    "injected",
    "password",
    "sender",
    "tier_mode",
]

PASSWORD_ENV = "MODELPACT_PASSWORD"  # = modelpact.round.wallet.PASSWORD_ENV (kept import-light)
CHAIN_ENV = "MODELPACT_CHAIN"
STATE_DIR_ENV = "MODELPACT_STATE_DIR"
TIER_MODES = ("deterministic", "lottery")  # = modelpact.round.coordinator.TIER_MODES

_F = TypeVar("_F", bound=Callable[..., Any])


def _chain_kind(value: str) -> ChainKind:
    """``--chain``: a :class:`ChainKind`, or one line naming the choices."""
    if isinstance(value, ChainKind):
        return value
    try:
        return parse_chain_kind(value)
    except ChainSettingsError as error:
        raise typer.BadParameter(error.one_line()) from None


def _chain_choices(incomplete: str) -> list[str]:
    """Shell completion of ``--chain``."""
    return [k.value for k in ChainKind.selectable() if k.value.startswith(incomplete)]


def _chain_opt(default: ChainKind) -> inspect.Parameter:
    choices = "|".join(k.value for k in ChainKind.selectable())
    option = typer.Option(
        "--chain",
        parser=_chain_kind,
        metavar=f"[{choices}]",
        autocompletion=_chain_choices,
        envvar=CHAIN_ENV,
        help="embedded: eth-tester inside this process (no node; other processes cannot reach "
        "it). anvil: start the pinned local anvil with a state file under --state-dir, so the "
        "round is there for the next command.",
    )
    return _keyword("chain", Annotated[ChainKind, option], default)


RpcOpt = Annotated[
    str | None,
    typer.Option(
        "--rpc",
        help="JSON-RPC URL of any EVM node (overrides --chain), e.g. http://127.0.0.1:8545.",
        envvar=RPC_ENV,
    ),
]
_ChainIdOpt = Annotated[
    int | None,
    typer.Option("--chain-id", help="Expected chain id; refuse to act on another chain."),
]
_MaxFeeOpt = Annotated[
    float,
    typer.Option(
        "--max-fee-gwei",
        help="Never offer more than this fee per gas (gwei) for a transaction: the node's "
        "suggested fees are capped by it, and a base fee above it is refused before sending.",
        envvar="MODELPACT_MAX_FEE_GWEI",
    ),
]
StateDirOpt = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        help="Directory for local state (anvil state file, participant and coordinator state).",
        envvar=STATE_DIR_ENV,
    ),
]
_DeploymentOpt = Annotated[
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
        max=32,  # the contract's MAX_TIERS
        help="Tiers a --tiers lottery trains (from the lowest "
        "target up; 1 = one tier, the rest draw up to the collective model).",
    ),
]
AnyCurveOpt = Annotated[
    bool,
    typer.Option(
        "--any-curve",
        help="Run although the scenario's learned curve was fitted on other data than the "
        "round's ([accuracy.fitted_on]); the contract's curve check then pays every "
        "participant for the collective model's shortfall.",
    ),
]
NoCompensationOpt = Annotated[
    bool,
    typer.Option(
        "--no-compensation",
        help="Deploy a scenario without curve compensation terms ([valuation] unit_wei and a "
        "curve tolerance or uncertainty): tau = 1, rho = 0, no shortfall is compensated; the "
        "output, the demo report and the audit (curve.terms) say so.",
    ),
]


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def _chain_params(default: ChainKind) -> list[inspect.Parameter]:
    return [
        _chain_opt(default),
        _keyword("rpc", RpcOpt, None),
        _keyword("chain_id", _ChainIdOpt, None),
        _keyword("max_fee_gwei", _MaxFeeOpt, float(DEFAULT_MAX_FEE_GWEI)),
        _keyword("state_dir", StateDirOpt, DEFAULT_STATE_DIR),
    ]


def _record_params() -> list[inspect.Parameter]:
    return [
        _keyword("deployment", _DeploymentOpt, "latest"),
        _keyword("deploy_dir", DeployDirOpt, Path("deploy")),
    ]


@dataclass(frozen=True)
class LocatedRecord:
    """A deployment record and the path it was read from (relative paths resolve next to it)."""

    record: DeploymentRecord
    path: Path


_INJECTED = ("settings", "deployed", "located", "state_dir")


def injected(*, default_chain: ChainKind = ChainKind.ANVIL) -> Callable[[_F], _F]:
    """Give a command the shared options its injected parameters need (see the module doc).

    ``default_chain`` is ``--chain``'s default: a managed anvil for the round commands (its
    state persists in ``--state-dir``, so one command's round is there for the next), the
    embedded chain for ``demo`` (a whole round in one process)."""

    def decorate(command: _F) -> _F:
        signature = inspect.signature(command)
        wanted = [n for n in _INJECTED if n in signature.parameters]
        own = [_evaluated(p, command) for n, p in signature.parameters.items() if n not in wanted]
        shared: list[inspect.Parameter] = []
        if "settings" in wanted or "deployed" in wanted:
            shared += _chain_params(default_chain)
        elif "state_dir" in wanted:
            shared += _chain_params(default_chain)[-1:]
        if "deployed" in wanted or "located" in wanted:
            shared += _record_params()

        @functools.wraps(command)
        def run(**options: Any) -> object:
            with ExitStack() as stack:
                values = dict(_provide(wanted, options, stack))
                return command(**options, **values)

        parameters = own + shared
        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run  # type: ignore[return-value]

    return decorate


def _evaluated(parameter: inspect.Parameter, command: Callable[..., Any]) -> inspect.Parameter:
    """``parameter`` with its annotation evaluated (Typer reads real ``Annotated`` objects). Only
    the command's own options are evaluated: the injected ones name types imported under
    TYPE_CHECKING, which exist for mypy only."""
    annotation = parameter.annotation
    if isinstance(annotation, str):
        annotation = eval(annotation, command.__globals__)  # the module's own annotation text
    return parameter.replace(annotation=annotation)


def _provide(
    wanted: list[str], options: dict[str, Any], stack: ExitStack
) -> Iterator[tuple[str, Any]]:
    """Build the injected values from (and remove) the shared options' values."""
    settings = None
    state_dir = options.pop("state_dir", None)
    if state_dir is not None:
        state_dir = state_directory(state_dir)
    if "rpc" in options:
        settings = ChainSettings.build(
            chain=options.pop("chain"),
            rpc_url=options.pop("rpc"),
            chain_id=options.pop("chain_id"),
            state_dir=state_dir,
            max_fee_gwei=options.pop("max_fee_gwei"),
        )
    deployment, deploy_dir = options.pop("deployment", None), options.pop("deploy_dir", None)
    if "state_dir" in wanted:
        yield "state_dir", state_dir
    if "settings" in wanted:
        yield "settings", settings
    if "deployed" in wanted:
        from modelpact.round.deployed import open_round

        assert settings is not None
        assert deployment is not None
        assert deploy_dir is not None
        yield (
            "deployed",
            stack.enter_context(open_round(settings, deployment=deployment, deploy_dir=deploy_dir)),
        )
    if "located" in wanted:
        from modelpact.round.records import find_record

        assert deployment is not None
        assert deploy_dir is not None
        record, path = find_record(deployment, deploy_dir=deploy_dir)
        yield "located", LocatedRecord(record, path)


class SenderError(ModelpactError, ValueError):
    """No (or two) ways to sign the transactions were given."""


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
    if sys.stdin.isatty():
        entered: str = typer.prompt(
            "keystore password", hide_input=True, confirmation_prompt=confirm
        )
        return entered
    return _piped_password(confirm=confirm)


def _piped_password(*, confirm: bool) -> str:
    """The password from a pipe (one line; twice with ``confirm``), without getpass's warnings
    about echo; nothing piped is one line naming the environment variable, not "aborted"."""
    from modelpact.round.wallet import KeystoreError

    lines = [sys.stdin.readline() for _ in range(2 if confirm else 1)]
    if not lines[0]:  # end of input at once: nothing was piped
        raise KeystoreError(
            f"no keystore password: {PASSWORD_ENV} is not set and there is no terminal to ask on",
            hint=f"set {PASSWORD_ENV} in the environment of this command (or run it in a terminal)",
        )
    first, *again = (line.rstrip("\r\n") for line in lines)
    if again and again[0] != first:
        raise KeystoreError(
            "the two passwords piped on standard input differ",
            hint=f"pipe the same password twice, or set {PASSWORD_ENV}",
        )
    return first


def sender(chain: Chain, keystore: Path | None, dev_account: int | None) -> Sender:
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
    return chain.local_account(dev_account)

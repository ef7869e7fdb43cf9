"""``modelpact participant ...``: a participant's wallet scripts.

Each command parses its options, calls one function of :mod:`modelpact.round.participant` with
keyword-only arguments, and prints the result. Passwords come from ``MODELPACT_PASSWORD`` or a
prompt, never from the command line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelpact.cli._app import app
from modelpact.cli.chain_options import (
    DEFAULT_CHAIN,
    DEFAULT_STATE,
    ChainIdOpt,
    ChainOpt,
    DeployDirOpt,
    DeploymentOpt,
    RpcOpt,
    StateDirOpt,
    open_deployment,
)
from modelpact.cli.chain_options import password as _password

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from modelpact.round.session import OpenRound
    from modelpact.round.state import JsonState

__all__ = ["participant_app"]

participant_app = typer.Typer(
    name="participant",
    help="Participant wallet scripts: account, menu, commit, join, reveal, claim, fetch, verify.",
    no_args_is_help=True,
)
app.add_typer(participant_app)

KeystoreOpt = Annotated[
    Path,
    typer.Option("--keystore", help="Encrypted keystore file of the participant's account."),
]


def _core() -> Any:
    """The participant workflow module (imported lazily: web3 is slow to import)."""
    from modelpact.round import participant

    return participant


def _wallet() -> Any:
    """The keystore module (imported lazily)."""
    from modelpact.round import wallet

    return wallet


@contextmanager
def _wallet_round(
    keystore: Path,
    deployment: str,
    deploy_dir: Path,
    chain: str,
    rpc: str | None,
    chain_id: int | None,
    state_dir: Path,
) -> Iterator[tuple[OpenRound, LocalAccount, JsonState]]:
    """The recorded round on its open chain, the decrypted account and its local state."""
    with open_deployment(deployment, deploy_dir, chain, rpc, chain_id, state_dir) as opened:
        account = _wallet().load_account(keystore, password=_password())
        yield opened, account, _core().participant_state(state_dir, opened.record, account.address)


@participant_app.command("new-account")
def new_account(keystore: KeystoreOpt) -> None:
    """Create a fresh account in an encrypted keystore (password from MODELPACT_PASSWORD or a
    prompt) and print its address."""
    address = _wallet().create_keystore(keystore, password=_password(confirm=True))
    typer.echo(f"created account {address} in {keystore}")


@participant_app.command("import-account")
def import_account(
    keystore: KeystoreOpt,
    private_key_file: Annotated[
        Path,
        typer.Option("--private-key-file", help="File holding the hex private key to import."),
    ],
) -> None:
    """Encrypt an existing private key into a keystore and print its address."""
    try:
        key = private_key_file.read_text().strip()
    except OSError as exc:  # a missing/unreadable file is bad input, not a crash (issue 7)
        raise _wallet().KeystoreError(
            f"cannot read private key file {private_key_file}: {exc.strerror}",
            hint="pass --private-key-file with the path of a file holding the hex key",
        ) from None
    address = _wallet().import_keystore(keystore, private_key=key, password=_password(confirm=True))
    typer.echo(f"imported account {address} into {keystore}")


@participant_app.command("menu")
def menu(
    cost: Annotated[
        float | None,
        typer.Option("--cost", help="Your private cost per row: show utilities and the best."),
    ] = None,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Show the round's menu; with --cost, the utility t - cost x m of every option and the best."""
    if cost is not None and cost < 0:
        raise typer.BadParameter("the cost per row must be >= 0", param_hint="--cost")
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with open_deployment(*where) as opened:
        options = _core().menu_view(opened.handle, cost=cost)
        bond = opened.handle.round.config().participant_bond
    best = _core().best_option_id(options)
    typer.echo(f"round {opened.record.address}: bond {bond} wei")
    header = f"{'option':>6} {'rows m':>7} {'ratio':>7} {'t':>9} {'t_bar':>9}"
    typer.echo(header + (f" {'utility':>9}" if cost is not None else ""))
    for o in options:
        line = (
            f"{o.option_id:>6} {o.data_count:>7} {o.ratio:>7.4f} {o.promised_value:>9.3f} "
            f"{o.budget_value:>9.3f}"
        )
        if o.utility is not None:
            line += f" {o.utility:>9.3f}" + ("  <- best" if o.option_id == best else "")
        typer.echo(line)
    if best is not None and cost is not None:
        typer.echo(f"best option for cost {cost:g}: {best}")
        alone = _core().outside_option(opened.record, opened.record_path, cost=cost)
        utility = options[best].utility
        verdict = "joining pays" if utility is not None and utility >= alone else "stay out"
        typer.echo(
            f"training alone (the published scenario's curve) is worth {alone:.3f}: {verdict}"
        )


@participant_app.command("commit")
def commit(
    keystore: KeystoreOpt,
    data: Annotated[Path, typer.Option("--data", help="Your dataset: CSV or .npy, label last.")],
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Validate your dataset and compute its Merkle root (kept in your local state for join)."""
    from modelpact.round.records import find_record

    record, _ = find_record(deployment, deploy_dir=deploy_dir)
    address = _wallet().keystore_address(keystore)
    state = _core().participant_state(state_dir, record, address)
    result = _core().commit_dataset(
        state, dataset=data, spec_name=str(record.extra.get("dataset", "digits"))
    )
    typer.echo(f"committed {result.row_count} rows, Merkle root {result.data_root}")


@participant_app.command("join")
def join(
    keystore: KeystoreOpt,
    option: Annotated[int, typer.Option("--option", help="Option id from `participant menu`.")],
    inbox: Annotated[
        Path | None,
        typer.Option("--inbox", help="Also deliver the committed rows to this directory."),
    ] = None,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Join with the option and the committed dataset, posting the bond. Safe to re-run."""
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with _wallet_round(keystore, *where) as (opened, account, state):
        result = _core().join(opened.handle, state, account=account, option_id=option)
    if result.already_done:
        typer.echo(
            f"already joined{f' (tx {result.tx_hash})' if result.tx_hash else ''}: nothing sent"
        )
    else:
        typer.echo(f"joined with option {option} (tx {result.tx_hash}, gas {result.gas_used})")
    if inbox is not None:
        path = _core().deliver(state, inbox=inbox, address=account.address)
        typer.echo(f"delivered the committed rows to {path}")


@participant_app.command("reveal")
def reveal(
    keystore: KeystoreOpt,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Reveal your randomness secret (after the models are posted). Safe to re-run."""
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with _wallet_round(keystore, *where) as (opened, account, state):
        result = _core().reveal(opened.handle, state, account=account)
    if result.already_done:
        typer.echo("already revealed: nothing sent")
    else:
        typer.echo(f"revealed (tx {result.tx_hash}, gas {result.gas_used})")


@participant_app.command("claim")
def claim(
    keystore: KeystoreOpt,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Claim: record your assigned model and take back your bond."""
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with _wallet_round(keystore, *where) as (opened, account, state):
        result = _core().claim(opened.handle, state, account=account)
    typer.echo(
        f"claimed rung {result.rung}: model {result.model_hash} with accuracy "
        f"{result.accuracy_wad / 1e18:.4f} (target {result.target_accuracy_wad / 1e18:.4f}); "
        f"bond {result.bond_refund} wei + share {result.slash_share} wei returned "
        f"(tx {result.tx_hash})"
    )


@participant_app.command("fetch")
def fetch(
    keystore: KeystoreOpt,
    out: Annotated[Path, typer.Option("--out", help="Where to write your model file.")],
    models: Annotated[
        Path | None,
        typer.Option("--models", help="Coordinator's model store (default: next to the record)."),
    ] = None,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Copy your claimed model from the coordinator's content-addressed store."""
    from modelpact.round.records import find_record

    record, record_path = find_record(deployment, deploy_dir=deploy_dir)
    state = _core().participant_state(state_dir, record, _wallet().keystore_address(keystore))
    store = models or _core().default_models_dir(record, record_path)
    path = _core().fetch_model(state, models_dir=store, out=out)
    typer.echo(f"fetched your model to {path}")


@participant_app.command("verify")
def verify(
    keystore: KeystoreOpt,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model file (default: the fetched one).")
    ] = None,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Check your model: its keccak256 is the claimed hash, the public test set matches its
    on-chain commitment, and the model's accuracy on it is the posted accuracy. Exit 1 if not."""
    from hexbytes import HexBytes

    from modelpact.round.records import find_record

    record, record_path = find_record(deployment, deploy_dir=deploy_dir)
    state = _core().participant_state(state_dir, record, _wallet().keystore_address(keystore))
    model_file = model or Path(str(state.get("model_file") or ""))
    if not model_file.is_file():
        raise typer.BadParameter("no model file: run `participant fetch` or pass --model")
    result = _core().verify_model(
        state,
        model_file=model_file,
        test_set=record_path.parent / record.test_set_file,
        test_set_root=bytes(HexBytes(record.test_set_root)),
        spec_name=str(record.extra.get("dataset", "digits")),
    )
    typer.echo(f"model hash {result.model_hash}: {'ok' if result.hash_ok else 'MISMATCH'}")
    typer.echo(f"public test set root: {'ok' if result.test_set_ok else 'MISMATCH'}")
    typer.echo(
        f"accuracy measured {result.measured_accuracy_wad / 1e18:.6f}, posted "
        f"{result.posted_accuracy_wad / 1e18:.6f}: {'ok' if result.accuracy_ok else 'MISMATCH'}"
    )
    if not result.ok:
        raise typer.Exit(1)


@participant_app.command("withdraw")
def withdraw(
    keystore: KeystoreOpt,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """After the coordinator missed the post deadline: take back your bond plus compensation."""
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with _wallet_round(keystore, *where) as (opened, account, state):
        result = _core().withdraw_after_default(opened.handle, state, account=account)
    typer.echo(
        f"refunded bond {result.bond} wei + compensation {result.compensation} wei "
        f"(tx {result.tx_hash})"
    )

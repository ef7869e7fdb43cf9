"""``modelpact coordinator ...``: solve and deploy a scenario, watch the round, reveal, ingest
participants' data, train and post the models, sweep after the deadlines.

Each command parses its options, opens the chain and the round, calls one function of
:mod:`modelpact.round.coordinator`, and prints the result.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from modelpact.cli._app import app
from modelpact.cli.chain_options import (
    DEFAULT_CHAIN,
    DEFAULT_STATE,
    ChainIdOpt,
    ChainOpt,
    DeployDirOpt,
    DeploymentOpt,
    DevAccountOpt,
    LotteryTiersOpt,
    RpcOpt,
    SenderError,
    StateDirOpt,
    TiersOpt,
    chain_settings,
    open_deployment,
    tier_mode,
)
from modelpact.cli.chain_options import SignerKeystoreOpt as KeystoreOpt
from modelpact.cli.chain_options import sender as _sender
from modelpact.round.session import open_chain


def _core() -> Any:
    """The coordinator workflow module (imported lazily: web3 is slow to import)."""
    from modelpact.round import coordinator

    return coordinator


__all__ = ["coordinator_app"]

coordinator_app = typer.Typer(
    name="coordinator",
    help="Coordinator: deploy a scenario, watch, reveal, ingest data, train and post, sweep.",
    no_args_is_help=True,
)
app.add_typer(coordinator_app)


def _when(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@coordinator_app.command("deploy")
def deploy(
    scenario: Annotated[Path, typer.Option("--scenario", help="Scenario TOML to solve.")],
    keystore: KeystoreOpt = None,
    dev_account: DevAccountOpt = None,
    dataset: Annotated[str, typer.Option("--dataset", help="Built-in dataset.")] = "digits",
    test_size: Annotated[int, typer.Option("--test-size", help="Public test set rows.")] = 360,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the test-set split.")] = 0,
    participant_bond: Annotated[int, typer.Option("--participant-bond", help="Wei.")] = 10**16,
    coordinator_bond: Annotated[int, typer.Option("--coordinator-bond", help="Wei.")] = 10**17,
    join_seconds: Annotated[int, typer.Option("--join-seconds", min=1)] = 3600,
    post_seconds: Annotated[int, typer.Option("--post-seconds", min=2)] = 7200,
    reveal_seconds: Annotated[int, typer.Option("--reveal-seconds", min=3)] = 10800,
    claim_seconds: Annotated[int, typer.Option("--claim-seconds", min=4)] = 14400,
    new_round: Annotated[
        bool,
        typer.Option(
            "--new-round",
            help="Deploy another round even if this scenario was already deployed from this "
            "account (without it a re-run reuses the recorded deployment).",
        ),
    ] = False,
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Solve the scenario, integerize and check the menu, commit the test set, the randomness and
    the accuracy curve, deploy with the bond, and write the deployment record. Safe to re-run:
    the deploy transaction is recorded before waiting, so a re-run after a crash (or a plain
    re-run) finishes or reports the same deployment instead of deploying twice."""
    settings = chain_settings(chain=chain, rpc=rpc, chain_id=chain_id, state_dir=state_dir)
    if settings.kind == "embedded":
        raise SenderError(
            "a round deployed on the embedded chain vanishes when this command exits",
            hint="deploy with --chain anvil or --rpc URL (or run `modelpact demo`)",
        )
    with open_chain(settings) as connection:
        deployed = _core().deploy_scenario(
            connection.chain,
            scenario_path=scenario,
            sender=_sender(connection, keystore, dev_account),
            deploy_dir=deploy_dir,
            state_dir=state_dir,
            dataset=dataset,
            test_size=test_size,
            seed=seed,
            participant_bond_wei=participant_bond,
            coordinator_bond_wei=coordinator_bond,
            deadlines=_core().Deadlines(join_seconds, post_seconds, reveal_seconds, claim_seconds),
            new_round=new_round,
        )
    record = deployed.record
    verb = "already deployed" if deployed.already_done else "deployed"
    typer.echo(f"{verb} round {record.address} on chain {record.chain_id} (tx {record.tx_hash})")
    if deployed.already_done:
        typer.echo("nothing sent (pass --new-round to deploy another round of this scenario)")
    typer.echo(f"record: {deployed.record_path}")


@coordinator_app.command("status")
def status(
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Show the round's phase, participants, deadlines and balance."""
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with open_deployment(*where) as opened:
        st = _core().round_status(opened.handle)
    typer.echo(f"round {st.address} on chain {st.chain_id}: phase {st.phase.name.lower()}")
    typer.echo(
        f"participants {st.joined}/{st.capacity}, revealed {st.revealed}, rows {st.total_data}"
    )
    typer.echo(f"joins per option: {list(st.option_joins)}")
    names = ("join", "post", "reveal", "claim")
    for name, when in zip(names, st.deadlines, strict=True):
        mark = "passed" if when < st.timestamp else "open"
        typer.echo(f"  {name:7s} deadline {_when(when)} ({mark})")
    posted = (
        f"yes (collective accuracy {st.collective_accuracy_wad / 1e18:.4f})"
        if st.models_posted
        else "no"
    )
    revealed = "yes" if st.coordinator_revealed else "no"
    typer.echo(f"coordinator revealed: {revealed}; models posted: {posted}")
    typer.echo(f"contract balance: {st.balance_wei} wei")


@coordinator_app.command("reveal")
def reveal(
    keystore: KeystoreOpt = None,
    dev_account: DevAccountOpt = None,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Reveal the coordinator's randomness secret (after joining closed). Safe to re-run."""
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with open_deployment(*where) as opened:
        sender = _sender(opened.connection, keystore, dev_account)
        state = _core().coordinator_state(state_dir, opened.record)
        tx, already = _core().reveal_coordinator(opened.handle, state, sender=sender)
    typer.echo(("already revealed" if already else "revealed") + (f" (tx {tx})" if tx else ""))


@coordinator_app.command("ingest")
def ingest(
    inbox: Annotated[Path, typer.Option("--inbox", help="Directory of <address>.npy/.csv files.")],
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Verify every participant's delivered dataset against its committed root and row count."""
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with open_deployment(*where) as opened:
        deliveries = _core().ingest(
            opened.handle,
            files=_core().inbox_files(inbox),
            delivered_dir=opened.files_dir / "delivered",
            spec_name=str(opened.record.extra.get("dataset", "digits")),
        )
    for d in deliveries:
        typer.echo(f"#{d.index} {d.participant}: {d.row_count} rows, root {d.data_root} verified")
    typer.echo(f"{len(deliveries)} deliveries verified")


@coordinator_app.command("train-and-post")
def train_and_post(
    keystore: KeystoreOpt = None,
    dev_account: DevAccountOpt = None,
    seed: Annotated[int, typer.Option("--seed", help="Training seed.")] = 0,
    tiers: TiersOpt = "deterministic",
    lottery_tiers: LotteryTiersOpt = 1,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """Train the collective model on the verified deliveries, measure it on the committed test
    set, build the reward tiers, store every model by keccak256, and post them. Safe to re-run."""
    from modelpact.ml.datasets import load_rows

    mode = tier_mode(tiers)
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with open_deployment(*where) as opened:
        sender = _sender(opened.connection, keystore, dev_account)
        files = opened.files_dir
        deliveries = _core().ingest(
            opened.handle,
            files=_core().inbox_files(files / "delivered"),
            delivered_dir=files / "delivered",
            spec_name=str(opened.record.extra.get("dataset", "digits")),
        )
        result = _core().train_and_post(
            opened.handle,
            _core().coordinator_state(state_dir, opened.record),
            deliveries=deliveries,
            test_rows=load_rows(opened.record_path.parent / opened.record.test_set_file),
            models_dir=files / str(opened.record.extra.get("models_dir", "models")),
            sender=sender,
            seed=seed,
            tier_mode=mode,
            lottery_tiers=lottery_tiers,
        )
    c = result.collective
    typer.echo(
        f"collective model {c.model_hash}: accuracy {c.accuracy_wad / 1e18:.4f} "
        f"on {result.total_rows} rows"
    )
    for t in result.tiers:
        typer.echo(f"tier {t.model_hash}: accuracy {t.accuracy_wad / 1e18:.4f} ({t.rows} rows)")
    trained = f", {result.models_trained} models trained" if not result.already_done else ""
    typer.echo(f"tiers: {result.tier_mode} ({len(result.tiers)} reward models{trained})")
    typer.echo(("already posted" if result.already_done else "posted") + f" (tx {result.tx_hash})")


@coordinator_app.command("sweep")
def sweep(
    keystore: KeystoreOpt = None,
    dev_account: DevAccountOpt = None,
    deployment: DeploymentOpt = "latest",
    deploy_dir: DeployDirOpt = Path("deploy"),
    chain: ChainOpt = DEFAULT_CHAIN,
    rpc: RpcOpt = None,
    chain_id: ChainIdOpt = None,
    state_dir: StateDirOpt = DEFAULT_STATE,
) -> None:
    """After the claim deadline, send what is left in the contract to the coordinator."""
    where = (deployment, deploy_dir, chain, rpc, chain_id, state_dir)
    with open_deployment(*where) as opened:
        sender = _sender(opened.connection, keystore, dev_account)
        tx, amount, _ = _core().sweep(
            opened.handle, _core().coordinator_state(state_dir, opened.record), sender=sender
        )
    typer.echo(f"swept {amount} wei to the coordinator (tx {tx})")

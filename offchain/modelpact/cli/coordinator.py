"""``modelpact coordinator ...``: solve and deploy a scenario, watch the round, reveal, ingest
participants' data, train and post the models, sweep after the deadlines.

Each command parses its options, gets the chain or the recorded round injected
(:func:`modelpact.cli.chain_options.injected`), calls one function of
:mod:`modelpact.round.coordinator`, and prints the result (``--json``: one JSON document).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelpact.cli._app import app, example
from modelpact.cli.chain_options import (
    AnyCurveOpt,
    DeployDirOpt,
    DevAccountOpt,
    LotteryTiersOpt,
    NoCompensationOpt,
    SenderError,
    TiersOpt,
    injected,
    sender,
    tier_mode,
)
from modelpact.cli.chain_options import SignerKeystoreOpt as KeystoreOpt
from modelpact.cli.output import JsonOpt, emit
from modelpact.round.locks import holding

DEFAULT_WINDOW = 6 * 3600
"""modelpact.round.coordinator.DEFAULT_WINDOW (kept here so --help needs no heavy import)."""

if TYPE_CHECKING:  # the workflows import web3: loaded inside the commands
    from modelpact.chain.backends import ChainSettings
    from modelpact.round.coordinator import CancelResult, Deployed, PostResult
    from modelpact.round.deployed import DeployedRound

__all__ = ["coordinator_app"]

coordinator_app = typer.Typer(
    name="coordinator",
    epilog=example("modelpact coordinator status"),
    help="Coordinator: deploy a scenario, watch, reveal, ingest data, train and post, sweep.",
    no_args_is_help=True,
)
app.add_typer(coordinator_app)

_SCENARIO = "offchain/modelpact/data/scenarios/digits_demo.toml"
_MAX_WEI = 2**96 - 1  # the contract refuses larger bonds (BondTooLarge: uint96 accounting)
_WHAT = "this round's coordinator state"  # one coordinator command per round at a time

# deploy's options, named once so its signature reads as a list of what a round is made of
_DatasetOpt = Annotated[str, typer.Option("--dataset", help="Built-in dataset.")]
_TestSizeOpt = Annotated[int, typer.Option("--test-size", help="Public test set rows.")]
_SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the test-set split.")]
_ParticipantBondOpt = Annotated[
    int, typer.Option("--participant-bond", help="Wei.", min=0, max=_MAX_WEI)
]
_CoordinatorBondOpt = Annotated[
    int, typer.Option("--coordinator-bond", help="Wei.", min=0, max=_MAX_WEI)
]
_JoinSecondsOpt = Annotated[
    int, typer.Option("--join-seconds", min=1, help="Seconds from deployment to join close.")
]
_PostSecondsOpt = Annotated[
    int,
    typer.Option(
        "--post-seconds",
        min=2,
        help="Seconds from deployment to the post deadline (> --join-seconds + 3600: the "
        "data window comes first).",
    ),
]
_RevealWindowOpt = Annotated[
    int, typer.Option("--reveal-window", help="Seconds after the post for reveals (>= 3600).")
]
_DeliveryWindowOpt = Annotated[
    int,
    typer.Option("--delivery-window", help="Seconds after the reveal deadline (>= 3600)."),
]
_ClaimWindowOpt = Annotated[
    int,
    typer.Option("--claim-window", help="Seconds after the delivery deadline (>= 3600)."),
]
_NewRoundOpt = Annotated[
    bool,
    typer.Option(
        "--new-round",
        help="Deploy another round even if this scenario was already deployed from this "
        "account (without it a re-run reuses the recorded deployment).",
    ),
]
_FactoryOpt = Annotated[
    str | None,
    typer.Option(
        "--factory",
        help="Create the round with this ModelpactFactory (verified against this build first: "
        "its code, the round and proofs implementations below it). Without it the shared "
        "contracts are deployed first (three one-time transactions).",
    ),
]


def _when(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _deployed_summary(deployed: Deployed, *, compensation: bool) -> dict[str, object]:
    record = deployed.record
    return {
        "address": record.address,
        "chain_id": record.chain_id,
        "tx_hash": record.tx_hash,
        "record_path": deployed.record_path,
        "gas_used": deployed.gas_used,
        "already_done": deployed.already_done,
        "curve_compensation": compensation,
        **_shared_summary(deployed),
    }


def _shared_summary(deployed: Deployed) -> dict[str, object]:
    shared = deployed.shared
    if shared is None:
        return {}
    return {
        "factory": shared.factory,
        "round_implementation": shared.round_implementation,
        "proofs_implementation": shared.proofs_implementation,
        "shared_deployed": not shared.reused,
        "shared_gas_used": shared.gas_used,
    }


_NO_COMPENSATION = (
    "WARNING: this round pays NO curve compensation (tau = 1, rho = 0, --no-compensation): a "
    "collective model short of its curve costs the participants, not the coordinator"
)


def _print_deployed(deployed: Deployed, *, compensation: bool) -> None:
    record = deployed.record
    verb = "already deployed" if deployed.already_done else "deployed"
    shared = deployed.shared
    if shared is not None and not shared.reused:
        typer.echo(
            f"deployed the shared contracts (once per chain; {shared.gas_used} gas): factory "
            f"{shared.factory}, round implementation {shared.round_implementation}, proofs "
            f"implementation {shared.proofs_implementation} (next rounds: --factory "
            f"{shared.factory})"
        )
    elif shared is not None:
        typer.echo(f"using the verified factory {shared.factory}")
    typer.echo(f"{verb} round {record.address} on chain {record.chain_id} (tx {record.tx_hash})")
    if deployed.already_done:
        typer.echo("nothing sent (pass --new-round to deploy another round of this scenario)")
    if not compensation:
        typer.echo(_NO_COMPENSATION)
    typer.echo(f"record: {deployed.record_path}")


@coordinator_app.command(
    "deploy", epilog=example(f"modelpact coordinator deploy --scenario {_SCENARIO} --dev-account 0")
)
@injected()
def deploy(
    settings: ChainSettings,
    scenario: Annotated[Path, typer.Option("--scenario", help="Scenario TOML to solve.")],
    keystore: KeystoreOpt = None,
    dev_account: DevAccountOpt = None,
    dataset: _DatasetOpt = "digits",
    test_size: _TestSizeOpt = 360,
    seed: _SeedOpt = 0,
    participant_bond: _ParticipantBondOpt = 10**16,
    coordinator_bond: _CoordinatorBondOpt = 10**17,
    join_seconds: _JoinSecondsOpt = 3600,
    post_seconds: _PostSecondsOpt = 3 * 3600,
    reveal_window: _RevealWindowOpt = DEFAULT_WINDOW,
    delivery_window: _DeliveryWindowOpt = DEFAULT_WINDOW,
    claim_window: _ClaimWindowOpt = DEFAULT_WINDOW,
    new_round: _NewRoundOpt = False,
    no_compensation: NoCompensationOpt = False,
    any_curve: AnyCurveOpt = False,
    deploy_dir: DeployDirOpt = Path("deploy"),
    factory: _FactoryOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Solve the scenario, integerize and check the menu, commit the test set, the randomness and
    the accuracy curve, create the round with the bond through the factory (--factory, verified;
    else the shared contracts are deployed first), and write the deployment record. Safe to
    re-run: every transaction is recorded before waiting, so a re-run after a crash (or a plain
    re-run) finishes or reports the same deployment instead of deploying twice. A scenario
    without compensation terms is refused unless --no-compensation."""
    from modelpact.chain.backends import ChainKind, open_chain
    from modelpact.round.coordinator import Deadlines, RoundTerms, deploy_scenario

    deadlines = Deadlines(join_seconds, post_seconds, reveal_window, delivery_window, claim_window)
    deadlines.check()  # before any chain: a too-short window is one line, exit 2, nothing sent
    if factory is not None:
        from eth_utils.address import is_address

        from modelpact.audit.clones import UntrustedError

        if not is_address(factory):
            raise UntrustedError(
                f"--factory {factory!r} is not an address",
                hint="pass the factory address a previous `modelpact coordinator deploy` printed "
                "(0x and 40 hex digits), or omit --factory to deploy the shared contracts",
            )
    if settings.kind is ChainKind.EMBEDDED:
        raise SenderError(
            "a round deployed on the embedded chain vanishes when this command exits",
            hint="deploy with --chain anvil or --rpc URL (or run `modelpact demo`)",
        )
    with open_chain(settings) as chain:
        deployed = deploy_scenario(
            chain,
            scenario_path=scenario,
            sender=sender(chain, keystore, dev_account),
            deploy_dir=deploy_dir,
            state_dir=settings.state_dir,
            dataset=dataset,
            test_size=test_size,
            seed=seed,
            terms=RoundTerms(participant_bond, coordinator_bond, deadlines, no_compensation),
            new_round=new_round,
            any_curve=any_curve,
            factory=factory,
        )
        paid = deployed.bind(chain).contract.config().shortfall_wei_per_wad > 0
    summary = _deployed_summary(deployed, compensation=paid)
    emit(summary, as_json=as_json, text=lambda: _print_deployed(deployed, compensation=paid))


@coordinator_app.command(
    "status", epilog=example("modelpact coordinator status --deployment latest")
)
@injected()
def status(deployed: DeployedRound, as_json: JsonOpt = False) -> None:
    """Show the round's phase, participants, deadlines and balance."""
    from modelpact.round.coordinator import round_status

    st = round_status(deployed)

    def text() -> None:
        typer.echo(f"round {st.address} on chain {st.chain_id}: phase {st.phase.name.lower()}")
        typer.echo(
            f"participants {st.joined}/{st.capacity} (quorum {st.quorum}), delivered "
            f"{st.delivered}, revealed {st.revealed}, rows {st.total_data}"
        )
        typer.echo(f"joins per option: {list(st.option_joins)}")
        names = ("join", "post", "reveal", "delivery", "claim")
        for name, when in zip(names, st.deadlines, strict=True):
            if when == 0:
                typer.echo(f"  {name:8s} deadline set when models are posted")
                continue
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

    emit(st, as_json=as_json, text=text)


@coordinator_app.command("reveal", epilog=example("modelpact coordinator reveal --dev-account 0"))
@injected()
def reveal(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt = None,
    dev_account: DevAccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reveal the coordinator's randomness secret (after joining closed). Safe to re-run."""
    from modelpact.round.coordinator import coordinator_state, reveal_coordinator

    signer = sender(deployed.chain, keystore, dev_account)
    state = coordinator_state(settings.state_dir, deployed.record)
    with holding(state.path, what=_WHAT):
        result = reveal_coordinator(deployed, state, sender=signer)

    def text() -> None:
        shown = f" (tx {result.tx_hash})" if result.tx_hash else ""
        typer.echo(("already revealed" if result.already_done else "revealed") + shown)

    emit(result, as_json=as_json, text=text)


@coordinator_app.command(
    "ingest", epilog=example("modelpact coordinator ingest --inbox deploy/inbox")
)
@injected()
def ingest(
    deployed: DeployedRound,
    inbox: Annotated[Path, typer.Option("--inbox", help="Directory of <address>.npy/.csv files.")],
    as_json: JsonOpt = False,
) -> None:
    """Verify every participant's delivered dataset against its committed root and row count."""
    from modelpact.ml.datasets import load_rows
    from modelpact.round.coordinator import inbox_files
    from modelpact.round.coordinator import ingest as verify_deliveries

    files = inbox_files(inbox)
    if not files and deployed.contract.joined_count() > 0:
        # Most likely a wrong folder: going on would name every participant undelivered.
        raise typer.BadParameter(
            f"{inbox} holds no deliveries (<checksummed address>.npy or .csv); check the folder "
            "participants deliver to (`participant join --inbox DIR`); nothing was recorded",
            param_hint="--inbox",
        )
    ingested = verify_deliveries(
        deployed,
        files=files,
        delivered_dir=deployed.files_dir / "delivered",
        spec_name=deployed.record.extra.dataset,
        test_rows=load_rows(deployed.test_set_path),
    )

    def text() -> None:
        for d in ingested.deliveries:
            typer.echo(
                f"#{d.index} {d.participant}: {d.row_count} rows, root {d.data_root} verified"
            )
        for r in ingested.rejected:
            typer.echo(f"#{r.index} {r.participant}: {r.reason} (named undelivered at post)")
        typer.echo(
            f"{len(ingested.deliveries)} deliveries verified, {len(ingested.rejected)} undelivered"
        )
        open_until = _data_window_open_until(deployed)
        if open_until is not None:
            typer.echo(
                f"note: the data window is open until {open_until}: participants may still "
                "deliver; re-run ingest after it closes, before train-and-post"
            )

    emit(ingested, as_json=as_json, text=text)


def _data_window_open_until(deployed: DeployedRound) -> str | None:
    """The data window's end as UTC text while it is still open (issue 11.7), else None."""
    from modelpact.encoding import Phase

    if deployed.phase() not in (Phase.JOIN, Phase.POST):
        return None
    deadline = deployed.contract.data_deadline()
    if deadline and deployed.latest_timestamp() > deadline:
        return None
    if not deadline:
        return "an hour after joining closes"
    return dt.datetime.fromtimestamp(deadline, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@coordinator_app.command(
    "train-and-post",
    epilog=example("modelpact coordinator train-and-post --dev-account 0 --tiers lottery"),
)
@injected()
def train_and_post(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt = None,
    dev_account: DevAccountOpt = None,
    seed: Annotated[int, typer.Option("--seed", help="Training seed.")] = 0,
    tiers: TiersOpt = "deterministic",
    lottery_tiers: LotteryTiersOpt = 1,
    as_json: JsonOpt = False,
) -> None:
    """Train the collective model on the verified deliveries, measure it on the committed test
    set, build the reward tiers, store every model by keccak256, and post them. Safe to re-run."""
    from modelpact.ml.datasets import load_rows
    from modelpact.round import coordinator as core

    mode = tier_mode(tiers)
    signer = sender(deployed.chain, keystore, dev_account)
    delivered = deployed.files_dir / "delivered"
    test_rows = load_rows(deployed.test_set_path)
    delivered.mkdir(parents=True, exist_ok=True)
    state = core.coordinator_state(settings.state_dir, deployed.record)
    with holding(state.path, what=_WHAT):
        ingested = core.ingest(
            deployed,
            files=core.inbox_files(delivered),
            delivered_dir=delivered,
            spec_name=deployed.record.extra.dataset,
            test_rows=test_rows,
        )
        result = core.train_and_post(
            deployed,
            state,
            deliveries=ingested.deliveries,
            test_rows=test_rows,
            models_dir=deployed.models_dir,
            sender=signer,
            seed=seed,
            tier_mode=mode,
            lottery_tiers=lottery_tiers,
        )

    if isinstance(result, core.CancelResult):
        cancelled = result
        emit(cancelled, as_json=as_json, text=lambda: _print_cancelled(cancelled))
        return
    posted = result
    emit(posted, as_json=as_json, text=lambda: _print_posted(posted))


def _print_cancelled(cancelled: CancelResult) -> None:
    verb = "already cancelled" if cancelled.already_done else "cancelled"
    typer.echo(
        f"only {cancelled.delivered} participants delivered, below the quorum "
        f"{cancelled.quorum}: {verb} the round (tx {cancelled.tx_hash}); deliverers "
        "withdraw their bonds with `participant withdraw-after-cancel`; your bond and "
        "the named participants' bonds are burned (nobody collects them, the sweep pays "
        "nothing)"
    )


def _print_posted(result: PostResult) -> None:
    c = result.collective
    typer.echo(
        f"collective model {c.model_hash}: accuracy {c.accuracy_wad / 1e18:.4f} "
        f"on {result.total_rows} rows"
    )
    for t in result.tiers:
        typer.echo(f"tier {t.model_hash}: accuracy {t.accuracy_wad / 1e18:.4f} ({t.rows} rows)")
    trained = f", {result.models_trained} models trained" if not result.already_done else ""
    typer.echo(f"tiers: {result.tier_mode} ({len(result.tiers)} reward models{trained})")
    for address in result.undelivered:
        typer.echo(f"undelivered: {address} (no model, bond forfeited)")
    if result.curve is not None:
        k = result.curve
        typer.echo(
            f"curve check: predicted {k.predicted_wad / 1e18:.4f} for {k.delivered_rows} "
            f"rows, measured {k.measured_wad / 1e18:.4f}, tolerance "
            f"{k.tolerance_wad / 1e18:.4f}, shortfall {k.shortfall_wad / 1e18:.4f}; "
            f"compensation owed {k.liability} wei"
        )
    verb = "already posted" if result.already_done else "posted"
    typer.echo(f"{verb} (tx {result.tx_hash})")


@coordinator_app.command("deliver", epilog=example("modelpact coordinator deliver --dev-account 0"))
@injected()
def deliver(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt = None,
    dev_account: DevAccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deliver each revealed participant's model on chain, encrypted to its delivery key
    (before the delivery deadline). Safe to re-run: nobody is delivered to twice."""
    from modelpact.round.chain_delivery import deliver_models
    from modelpact.round.coordinator import coordinator_state

    signer = sender(deployed.chain, keystore, dev_account)
    state = coordinator_state(settings.state_dir, deployed.record)
    with holding(state.path, what=_WHAT):
        sent = deliver_models(
            deployed,
            state,
            models_dir=deployed.models_dir,
            sender=signer,
            show=lambda line: typer.echo(line, err=as_json),
        )

    def text() -> None:
        for d in sent:
            shown = f" (tx {d.tx_hash}, gas {d.gas_used})" if d.status == "delivered" else ""
            typer.echo(f"{d.participant}: rung {d.rung}, {d.status}{shown}")
        fresh = sum(d.status == "delivered" for d in sent)
        typer.echo(f"delivered {fresh} models now, {len(sent)} revealed participants in all")

    emit({"deliveries": list(sent)}, as_json=as_json, text=text)


@coordinator_app.command("sweep", epilog=example("modelpact coordinator sweep --dev-account 0"))
@injected()
def sweep(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt = None,
    dev_account: DevAccountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """After the claim deadline, send what is left in the contract to the coordinator."""
    from modelpact.round.coordinator import coordinator_state
    from modelpact.round.coordinator import sweep as sweep_round

    signer = sender(deployed.chain, keystore, dev_account)
    state = coordinator_state(settings.state_dir, deployed.record)
    with holding(state.path, what=_WHAT):
        tx, amount, gas = sweep_round(deployed, state, sender=signer)
    emit(
        {"tx_hash": tx, "amount_wei": amount, "gas_used": gas},
        as_json=as_json,
        text=lambda: typer.echo(f"swept {amount} wei to the coordinator (tx {tx})"),
    )

"""``modelpact participant ...``: a participant's wallet scripts.

Each command parses its options, gets the recorded round (or just its record) injected
(:func:`modelpact.cli.chain_options.injected`), calls one function of
:mod:`modelpact.round.participant` with keyword-only arguments, and prints the result
(``--json``: one JSON document). Passwords come from ``MODELPACT_PASSWORD`` or a prompt, never
from the command line.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelpact.cli._app import app, example
from modelpact.cli.chain_options import LocatedRecord, injected
from modelpact.cli.chain_options import password as _password
from modelpact.cli.output import JsonOpt, emit

if TYPE_CHECKING:  # the workflows import web3: loaded inside the commands
    from eth_account.signers.local import LocalAccount

    from modelpact.chain.backends import ChainSettings
    from modelpact.encoding import RoundConfig
    from modelpact.round.deployed import DeployedRound
    from modelpact.round.fraud import ModelsChecked
    from modelpact.round.participant import ParticipantStateFile, RoundView

__all__ = ["participant_app"]

participant_app = typer.Typer(
    name="participant",
    epilog=example("modelpact participant menu --cost 0.02"),
    help="Participant wallet scripts: account, menu, commit, join, reveal, claim, fetch, verify, "
    "dispute a delivery, check and challenge the posted models.",
    no_args_is_help=True,
)
app.add_typer(participant_app)

_MAX_COST = 1e9  # as a scenario's costs (modelpact.scenario): far above any round's values

KeystoreOpt = Annotated[
    Path,
    typer.Option("--keystore", help="Encrypted keystore file of the participant's account."),
]


@contextmanager
def _locked(state: ParticipantStateFile) -> Iterator[ParticipantStateFile]:
    """Hold the lock of ``state`` (one command per keystore and round at a time: a second one
    is refused in one line before it reads or sends anything, :mod:`modelpact.round.locks`)."""
    from modelpact.round.locks import holding

    with holding(state.path, what=f"{state.path.name} (this keystore in this round)"):
        yield state


@contextmanager
def _wallet(
    deployed: DeployedRound, settings: ChainSettings, keystore: Path, *, checked: str | None = None
) -> Iterator[tuple[LocalAccount, ParticipantStateFile]]:
    """The decrypted account and its local state in the round, locked for the block. The first
    time this account sends to the round, the round is checked genuine before anything is sent
    (:func:`modelpact.round.guard.check_genuine`; ``checked``: already done by the caller)."""
    from modelpact.round.guard import check_abi, check_genuine, runtime_keccak
    from modelpact.round.participant import participant_state
    from modelpact.round.wallet import load_account

    account = load_account(keystore, password=_password())
    with _locked(participant_state(settings.state_dir, deployed.record, account.address)) as state:
        check_abi(deployed)  # the record's ABI decodes every view and encodes every call
        # Verified once per round; other code at the address since (another chain under the same
        # id, a node restarted and redeployed) is checked again.
        if state.load().round_verified != (checked or runtime_keccak(deployed)):
            state.update(round_verified=checked or check_genuine(deployed)[1])
        yield account, state


def _state_of(located: LocatedRecord, state_dir: Path, keystore: Path) -> ParticipantStateFile:
    """The keystore's local state in the recorded round (no password needed)."""
    from modelpact.round.participant import participant_state
    from modelpact.round.wallet import keystore_address

    return participant_state(state_dir, located.record, keystore_address(keystore))


@participant_app.command(
    "new-account", epilog=example("modelpact participant new-account --keystore alice.json")
)
def new_account(keystore: KeystoreOpt, as_json: JsonOpt = False) -> None:
    """Create a fresh account in an encrypted keystore (password from MODELPACT_PASSWORD or a
    prompt) and print its address."""
    from modelpact.round.wallet import create_keystore

    address = create_keystore(keystore, password=_password(confirm=True))
    emit(
        {"address": address, "keystore": keystore},
        as_json=as_json,
        text=lambda: typer.echo(f"created account {address} in {keystore}"),
    )


@participant_app.command(
    "import-account",
    epilog=example(
        "modelpact participant import-account --keystore alice.json --private-key-file alice.key"
    ),
)
def import_account(
    keystore: KeystoreOpt,
    private_key_file: Annotated[
        Path,
        typer.Option("--private-key-file", help="File holding the hex private key to import."),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Encrypt an existing private key into a keystore and print its address."""
    from modelpact.round.wallet import KeystoreError, import_keystore

    try:
        key = private_key_file.read_text().strip()
    except OSError as exc:  # a missing/unreadable file is bad input, not a crash (issue 7)
        raise KeystoreError(
            f"cannot read private key file {private_key_file}: {exc.strerror}",
            hint="pass --private-key-file with the path of a file holding the hex key",
        ) from None
    address = import_keystore(keystore, private_key=key, password=_password(confirm=True))
    emit(
        {"address": address, "keystore": keystore},
        as_json=as_json,
        text=lambda: typer.echo(f"imported account {address} into {keystore}"),
    )


def _duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min" if rest else f"{hours} h"


def _terms(deployed: DeployedRound) -> dict[str, object]:
    """The round's deadlines (absolute join/post, windows as durations after the post) and bond,
    what a participant must know before it risks its bond."""
    import datetime as dt

    from modelpact.encoding import MIN_WINDOW_SECONDS
    from modelpact.round.participant import JOIN_GAS_BOUND, fee_quote

    config = deployed.contract.config()
    sched = config.schedule
    cover = _bond_cover(deployed, config)
    fee = fee_quote(deployed)

    def when(ts: int) -> str:
        return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    return {
        "bond_wei": config.participant_bond,
        "quorum": config.effective_quorum,
        "capacity": config.capacity,
        "join_deadline": sched.join,
        "post_deadline": sched.post,
        "reveal_window_seconds": sched.reveal_window,
        "delivery_window_seconds": sched.delivery_window,
        "claim_window_seconds": sched.claim_window,
        "fee_per_gas_wei": fee.fee_per_gas_wei,
        "join_fee_bound_wei": fee.join_fee_bound_wei,
        "lines": [
            f"bond {config.participant_bond} wei; quorum {config.effective_quorum} of "
            f"{config.capacity} participants must deliver, else the round is cancelled and "
            "deliverers get exactly their bonds back (when the coordinator cancels, its bond and "
            "the bonds of those it names undelivered are burned)",
            f"join until {when(sched.join)}; deliver your data within "
            f"{_duration(MIN_WINDOW_SECONDS)} after joining closes (nobody is named undelivered "
            f"before); the coordinator posts by {when(sched.post)}",
            f"after the post: reveal within {_duration(sched.reveal_window)} (miss it and the "
            f"bond is forfeited), delivery window {_duration(sched.delivery_window)} after "
            f"that, claim window {_duration(sched.claim_window)} after that (claims never "
            "expire)",
            cover,
            f"fees: at most {fee.fee_per_gas_wei / 1e9:.4g} gwei per gas now (cap "
            f"{fee.cap_wei / 1e9:.4g} gwei, --max-fee-gwei); a join uses under "
            f"{JOIN_GAS_BOUND // 1000}k gas, so at most {fee.join_fee_bound_wei} wei",
        ],
    }


def _bond_cover(deployed: DeployedRound, config: RoundConfig) -> str:
    """What the coordinator's bond covers of a curve shortfall (issue 13): with every seat
    delivering, each allot pays the best-promised option up to this accuracy shortfall."""
    from modelpact.encoding import WAD, allot

    bond = deployed.contract.coordinator_bond()
    tau = config.curve_tolerance_wad / WAD
    rho = config.shortfall_wei_per_wad
    ratio = max((o.ratio_wad for o in deployed.contract.options()), default=0)
    if rho == 0 or ratio == 0:
        return (
            f"coordinator bond {bond} wei; this round pays no curve compensation (no shortfall "
            "price)"
        )
    covered = allot(bond, config.capacity) * WAD * WAD // (ratio * rho) / WAD
    return (
        f"coordinator bond {bond} wei: if the collective model falls more than {tau:.4f} below "
        f"the committed curve, the shortfall is paid in wei, covered up to {covered:.4f} of "
        "accuracy when every seat delivers"
    )


def _echo_fill(view: RoundView) -> None:
    """Who coordinates and how full the round is, and why the value may fall below t."""
    typer.echo(
        f"coordinator {view.coordinator}; {view.joined}/{view.capacity} joined "
        f"({view.total_rows} rows so far)"
    )
    if view.may_close_below_capacity:
        typer.echo(
            "if joining closes below capacity (at the join deadline), the collective model is "
            "trained on fewer rows than the menu assumes: see 'if closed now'"
        )


def _if_closed_now(deployed: DeployedRound, view: RoundView) -> list[float] | None:
    """Each option's value if joining closed right after this join, when the round may close
    below capacity and the published scenario (checked against the chain) gives v's scale."""
    from modelpact.round import participant as core

    if not view.may_close_below_capacity:
        return None
    if not deployed.record.scenario_path(deployed.record_path.parent).is_file():
        return None
    scenario = core.published_scenario(
        deployed.record,
        deployed.record_path,
        scenario_hash=deployed.contract.config().scenario_hash,
    )
    if scenario.valuation.kind != "linear":
        return None
    scale = float(getattr(scenario.valuation, "scale", 0.0))
    return core.value_if_closed_now(deployed, view, value_scale=scale)


@participant_app.command("menu", epilog=example("modelpact participant menu --cost 0.02"))
@injected()
def menu(
    deployed: DeployedRound,
    cost: Annotated[
        float | None,
        typer.Option("--cost", help="Your private cost per row: show utilities and the best."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the round's menu; with --cost, the utility t - cost x m of every option and the best."""
    from modelpact.round import participant as core

    if cost is not None and not (math.isfinite(cost) and 0 <= cost <= _MAX_COST):
        raise typer.BadParameter(
            f"the cost per row must be a number in [0, {_MAX_COST:g}], got {cost!r}",
            param_hint="--cost",
        )
    options = core.menu_view(deployed, cost=cost)
    view = core.round_view(deployed)
    bond = view.bond_wei
    closed_now = _if_closed_now(deployed, view)
    best = core.best_option_id(options)
    alone = None
    if best is not None and cost is not None:
        alone = core.outside_option(
            deployed.record,
            deployed.record_path,
            cost=cost,
            scenario_hash=deployed.contract.config().scenario_hash,
        )
    utility = options[best].utility if best is not None else None
    pays = utility is not None and alone is not None and core.joining_pays(utility, alone)
    terms = _terms(deployed)

    def text() -> None:
        typer.echo(f"round {deployed.record.address}: bond {bond} wei")
        for line in terms["lines"]:  # type: ignore[attr-defined]
            typer.echo(line)
        _echo_fill(view)
        header = f"{'option':>6} {'rows m':>7} {'ratio':>7} {'t':>9} {'t_bar':>9}"
        header += f" {'if closed now':>13}" if closed_now else ""
        typer.echo(header + (f" {'utility':>9}" if cost is not None else ""))
        for o in options:
            line = (
                f"{o.option_id:>6} {o.data_count:>7} {o.ratio:>7.4f} {o.promised_value:>9.3f} "
                f"{o.budget_value:>9.3f}"
            )
            if closed_now:
                line += f" {closed_now[o.option_id]:>13.3f}"
            if o.utility is not None:
                line += f" {o.utility:>9.3f}" + ("  <- best" if o.option_id == best else "")
            typer.echo(line)
        if best is not None and alone is not None:
            typer.echo(f"best option for cost {cost:g}: {best}")
            verdict = "joining pays" if pays else "stay out"
            typer.echo(
                f"training alone (the published scenario's curve) is worth {alone:.3f}: {verdict}"
            )

    summary = {
        "address": deployed.address,
        "bond_wei": bond,
        "round": view,
        "if_closed_now": closed_now,
        "options": options,
        "best_option": best,
        "outside_option": alone,
        "joining_pays": pays if alone is not None else None,
        "terms": {k: v for k, v in terms.items() if k != "lines"},
    }
    emit(summary, as_json=as_json, text=text)


@participant_app.command(
    "commit",
    epilog=example("modelpact participant commit --keystore alice.json --data alice.csv"),
)
@injected()
def commit(
    located: LocatedRecord,
    state_dir: Path,
    keystore: KeystoreOpt,
    data: Annotated[Path, typer.Option("--data", help="Your dataset: CSV or .npy, label last.")],
    as_json: JsonOpt = False,
) -> None:
    """Validate your dataset and compute its Merkle root (kept in your local state for join)."""
    from modelpact.round.participant import commit_dataset

    with _locked(_state_of(located, state_dir, keystore)) as state:
        result = commit_dataset(state, dataset=data, spec_name=located.record.extra.dataset)
    emit(
        result,
        as_json=as_json,
        text=lambda: typer.echo(
            f"committed {result.row_count} rows, Merkle root {result.data_root}"
        ),
    )


@participant_app.command(
    "join",
    epilog=example(
        "modelpact participant join --keystore alice.json --option 1 --inbox deploy/inbox"
    ),
)
@injected()
def join(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt,
    option: Annotated[int, typer.Option("--option", help="Option id from `participant menu`.")],
    inbox: Annotated[
        Path | None,
        typer.Option("--inbox", help="Also deliver the committed rows to this directory."),
    ] = None,
    max_bond: Annotated[
        int | None,
        typer.Option(
            "--max-bond",
            help="Refuse a participant bond above this (wei; default: the deployment record's).",
            min=0,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the round is genuine (code, extension, constructor) and its bond within --max-bond,
    then join with the option and the committed dataset, posting the bond. Safe to re-run."""
    from modelpact.chain_capabilities import require_round_capabilities
    from modelpact.round.guard import guard_round
    from modelpact.round.participant import deliver
    from modelpact.round.participant import join as join_round

    if inbox is not None:
        from modelpact.round.inbox import check_inbox

        check_inbox(inbox)  # before the bond is sent: a failed delivery would forfeit it
    require_round_capabilities(deployed.chain)  # a node that cannot run the round: said first
    seen = guard_round(deployed, max_bond_wei=max_bond)  # before anything is signed or sent
    terms = _terms(deployed)
    # What is signed, shown before anything is sent (with --json on stderr: stdout stays one
    # JSON document, and a script's user still sees the bond before it leaves the wallet).
    typer.echo(
        f"round {seen.address}: genuine ModelpactRound (extension {seen.extension}), "
        f"coordinator {seen.coordinator}, bond {seen.bond_wei} wei (cap {seen.max_bond_wei})",
        err=as_json,
    )
    for line in terms["lines"]:  # type: ignore[attr-defined]
        typer.echo(line, err=as_json)
    with _wallet(deployed, settings, keystore, checked=seen.runtime_keccak) as (account, state):
        result = join_round(deployed, state, account=account, option_id=option)
        delivered = deliver(state, inbox=inbox, address=account.address) if inbox else None

    def text() -> None:
        if result.already_done:
            shown = f" (tx {result.tx_hash})" if result.tx_hash else ""
            typer.echo(f"already joined{shown}: nothing sent")
        else:
            typer.echo(f"joined with option {option} (tx {result.tx_hash}, gas {result.gas_used})")
        if delivered is not None:
            typer.echo(f"delivered the committed rows to {delivered}")

    shown = {k: v for k, v in terms.items() if k != "lines"}
    shown |= {"coordinator": seen.coordinator, "extension": seen.extension}
    emit({"step": result, "delivered": delivered, "terms": shown}, as_json=as_json, text=text)


@participant_app.command(
    "reveal", epilog=example("modelpact participant reveal --keystore alice.json")
)
@injected()
def reveal(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt,
    as_json: JsonOpt = False,
) -> None:
    """Reveal your randomness secret (after the models are posted). Safe to re-run."""
    from modelpact.round.participant import reveal as reveal_secret

    with _wallet(deployed, settings, keystore) as (account, state):
        result = reveal_secret(
            deployed, state, account=account, show=lambda line: typer.echo(line, err=as_json)
        )

    def text() -> None:
        if result.already_done:
            typer.echo("already revealed: nothing sent")
        else:
            typer.echo(f"revealed (tx {result.tx_hash}, gas {result.gas_used})")

    emit(result, as_json=as_json, text=text)


@participant_app.command(
    "claim", epilog=example("modelpact participant claim --keystore alice.json")
)
@injected()
def claim(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt,
    as_json: JsonOpt = False,
) -> None:
    """Claim: record your assigned model and take back your bond."""
    from modelpact.round.participant import claim as claim_reward

    with _wallet(deployed, settings, keystore) as (account, state):
        result = claim_reward(
            deployed, state, account=account, show=lambda line: typer.echo(line, err=as_json)
        )
    emit(
        result,
        as_json=as_json,
        text=lambda: typer.echo(
            f"claimed rung {result.rung}: model {result.model_hash} with accuracy "
            f"{result.accuracy_wad / 1e18:.4f} (target {result.target_accuracy_wad / 1e18:.4f}); "
            f"bond {result.bond_refund} wei + curve compensation {result.compensation} wei "
            f"returned (tx {result.tx_hash})"
        ),
    )


@participant_app.command(
    "fetch",
    epilog=example("modelpact participant fetch --keystore alice.json --out alice-model.bin"),
)
@injected()
def fetch(
    located: LocatedRecord,
    settings: ChainSettings,
    keystore: KeystoreOpt,
    out: Annotated[Path, typer.Option("--out", help="Where to write your model file.")],
    models: Annotated[
        Path | None,
        typer.Option(
            "--models",
            help="Copy from this model store off chain instead (hash-checked; no dispute).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace an existing --out file (never a keystore or state file)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Read your model's delivery from the chain, decrypt it with this round's delivery key
    (derived from your keystore: password from MODELPACT_PASSWORD or a prompt; never stored),
    check it is the model of your rung and store it (an existing --out only with --force). A
    missing or wrong delivery: one line, then `participant dispute`."""
    from modelpact.outputs import check_output
    from modelpact.round.chain_delivery import fetch_delivery
    from modelpact.round.deployed import open_round
    from modelpact.round.participant import fetch_model
    from modelpact.round.wallet import load_account

    check_output(out, force=force)  # before anything else: a refused --out costs nothing
    state_file = _state_of(located, settings.state_dir, keystore)
    if models is not None:
        with _locked(state_file) as state:
            path = fetch_model(state, models_dir=models, out=out, force=force)
    else:
        # The delivery key derives from the account key: unlock first, nothing read before.
        account = load_account(keystore, password=_password())
        where = {"deployment": str(located.path), "deploy_dir": located.path.parent}
        with _locked(state_file) as state, open_round(settings, **where) as deployed:  # type: ignore[arg-type]
            path = fetch_delivery(deployed, state, account=account, out=out, force=force)
    emit(
        {"model_file": path},
        as_json=as_json,
        text=lambda: typer.echo(f"fetched your model to {path} (hash checked against your rung)"),
    )


@participant_app.command(
    "dispute", epilog=example("modelpact participant dispute --keystore alice.json")
)
@injected()
def dispute(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt,
    as_json: JsonOpt = False,
) -> None:
    """Prove on chain that your model delivery is wrong (reveals this round's delivery key) or,
    after the delivery deadline, missing; you are paid your allot of the coordinator's bond.
    Refused before sending when the delivery is correct. Safe to re-run."""
    from modelpact.round.chain_delivery import dispute_delivery

    with _wallet(deployed, settings, keystore) as (account, state):
        result = dispute_delivery(
            deployed, state, account=account, show=lambda line: typer.echo(line, err=as_json)
        )

    def text() -> None:
        verb = "already recorded" if result.step.already_done else "proven"
        shown = f" (tx {result.step.tx_hash})" if result.step.tx_hash else ""
        typer.echo(
            f"delivery failure ({result.kind}) {verb}{shown}: entitled to {result.entitlement} "
            "wei from the coordinator's bond"
        )

    emit(result, as_json=as_json, text=text)


ModelsOpt = Annotated[
    Path | None,
    typer.Option("--models", help="Published model store (default: next to the record)."),
]
TestSetOpt = Annotated[
    Path | None,
    typer.Option("--test-set", help="The public test set (default: the published one)."),
]
ModelFilesOpt = Annotated[
    list[Path] | None,
    typer.Option("--model", help="A model file you hold (repeatable), e.g. your fetched one."),
]


def _check(
    deployed: DeployedRound, models: Path | None, test_set: Path | None, extra: list[Path] | None
) -> ModelsChecked:
    from modelpact.round.fraud import check_models

    return check_models(
        deployed,
        models_dir=models or deployed.models_dir,
        test_set=test_set or deployed.test_set_path,
        extra_models=extra or (),
    )


@participant_app.command(
    "check-models", epilog=example("modelpact participant check-models --deployment latest")
)
@injected()
def check_models(
    deployed: DeployedRound,
    models: ModelsOpt = None,
    test_set: TestSetOpt = None,
    model: ModelFilesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every posted model against the committed test set and the evaluation log posted
    with it (read from the post transaction): per model, honest or the first false row. Anyone
    can run it; exit 1 when a provable fault is found (`participant challenge` proves it)."""
    checked = _check(deployed, models, test_set, model)

    def text() -> None:
        for c in checked.checks:
            how = "" if c.checked_model else " (counts and accuracy only: model not at hand)"
            verdict = "honest" if c.fault is None else f"FAULT: {c.fault.message}"
            typer.echo(f"rung {c.rung} ({c.name}, 0x{c.model_hash.hex()[:12]}..): {verdict}{how}")
        unchecked = sum(not c.checked_model for c in checked.checks)
        if checked.fault is None and unchecked:
            typer.echo(
                f"no fault found, but the predictions of {unchecked} models were not checked "
                "(their bytes are not at hand: pass --models or --model)"
            )
        elif checked.fault is None:
            typer.echo("no fault: every posted model matches its log and its accuracy")
        else:
            f = checked.fault
            typer.echo(f"provable fault: {f.message}; `participant challenge` proves it")
        if checked.fraud_proven:
            typer.echo("fraud is already proven on chain in this round")

    shown = {"checks": list(checked.checks), "fault": checked.fault, "proven": checked.fraud_proven}
    emit(shown, as_json=as_json, text=text)
    if checked.fault is not None:
        raise typer.Exit(1)


@participant_app.command(
    "challenge", epilog=example("modelpact participant challenge --keystore eve.json")
)
@injected()
def challenge(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt,
    models: ModelsOpt = None,
    test_set: TestSetOpt = None,
    model: ModelFilesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Prove the first provable fault of the posted models on chain (any account may; the
    coordinator's bond pays the fraud reward to you and the rest to the deliverers). Refused
    before sending when nothing is provable. Safe to re-run."""
    from modelpact.round.fraud import challenge as send_challenge

    checked = _check(deployed, models, test_set, model)
    with _wallet(deployed, settings, keystore) as (account, state):
        result = send_challenge(
            deployed,
            checked,
            sender=account,
            slot=state.slot("challenge_tx"),
            show=lambda line: typer.echo(line, err=as_json),
        )

    def text() -> None:
        verb = "already proven" if result.step.already_done else "fraud proven"
        typer.echo(
            f"{verb}: {result.fault.message} (tx {result.step.tx_hash}); reward {result.reward} wei"
        )

    emit(result, as_json=as_json, text=text)


@participant_app.command(
    "verify", epilog=example("modelpact participant verify --keystore alice.json")
)
@injected()
def verify(
    located: LocatedRecord,
    state_dir: Path,
    keystore: KeystoreOpt,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model file (default: the fetched one).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check your model: its keccak256 is the claimed hash, the public test set matches its
    on-chain commitment, and the model's accuracy on it is the posted accuracy. Exit 1 if not."""
    from hexbytes import HexBytes

    from modelpact.round.participant import verify_model

    record, base = located.record, located.path.parent
    state = _state_of(located, state_dir, keystore)
    model_file = model or Path(state.load().model_file or "")
    if not model_file.is_file():
        raise typer.BadParameter("no model file: run `participant fetch` or pass --model")
    # The chain's commitment as read at join, not the record's copy (which whoever handed the
    # files over could have edited along with the test set); older state files fall back.
    root = state.load().test_set_commitment or record.test_set_root
    result = verify_model(
        state,
        model_file=model_file,
        test_set=record.test_set_path(base),
        test_set_root=bytes(HexBytes(root)),
        spec_name=record.extra.dataset,
    )

    def text() -> None:
        typer.echo(f"model hash {result.model_hash}: {'ok' if result.hash_ok else 'MISMATCH'}")
        typer.echo(f"public test set root: {'ok' if result.test_set_ok else 'MISMATCH'}")
        typer.echo(
            f"accuracy measured {result.measured_accuracy_wad / 1e18:.6f}, posted "
            f"{result.posted_accuracy_wad / 1e18:.6f}: {'ok' if result.accuracy_ok else 'MISMATCH'}"
        )

    emit({**vars(result), "ok": result.ok}, as_json=as_json, text=text)
    if not result.ok:
        raise typer.Exit(1)


@participant_app.command(
    "withdraw", epilog=example("modelpact participant withdraw --keystore alice.json")
)
@injected()
def withdraw(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt,
    as_json: JsonOpt = False,
) -> None:
    """After the coordinator missed the post deadline: take back your bond plus compensation."""
    from modelpact.round.participant import withdraw_after_default

    with _wallet(deployed, settings, keystore) as (account, state):
        result = withdraw_after_default(
            deployed, state, account=account, show=lambda line: typer.echo(line, err=as_json)
        )
    emit(
        result,
        as_json=as_json,
        text=lambda: typer.echo(
            f"refunded bond {result.bond} wei + compensation {result.compensation} wei "
            f"(tx {result.tx_hash})"
        ),
    )


@participant_app.command(
    "withdraw-after-cancel",
    epilog=example("modelpact participant withdraw-after-cancel --keystore alice.json"),
)
@injected()
def withdraw_after_cancel(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt,
    as_json: JsonOpt = False,
) -> None:
    """After the round was cancelled below quorum: take back exactly the bond."""
    from modelpact.round.participant import withdraw_after_cancel as withdraw_cancelled

    with _wallet(deployed, settings, keystore) as (account, state):
        result = withdraw_cancelled(
            deployed, state, account=account, show=lambda line: typer.echo(line, err=as_json)
        )
    emit(
        result,
        as_json=as_json,
        text=lambda: typer.echo(
            f"refunded bond {result.bond} wei + {result.compensation} wei of the coordinator's "
            f"bond (tx {result.tx_hash})"
        ),
    )


@participant_app.command(
    "withdraw-compensation",
    epilog=example("modelpact participant withdraw-compensation --keystore alice.json"),
)
@injected()
def withdraw_compensation(
    deployed: DeployedRound,
    settings: ChainSettings,
    keystore: KeystoreOpt,
    as_json: JsonOpt = False,
) -> None:
    """Take any compensation owed out of the coordinator's bond not yet paid (no deadline)."""
    from modelpact.round.participant import withdraw_compensation as withdraw_owed

    with _wallet(deployed, settings, keystore) as (account, state):
        result = withdraw_owed(
            deployed, state, account=account, show=lambda line: typer.echo(line, err=as_json)
        )
    emit(
        result,
        as_json=as_json,
        text=lambda: typer.echo(
            f"paid compensation {result.compensation} wei (tx {result.tx_hash})"
        ),
    )

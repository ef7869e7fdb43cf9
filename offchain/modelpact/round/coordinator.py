"""The coordinator's side of a round: plan (solve, integerize, check), deploy with commitments,
watch, reveal, ingest delivered data, train and post models, sweep.

The coordinator's secret and private files live in a :class:`~modelpact.round.state.JsonState`
under the state directory; the published files (scenario, menu, public test set, model store)
live next to the deployment record, because an auditor needs them.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hexbytes import HexBytes
from numpy.typing import NDArray

from modelpact.chain import Chain, RoundContract, Sender, TxResult
from modelpact.encoding import Phase, Tier
from modelpact.errors import ModelpactError
from modelpact.round import _protocol
from modelpact.round.handle import RoundHandle
from modelpact.round.records import DeploymentRecord
from modelpact.round.state import JsonState

__all__ = [
    "TIER_MODES",
    "CoordinatorError",
    "Deadlines",
    "Delivery",
    "Deployed",
    "Planned",
    "PostResult",
    "RoundStatus",
    "TierPlan",
    "coordinator_state",
    "copy_into",
    "curve_knots",
    "deploy",
    "deploy_scenario",
    "inbox_files",
    "ingest",
    "joined_events",
    "onchain_menu",
    "plan_round",
    "reveal_coordinator",
    "round_status",
    "sweep",
    "train_and_post",
]

Rows = NDArray[np.int64]

TIER_MODES: tuple[str, ...] = ("deterministic", "lottery")
"""Reward tier strategies (:func:`modelpact.ml.rewards.build_tiers` ``mode``): one tier per
distinct target, or a few evenly spaced tiers the contract's lottery draws between."""


class CoordinatorError(ModelpactError, ValueError):
    """A coordinator step cannot run with these inputs or in this phase."""


@dataclass(frozen=True)
class Delivery:
    """One participant's delivered dataset, verified against its on-chain root and row count."""

    participant: str
    index: int
    option_id: int
    row_count: int
    data_root: str
    path: Path


@dataclass(frozen=True)
class TierPlan:
    """A reward model: its file in the store, hash and accuracy (WAD)."""

    path: Path
    model_hash: str
    accuracy_wad: int
    rows: int


@dataclass(frozen=True)
class PostResult:
    """What train-and-post produced and posted."""

    collective: TierPlan
    tiers: tuple[TierPlan, ...]
    total_rows: int
    tx_hash: str | None
    gas_used: int
    already_done: bool
    tier_mode: str = "deterministic"
    models_trained: int = 0


@dataclass(frozen=True)
class RoundStatus:
    """A snapshot of the round for ``coordinator status``."""

    address: str
    chain_id: int
    phase: Phase
    timestamp: int
    capacity: int
    joined: int
    revealed: int
    total_data: int
    deadlines: tuple[int, int, int, int]
    option_joins: tuple[int, ...]
    coordinator_revealed: bool
    models_posted: bool
    collective_accuracy_wad: int
    balance_wei: int


def coordinator_state(state_dir: Path, record: DeploymentRecord) -> JsonState:
    """The coordinator's private state for the round of ``record``."""
    path = state_dir / "coordinator" / f"{record.chain_id}-{record.address}.json"
    return JsonState(path, identity=(("deployment", str(record.address)),))


def onchain_menu(menu: Any) -> list[tuple[int, int, int, int]]:
    """``Option`` tuples (dataCount, ratioWad, promisedValueWad, budgetValueWad) of the offered
    options of an integer menu. Ratios and values are floored to WAD (never promise more)."""
    from modelpact.encoding import to_wad

    options = []
    for option in menu.offered:
        m = round(option.m)
        if abs(option.m - m) > 1e-9 or m <= 0:
            raise CoordinatorError(
                f"option of type {option.type} asks for {option.m} rows, not a positive integer",
                hint="integerize the menu (optimizer.integerize_menu) before deploying",
            )
        options.append((m, to_wad(min(option.ratio, 1.0)), to_wad(option.t), to_wad(option.t_bar)))
    return options


def curve_knots(accuracy: Any, *, max_rows: int, count: int = 24) -> list[tuple[int, int]]:
    """Knots (dataCount, accuracyWad) of the scenario's accuracy function, log-spaced up to
    ``max_rows`` (the most data the round can collect); accuracy floored to WAD."""
    from modelpact.encoding import to_wad

    xs = np.unique(np.round(np.geomspace(8, max(max_rows, 16), count)).astype(np.int64))
    values = np.asarray(accuracy(xs.astype(np.float64)), dtype=np.float64)
    knots = []
    for x, a in zip(xs.tolist(), values.tolist(), strict=True):
        knots.append((int(x), to_wad(min(max(float(a), 0.0), 1.0))))
    return knots


def round_status(handle: RoundHandle) -> RoundStatus:
    """Read the round's phase, counts, deadlines and balances."""
    rc = handle.round
    config = rc.config()
    collective = rc.collective_model()
    d = config.deadlines
    return RoundStatus(
        address=handle.address,
        chain_id=handle.record.chain_id,
        phase=rc.phase(),
        timestamp=handle.latest_timestamp(),
        capacity=config.capacity,
        joined=rc.joined_count(),
        revealed=rc.revealed_count(),
        total_data=rc.total_data(),
        deadlines=(d.join, d.post, d.reveal, d.claim),
        option_joins=tuple(rc.option_join_count(i) for i in range(rc.option_count())),
        coordinator_revealed=any(rc.coordinator_secret()),
        models_posted=collective.accuracy_wad > 0,
        collective_accuracy_wad=collective.accuracy_wad,
        balance_wei=rc.balance(),
    )


def _send(
    handle: RoundHandle, state: JsonState, key: str, fn: str, *args: Any, sender: Sender
) -> TxResult:
    """Send ``fn(*args)``, recording the hash under ``key`` before waiting."""
    return handle.send_recorded(fn, sender, *args, record=lambda tx: state.update(**{key: tx}))


def reveal_coordinator(
    handle: RoundHandle, state: JsonState, *, sender: Sender
) -> tuple[str | None, bool]:
    """Reveal the coordinator's secret (Post phase). Returns (tx hash, already done)."""
    current = state.load()
    if any(handle.round.coordinator_secret()):
        return current.get("reveal_tx"), True
    if handle.recorded(current.get("reveal_tx"), action="revealCoordinator") is not None:
        return current["reveal_tx"], True
    phase = handle.phase()
    if phase != Phase.POST:
        raise CoordinatorError(
            f"the round is in phase {phase.name.lower()}; the coordinator reveals in phase post",
            hint="wait until joining closes (deadline or capacity); see `coordinator status`",
        )
    if "secret" not in current:
        raise CoordinatorError(
            "the coordinator's secret is not in the local state",
            hint="run with the --state-dir used for deploy",
        )
    secret = bytes(HexBytes(current["secret"]))
    _send(handle, state, "reveal_tx", "revealCoordinator", secret, sender=sender)
    return state.get("reveal_tx"), False


def joined_events(handle: RoundHandle) -> list[dict[str, Any]]:
    """Every ``Joined`` event of the round, in join order."""
    events = [dict(e.args) for e in handle.events("Joined")]
    return sorted(events, key=lambda e: int(e["index"]))


def ingest(
    handle: RoundHandle,
    *,
    files: Mapping[str, Path],
    delivered_dir: Path,
    spec_name: str,
) -> list[Delivery]:
    """Verify each participant's delivered file against its on-chain root and row count; copy the
    verified rows to ``delivered_dir/<index>-<address>.npy``. ``files`` maps address -> file."""
    from modelpact.ml.datasets import builtin_spec, load_rows, save_rows

    by_address = {k.lower(): v for k, v in files.items()}
    delivered_dir.mkdir(parents=True, exist_ok=True)
    deliveries = []
    spec = builtin_spec(spec_name)
    for event in joined_events(handle):
        address = str(event["participant"])
        source = by_address.get(address.lower())
        if source is None:
            raise CoordinatorError(
                f"participant #{event['index']} {address} delivered no data",
                hint="ask for its file (named <address>.npy or .csv in the inbox)",
            )
        rows = load_rows(source, spec)
        root = _protocol.data_root(rows)
        if rows.shape[0] != int(event["rowCount"]):
            raise CoordinatorError(
                f"{address} delivered {rows.shape[0]} rows but committed {event['rowCount']}",
                hint="ask the participant for the dataset it committed to",
            )
        if root != bytes(event["dataRoot"]):
            raise CoordinatorError(
                f"{address}'s delivered data does not match its committed Merkle root",
                hint="ask the participant for the dataset it committed to",
            )
        target = delivered_dir / f"{address}.npy"
        save_rows(target, rows)
        deliveries.append(
            Delivery(
                participant=address,
                index=int(event["index"]),
                option_id=int(event["optionId"]),
                row_count=int(rows.shape[0]),
                data_root="0x" + root.hex(),
                path=target,
            )
        )
    return deliveries


def inbox_files(inbox: Path) -> dict[str, Path]:
    """Files named ``<address>.npy`` or ``<address>.csv`` in ``inbox``, by address."""
    found: dict[str, Path] = {}
    if not inbox.is_dir():
        raise CoordinatorError(f"inbox {inbox} does not exist", hint="pass the right --inbox")
    for path in sorted(inbox.iterdir()):
        if path.suffix in (".npy", ".csv") and path.stem.startswith("0x"):
            found[path.stem] = path
    return found


def _store(data: bytes, correct: int, test_count: int, rows: int, models_dir: Path) -> TierPlan:
    from modelpact.ml.models import store_model

    return TierPlan(
        path=store_model(models_dir, data),
        model_hash="0x" + _protocol.model_hash(data).hex(),
        accuracy_wad=_protocol.accuracy_wad(correct, test_count),
        rows=rows,
    )


def train_and_post(
    handle: RoundHandle,
    state: JsonState,
    *,
    deliveries: Sequence[Delivery],
    test_rows: Rows,
    models_dir: Path,
    sender: Sender,
    seed: int,
    tier_mode: str = "deterministic",
    lottery_tiers: int = 1,
) -> PostResult:
    """Train the collective model on every delivered row (join order), measure it on the committed
    test set, build reward tiers at the menu's targets, store every model by keccak256 and post
    them (the contract's budget check rejects any tier at or above the collective model).

    ``tier_mode`` (:data:`TIER_MODES`): ``deterministic`` trains one tier per distinct target
    (each participant's draw is between the tier at its target and the next rung: almost
    deterministic), ``lottery`` ``lottery_tiers`` evenly spaced tiers from the lowest target up
    (default 1: one tier at the lowest target, every higher target draws between the tiers and
    the collective model; fewer models to train and deliver, more variance per participant, the
    same expected value). The result says how many models were trained."""
    from modelpact.ml.datasets import load_rows

    if tier_mode not in TIER_MODES:
        raise CoordinatorError(
            f"unknown tier mode {tier_mode!r}", hint="use --tiers deterministic or --tiers lottery"
        )
    if lottery_tiers < 1:
        raise CoordinatorError(
            f"a lottery needs at least one tier, got {lottery_tiers}", hint="pass --lottery-tiers 1"
        )
    current = state.load()
    rc = handle.round
    if not any(rc.coordinator_secret()):
        raise CoordinatorError(
            "the coordinator has not revealed its secret yet",
            hint="run `coordinator reveal` first (models are posted after the reveal)",
        )
    posted = rc.collective_model()
    if posted.accuracy_wad > 0:  # a re-run: report what is on chain, train nothing

        def on_chain(tier: Tier) -> TierPlan:
            name = "0x" + tier.model_hash.hex()
            return TierPlan(models_dir / f"{name}.bin", name, tier.accuracy_wad, 0)

        done = handle.recorded(current.get("post_tx"), action="postModels")
        return PostResult(
            on_chain(posted),
            tuple(on_chain(t) for t in rc.tiers()),
            rc.total_data(),
            current.get("post_tx"),
            done.gas_used if done is not None else 0,
            True,
            str(current.get("tier_mode", tier_mode)),
            int(current.get("models_trained", 0)),
        )
    phase = handle.phase()
    if phase != Phase.POST:
        raise CoordinatorError(
            f"the round is in phase {phase.name.lower()}; models are posted in phase post",
            hint="the post deadline may have passed: participants can then withdraw with "
            "compensation",
        )
    joined = rc.joined_count()
    if len(deliveries) != joined:
        raise CoordinatorError(
            f"{len(deliveries)} verified deliveries for {joined} participants",
            hint="run `coordinator ingest` with every participant's file",
        )
    from modelpact.encoding import target_accuracy
    from modelpact.ml.rewards import build_tiers

    rows = np.concatenate([load_rows(d.path) for d in sorted(deliveries, key=lambda d: d.index)])
    ratios = [o.ratio_wad for o in rc.options()]
    used = sorted({d.option_id for d in deliveries})
    n_test = int(test_rows.shape[0])
    # Targets depend on the collective accuracy: first the collective model, then the tiers.
    first = build_tiers(rows, test_rows, [], seed=seed)
    collective_wad = _protocol.accuracy_wad(first.collective.correct, n_test)
    targets = [target_accuracy(ratios[i], collective_wad) / _protocol.WAD for i in used]
    plan = build_tiers(
        rows,
        test_rows,
        targets,
        seed=seed,
        mode=tier_mode,  # type: ignore[arg-type]
        lottery_tiers=lottery_tiers,
    )
    models_trained = first.models_trained + plan.models_trained
    collective = _store(
        plan.collective.model, plan.collective.correct, n_test, plan.collective.rows, models_dir
    )
    tiers = [_store(t.model, t.correct, n_test, t.rows, models_dir) for t in plan.tiers]
    state.update(tier_mode=tier_mode, models_trained=models_trained)
    result = _send(
        handle,
        state,
        "post_tx",
        "postModels",
        bytes(HexBytes(collective.model_hash)),
        collective.accuracy_wad,
        [(bytes(HexBytes(t.model_hash)), t.accuracy_wad) for t in tiers],
        sender=sender,
    )
    state.update(
        collective_model=collective.model_hash,
        tiers=[t.model_hash for t in tiers],
    )
    return PostResult(
        collective,
        tuple(tiers),
        int(rows.shape[0]),
        result.tx_hash,
        result.gas_used,
        False,
        tier_mode,
        models_trained,
    )


def sweep(handle: RoundHandle, state: JsonState, *, sender: Sender) -> tuple[str, int, int]:
    """Send what is left to the coordinator after the claim deadline; returns
    (tx, amount, gas used)."""
    result = _send(handle, state, "sweep_tx", "sweep", sender=sender)
    swept = [e for e in result.events if e.name == "Swept"]
    amount = int(swept[0].args["amount"]) if swept else 0
    return result.tx_hash, amount, result.gas_used


def copy_into(source: Path, target_dir: Path, name: str | None = None) -> Path:
    """Copy ``source`` into ``target_dir`` (keeping its name unless ``name``); return the copy."""
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / (name or source.name)
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    return target


@dataclass(frozen=True)
class Deadlines:
    """Seconds from deployment to each phase deadline."""

    join: int = 3600
    post: int = 7200
    reveal: int = 10800
    claim: int = 14400


@dataclass(frozen=True)
class Deployed:
    """A deployed round: its record and where the record was written."""

    record: DeploymentRecord
    record_path: Path
    gas_used: int
    already_done: bool = False


def _deploy_state(state_dir: Path, chain_id: int, sender: str, scenario_hash: bytes) -> JsonState:
    """The coordinator's record of a deployment in progress (or done) of one scenario from one
    account on one chain: the randomness secret and the deploy tx hash, written BEFORE waiting."""
    name = f"deploy-{chain_id}-{sender}-{scenario_hash.hex()[:16]}.json"
    return JsonState(
        state_dir / "coordinator" / name,
        identity=(("sender", sender), ("scenario_hash", "0x" + scenario_hash.hex())),
    )


def _find_deployment(
    handle_chain: Chain, tx_hash: str | None, abi: list[dict[str, Any]]
) -> RoundContract | None:
    """The round a recorded deploy transaction created (waits while it is pending), or None if
    the node never saw it or it failed (then deploying again is safe: nothing was created)."""
    from modelpact.chain import (
        ChainError,
        NodeUnavailableError,
        transaction_known,
        wait_for_receipt,
    )

    if not transaction_known(handle_chain, tx_hash):
        return None
    assert tx_hash is not None
    try:
        result = wait_for_receipt(handle_chain, tx_hash, action="deploy")
    except NodeUnavailableError:
        raise
    except ChainError:
        return None
    if result.contract_address is None:
        return None
    return RoundContract(handle_chain, result.contract_address, abi, tx_hash, result.block_number)


def deploy(
    chain: Chain,
    *,
    scenario: Any,
    scenario_path: Path,
    scenario_hash: bytes,
    menu: Any,
    menu_path: Path,
    test_rows: Rows,
    test_path: Path,
    sender: Sender,
    participant_bond_wei: int,
    coordinator_bond_wei: int,
    record_dir: Path,
    record_name: str | None,
    state_dir: Path,
    deadlines: Deadlines = Deadlines(),
    extra: Mapping[str, Any] | None = None,
    new_round: bool = False,
) -> Deployed:
    """Compile, commit (test set root, randomness, curve), deploy with the bond, write the record.

    Idempotent: the coordinator's secret and then the deploy transaction's hash are written to its
    local state (one file per chain, sender and scenario) BEFORE waiting for the receipt. A re-run
    after a crash between sending and the receipt finds the recorded transaction and finishes
    that deployment; a plain re-run returns the recorded deployment (``already_done``) instead of
    deploying a second round, unless ``new_round`` (then a finished deployment is kept on record
    and a new round is deployed; a pending one is still finished first, never duplicated).
    The published files are copied next to the record (``record_dir/files-<address>/`` for
    ``deploy/``, or kept in place when they already live in ``record_dir``).
    """
    from eth_utils.crypto import keccak

    from modelpact.chain import chain_time, deploy_round
    from modelpact.compiler import compile_round
    from modelpact.encoding import CurveKnot, OnchainOption, RoundConfig
    from modelpact.encoding import Deadlines as OnchainDeadlines
    from modelpact.round.records import file_sha256, read_record, record_filename, write_record

    compiled = compile_round()
    sender_address = str(sender if isinstance(sender, str) else sender.address)
    chain_id = chain.chain_id
    intent = _deploy_state(state_dir, chain_id, sender_address, scenario_hash)
    current = intent.load()
    done_path = current.get("record_path")
    if done_path and not new_round and Path(done_path).is_file():
        return Deployed(read_record(Path(done_path)), Path(done_path), 0, already_done=True)
    found = None
    if not (done_path and new_round):
        found = _find_deployment(chain, current.get("deploy_tx"), list(compiled.abi))
    if found is None and (done_path or not current.get("secret")):
        current = intent.update(
            secret="0x" + _protocol.new_secret().hex(), deploy_tx=None, record_path=None
        )
    secret_hex = str(current["secret"])
    commitment = _protocol.coordinator_commitment(
        bytes(HexBytes(secret_hex)), sender_address, scenario_hash, chain_id
    )
    options = onchain_menu(menu)
    capacity = int(scenario.participants)
    max_rows = capacity * max(o[0] for o in options)
    knots = curve_knots(scenario.accuracy, max_rows=max_rows)
    test_root = _protocol.data_root(test_rows)
    if found is None:
        _warn_if_bond_low(participant_bond_wei, options, scenario)  # SECURITY.md, issue 7
        now = chain_time(chain)
        config = RoundConfig(
            capacity,
            participant_bond_wei,
            scenario_hash,
            test_root,
            commitment,
            OnchainDeadlines(
                now + deadlines.join,
                now + deadlines.post,
                now + deadlines.reveal,
                now + deadlines.claim,
            ),
        )
        found = deploy_round(
            chain,
            sender=sender,
            menu_options=[OnchainOption(*o) for o in options],
            config=config,
            curve=[CurveKnot(*k) for k in knots],
            coordinator_bond=coordinator_bond_wei,
            compiled=compiled,
            on_sent=lambda tx: intent.update(deploy_tx=tx),
        )
    address = found.address
    state = JsonState(
        state_dir / "coordinator" / f"{chain_id}-{address}.json",
        identity=(("deployment", str(address)),),
    )
    state.update(
        secret=secret_hex, deploy_tx=found.deploy_tx_hash, test_set_file=str(test_path.resolve())
    )
    gas_used = _deploy_gas(chain, found.deploy_tx_hash)
    record_dir.mkdir(parents=True, exist_ok=True)
    name = record_name or record_filename(chain_id, address)
    record_path = record_dir / name
    files_dir = record_dir if record_name else record_dir / f"files-{chain_id}-{address}"
    published = {
        "scenario": copy_into(scenario_path, files_dir, "scenario.toml"),
        "menu": copy_into(menu_path, files_dir, "menu.json"),
        "test_set": copy_into(test_path, files_dir, "test_set.npy"),
    }
    runtime = found.runtime_code()
    record = DeploymentRecord(
        chain_id=chain_id,
        address=address,
        tx_hash=str(found.deploy_tx_hash),
        block_number=int(found.deploy_block or 0),
        coordinator=found.coordinator(),
        compiler_version=compiled.compiler_version,
        compiler_settings=dict(compiled.settings),
        abi=list(compiled.abi),
        runtime_bytecode_sha3="0x" + keccak(runtime).hex(),
        scenario_file=str(published["scenario"].relative_to(record_dir)),
        scenario_sha256=file_sha256(published["scenario"]),
        menu_file=str(published["menu"].relative_to(record_dir)),
        menu_sha256=file_sha256(published["menu"]),
        scenario_hash_onchain="0x" + scenario_hash.hex(),
        test_set_file=str(published["test_set"].relative_to(record_dir)),
        test_set_root="0x" + found.config().test_set_commitment.hex(),
        extra={
            "curve": [list(k) for k in knots],
            "participant_bond_wei": found.config().participant_bond,
            "coordinator_bond_wei": found.coordinator_bond(),
            "files_dir": str(files_dir.relative_to(record_dir)) if files_dir != record_dir else ".",
            **dict(extra or {}),
        },
    )
    write_record(record, record_path)
    state.update(record_path=str(record_path.resolve()))
    intent.update(record_path=str(record_path.resolve()), address=str(address))
    return Deployed(record=record, record_path=record_path, gas_used=gas_used)


def _deploy_gas(chain: Chain, tx_hash: str | None) -> int:
    from modelpact.chain import wait_for_receipt

    return wait_for_receipt(chain, tx_hash, action="deploy").gas_used if tx_hash else 0


@dataclass(frozen=True)
class Planned:
    """A solved, integerized and checked menu for a scenario, with its published files."""

    scenario: Any
    scenario_hash: bytes
    menu: Any
    menu_path: Path
    test_rows: Rows
    test_path: Path
    pool_rows: Rows


def plan_round(
    *, scenario_path: Path, work_dir: Path, dataset: str, test_size: int, seed: int
) -> Planned:
    """Solve the scenario, integerize the menu to rows, check it (IR, IC, budget; refused if it
    fails), and split the dataset into the public test set and the participants' pool."""
    from modelpact.checker import check_menu
    from modelpact.menu import write_menu_json
    from modelpact.ml.datasets import load_dataset, save_rows, split_test
    from modelpact.optimizer import integerize_menu, solve
    from modelpact.scenario import load_scenario, scenario_sha256

    scenario = load_scenario(scenario_path)
    if getattr(scenario.valuation, "kind", None) != "linear":
        raise CoordinatorError(
            f"the scenario's valuation is {getattr(scenario.valuation, 'kind', '?')}, but the "
            "contract assigns in accuracy units, which equal value units only for v(r) = scale r",
            hint='use [valuation] kind = "linear" for a round on chain',
        )
    menu = integerize_menu(scenario, solve(scenario))
    report = check_menu(scenario, menu)
    if not report.ok:
        raise CoordinatorError(
            f"the integer menu fails the checker (worst violation {report.worst:.3g})",
            hint="re-solve with another scenario; a menu that breaks IR/IC/budget is not deployed",
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    menu_path = work_dir / "menu.json"
    write_menu_json(menu, menu_path)
    rows = load_dataset(dataset, seed=seed)
    split = split_test(rows, test_size=test_size, seed=seed)
    test_path = save_rows(work_dir / "test_set.npy", split.test)
    return Planned(
        scenario=scenario,
        scenario_hash=bytes.fromhex(scenario_sha256(scenario)),
        menu=menu,
        menu_path=menu_path,
        test_rows=split.test,
        test_path=test_path,
        pool_rows=split.pool,
    )


def _warn_if_bond_low(participant_bond_wei: int, options: Sequence[Any], scenario: Any) -> None:
    """One stderr line when the bond is below ``security.minimum_participant_bond`` (no failure)."""
    import sys

    from modelpact.security import bond_warning

    line = bond_warning(
        participant_bond_wei,
        [int(o[1]) for o in options],
        max_model_value=float(getattr(scenario.valuation, "scale", 0.0)),
    )
    if line is not None:
        sys.stderr.write(line + "\n")


def deploy_scenario(
    chain: Chain,
    *,
    scenario_path: Path,
    sender: Sender,
    deploy_dir: Path,
    state_dir: Path,
    dataset: str = "digits",
    test_size: int = 360,
    seed: int = 0,
    participant_bond_wei: int = 10**16,
    coordinator_bond_wei: int = 10**17,
    deadlines: Deadlines = Deadlines(),
    new_round: bool = False,
) -> Deployed:
    """Plan the round (:func:`plan_round`) and deploy it; the record goes to ``deploy_dir``.
    Idempotent like :func:`deploy` (``new_round`` deploys another round of the same scenario)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="modelpact-plan-") as tmp:
        planned = plan_round(
            scenario_path=scenario_path,
            work_dir=Path(tmp),
            dataset=dataset,
            test_size=test_size,
            seed=seed,
        )
        return deploy(
            chain,
            scenario=planned.scenario,
            scenario_path=scenario_path,
            scenario_hash=planned.scenario_hash,
            menu=planned.menu,
            menu_path=planned.menu_path,
            test_rows=planned.test_rows,
            test_path=planned.test_path,
            sender=sender,
            participant_bond_wei=participant_bond_wei,
            coordinator_bond_wei=coordinator_bond_wei,
            record_dir=deploy_dir,
            record_name=None,
            state_dir=state_dir,
            deadlines=deadlines,
            new_round=new_round,
            extra={
                "dataset": dataset,
                "test_size": test_size,
                "seed": seed,
                "models_dir": "models",
            },
        )

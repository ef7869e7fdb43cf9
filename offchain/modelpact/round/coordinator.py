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
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from numpy.typing import NDArray

from modelpact.errors import ModelpactError
from modelpact.round import _protocol
from modelpact.round.handle import REVERTS, Phase, RoundHandle, RoundRevertError
from modelpact.round.records import DeploymentRecord
from modelpact.round.state import JsonState
from modelpact.round.txs import pending_receipt, send_recorded

__all__ = [
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
    config = handle.view("config")
    count = int(handle.view("optionCount"))
    collective = handle.view("collectiveModel")
    secret = bytes(handle.view("coordinatorSecret"))
    return RoundStatus(
        address=handle.address,
        chain_id=handle.record.chain_id,
        phase=handle.phase(),
        timestamp=handle.latest_timestamp(),
        capacity=int(config[0]),
        joined=int(handle.view("joinedCount")),
        revealed=int(handle.view("revealedCount")),
        total_data=int(handle.view("totalData")),
        deadlines=tuple(int(d) for d in config[5]),  # type: ignore[arg-type]
        option_joins=tuple(int(handle.view("optionJoinCount", i)) for i in range(count)),
        coordinator_revealed=any(secret),
        models_posted=int(collective[1]) > 0,
        collective_accuracy_wad=int(collective[1]),
        balance_wei=int(handle.w3.eth.get_balance(handle.record.address)),
    )


def _send(
    handle: RoundHandle,
    state: JsonState,
    key: str,
    fn: str,
    args: tuple[Any, ...],
    *,
    sender: LocalAccount | str,
) -> Any:
    call = getattr(handle.contract.functions, fn)(*args)
    try:
        receipt = send_recorded(
            handle.w3, call, sender=sender, record=lambda tx: state.update(**{key: tx})
        )
    except (*REVERTS, OSError) as error:
        raise handle.revert_error(error, action=fn) from error
    if int(receipt["status"]) != 1:
        raise RoundRevertError(
            f"{fn} failed on chain", error_name="Unknown", args=(), hint="check `status`"
        )
    return receipt


def reveal_coordinator(
    handle: RoundHandle, state: JsonState, *, sender: LocalAccount | str
) -> tuple[str | None, bool]:
    """Reveal the coordinator's secret (Post phase). Returns (tx hash, already done)."""
    current = state.load()
    if any(bytes(handle.view("coordinatorSecret"))):
        return current.get("reveal_tx"), True
    done = pending_receipt(handle.w3, current.get("reveal_tx"))
    if done is not None and int(done["status"]) == 1:
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
    _send(
        handle,
        state,
        "reveal_tx",
        "revealCoordinator",
        (bytes(HexBytes(current["secret"])),),
        sender=sender,
    )
    return state.get("reveal_tx"), False


def joined_events(handle: RoundHandle) -> list[dict[str, Any]]:
    """Every ``Joined`` event of the round, in join order."""
    logs = handle.contract.events.Joined().get_logs(from_block=handle.record.block_number)
    events = [dict(log["args"]) for log in logs]
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
    sender: LocalAccount | str,
    seed: int,
) -> PostResult:
    """Train the collective model on every delivered row (join order), measure it on the committed
    test set, build reward tiers at the menu's targets, store every model by keccak256 and post
    them (the contract's budget check rejects any tier at or above the collective model)."""
    from modelpact.ml.datasets import load_rows

    current = state.load()
    if not any(bytes(handle.view("coordinatorSecret"))):
        raise CoordinatorError(
            "the coordinator has not revealed its secret yet",
            hint="run `coordinator reveal` first (models are posted after the reveal)",
        )
    posted = handle.view("collectiveModel")
    if int(posted[1]) > 0:  # a re-run: report what is on chain, train nothing

        def on_chain(model_hash: bytes, accuracy_wad: int) -> TierPlan:
            name = "0x" + bytes(model_hash).hex()
            return TierPlan(models_dir / f"{name}.json", name, int(accuracy_wad), 0)

        done = pending_receipt(handle.w3, current.get("post_tx"))
        return PostResult(
            on_chain(posted[0], posted[1]),
            tuple(on_chain(*handle.view("tier", i)) for i in range(int(handle.view("tierCount")))),
            int(handle.view("totalData")),
            current.get("post_tx"),
            int(done["gasUsed"]) if done is not None else 0,
            True,
        )
    phase = handle.phase()
    if phase != Phase.POST:
        raise CoordinatorError(
            f"the round is in phase {phase.name.lower()}; models are posted in phase post",
            hint="the post deadline may have passed: participants can then withdraw with "
            "compensation",
        )
    joined = int(handle.view("joinedCount"))
    if len(deliveries) != joined:
        raise CoordinatorError(
            f"{len(deliveries)} verified deliveries for {joined} participants",
            hint="run `coordinator ingest` with every participant's file",
        )
    from modelpact.encoding import target_accuracy
    from modelpact.ml.rewards import build_tiers

    rows = np.concatenate([load_rows(d.path) for d in sorted(deliveries, key=lambda d: d.index)])
    count = int(handle.view("optionCount"))
    ratios = [int(handle.view("option", i)[1]) for i in range(count)]
    used = sorted({d.option_id for d in deliveries})
    n_test = int(test_rows.shape[0])
    # Targets depend on the collective accuracy: first the collective model, then the tiers.
    first = build_tiers(rows, test_rows, [], seed=seed)
    collective_wad = _protocol.accuracy_wad(first.collective.correct, n_test)
    targets = [target_accuracy(ratios[i], collective_wad) / _protocol.WAD for i in used]
    plan = build_tiers(rows, test_rows, targets, seed=seed)
    collective = _store(
        plan.collective.model, plan.collective.correct, n_test, plan.collective.rows, models_dir
    )
    tiers = [_store(t.model, t.correct, n_test, t.rows, models_dir) for t in plan.tiers]
    receipt = _send(
        handle,
        state,
        "post_tx",
        "postModels",
        (
            bytes(HexBytes(collective.model_hash)),
            collective.accuracy_wad,
            [(bytes(HexBytes(t.model_hash)), t.accuracy_wad) for t in tiers],
        ),
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
        state.get("post_tx"),
        int(receipt["gasUsed"]),
        False,
    )


def sweep(handle: RoundHandle, state: JsonState, *, sender: LocalAccount | str) -> tuple[str, int]:
    """Send what is left to the coordinator after the claim deadline; returns (tx, amount)."""
    receipt = _send(handle, state, "sweep_tx", "sweep", (), sender=sender)
    events = handle.contract.events.Swept().process_receipt(receipt)
    amount = int(events[0]["args"]["amount"]) if events else 0
    return str(state.get("sweep_tx")), amount


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


def deploy(
    w3: Any,
    *,
    scenario: Any,
    scenario_path: Path,
    scenario_hash: bytes,
    menu: Any,
    menu_path: Path,
    test_rows: Rows,
    test_path: Path,
    sender: LocalAccount | str,
    participant_bond_wei: int,
    coordinator_bond_wei: int,
    record_dir: Path,
    record_name: str | None,
    state_dir: Path,
    deadlines: Deadlines = Deadlines(),
    extra: Mapping[str, Any] | None = None,
) -> Deployed:
    """Compile, commit (test set root, randomness, curve), deploy with the bond, write the record.

    The coordinator's secret is written to its state (keyed by the contract address, which is
    known before sending: it follows from the sender and its nonce) BEFORE the deployment is sent.
    The published files are copied next to the record (``record_dir/files-<address>/`` for
    ``deploy/``, or kept in place when they already live in ``record_dir``).
    """
    from eth_utils.crypto import keccak
    from web3.utils.address import get_create_address

    from modelpact.compiler import compile_round
    from modelpact.round.records import file_sha256, record_filename, write_record

    compiled = compile_round()
    sender_address = sender if isinstance(sender, str) else sender.address
    chain_id = int(w3.eth.chain_id)
    nonce = int(w3.eth.get_transaction_count(sender_address, "pending"))
    address = get_create_address(sender_address, nonce)  # type: ignore[arg-type]
    state = JsonState(
        state_dir / "coordinator" / f"{chain_id}-{address}.json",
        identity=(("deployment", str(address)),),
    )
    current = state.load()
    secret_hex = current.get("secret") or "0x" + _protocol.new_secret().hex()
    state.update(secret=secret_hex, test_set_file=str(test_path.resolve()))
    commitment = _protocol.coordinator_commitment(
        bytes(HexBytes(secret_hex)), sender_address, scenario_hash, chain_id
    )
    options = onchain_menu(menu)
    _warn_if_bond_low(participant_bond_wei, options, scenario)  # SECURITY.md, issue 7
    capacity = int(scenario.participants)
    max_rows = capacity * max(o[0] for o in options)
    knots = curve_knots(scenario.accuracy, max_rows=max_rows)
    now = int(w3.eth.get_block("latest")["timestamp"])
    config = (
        capacity,
        participant_bond_wei,
        scenario_hash,
        _protocol.data_root(test_rows),
        commitment,
        (now + deadlines.join, now + deadlines.post, now + deadlines.reveal, now + deadlines.claim),
    )
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    call = factory.constructor(options, config, knots)
    try:
        receipt = send_recorded(
            w3,
            call,
            sender=sender,
            value=coordinator_bond_wei,
            record=lambda tx: state.update(deploy_tx=tx),
        )
    except (*REVERTS, OSError) as error:
        from modelpact.round.handle import decode_revert

        decoded = decode_revert(error, compiled.abi)
        raise CoordinatorError(
            f"deployment reverted: {decoded or error}",
            hint="the menu, curve or deadlines break a contract rule (see the error name)",
        ) from error
    if int(receipt["status"]) != 1 or receipt["contractAddress"] != address:
        raise CoordinatorError(
            f"deployment transaction {receipt['transactionHash'].hex()} failed",
            hint="check the node log; nothing was recorded as deployed",
        )
    record_dir.mkdir(parents=True, exist_ok=True)
    name = record_name or record_filename(chain_id, address)
    record_path = record_dir / name
    files_dir = record_dir if record_name else record_dir / f"files-{chain_id}-{address}"
    published = {
        "scenario": copy_into(scenario_path, files_dir, "scenario.toml"),
        "menu": copy_into(menu_path, files_dir, "menu.json"),
        "test_set": copy_into(test_path, files_dir, "test_set.npy"),
    }
    runtime = bytes(w3.eth.get_code(address))
    record = DeploymentRecord(
        chain_id=chain_id,
        address=address,
        tx_hash=str(state.get("deploy_tx")),
        block_number=int(receipt["blockNumber"]),
        coordinator=sender_address,  # type: ignore[arg-type]
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
        test_set_root="0x" + bytes(config[3]).hex(),
        extra={
            "curve": [list(k) for k in knots],
            "participant_bond_wei": participant_bond_wei,
            "coordinator_bond_wei": coordinator_bond_wei,
            "files_dir": str(files_dir.relative_to(record_dir)) if files_dir != record_dir else ".",
            **dict(extra or {}),
        },
    )
    write_record(record, record_path)
    state.update(record_path=str(record_path.resolve()))
    return Deployed(record=record, record_path=record_path, gas_used=int(receipt["gasUsed"]))


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
    w3: Any,
    *,
    scenario_path: Path,
    sender: LocalAccount | str,
    deploy_dir: Path,
    state_dir: Path,
    dataset: str = "digits",
    test_size: int = 360,
    seed: int = 0,
    participant_bond_wei: int = 10**16,
    coordinator_bond_wei: int = 10**17,
    deadlines: Deadlines = Deadlines(),
) -> Deployed:
    """Plan the round (:func:`plan_round`) and deploy it; the record goes to ``deploy_dir``."""
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
            w3,
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
            extra={
                "dataset": dataset,
                "test_size": test_size,
                "seed": seed,
                "models_dir": "models",
            },
        )

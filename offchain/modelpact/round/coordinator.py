"""The coordinator's side of a round: deploy a planned round with its commitments, watch,
reveal, ingest delivered data, train and post models, sweep.

Planning (solve, integerize, check, split the data) is :mod:`modelpact.round.planning`. The
coordinator's secret and private files live in a :class:`~modelpact.round.state.CoordinatorProgress`
state file under the state directory; the published files (scenario, menu, public test set, model
store) live next to the deployment record, because an auditor needs them.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from hexbytes import HexBytes
from numpy.typing import NDArray

from modelpact.chain import Chain, RoundContract, Sender, TxResult
from modelpact.chain_capabilities import require_round_capabilities
from modelpact.encoding import Phase, Tier
from modelpact.errors import ModelpactError
from modelpact.round import _protocol
from modelpact.round.deployed import DeployedRound, StepResult
from modelpact.round.planning import Planned, curve_knots, onchain_menu
from modelpact.round.records import DeploymentRecord, RoundExtras
from modelpact.round.state import CoordinatorProgress, DeploymentIntent, StateFile

if TYPE_CHECKING:
    from modelpact.chain.deployment import SharedDeployment
    from modelpact.compensation import CompensationTerms
    from modelpact.encoding import CurveKnot, OnchainOption

__all__ = [
    "TIER_MODES",
    "CancelResult",
    "CoordinatorError",
    "CoordinatorStateFile",
    "CurveCheck",
    "Deadlines",
    "Delivery",
    "Deployed",
    "Ingested",
    "PostResult",
    "Publication",
    "Rejection",
    "RoundStatus",
    "RoundTerms",
    "TierPlan",
    "cancel_below_quorum",
    "coordinator_state",
    "copy_into",
    "deploy",
    "deploy_scenario",
    "inbox_files",
    "ingest",
    "joined_events",
    "reveal_coordinator",
    "round_status",
    "sweep",
    "train_and_post",
    "undelivered_of",
]

Rows = NDArray[np.int64]

TIER_MODES: tuple[str, ...] = ("deterministic", "lottery")
"""Reward tier strategies (:func:`modelpact.ml.rewards.build_tiers` ``mode``): one tier per
distinct target, or a few evenly spaced tiers the contract's lottery draws between."""

CoordinatorStateFile = StateFile[CoordinatorProgress]
"""The coordinator's state file for one round."""


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
    log_root: str = "0x" + "00" * 32
    packed_log: bytes = field(default=b"", repr=False, compare=False)
    """The evaluation log as postModels takes it (empty for a model read back from chain)."""

    def posted(self) -> Tier:
        """What postModels takes for this model."""
        return Tier(
            bytes(HexBytes(self.model_hash)), self.accuracy_wad, bytes(HexBytes(self.log_root))
        )


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
    undelivered: tuple[str, ...] = ()
    curve: CurveCheck | None = None


@dataclass(frozen=True)
class CurveCheck:
    """The contract's ``CurveChecked`` event: the committed curve's prediction for the rows
    delivered, the measured collective accuracy, the tolerance, the shortfall (all WAD) and what
    the coordinator's bond now owes the deliverers (``allot`` each at most, ``liability`` in all,
    wei)."""

    delivered_rows: int
    predicted_wad: int
    measured_wad: int
    tolerance_wad: int
    shortfall_wad: int
    allot: int
    liability: int


@dataclass(frozen=True)
class CancelResult:
    """Fewer than quorum participants delivered: the round was cancelled (bonds refundable)."""

    delivered: int
    quorum: int
    undelivered: tuple[str, ...]
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
    delivered: int
    quorum: int
    total_data: int
    deadlines: tuple[int, int, int, int, int]
    option_joins: tuple[int, ...]
    coordinator_revealed: bool
    models_posted: bool
    collective_accuracy_wad: int
    balance_wei: int


def coordinator_state(state_dir: Path, record: DeploymentRecord) -> CoordinatorStateFile:
    """The coordinator's private state for the round of ``record``."""
    path = state_dir / "coordinator" / f"{record.chain_id}-{record.address}.json"
    return StateFile(path, CoordinatorProgress, deployment=str(record.address))


def round_status(deployed: DeployedRound) -> RoundStatus:
    """Read the round's phase, counts, deadlines and balances (the views and the balance in
    one exchange with the node: one state of the chain, not one per line)."""
    from modelpact.encoding import Deadlines

    rc = deployed.contract
    config = rc.config()
    options = rc.option_count()
    names = ("phase", "joinedCount", "revealedCount", "deliveredCount", "totalData")
    reads = [rc.view_read(name) for name in names]
    reads += [rc.view_read(name) for name in ("deadlines", "collectiveModel", "coordinatorSecret")]
    reads += [rc.view_read("optionJoinCount", i) for i in range(options)]
    reads.append(rc.balance_read(rc.address))
    answers = rc.read(reads)
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    phase, joined, revealed, delivered, total, d, collective, secret = answers[:8]
    d, accuracy = Deadlines(*map(int, d)), int(collective[1])  # (hash, accuracy, log root)
    return RoundStatus(
        address=deployed.address,
        chain_id=deployed.record.chain_id,
        phase=Phase(phase),
        timestamp=deployed.latest_timestamp(),
        capacity=config.capacity,
        joined=int(joined),
        revealed=int(revealed),
        delivered=int(delivered),
        quorum=config.effective_quorum,
        total_data=int(total),
        deadlines=(d.join, d.post, d.reveal, d.delivery, d.claim),
        option_joins=tuple(int(n) for n in answers[8 : 8 + options]),
        coordinator_revealed=any(bytes(secret)),
        models_posted=accuracy > 0,
        collective_accuracy_wad=accuracy,
        balance_wei=int(answers[-1]),
    )


def reveal_coordinator(
    deployed: DeployedRound, state: CoordinatorStateFile, *, sender: Sender
) -> StepResult:
    """Reveal the coordinator's secret (Post phase). Safe to re-run."""
    done = deployed.already_done(state.slot("reveal_tx"), "revealCoordinator")
    if done is not None:
        return done
    current = state.load()
    if any(deployed.contract.coordinator_secret()):
        return StepResult(current.reveal_tx, True, 0)
    phase = deployed.phase()
    if phase != Phase.POST:
        raise CoordinatorError(
            f"the round is in phase {phase.name.lower()}; the coordinator reveals in phase post",
            hint="wait until joining closes (deadline or capacity); see `coordinator status`",
        )
    if current.secret is None:
        raise CoordinatorError(
            "the coordinator's secret is not in the local state",
            hint="run with the --state-dir used for deploy",
        )
    call = deployed.contract.reveal_coordinator.call(bytes(HexBytes(current.secret)))
    result = deployed.send_recorded(call, sender, state.slot("reveal_tx"))
    return StepResult(result.tx_hash, False, result.gas_used)


def joined_events(deployed: DeployedRound) -> list[dict[str, Any]]:
    """Every ``Joined`` event of the round, in join order."""
    events = [dict(e.args) for e in deployed.events("Joined")]
    return sorted(events, key=lambda e: int(e["index"]))


@dataclass(frozen=True)
class Rejection:
    """A joined participant whose data did not arrive or failed verification: it is named in
    ``undelivered`` at post (or cancel), gets no model and forfeits its bond."""

    participant: str
    index: int
    reason: str


@dataclass(frozen=True)
class Ingested:
    """The verified deliveries (join order) and the participants named undelivered."""

    deliveries: tuple[Delivery, ...]
    rejected: tuple[Rejection, ...]

    @property
    def undelivered(self) -> tuple[str, ...]:
        """The rejected addresses (the contract wants them ascending; the chain layer sorts)."""
        return tuple(r.participant for r in self.rejected)


def _verify(
    event: Mapping[str, Any], source: Path | None, spec_name: str, test_roots: frozenset[bytes]
) -> tuple[Rows | None, str]:
    """The participant's rows when ``source`` holds the dataset it committed to, else the
    reason it is rejected (no file, unreadable, wrong count, wrong root, copied test rows)."""
    from modelpact.ml.datasets import builtin_spec

    address = str(event["participant"])
    if source is None:
        return None, "delivered no data"
    try:
        rows = _read_rows(source, builtin_spec(spec_name))
    except ModelpactError as error:
        return None, f"delivered an unreadable file ({error})"
    if rows.shape[0] != int(event["rowCount"]):
        return None, f"delivered {rows.shape[0]} rows but committed {event['rowCount']}"
    if _protocol.participant_data_root(address, rows) != bytes(event["dataRoot"]):
        return None, "delivered data that does not match its committed Merkle root"
    if test_roots and any(_protocol.row_digest(r) in test_roots for r in rows):
        return None, "delivered rows of the public test set"
    return rows, ""


def ingest(
    deployed: DeployedRound,
    *,
    files: Mapping[str, Path],
    delivered_dir: Path,
    spec_name: str,
    test_rows: Rows | None = None,
) -> Ingested:
    """Verify each participant's delivered file against its on-chain (address-bound) root and
    row count; copy the verified rows to ``delivered_dir/<address>.npy``. ``files`` maps
    address -> file. A participant without a file, or whose file fails a check (or contains
    rows of ``test_rows``, the public test set, or a row another verified delivery also
    contains: every sharer of a row, review hole 6), is rejected, not fatal: it is named
    undelivered at post."""
    from modelpact.ml.datasets import save_rows, sharing_rows
    from modelpact.parallel import fork_map

    by_address = {k.lower(): v for k, v in files.items()}
    delivered_dir.mkdir(parents=True, exist_ok=True)
    test_digests = frozenset(
        _protocol.row_digest(r) for r in (test_rows if test_rows is not None else [])
    )
    events = joined_events(deployed)  # read here: the workers below never touch the chain

    def verify(event: dict[str, Any]) -> tuple[Rows | None, str]:
        source = by_address.get(str(event["participant"]).lower())
        return _verify(event, source, spec_name, test_digests)

    # Each file's checks (private copy, parse, count, Merkle root, test rows) are independent:
    # they run over forked workers, the rows and reasons coming back in join order, once there
    # are enough files to pay for the fork (see _FORK_FROM_FILES).
    workers = None if len(events) >= _FORK_FROM_FILES else 1
    verified = fork_map(verify, events, workers=workers)
    checked = {str(e["participant"]): v for e, v in zip(events, verified, strict=True)}
    copies = sharing_rows({a: rows for a, (rows, _) in checked.items() if rows is not None})
    deliveries, rejected = [], []
    for event in events:
        address = str(event["participant"])
        rows, reason = checked[address]
        if address in copies:
            rows, reason = None, _COPIED
        if rows is None:
            rejected.append(Rejection(address, int(event["index"]), reason))
            continue
        target = delivered_dir / f"{address}.npy"
        save_rows(target, rows)
        deliveries.append(
            Delivery(
                participant=address,
                index=int(event["index"]),
                option_id=int(event["optionId"]),
                row_count=int(rows.shape[0]),
                data_root="0x" + bytes(event["dataRoot"]).hex(),
                path=target,
            )
        )
    return Ingested(tuple(deliveries), tuple(rejected))


_FORK_FROM_FILES = 100
"""Files from which ingest checks them in forked workers: a file costs ~1-3 ms to check (more
when its Merkle root is not cached in this process), a fork and the rows piped back ~0.1-0.2 s
of CPU. Measured on 2 cores: 200 files 0.69-0.80 s in process, 0.59-0.69 s forked (a demo whose
participants run in workers); 1,000 files 1.5 s -> 1.1 s on the critical path."""

_COPIED = (
    "delivered rows that another participant also delivered (a copy earns nothing: every "
    "sharer of a row is named undelivered, whoever joined first)"
)


def _read_rows(source: Path, spec: Any) -> Rows:
    """The rows of a delivery, read from a private copy made without following a symbolic link
    and only from a regular file (:func:`modelpact.round.inbox.read_delivery`): the inbox may be
    a folder others can write to."""
    import tempfile

    from modelpact.ml.datasets import load_rows
    from modelpact.round.inbox import read_delivery

    with tempfile.TemporaryDirectory(prefix="modelpact-delivery-") as private:
        return load_rows(read_delivery(source, Path(private)), spec)


def inbox_files(inbox: Path) -> dict[str, Path]:
    """Deliveries named ``<checksummed address>.npy`` or ``.csv`` in ``inbox``, by address
    (:func:`modelpact.round.inbox.scan_inbox`). Entries that look like deliveries but are
    symbolic links, not regular files, or not named by an exact checksummed address are never
    read; each is named in one note line on stderr."""
    import sys

    from modelpact.round.inbox import scan_inbox

    if not inbox.is_dir():
        raise CoordinatorError(f"inbox {inbox} does not exist", hint="pass the right --inbox")
    scan = scan_inbox(inbox)
    for name, why in sorted(scan.refused.items()):
        sys.stderr.write(f"note: inbox entry {name} is not read: {why}\n")
    return scan.files


def _store(data: bytes, test_rows: Rows, rows: int, models_dir: Path) -> TierPlan:
    """Store a model by keccak256 with its evaluation log (``<hash>.log.json``, issue 14); the
    posted accuracy is the log's exact count over the test rows."""
    from modelpact.encoding import pack_eval_log
    from modelpact.ml.evallog import build_eval_log, encode_eval_log
    from modelpact.ml.models import store_model

    log = build_eval_log(data, test_rows)
    path = store_model(models_dir, data)
    name = "0x" + _protocol.model_hash(data).hex()
    (models_dir / f"{name}.log.json").write_bytes(encode_eval_log(log))
    return TierPlan(
        path=path,
        model_hash=name,
        accuracy_wad=_protocol.accuracy_wad(log.correct, log.row_count),
        rows=rows,
        log_root="0x" + log.root.hex(),
        packed_log=pack_eval_log(log.entries),
    )


def _check_tier_options(tier_mode: str, lottery_tiers: int) -> None:
    if tier_mode not in TIER_MODES:
        raise CoordinatorError(
            f"unknown tier mode {tier_mode!r}", hint="use --tiers deterministic or --tiers lottery"
        )
    if lottery_tiers < 1:
        raise CoordinatorError(
            f"a lottery needs at least one tier, got {lottery_tiers}", hint="pass --lottery-tiers 1"
        )


def _already_posted(
    deployed: DeployedRound, state: CoordinatorStateFile, *, models_dir: Path, tier_mode: str
) -> PostResult:
    """What a re-run of train-and-post reports: the models on chain, nothing trained."""
    from modelpact.ml.models import MODEL_SUFFIX

    rc = deployed.contract

    def on_chain(tier: Tier) -> TierPlan:
        name = "0x" + tier.model_hash.hex()
        path = models_dir / f"{name}{MODEL_SUFFIX}"
        return TierPlan(path, name, tier.accuracy_wad, 0, "0x" + tier.log_root.hex())

    current = state.load()
    done = deployed.recorded(state.slot("post_tx"), "postModels")
    return PostResult(
        on_chain(rc.collective_model()),
        tuple(on_chain(t) for t in rc.tiers()),
        rc.total_data(),
        current.post_tx,
        done.gas_used if done is not None else 0,
        True,
        current.tier_mode or tier_mode,
        current.models_trained or 0,
        _undelivered_on_chain(deployed),
        _curve_check(done) if done is not None else None,
    )


def _undelivered_on_chain(deployed: DeployedRound) -> tuple[str, ...]:
    """The participants named undelivered (``Undelivered`` events)."""
    return tuple(str(e.args["participant"]) for e in deployed.events("Undelivered"))


def _curve_check(result: TxResult) -> CurveCheck | None:
    """The ``CurveChecked`` event of a post transaction."""
    event = next((e for e in result.events if e.name == "CurveChecked"), None)
    if event is None:
        return None
    a = event.args
    return CurveCheck(
        delivered_rows=int(a["deliveredRows"]),
        predicted_wad=int(a["predictedAccuracyWad"]),
        measured_wad=int(a["measuredAccuracyWad"]),
        tolerance_wad=int(a["toleranceWad"]),
        shortfall_wad=int(a["shortfallWad"]),
        allot=int(a["allot"]),
        liability=int(a["liability"]),
    )


def _revealed(deployed: DeployedRound) -> None:
    """Refuse to post or cancel before the coordinator's reveal (one order for both)."""
    if not any(deployed.contract.coordinator_secret()):
        raise CoordinatorError(
            "the coordinator has not revealed its secret yet",
            hint="run `coordinator reveal` first (models are posted after the reveal)",
        )


def _data_window_closed(deployed: DeployedRound) -> None:
    """Refuse to post or cancel inside the data window (issue 11.7): the contract opens both
    only MIN_WINDOW after joining closed, so a participant that delivers after its join is never
    named undelivered before it had that hour."""
    if deployed.phase() != Phase.POST:
        return  # _ready_to_post names the phase
    deadline = deployed.contract.data_deadline()
    now = deployed.latest_timestamp()
    if now <= deadline:
        raise CoordinatorError(
            f"the data window is open until {_utc(deadline)} ({deadline - now} s from the latest "
            "block): participants may still deliver, so nobody can be named undelivered yet",
            hint="re-run after it closes (on a dev chain: `modelpact dev advance-time "
            f"{deadline - now + 1}`)",
        )


def _utc(timestamp: int) -> str:
    """A unix time as an ISO-8601 UTC string (for one-line messages)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ready_to_post(deployed: DeployedRound) -> None:
    """Refuse to train outside phase post."""
    phase = deployed.phase()
    if phase != Phase.POST:
        raise CoordinatorError(
            f"the round is in phase {phase.name.lower()}; models are posted in phase post",
            hint="the post deadline may have passed: participants can then withdraw with "
            "compensation",
        )


def undelivered_of(deployed: DeployedRound, deliveries: Sequence[Delivery]) -> tuple[str, ...]:
    """Every joined participant without a verified delivery, in join order."""
    verified = {d.participant.lower() for d in deliveries}
    return tuple(
        str(e["participant"])
        for e in joined_events(deployed)
        if str(e["participant"]).lower() not in verified
    )


def cancel_below_quorum(
    deployed: DeployedRound,
    state: CoordinatorStateFile,
    *,
    undelivered: Sequence[str],
    sender: Sender,
) -> CancelResult:
    """Cancel a round in which fewer than quorum participants delivered (phase post, after the
    data window): each participant not named takes back exactly its bond; the named forfeit
    theirs and the coordinator forfeits all of B (all burned: nobody collects them, the sweep
    pays nothing). Safe to re-run."""
    rc = deployed.contract
    quorum = rc.config().effective_quorum
    done = deployed.already_done(state.slot("cancel_tx"), "cancelBelowQuorum")
    if done is None and deployed.phase() == Phase.CANCELLED:
        done = StepResult(state.load().cancel_tx, True, 0)
    if done is not None:
        return CancelResult(
            rc.delivered_count(), quorum, tuple(undelivered), done.tx_hash, done.gas_used, True
        )
    call = rc.cancel_below_quorum.call(list(undelivered))
    result = deployed.send_recorded(call, sender, state.slot("cancel_tx"))
    return CancelResult(
        rc.delivered_count(), quorum, tuple(undelivered), result.tx_hash, result.gas_used, False
    )


@dataclass(frozen=True)
class _Trained:
    collective: TierPlan
    tiers: tuple[TierPlan, ...]
    total_rows: int
    models_trained: int


def _train(
    deployed: DeployedRound,
    deliveries: Sequence[Delivery],
    *,
    test_rows: Rows,
    models_dir: Path,
    seed: int,
    tier_mode: str,
    lottery_tiers: int,
) -> _Trained:
    """Train the collective model on every verified delivered row (join order), then the reward
    tiers at the targets its accuracy implies, and store every model (and its log) by
    keccak256."""
    from modelpact.encoding import target_accuracy
    from modelpact.ml.datasets import load_rows
    from modelpact.ml.rewards import RewardSearch, tiers_for

    rows = np.concatenate([load_rows(d.path) for d in sorted(deliveries, key=lambda d: d.index)])
    ratios = [o.ratio_wad for o in deployed.contract.options()]
    used = sorted({d.option_id for d in deliveries})
    n_test = int(test_rows.shape[0])
    # Targets depend on the collective accuracy: the search trains the collective model first,
    # then the tiers come from the same search (the collective, the largest fit, trained once).
    search = RewardSearch(rows, test_rows, seed=seed, orderings=3, fit_ahead=True)
    collective_wad = _protocol.accuracy_wad(search.collective.correct, n_test)
    targets = [target_accuracy(ratios[i], collective_wad) / _protocol.WAD for i in used]
    plan = tiers_for(
        search,
        targets,
        mode=tier_mode,  # type: ignore[arg-type]
        lottery_tiers=lottery_tiers,
    )
    c = plan.collective
    return _Trained(
        collective=_store(c.model, test_rows, c.rows, models_dir),
        tiers=tuple(_store(t.model, test_rows, t.rows, models_dir) for t in plan.tiers),
        total_rows=int(rows.shape[0]),
        models_trained=plan.models_trained,
    )


def train_and_post(
    deployed: DeployedRound,
    state: CoordinatorStateFile,
    *,
    deliveries: Sequence[Delivery],
    test_rows: Rows,
    models_dir: Path,
    sender: Sender,
    seed: int,
    tier_mode: str = "deterministic",
    lottery_tiers: int = 1,
) -> PostResult | CancelResult:
    """Train the collective model on the verified deliveries only (join order), measure it on
    the committed test set, build reward tiers at the menu's targets, store every model and its
    evaluation log by keccak256 and post them, naming every joined participant without a
    verified delivery in ``undelivered`` (the contract's budget check rejects any tier at or
    above the collective model; its curve check fixes the compensation owed). With fewer than
    quorum verified deliveries nothing is trained: the round is cancelled
    (:func:`cancel_below_quorum`) and a :class:`CancelResult` returned.

    ``tier_mode`` (:data:`TIER_MODES`): ``deterministic`` trains one tier per distinct target
    (each participant's draw is between the tier at its target and the next rung: almost
    deterministic), ``lottery`` ``lottery_tiers`` evenly spaced tiers from the lowest target up
    (default 1: one tier at the lowest target, every higher target draws between the tiers and
    the collective model; fewer models to train and deliver, more variance per participant, the
    same expected value). The result says how many models were trained."""
    _check_tier_options(tier_mode, lottery_tiers)
    rc = deployed.contract
    if rc.collective_model().accuracy_wad > 0 and any(rc.coordinator_secret()):
        return _already_posted(deployed, state, models_dir=models_dir, tier_mode=tier_mode)
    undelivered = undelivered_of(deployed, deliveries)
    if deployed.phase() == Phase.CANCELLED:  # joining closed below quorum: nothing to send
        return cancel_below_quorum(deployed, state, undelivered=undelivered, sender=sender)
    _revealed(deployed)
    _data_window_closed(deployed)
    if len(deliveries) < rc.config().effective_quorum:
        return cancel_below_quorum(deployed, state, undelivered=undelivered, sender=sender)
    _ready_to_post(deployed)
    trained = _train(
        deployed,
        deliveries,
        test_rows=test_rows,
        models_dir=models_dir,
        seed=seed,
        tier_mode=tier_mode,
        lottery_tiers=lottery_tiers,
    )
    state.update(tier_mode=tier_mode, models_trained=trained.models_trained)
    call = rc.post_models.call(
        collective=trained.collective.posted(),
        logs=[m.packed_log for m in (trained.collective, *trained.tiers)],
        tiers=[t.posted() for t in trained.tiers],
        undelivered=undelivered,
    )
    result = deployed.send_recorded(call, sender, state.slot("post_tx"))
    state.update(
        collective_model=trained.collective.model_hash,
        tiers=tuple(t.model_hash for t in trained.tiers),
    )
    return PostResult(
        trained.collective,
        trained.tiers,
        trained.total_rows,
        result.tx_hash,
        result.gas_used,
        False,
        tier_mode,
        trained.models_trained,
        undelivered,
        _curve_check(result),
    )


def sweep(
    deployed: DeployedRound, state: CoordinatorStateFile, *, sender: Sender
) -> tuple[str, int, int]:
    """Send what is left to the coordinator after the claim deadline; returns
    (tx, amount, gas used)."""
    if state.load().sweep_tx is None and deployed.contract.balance() == 0:
        raise CoordinatorError(  # a sweep of nothing would only spend gas
            f"nothing to sweep: the round {deployed.address} holds 0 wei (already swept, or "
            "everything was paid out)",
            hint="nothing was sent; `coordinator status` shows the balance",
        )
    call = deployed.contract.sweep.call()
    result = deployed.send_recorded(call, sender, state.slot("sweep_tx"))
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


# ------------------------------------------------------------------------------------------
# Deployment: resume a recorded one, or commit, send and publish a new one
# ------------------------------------------------------------------------------------------


DEFAULT_WINDOW = 6 * 3600
"""The reveal, delivery and claim windows the tools default to: six times the contract's floor
(MIN_WINDOW, one hour), so a participant offline for an afternoon still reveals in time."""


@dataclass(frozen=True)
class Deadlines:
    """``join`` and ``post``: seconds from deployment to those deadlines. The three windows:
    seconds, measured from the post (reveal), the reveal deadline (delivery) and the delivery
    deadline (claim); each must be at least the contract's MIN_WINDOW."""

    join: int = 3600
    post: int = 3 * 3600  # the data window (MIN_WINDOW after joining closes) plus an hour
    reveal_window: int = DEFAULT_WINDOW
    delivery_window: int = DEFAULT_WINDOW
    claim_window: int = DEFAULT_WINDOW

    def check(self) -> None:
        """Refuse a schedule the contract would refuse (one line, naming the fix)."""
        from modelpact.encoding import MIN_WINDOW_SECONDS

        if not 0 < self.join < self.post:
            raise CoordinatorError(
                f"join deadline {self.join} s and post deadline {self.post} s after deployment "
                "must satisfy 0 < join < post",
                hint="pass --post-seconds larger than --join-seconds",
            )
        if self.post - self.join <= MIN_WINDOW_SECONDS:
            raise CoordinatorError(
                f"the post deadline is {self.post - self.join} s after the join deadline; the "
                f"contract needs more than {MIN_WINDOW_SECONDS} s (the data window, in which "
                "participants deliver, comes first)",
                hint=f"pass --post-seconds at least {self.join + MIN_WINDOW_SECONDS + 1} "
                f"(--join-seconds + {MIN_WINDOW_SECONDS + 1}; an hour more leaves time to train)",
            )
        windows = (
            ("reveal", self.reveal_window),
            ("delivery", self.delivery_window),
            ("claim", self.claim_window),
        )
        for name, seconds in windows:
            if seconds < MIN_WINDOW_SECONDS:
                raise CoordinatorError(
                    f"the {name} window of {seconds} s is shorter than the contract's minimum "
                    f"of {MIN_WINDOW_SECONDS} s",
                    hint=f"pass --{name}-window {MIN_WINDOW_SECONDS} or more (windows shorter "
                    "than an hour let a congested chain cost participants their bonds)",
                )


@dataclass(frozen=True)
class RoundTerms:
    """What the coordinator fixes besides the menu: the bonds (wei) and the phase deadlines."""

    participant_bond_wei: int = 10**16
    coordinator_bond_wei: int = 10**17
    deadlines: Deadlines = Deadlines()
    no_compensation: bool = False  # deploy a scenario without compensation terms (tau 1, rho 0)


@dataclass(frozen=True)
class Publication:
    """Where the record goes: ``record_dir/<chain-id>-<address>.json`` with the published files
    in ``record_dir/files-<chain-id>-<address>/`` (``deploy/``), or ``record_dir/record_name``
    with the files kept next to it (a demo's output directory)."""

    record_dir: Path
    record_name: str | None = None


@dataclass(frozen=True)
class Deployed:
    """A deployed round: its record and where the record was written."""

    record: DeploymentRecord
    record_path: Path
    gas_used: int
    already_done: bool = False
    shared: SharedDeployment | None = None  # the factory used (None: an earlier run's round)

    def bind(self, chain: Chain) -> DeployedRound:
        """This round on ``chain``, ready for the workflow steps."""
        return DeployedRound.bind(chain, self.record, self.record_path)


@dataclass(frozen=True)
class _Commitments:
    """What the contract commits to at deployment, derived from the plan and the secret."""

    options: list[OnchainOption]
    knots: list[CurveKnot]
    test_root: bytes
    test_row_count: int
    coordinator_commitment: bytes
    quorum: int
    tolerance_wad: int
    shortfall_wei_per_wad: int


DeploymentIntentFile = StateFile[DeploymentIntent]


def _intent(
    state_dir: Path, chain_id: int, sender: str, scenario_hash: bytes
) -> DeploymentIntentFile:
    """The coordinator's record of a deployment in progress (or done) of one scenario from one
    account on one chain: the randomness secret and the deploy tx hash, written BEFORE waiting."""
    name = f"deploy-{chain_id}-{sender}-{scenario_hash.hex()[:16]}.json"
    return StateFile(
        state_dir / "coordinator" / name,
        DeploymentIntent,
        sender=sender,
        scenario_hash="0x" + scenario_hash.hex(),
    )


def _finished(intent: DeploymentIntentFile, *, new_round: bool) -> Deployed | None:
    """The recorded finished deployment a plain re-run reports (``already_done``)."""
    from modelpact.round.records import read_record

    done = intent.load().record_path
    if done and not new_round and Path(done).is_file():
        return Deployed(read_record(Path(done)), Path(done), 0, already_done=True)
    return None


def _resume(
    chain: Chain,
    intent: DeploymentIntentFile,
    abi: Sequence[Mapping[str, Any]],
    *,
    new_round: bool,
    secret: bytes | None = None,
) -> tuple[RoundContract | None, str]:
    """A deployment the intent recorded but did not finish (sent, maybe mined), and the secret
    to commit to. A new round (nothing pending, or ``new_round`` after a finished one) gets a
    fresh secret (``secret`` when given), written before anything is sent."""
    from modelpact.chain import find_deployment

    current = intent.load()
    found = None
    if not (current.record_path and new_round):
        found = find_deployment(chain, intent.slot("deploy_tx"), abi)
    if found is None and (current.record_path or not current.secret):
        current = intent.update(
            secret="0x" + (secret or _protocol.new_secret()).hex(), deploy_tx=None, record_path=None
        )
    assert current.secret is not None
    return found, current.secret


def _commit(
    plan: Planned, *, secret: str, sender: str, chain_id: int, terms: CompensationTerms
) -> _Commitments:
    options = onchain_menu(plan.offer.menu)
    max_rows = int(plan.offer.scenario.participants) * max(o.data_count for o in options)
    return _Commitments(
        options=options,
        knots=curve_knots(plan.offer.scenario.accuracy, max_rows=max_rows),
        test_root=_protocol.data_root(plan.data.test_rows),
        test_row_count=int(plan.data.test_rows.shape[0]),
        coordinator_commitment=_protocol.coordinator_commitment(
            bytes(HexBytes(secret)), sender, plan.offer.scenario_hash, chain_id
        ),
        quorum=int(plan.offer.scenario.quorum),
        tolerance_wad=terms.tolerance_wad,
        shortfall_wei_per_wad=terms.shortfall_wei_per_wad,
    )


def _send_deployment(
    chain: Chain,
    intent: DeploymentIntentFile,
    *,
    plan: Planned,
    commitments: _Commitments,
    terms: RoundTerms,
    sender: Sender,
    factory: str,
) -> RoundContract:
    """Create the round with ``factory`` and the bond; the hash goes to the intent before
    waiting for the receipt."""
    from modelpact.chain import deploy_round
    from modelpact.encoding import RoundConfig, Schedule

    _warn_if_bond_low(terms.participant_bond_wei, commitments.options, plan)  # SECURITY.md
    now = chain.time()
    d = terms.deadlines
    config = RoundConfig(
        capacity=int(plan.offer.scenario.participants),
        participant_bond=terms.participant_bond_wei,
        scenario_hash=plan.offer.scenario_hash,
        test_set_commitment=commitments.test_root,
        coordinator_commitment=commitments.coordinator_commitment,
        schedule=Schedule(
            now + d.join, now + d.post, d.reveal_window, d.delivery_window, d.claim_window
        ),
        quorum=commitments.quorum,
        test_row_count=commitments.test_row_count,
        curve_tolerance_wad=commitments.tolerance_wad,
        shortfall_wei_per_wad=commitments.shortfall_wei_per_wad,
    )
    return deploy_round(
        chain,
        sender=sender,
        menu_options=commitments.options,
        config=config,
        curve=commitments.knots,
        coordinator_bond=terms.coordinator_bond_wei,
        slot=intent.slot("deploy_tx"),
        factory=factory,
    )


_SHARED_SLOTS = {
    "proofs": "shared_proofs_tx",
    "round": "shared_round_tx",
    "factory": "shared_factory_tx",
}


def _shared(
    chain: Chain, intent: DeploymentIntentFile, *, sender: Sender, factory: str | None
) -> SharedDeployment:
    """The factory to create the round with: ``factory`` once verified (its code and every
    contract below it are this build's), else the shared contracts deployed now, each hash
    recorded in the intent before waiting (a re-run reuses them)."""
    from modelpact.chain.deployment import deploy_shared, read_shared

    if factory is not None:
        return read_shared(chain, factory)
    slots = {step: intent.slot(name) for step, name in _SHARED_SLOTS.items()}
    return deploy_shared(chain, sender=sender, slots=slots)


def _publish(
    found: RoundContract,
    *,
    plan: Planned,
    knots: Sequence[CurveKnot],
    publication: Publication,
    extras: RoundExtras,
) -> tuple[DeploymentRecord, Path]:
    """Copy the published files next to the record and write the record."""
    from eth_utils.crypto import keccak

    from modelpact.compiler import compile_round, write_verification_files
    from modelpact.round.records import file_sha256, record_filename, write_record

    compiled = compile_round()
    chain_id, address = found.chain.chain_id, found.address
    record_dir = publication.record_dir
    record_dir.mkdir(parents=True, exist_ok=True)
    name = publication.record_name or record_filename(chain_id, address)
    files = record_dir if publication.record_name else record_dir / f"files-{chain_id}-{address}"
    scenario = copy_into(plan.offer.scenario_path, files, "scenario.toml")
    menu = copy_into(plan.offer.menu_path, files, "menu.json")
    test_set = copy_into(plan.data.test_path, files, "test_set.npy")
    config = found.config()
    record = DeploymentRecord(
        chain_id=chain_id,
        address=address,
        tx_hash=str(found.deploy_tx_hash),
        block_number=int(found.deploy_block or 0),
        coordinator=found.coordinator(),
        compiler_version=compiled.compiler_version,
        compiler_settings=dict(compiled.settings),
        abi=list(compiled.abi),
        runtime_bytecode_sha3="0x" + keccak(found.runtime_code()).hex(),
        scenario_file=str(scenario.relative_to(record_dir)),
        scenario_sha256=file_sha256(scenario),
        menu_file=str(menu.relative_to(record_dir)),
        menu_sha256=file_sha256(menu),
        scenario_hash_onchain="0x" + plan.offer.scenario_hash.hex(),
        test_set_file=str(test_set.relative_to(record_dir)),
        test_set_root="0x" + config.test_set_commitment.hex(),
        extra=replace(
            extras,
            curve=tuple((k.data_count, k.accuracy_wad) for k in knots),
            participant_bond_wei=config.participant_bond,
            coordinator_bond_wei=found.coordinator_bond(),
            files_dir=str(files.relative_to(record_dir)) if files != record_dir else ".",
        ),
    )
    path = record_dir / name
    write_record(record, path)
    # The exact compiler input and metadata beside the record let Sourcify/Etherscan verify the
    # code and let `modelpact audit` rebuild it without a checkout of this repository.
    write_verification_files(path)
    return record, path


def deploy(
    chain: Chain,
    *,
    plan: Planned,
    sender: Sender,
    terms: RoundTerms,
    publication: Publication,
    state_dir: Path,
    extras: RoundExtras | None = None,
    new_round: bool = False,
    factory: str | None = None,
    secret: bytes | None = None,
) -> Deployed:
    """Commit (test set root, randomness, curve, tau and rho), create the round with the bond
    through ``factory`` (verified first; without it the shared contracts are deployed first,
    :func:`_shared`), write the record. Idempotent: the coordinator's secret and then every
    transaction's hash are written to its local state (one file per chain, sender and scenario)
    BEFORE waiting for the receipt. A re-run after a crash between any two transactions finds
    the recorded ones and finishes that deployment; a plain re-run returns the recorded deployment
    (``already_done``) instead of deploying a second round, unless ``new_round`` (then a
    finished deployment is kept on record and a new round is deployed; a pending one is still
    finished first, never duplicated). ``extras`` (default: the plan's) go into the record.
    ``secret``: the coordinator's randomness secret for a new round; None (every real round) draws
    a fresh one from the OS. The demo derives it from its seed, so that one seed draws the same
    rungs in every run (participants' secrets are derived from their keys already)."""
    from modelpact.chain import wait_for_receipt
    from modelpact.compiler import compile_round
    from modelpact.round.locks import holding

    terms.deadlines.check()
    sender_address = str(sender if isinstance(sender, str) else sender.address)
    intent = _intent(state_dir, chain.chain_id, sender_address, plan.offer.scenario_hash)
    with holding(intent.path, what="this deployment (scenario, account, chain)"):
        finished = _finished(intent, new_round=new_round)
        if finished is not None:
            return finished
        comp = _compensation(plan, terms)  # refused here, before anything is sent
        found, chosen = _resume(
            chain, intent, compile_round().abi, new_round=new_round, secret=secret
        )
        if found is None:
            require_round_capabilities(chain)  # before anything is sent or persisted
            plan = _persist_plan(intent, plan)
        else:
            plan = _committed_plan(intent, plan, found)
        commitments = _commit(
            plan, secret=chosen, sender=sender_address, chain_id=chain.chain_id, terms=comp
        )
        shared = None
        if found is None:
            shared = _shared(chain, intent, sender=sender, factory=factory)
            found = _send_deployment(
                chain, intent, plan=plan, commitments=commitments, terms=terms, sender=sender,
                factory=shared.factory,
            )  # fmt: skip
        record, path = _publish(
            found,
            plan=plan,
            knots=commitments.knots,
            publication=publication,
            extras=extras or plan.extras(),
        )
        coordinator_state(state_dir, record).update(
            secret=chosen,
            deploy_tx=found.deploy_tx_hash,
            test_set_file=str(plan.data.test_path.resolve()),
            record_path=str(path.resolve()),
        )
        intent.update(record_path=str(path.resolve()), address=str(found.address))
        gas_used = wait_for_receipt(chain, record.tx_hash, action="deploy").gas_used
        return Deployed(record=record, record_path=path, gas_used=gas_used, shared=shared)


def _compensation(plan: Planned, terms: RoundTerms) -> CompensationTerms:
    """The round's tau and rho; a scenario without compensation terms is refused unless the
    coordinator opted out (:func:`modelpact.round.planning.curve_terms`)."""
    from modelpact.round.planning import curve_terms

    return curve_terms(plan.offer, no_compensation=terms.no_compensation, any_curve=plan.any_curve)


_PLAN_FILES = ("scenario.toml", "menu.json", "test_set.npy")


def _persist_plan(intent: DeploymentIntentFile, plan: Planned) -> Planned:
    """Copy what the commitments cover (scenario, menu, public test set) next to the intent,
    durably, and record how the test set was drawn, BEFORE the deploy transaction is sent: a
    re-run after a crash (e.g. with the plan's temporary folder gone, or another --seed) then
    publishes exactly what was committed (:func:`_committed_plan`). Returns the plan with its
    files there."""
    from modelpact.round.state import atomic_write_bytes

    folder = intent.path.with_name(intent.path.stem + ".plan")
    sources = (plan.offer.scenario_path, plan.offer.menu_path, plan.data.test_path)
    for source, name in zip(sources, _PLAN_FILES, strict=True):
        atomic_write_bytes(folder / name, source.read_bytes())
    data = plan.data
    intent.update(
        plan_dir=str(folder.resolve()),
        dataset=data.dataset,
        test_size=data.test_size,
        seed=data.seed,
    )
    offer = replace(
        plan.offer, scenario_path=folder / _PLAN_FILES[0], menu_path=folder / _PLAN_FILES[1]
    )
    return replace(plan, offer=offer, data=replace(data, test_path=folder / _PLAN_FILES[2]))


def _committed_plan(intent: DeploymentIntentFile, plan: Planned, found: RoundContract) -> Planned:
    """The plan a deployment already sent committed to (its files persisted by
    :func:`_persist_plan`), checked against the round's on-chain test set commitment; refused in
    one line rather than publishing a test set that does not match it."""
    import sys

    from modelpact.menu import read_menu_json
    from modelpact.ml.datasets import load_rows

    current = intent.load()
    folder = Path(current.plan_dir) if current.plan_dir else None
    if folder is not None and all((folder / name).is_file() for name in _PLAN_FILES):
        test_path = folder / _PLAN_FILES[2]
        offer = replace(
            plan.offer,
            scenario_path=folder / _PLAN_FILES[0],
            menu=read_menu_json(folder / _PLAN_FILES[1]),
            menu_path=folder / _PLAN_FILES[1],
        )
        data = replace(
            plan.data,
            dataset=current.dataset or plan.data.dataset,
            test_size=current.test_size if current.test_size is not None else plan.data.test_size,
            seed=current.seed if current.seed is not None else plan.data.seed,
            test_rows=load_rows(test_path),
            test_path=test_path,
        )
        if data.seed != plan.data.seed or data.test_size != plan.data.test_size:
            sys.stderr.write(
                f"note: finishing the deployment {found.address} sent earlier: publishing the test "
                f"set it committed to (seed {data.seed}, {data.test_size} rows); this run's "
                "--seed/--test-size are not used\n"
            )
        plan = replace(plan, offer=offer, data=data)
    if _protocol.data_root(plan.data.test_rows) != found.config().test_set_commitment:
        raise CoordinatorError(
            f"the round {found.address} (deploy tx {found.deploy_tx_hash}) commits to a public "
            "test set that is not in the local state, and this run's differs",
            hint=f"re-run with the --seed and --test-size of the first run, or use --new-round; "
            f"nothing was published (state: {intent.path.parent})",
        )
    return plan


def _warn_if_bond_low(
    participant_bond_wei: int, options: Sequence[OnchainOption], plan: Planned
) -> None:
    """One stderr line when the bond is below ``security.minimum_participant_bond`` (no failure)."""
    import sys

    from modelpact.security import bond_warning

    scenario = plan.offer.scenario
    line = bond_warning(
        participant_bond_wei,
        [o.ratio_wad for o in options],
        max_model_value=float(getattr(scenario.valuation, "scale", 0.0)),
        # the scenario's own price of a value unit (what rho is made of) when it states one:
        # one price per unit; the environment's convention only for scenarios without it
        wei_per_value_unit=scenario.unit_wei,
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
    terms: RoundTerms = RoundTerms(),
    new_round: bool = False,
    any_curve: bool = False,
    factory: str | None = None,
) -> Deployed:
    """Plan the round (:func:`modelpact.round.planning.plan_round`) and deploy it through
    ``factory`` (None: deploy the shared contracts first); the record goes to ``deploy_dir``.
    Idempotent like :func:`deploy` (``new_round`` deploys another round of the same scenario).
    A learned curve fitted on other data is refused unless ``any_curve``."""
    import tempfile

    from modelpact.round.planning import plan_round

    with tempfile.TemporaryDirectory(prefix="modelpact-plan-") as tmp:
        plan = plan_round(
            scenario_path=scenario_path,
            work_dir=Path(tmp),
            dataset=dataset,
            test_size=test_size,
            seed=seed,
            any_curve=any_curve,
        )
        return deploy(
            chain,
            plan=plan,
            sender=sender,
            terms=terms,
            publication=Publication(deploy_dir),
            state_dir=state_dir,
            new_round=new_round,
            factory=factory,
        )

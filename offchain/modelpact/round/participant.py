"""A participant's side of a round: menu and best option, dataset commitment, join, reveal,
claim, fetch and verify the received model.

Every step keeps its progress in a :class:`~modelpact.round.state.JsonState` file per participant
and deployment, and records a transaction's hash before waiting for it. A re-run looks at the
recorded transaction and at the chain first, so it never joins twice, never loses a bond, and
never forgets a secret it has committed to.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes

from modelpact.chain import RoundEvent, TxResult
from modelpact.encoding import Phase
from modelpact.errors import ModelpactError
from modelpact.round import _protocol
from modelpact.round.handle import RoundHandle
from modelpact.round.records import DeploymentRecord, file_sha256
from modelpact.round.state import JsonState

__all__ = [
    "AlreadyClaimedError",
    "ClaimResult",
    "CommitResult",
    "JoinClosedError",
    "OptionOutOfRangeError",
    "OptionView",
    "ParticipantError",
    "StepResult",
    "VerifyResult",
    "WithdrawResult",
    "WrongRowCountError",
    "best_option_id",
    "claim",
    "commit_dataset",
    "default_models_dir",
    "deliver",
    "fetch_model",
    "join",
    "menu_view",
    "outside_option",
    "participant_state",
    "pick_option",
    "reveal",
    "verify_model",
    "withdraw_after_default",
]


class ParticipantError(ModelpactError, ValueError):
    """A participant step cannot run with these inputs or in this phase."""


class OptionOutOfRangeError(ParticipantError):
    """The option id does not exist in the round's menu."""


class WrongRowCountError(ParticipantError):
    """The committed dataset does not have the row count the option requires."""


class JoinClosedError(ParticipantError):
    """Joining is over (deadline passed or the round is full)."""


class AlreadyClaimedError(ParticipantError):
    """The participant already claimed."""


@dataclass(frozen=True)
class OptionView:
    """One on-chain option, in model-value units, with its utility for a given cost."""

    option_id: int
    data_count: int
    ratio: float
    promised_value: float
    budget_value: float
    utility: float | None


@dataclass(frozen=True)
class CommitResult:
    """A committed dataset."""

    data_root: str
    row_count: int
    rows_file: Path


@dataclass(frozen=True)
class StepResult:
    """The outcome of join or reveal: the transaction and whether it had already happened."""

    tx_hash: str | None
    already_done: bool
    gas_used: int


@dataclass(frozen=True)
class ClaimResult:
    """What a claim recorded on chain."""

    tx_hash: str
    rung: int
    accuracy_wad: int
    target_accuracy_wad: int
    model_hash: str
    bond_refund: int
    slash_share: int
    gas_used: int


@dataclass(frozen=True)
class VerifyResult:
    """A received model checked against the chain and the public test set."""

    model_file: Path
    model_hash: str
    hash_ok: bool
    posted_accuracy_wad: int
    measured_accuracy_wad: int
    accuracy_ok: bool
    test_set_ok: bool

    @property
    def ok(self) -> bool:
        """All three checks passed."""
        return self.hash_ok and self.accuracy_ok and self.test_set_ok


def participant_state(state_dir: Path, record: DeploymentRecord, account: str) -> JsonState:
    """The state file of ``account`` in the round of ``record``."""
    path = state_dir / "participants" / f"{record.chain_id}-{record.address}-{account}.json"
    return JsonState(
        path, identity=(("deployment", str(record.address)), ("account", str(account)))
    )


def menu_view(handle: RoundHandle, *, cost: float | None) -> list[OptionView]:
    """The on-chain menu, with the utility t - cost * m of each option when ``cost`` is given."""
    wad = _protocol.WAD
    views = []
    for option_id, option in enumerate(handle.round.options()):
        promised = option.promised_value_wad / wad
        views.append(
            OptionView(
                option_id=option_id,
                data_count=option.data_count,
                ratio=option.ratio_wad / wad,
                promised_value=promised,
                budget_value=option.budget_value_wad / wad,
                utility=None if cost is None else promised - cost * option.data_count,
            )
        )
    return views


TIE_TOLERANCE = 1e-6
"""Utilities within this many value units of the best count as ties (IC constraints bind)."""


def pick_option(utilities: Sequence[float], *, tolerance: float = TIE_TOLERANCE) -> int:
    """The option a utility maximiser picks: the best utility, ties (within ``tolerance``) broken
    toward the larger contribution (the highest option id), as in the paper's convention that an
    indifferent agent takes the option designed for its type (downward ICs bind at the optimum,
    so floating-point noise must not push a type onto the option of the type above it)."""
    if not utilities:
        raise ParticipantError("the menu has no options", hint="check the deployment")
    best = max(utilities)
    return max(i for i, u in enumerate(utilities) if u >= best - tolerance)


def best_option_id(options: Sequence[OptionView]) -> int | None:
    """:func:`pick_option` over the options' utilities, None when no cost was given."""
    if any(o.utility is None for o in options) or not options:
        return None
    return pick_option([float(o.utility) for o in options if o.utility is not None])


def commit_dataset(
    state: JsonState, *, dataset: Path, spec_name: str, generated_features: int | None = None
) -> CommitResult:
    """Validate ``dataset`` (CSV or .npy), keep a private copy, compute its Merkle root.

    Refuses to change a dataset once a join was sent with its root.
    """
    from modelpact.ml.datasets import builtin_spec, generated_spec, load_rows, save_rows

    current = state.load()
    spec = (
        builtin_spec(spec_name)
        if generated_features is None
        else generated_spec(generated_features)
    )
    rows = load_rows(dataset, spec)
    root = _protocol.data_root(rows)
    if current.get("join_tx") and current.get("data_root") != "0x" + root.hex():
        raise ParticipantError(
            "this account already sent a join with another dataset",
            hint="keep the committed dataset; a round accepts one dataset per account",
        )
    copy = state.path.with_suffix(".rows.npy")
    copy.parent.mkdir(parents=True, exist_ok=True)
    save_rows(copy, rows)
    state.update(
        data_root="0x" + root.hex(),
        row_count=int(rows.shape[0]),
        dataset_file=str(dataset.resolve()),
        dataset_sha256=file_sha256(dataset),
        rows_file=str(copy),
    )
    return CommitResult(data_root="0x" + root.hex(), row_count=int(rows.shape[0]), rows_file=copy)


def _receipt_gas(result: TxResult | None) -> int:
    return result.gas_used if result is not None else 0


def _send(
    handle: RoundHandle,
    state: JsonState,
    key: str,
    fn: str,
    *args: Any,
    sender: LocalAccount,
    value: int = 0,
) -> TxResult:
    """Send ``fn(*args)``, recording the hash under ``key`` before waiting; reverts raise
    :class:`modelpact.chain.ContractRevertError` with the contract's named error."""
    return handle.send_recorded(
        fn, sender, *args, value=value, record=lambda tx: state.update(**{key: tx})
    )


def join(
    handle: RoundHandle, state: JsonState, *, account: LocalAccount, option_id: int
) -> StepResult:
    """Join with ``option_id`` and the committed dataset, posting the bond. Safe to re-run."""
    current = state.load()
    done = handle.recorded(current.get("join_tx"), action="join")
    if done is not None:
        return StepResult(current["join_tx"], True, _receipt_gas(done))
    if handle.is_participant(account.address):
        return StepResult(current.get("join_tx"), True, 0)
    rc = handle.round
    count = rc.option_count()
    if not 0 <= option_id < count:
        raise OptionOutOfRangeError(
            f"option {option_id} does not exist: the menu has options 0..{count - 1}",
            hint="pick an option id shown by `participant menu`",
        )
    if "data_root" not in current:
        raise ParticipantError(
            "no dataset committed for this round", hint="run `participant commit --data FILE` first"
        )
    required = rc.option(option_id).data_count
    if int(current["row_count"]) != required:
        raise WrongRowCountError(
            f"the committed dataset has {current['row_count']} rows but option {option_id} "
            f"requires exactly {required}",
            hint=f"commit a dataset of {required} rows or pick the option that matches",
        )
    phase = handle.phase()
    config = rc.config()
    if phase != Phase.JOIN:
        raise JoinClosedError(
            f"joining is closed (phase {phase.name.lower()}, join deadline "
            f"{config.deadlines.join}, {rc.joined_count()}/{config.capacity} joined)",
            hint="this round no longer accepts participants; nothing was sent",
        )
    secret_hex = current.get("secret")
    if secret_hex is None:
        secret_hex = "0x" + _protocol.new_secret().hex()
        state.update(secret=secret_hex)  # before anything is sent: never commit to a lost secret
    commitment = _protocol.participant_commitment(
        bytes(HexBytes(secret_hex)), account.address, handle.address, handle.record.chain_id
    )
    state.update(option_id=option_id, commitment="0x" + commitment.hex())
    result = _send(
        handle,
        state,
        "join_tx",
        "join",
        option_id,
        bytes(HexBytes(current["data_root"])),
        required,
        commitment,
        sender=account,
        value=config.participant_bond,
    )
    return StepResult(result.tx_hash, False, result.gas_used)


def reveal(handle: RoundHandle, state: JsonState, *, account: LocalAccount) -> StepResult:
    """Reveal the committed secret (Reveal phase). Safe to re-run."""
    current = state.load()
    done = handle.recorded(current.get("reveal_tx"), action="reveal")
    if done is not None:
        return StepResult(current["reveal_tx"], True, _receipt_gas(done))
    if not handle.is_participant(account.address):
        raise ParticipantError(
            f"{account.address} has not joined this round", hint="join first (`participant join`)"
        )
    if handle.round.participant(account.address).revealed:
        return StepResult(current.get("reveal_tx"), True, 0)
    if "secret" not in current:
        raise ParticipantError(
            "the local state has no secret for this round",
            hint="run reveal with the --state-dir used for join (the secret is kept there)",
        )
    phase = handle.phase()
    if phase != Phase.REVEAL:
        raise ParticipantError(
            f"the round is in phase {phase.name.lower()}, reveals happen in phase reveal",
            hint="wait until the coordinator posted the models (`coordinator status`)",
        )
    result = _send(
        handle, state, "reveal_tx", "reveal", bytes(HexBytes(current["secret"])), sender=account
    )
    return StepResult(result.tx_hash, False, result.gas_used)


def _event(result: TxResult, name: str) -> RoundEvent | None:
    return next((e for e in result.events if e.name == name), None)


def _claimed_event(result: TxResult) -> dict[str, Any]:
    event = _event(result, "Claimed")
    if event is None:
        raise ParticipantError("the claim transaction has no Claimed event", hint="report a bug")
    return dict(event.args)


def claim(handle: RoundHandle, state: JsonState, *, account: LocalAccount) -> ClaimResult:
    """Claim: record the assigned rung and take back the bond. A second claim is an error."""
    current = state.load()
    done = handle.recorded(current.get("claim_tx"), action="claim")
    if done is not None and "claim_rung" not in current:
        _store_claim(state, _claimed_event(done))  # crashed between send and bookkeeping
        return _claim_result(state.load(), done)
    if not handle.is_participant(account.address):
        raise ParticipantError(
            f"{account.address} has not joined this round", hint="join first (`participant join`)"
        )
    if handle.round.participant(account.address).claimed:
        raise AlreadyClaimedError(
            f"{account.address} already claimed"
            + (f" (tx {current['claim_tx']})" if current.get("claim_tx") else ""),
            hint="nothing to do: fetch your model with `participant fetch`",
        )
    phase = handle.phase()
    if phase != Phase.CLAIM:
        raise ParticipantError(
            f"the round is in phase {phase.name.lower()}, claims happen in phase claim",
            hint="wait for every reveal or the reveal deadline (`coordinator status`)",
        )
    result = _send(handle, state, "claim_tx", "claim", sender=account)
    _store_claim(state, _claimed_event(result))
    return _claim_result(state.load(), result)


def _store_claim(state: JsonState, event: dict[str, Any]) -> None:
    state.update(
        claim_rung=int(event["rung"]),
        claim_accuracy_wad=int(event["accuracyWad"]),
        claim_target_wad=int(event["targetAccuracyWad"]),
        claim_model_hash="0x" + bytes(event["modelHash"]).hex(),
        claim_bond_refund=int(event["bondRefund"]),
        claim_slash_share=int(event["slashShare"]),
    )


def _claim_result(current: dict[str, Any], receipt: TxResult | None) -> ClaimResult:
    return ClaimResult(
        tx_hash=str(current["claim_tx"]),
        rung=int(current["claim_rung"]),
        accuracy_wad=int(current["claim_accuracy_wad"]),
        target_accuracy_wad=int(current["claim_target_wad"]),
        model_hash=str(current["claim_model_hash"]),
        bond_refund=int(current["claim_bond_refund"]),
        slash_share=int(current["claim_slash_share"]),
        gas_used=_receipt_gas(receipt),
    )


def fetch_model(state: JsonState, *, models_dir: Path, out: Path) -> Path:
    """Copy the claimed model file from the coordinator's content-addressed store to ``out``."""
    current = state.load()
    model_hash = current.get("claim_model_hash")
    if model_hash is None:
        raise ParticipantError("nothing claimed yet", hint="run `participant claim` first")
    if int(current.get("claim_rung", 0)) == 0:
        raise ParticipantError(
            "your draw assigned rung 0 (no model): there is nothing to fetch",
            hint="this is the lottery's low outcome; its expectation is the promised t",
        )
    source = models_dir / f"{model_hash}.bin"
    if not source.is_file():
        raise ParticipantError(
            f"model {model_hash} is not in {models_dir}",
            hint="ask the coordinator to deliver it (its hash is posted on chain) or pass --models",
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, out)
    state.update(model_file=str(out.resolve()))
    return out


def verify_model(
    state: JsonState, *, model_file: Path, test_set: Path, test_set_root: bytes, spec_name: str
) -> VerifyResult:
    """Check a received model: keccak256 equals the claimed hash, the public test set matches its
    on-chain commitment, and the model's accuracy on it equals the posted accuracy (WAD, floor)."""
    from modelpact.ml.datasets import builtin_spec, load_rows
    from modelpact.ml.models import correct_count

    current = state.load()
    if "claim_model_hash" not in current:
        raise ParticipantError("nothing claimed yet", hint="run `participant claim` first")
    data = model_file.read_bytes()
    digest = "0x" + _protocol.model_hash(data).hex()
    test_rows = load_rows(test_set, builtin_spec(spec_name) if spec_name else None)
    test_ok = _protocol.data_root(np.asarray(test_rows)) == test_set_root
    measured = _protocol.accuracy_wad(correct_count(data, test_rows), int(test_rows.shape[0]))
    posted = int(current["claim_accuracy_wad"])
    result = VerifyResult(
        model_file=model_file,
        model_hash=digest,
        hash_ok=digest == current["claim_model_hash"],
        posted_accuracy_wad=posted,
        measured_accuracy_wad=measured,
        accuracy_ok=measured == posted,
        test_set_ok=test_ok,
    )
    state.update(verified=result.ok)
    return result


def deliver(state: JsonState, *, inbox: Path, address: str) -> Path:
    """Copy the committed rows to ``inbox/<address>.npy`` for the coordinator (off chain)."""
    current = state.load()
    if "rows_file" not in current:
        raise ParticipantError("no dataset committed", hint="run `participant commit` first")
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / f"{address}.npy"
    shutil.copyfile(current["rows_file"], target)
    return target


def default_models_dir(record: DeploymentRecord, record_path: Path) -> Path:
    """The coordinator's model store next to a deployment record."""
    files = record_path.parent / str(record.extra.get("files_dir", "."))
    return (files / str(record.extra.get("models_dir", "models"))).resolve()


@dataclass(frozen=True)
class WithdrawResult:
    """A refund after the coordinator defaulted: bond plus a share of the coordinator's bond."""

    tx_hash: str
    bond: int
    compensation: int
    gas_used: int


def withdraw_after_default(
    handle: RoundHandle, state: JsonState, *, account: LocalAccount
) -> WithdrawResult:
    """After the coordinator missed the post deadline (phase aborted), take back the bond plus an
    equal share of the coordinator's bond. A second withdrawal is an error."""
    if not handle.is_participant(account.address):
        raise ParticipantError(
            f"{account.address} has not joined this round", hint="only participants are refunded"
        )
    if handle.round.participant(account.address).claimed:
        raise AlreadyClaimedError(
            f"{account.address} was already paid out (claim or refund)",
            hint="nothing to do; see `coordinator status`",
        )
    phase = handle.phase()
    if phase != Phase.ABORTED:
        raise ParticipantError(
            f"the round is in phase {phase.name.lower()}, refunds happen only after the "
            "coordinator missed the post deadline (phase aborted)",
            hint="wait for the post deadline; if models were posted, reveal and claim instead",
        )
    result = _send(handle, state, "withdraw_tx", "withdrawAfterDefault", sender=account)
    event = _event(result, "DefaultRefunded")
    args = dict(event.args) if event is not None else {"bond": 0, "compensation": 0}
    return WithdrawResult(
        tx_hash=result.tx_hash,
        bond=int(args["bond"]),
        compensation=int(args["compensation"]),
        gas_used=result.gas_used,
    )


def outside_option(record: DeploymentRecord, record_path: Path, *, cost: float) -> float:
    """The reservation utility f = max(0, max_m v(a(m)) - cost m) under the published scenario:
    what a participant with this cost gets by training alone (0 if that does not pay)."""
    from modelpact.economics import reservation_utility
    from modelpact.scenario import load_scenario

    scenario = load_scenario(record.scenario_path(record_path.parent))
    if cost <= 0.0:  # free data: training alone reaches the curve's supremum
        return float(scenario.valuation(np.array([scenario.accuracy.supremum]))[0])
    value, _ = reservation_utility(scenario.accuracy, scenario.valuation, cost)
    return float(value)

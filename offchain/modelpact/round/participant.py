"""A participant's side of a round: menu and best option, dataset commitment, join, reveal,
claim, fetch and verify the received model.

Every step keeps its progress in a :class:`~modelpact.round.state.ParticipantProgress` file per
participant and deployment, and records a transaction's hash before waiting for it
(:meth:`~modelpact.round.deployed.DeployedRound.send_recorded`). A re-run looks at the recorded
transaction and at the chain first, so it never joins twice, never loses a bond, and never forgets
a secret it has committed to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes

from modelpact.chain import Call, RoundContract, RoundEvent, TxResult, TxSlot
from modelpact.chain.contract import PreparedCall
from modelpact.chain_capabilities import require_round_capabilities
from modelpact.economics import TIE_TOLERANCE, take_option, worth_joining
from modelpact.encoding import ParticipantState, Phase, RoundConfig, stored_commitment
from modelpact.errors import ModelpactError
from modelpact.outputs import check_output, write_output_bytes
from modelpact.round import _protocol
from modelpact.round.deployed import DeployedRound, StepResult
from modelpact.round.inbox import deliver_rows
from modelpact.round.records import DeploymentRecord, file_sha256
from modelpact.round.state import ParticipantProgress, StateFile

if TYPE_CHECKING:
    from modelpact.scenario import Scenario

__all__ = [
    "JOIN_GAS_BOUND",
    "AlreadyClaimedError",
    "ClaimResult",
    "CommitResult",
    "FeeQuote",
    "JoinClosedError",
    "NotFundedError",
    "OptionOutOfRangeError",
    "OptionView",
    "ParticipantError",
    "ParticipantStateFile",
    "RoundView",
    "StepResult",
    "VerifyResult",
    "WithdrawResult",
    "WrongRowCountError",
    "best_option_id",
    "claim",
    "commit_dataset",
    "default_models_dir",
    "deliver",
    "delivery_secret",
    "fee_quote",
    "fetch_model",
    "join",
    "joining_pays",
    "menu_view",
    "outside_option",
    "participant_state",
    "pick_option",
    "published_scenario",
    "reveal",
    "round_secrets",
    "round_view",
    "value_if_closed_now",
    "verify_model",
    "withdraw_after_cancel",
    "withdraw_after_default",
    "withdraw_compensation",
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


class NotFundedError(ParticipantError):
    """The account cannot pay the bond of its join."""


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
    compensation: int = 0


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


ParticipantStateFile = StateFile[ParticipantProgress]
"""A participant's state file for one round."""


def participant_state(
    state_dir: Path, record: DeploymentRecord, account: str
) -> ParticipantStateFile:
    """The state file of ``account`` in the round of ``record``."""
    path = state_dir / "participants" / f"{record.chain_id}-{record.address}-{account}.json"
    return StateFile(
        path, ParticipantProgress, deployment=str(record.address), account=str(account)
    )


@dataclass(frozen=True)
class RoundView:
    """What a participant sees before signing, read from the chain: who coordinates, the bond
    and how full the round is (the deadlines and windows: ``participant menu``'s terms)."""

    address: str
    coordinator: str
    bond_wei: int
    capacity: int
    joined: int
    total_rows: int

    @property
    def may_close_below_capacity(self) -> bool:
        """Whether the round can close (at the join deadline) with seats left after one more
        join: then the collective model is trained on fewer rows than the menu assumed."""
        return self.joined + 1 < self.capacity


JOIN_GAS_BOUND = 100_000
"""An upper bound on a join's gas (the contract's target; measured 84.5k), for the fee shown."""


@dataclass(frozen=True)
class FeeQuote:
    """What a join would pay in fees now: the fee per gas the wallet would offer (capped by
    ``--max-fee-gwei``), the cap, and the most a join can cost at that fee."""

    fee_per_gas_wei: int
    cap_wei: int
    join_fee_bound_wei: int


def fee_quote(deployed: DeployedRound) -> FeeQuote:
    """The fee a join sends right now (the same rule the transaction uses); a chain asking more
    than the cap is refused here, before anything is signed."""
    from modelpact.chain.transactions import fee_fields

    fields = fee_fields(deployed.chain)
    per_gas = int(fields.get("maxFeePerGas", fields.get("gasPrice", 0)))
    return FeeQuote(
        fee_per_gas_wei=per_gas,
        cap_wei=deployed.chain.max_fee_per_gas,
        join_fee_bound_wei=per_gas * JOIN_GAS_BOUND,
    )


def round_view(deployed: DeployedRound) -> RoundView:
    """The round's terms and fill level as the chain states them (read-only)."""
    rc = deployed.contract
    config = rc.config()
    return RoundView(
        address=deployed.address,
        coordinator=rc.coordinator(),
        bond_wei=config.participant_bond,
        capacity=config.capacity,
        joined=rc.joined_count(),
        total_rows=rc.total_data(),
    )


def value_if_closed_now(
    deployed: DeployedRound, view: RoundView, *, value_scale: float
) -> list[float]:
    """Per option, the expected value a participant taking it receives if joining closes right
    after its join (the collective model trained on the rows joined so far plus its own, by the
    committed curve): ratio x scale x a(rows). Below the promised t when the round is not full."""
    wad = _protocol.WAD
    rc = deployed.contract
    rows_so_far = view.total_rows
    return [
        o.ratio_wad / wad * value_scale * rc.predicted_accuracy(rows_so_far + o.data_count) / wad
        for o in rc.options()
    ]


def menu_view(deployed: DeployedRound, *, cost: float | None) -> list[OptionView]:
    """The on-chain menu, with the utility t - cost * m of each option when ``cost`` is given."""
    wad = _protocol.WAD
    views = []
    for option_id, option in enumerate(deployed.contract.options()):
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


def pick_option(utilities: Sequence[float], *, tolerance: float = TIE_TOLERANCE) -> int:
    """The option a wallet takes: :func:`modelpact.economics.take_option` (the one rule the
    demo and the simulator use too) for a participant who knows its cost but not its type."""
    if not utilities:
        raise ParticipantError("the menu has no options", hint="check the deployment")
    return take_option(utilities, tolerance=tolerance)


def best_option_id(options: Sequence[OptionView]) -> int | None:
    """:func:`pick_option` over the options' utilities, None when no cost was given."""
    if any(o.utility is None for o in options) or not options:
        return None
    return pick_option([float(o.utility) for o in options if o.utility is not None])


def joining_pays(utility: float, outside: float) -> bool:
    """Whether the best option beats the outside option (training alone, or 0), within the
    same tie tolerance as the choice (:func:`modelpact.economics.worth_joining`)."""
    return worth_joining(utility, outside)


def commit_dataset(
    state: ParticipantStateFile,
    *,
    dataset: Path,
    spec_name: str,
    generated_features: int | None = None,
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
    # v2: the leaves bind this account's address, so a copied root is refused on chain
    root = _protocol.participant_data_root(current.account, rows)
    if current.join_tx and current.data_root != "0x" + root.hex():
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


def join(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    *,
    account: LocalAccount,
    option_id: int,
    wait: bool = True,
) -> StepResult:
    """Join with ``option_id`` and the committed dataset, posting the bond. Safe to re-run.

    ``wait=False`` returns once the join is sent and its hash recorded (``gas_used`` 0); running
    ``join`` again waits for it and returns its gas (the re-run of a recorded step)."""
    current = state.load()
    # nothing recorded: nothing to look at on chain (a re-run's recorded hash is)
    done = None if current.join_tx is None else deployed.already_done(state.slot("join_tx"), "join")
    if done is not None:
        return done
    rc = deployed.contract
    secret, key = round_secrets(deployed, account)
    commitment = _protocol.participant_commitment_v2(
        secret, key, account.address, deployed.address, deployed.record.chain_id
    )
    # the record, the phase and the balance the checks below need, with the join's own
    # pre-flight, fees and nonce when it can be built yet: one exchange with the node
    reads, standing_of = rc.standing_reads(account.address, balance=True)
    call = _join_call(rc, current, option_id, commitment)
    prepared = None if call is None else rc.prepare(call, account, reads)
    standing = standing_of(rc.read(reads) if prepared is None else prepared.answers)
    if standing.participant is not None:
        _require_joined_root(deployed, state, account.address)
        return StepResult(current.join_tx, True, 0)
    required = _required_rows(rc.option_count(), rc, option_id)
    if current.data_root is None or current.row_count is None:
        raise ParticipantError(
            "no dataset committed for this round", hint="run `participant commit --data FILE` first"
        )
    if current.row_count != required:
        raise WrongRowCountError(
            f"the committed dataset has {current.row_count} rows but option {option_id} "
            f"requires exactly {required}",
            hint=f"commit a dataset of {required} rows or pick the option that matches",
        )
    config = _open_for_joining(deployed, standing.phase)
    require_round_capabilities(deployed.chain)  # a pre-Cancun node would lock the bond for good
    _check_funded(account.address, config.participant_bond, standing.balance or 0)
    state.update(
        secret="0x" + secret.hex(),
        option_id=option_id,
        commitment="0x" + commitment.hex(),
        test_set_commitment="0x" + config.test_set_commitment.hex(),
    )
    if call is None:  # the checks above refuse every other call _join_call does not build
        raise ParticipantError(
            f"the data root in the local state ({current.data_root[:20]}..) is not 32 bytes "
            "of hex: the state file was damaged or edited",
            hint="nothing was sent; commit the dataset again (`participant commit --data FILE`)",
        )
    return _send_step(deployed, call, account, state.slot("join_tx"), wait=wait, prepared=prepared)


def _join_call(
    rc: RoundContract, current: ParticipantProgress, option_id: int, commitment: bytes
) -> Call | None:
    """The join of ``option_id`` with the committed dataset of the local state ``current``
    and ``commitment``; None when a local check of :func:`join` refuses it (no dataset, no
    such option, another row count) or its root is not 32 bytes of hex (a damaged state file):
    then those checks run in their order, after the standing read. Nothing is signed or sent
    here."""
    root = _local_root(current)
    if root is None or not 0 <= option_id < rc.option_count():
        return None
    rows = rc.option(option_id).data_count
    if current.row_count != rows:
        return None
    return rc.join.call(
        option_id=option_id,
        data_root=root,
        row_count=rows,
        commitment=commitment,
        value=rc.config().participant_bond,
    )


def _send_step(
    deployed: DeployedRound,
    call: Call,
    account: LocalAccount,
    slot: TxSlot,
    *,
    wait: bool,
    prepared: PreparedCall | None = None,
) -> StepResult:
    if not wait:
        tx_hash = deployed.start_recorded(call, account, slot, prepared=prepared)
        return StepResult(tx_hash, False, 0)
    result = deployed.send_recorded(call, account, slot, prepared=prepared)
    return StepResult(result.tx_hash, False, result.gas_used)


def _check_funded(address: str, bond: int, have: int) -> None:
    """Refuse (nothing sent) when ``address`` cannot even post the bond (``have``: its balance
    as read from the chain for this step); a balance that covers the bond but not the gas is
    refused by the node, in one line too
    (:class:`~modelpact.chain.transactions.InsufficientFundsError`)."""
    if have <= bond:
        raise NotFundedError(
            f"account {address} holds {have} wei; joining needs the bond of {bond} wei plus gas",
            hint=f"send ETH to {address} from a funded account (on a local dev node: one of "
            "its prefunded dev accounts), then re-run; nothing was sent",
        )


def _joined_root(deployed: DeployedRound, address: str) -> str | None:
    """The data root ``address`` joined with, from its ``Joined`` event (None: not joined)."""
    for event in deployed.events("Joined", participant=address):
        if str(event.args["participant"]).lower() == address.lower():
            return "0x" + bytes(event.args["dataRoot"]).hex()
    return None


def _require_joined_root(
    deployed: DeployedRound, state: ParticipantStateFile, address: str
) -> None:
    """An account that already joined may only re-deliver the dataset it joined with: a dataset
    committed in another state folder would replace a good delivery and cost the bond."""
    local = state.load().data_root
    joined = _joined_root(deployed, address)
    if local is not None and joined is not None and local.lower() != joined.lower():
        raise ParticipantError(
            f"{address} joined this round with data root {joined[:18]}.., but the dataset "
            f"committed in this state folder has root {local[:18]}..",
            hint="nothing was sent or delivered; use the state folder (--state-dir) and dataset "
            "of that join",
        )


def round_secrets(deployed: DeployedRound, account: LocalAccount) -> tuple[bytes, tuple[int, int]]:
    """The randomness secret and the delivery public key of ``account`` for this round, derived
    from the account key, the round address and the chain id (:mod:`modelpact.delivery`): a lost
    state file never forfeits a bond, the same key re-derives both."""
    from modelpact.delivery import delivery_key_pair, randomness_secret

    where = {
        "account_key": bytes(account.key),
        "round_address": deployed.address,
        "chain_id": deployed.record.chain_id,
    }
    known = (str(account.address), deployed.address, deployed.record.chain_id)
    public = _PUBLIC_DELIVERY_KEYS.get(known)
    if public is None:
        pair = delivery_key_pair(**where)  # type: ignore[arg-type]
        public = _PUBLIC_DELIVERY_KEYS[known] = (pair.public_key.x, pair.public_key.y)
    return randomness_secret(**where), public  # type: ignore[arg-type]


_PUBLIC_DELIVERY_KEYS: dict[tuple[str, str, int], tuple[int, int]] = {}
"""(account, round, chain id) -> the account's delivery PUBLIC key for that round. Deriving it
is a bn254 multiplication (~5 ms in Python) that join, reveal and claim each needed; it is
published at reveal anyway, and an address has one account key, so keeping it by address holds
nothing secret (the secret key is derived again whenever it is needed: :func:`delivery_secret`)."""


def delivery_secret(deployed: DeployedRound, account: LocalAccount) -> int:
    """The round's delivery secret key of ``account``, derived like :func:`round_secrets` from the
    unlocked keystore every time it is needed (`participant fetch`, `participant dispute`) and
    never written to the local state (issue 15: protected like the keystore)."""
    from modelpact.delivery import delivery_secret_key

    return delivery_secret_key(
        account_key=bytes(account.key),
        round_address=deployed.address,
        chain_id=deployed.record.chain_id,
    )


def _keep_round_secret(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    account: LocalAccount,
    current: ParticipantProgress,
) -> None:
    """Record the randomness secret again if a lost state file was replaced (it derives from
    the account key; ``current``: the state as loaded). The delivery secret key is never
    recorded: `participant fetch` derives it from the keystore."""
    if current.secret is None:
        secret, _ = round_secrets(deployed, account)
        state.update(secret="0x" + secret.hex())


def _required_rows(count: int, rc: RoundContract, option_id: int) -> int:
    """The rows option ``option_id`` asks for; an id outside the menu is one clear error."""
    if not 0 <= option_id < count:
        raise OptionOutOfRangeError(
            f"option {option_id} does not exist: the menu has options 0..{count - 1}",
            hint="pick an option id shown by `participant menu`",
        )
    return rc.option(option_id).data_count


def _open_for_joining(deployed: DeployedRound, phase: Phase) -> RoundConfig:
    """The round's config when it still accepts joins (``phase``, as read from the chain for
    this step); else :class:`JoinClosedError`."""
    config = deployed.contract.config()
    if phase != Phase.JOIN:
        raise JoinClosedError(
            f"joining is closed (phase {phase.name.lower()}, join deadline "
            f"{config.schedule.join}, {deployed.contract.joined_count()}/{config.capacity} "
            "joined)",
            hint="this round no longer accepts participants; nothing was sent",
        )
    return config


def _joined(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    account: LocalAccount,
    *,
    action: Callable[..., Call] | None = None,
) -> tuple[ParticipantState, Phase, dict[str, object], PreparedCall | None]:
    """What the contract remembers of ``account`` and the phase, for a step's checks, and the
    arguments reveal and claim open the join commitment with: the data root and the secret and
    delivery key derived from the account key. :class:`ParticipantError` when it never joined.

    The data root is the local state's when the contract stores this account's commitment
    under it (``commitmentOf``, read with the record and the phase in one exchange with the
    node: only this account's join can have stored it there), else the root of this account's
    ``Joined`` event (a lost or edited state file loses nothing). With ``action`` (the step's
    action, called with the opening), that exchange also pre-flights the step's call opened
    with the local root (:meth:`~modelpact.chain.RoundContract.prepare`): returned when that
    root is the one found, else None (the step builds its call again)."""
    secret, key = round_secrets(deployed, account)
    local = _local_root(state.load())
    rc = deployed.contract
    reads, standing_of = rc.standing_reads(account.address, stored_under=local)
    prepared = None
    if action is not None and local is not None:
        prepared = rc.prepare(
            action(data_root=local, secret=secret, delivery_key=key), account, reads
        )
    standing = standing_of(rc.read(reads) if prepared is None else prepared.answers)
    if standing.participant is None:
        raise ParticipantError(
            f"{account.address} has not joined this round", hint="join first (`participant join`)"
        )
    mine = _protocol.participant_commitment_v2(
        secret, key, account.address, deployed.address, deployed.record.chain_id
    )
    root = local
    if local is None or standing.stored_commitment != stored_commitment(mine, account.address):
        joined = _joined_root(deployed, account.address)
        root = bytes(HexBytes(joined)) if joined is not None else local
    if root is None:
        raise ParticipantError(f"{account.address} has not joined this round", hint="join first")
    opening: dict[str, object] = {"data_root": root, "secret": secret, "delivery_key": key}
    return standing.participant, standing.phase, opening, prepared if root == local else None


def _local_root(current: ParticipantProgress) -> bytes | None:
    """The committed data root the local state ``current`` names (None: none, or not 32 bytes
    of hex)."""
    root = current.data_root
    try:
        value = bytes(HexBytes(root)) if root is not None else None
    except ValueError:
        return None
    return value if value is not None and len(value) == 32 else None


def _no_show(_line: str) -> None:
    return None


def sending_line(deployed: DeployedRound, action: str, account: LocalAccount) -> str:
    """What a participant command sends, said before it is sent (as `participant join` does)."""
    return f"sending {action} to round {deployed.address} from {account.address}, value 0 wei"


def reveal(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    *,
    account: LocalAccount,
    wait: bool = True,
    show: Callable[[str], None] = _no_show,
) -> StepResult:
    """Reveal the committed secret (Reveal phase). Safe to re-run. ``wait`` as in
    :func:`join`."""
    loaded = state.load()
    _keep_round_secret(deployed, state, account, loaded)
    # nothing recorded: nothing to look at on chain (a re-run's recorded hash is)
    done = (
        None
        if loaded.reveal_tx is None
        else deployed.already_done(state.slot("reveal_tx"), "reveal")
    )
    if done is not None:
        return done
    onchain, phase, opening, prepared = _joined(
        deployed, state, account, action=deployed.contract.reveal.call
    )
    if onchain.revealed:
        return StepResult(loaded.reveal_tx, True, 0)
    if onchain.undelivered:
        raise ParticipantError(
            f"the coordinator named {account.address} undelivered: its data did not arrive or "
            "failed verification, so there is no model and the bond is forfeited",
            hint="deliver the committed dataset before the coordinator posts in a next round",
        )
    if phase != Phase.REVEAL:
        raise ParticipantError(
            f"the round is in phase {phase.name.lower()}, reveals happen in phase reveal",
            hint="wait until the coordinator posted the models (`coordinator status`)",
        )
    call = deployed.contract.reveal.call(**opening)  # type: ignore[arg-type]
    show(sending_line(deployed, "reveal", account))
    slot = state.slot("reveal_tx")
    return _send_step(deployed, call, account, slot, wait=wait, prepared=prepared)


def _event(result: TxResult, name: str) -> RoundEvent | None:
    return next((e for e in result.events if e.name == name), None)


def claim(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    *,
    account: LocalAccount,
    show: Callable[[str], None] = _no_show,
) -> ClaimResult:
    """Claim: record the assigned rung and take back the bond. A second claim is an error."""
    done = deployed.recorded(state.slot("claim_tx"), "claim")
    if done is not None and state.load().claim_rung is None:
        return _store_claim(state, done)  # crashed (or started) between send and bookkeeping
    call, prepared = _claim_call(deployed, state, account)
    show(sending_line(deployed, "claim", account))
    slot = state.slot("claim_tx")
    return _store_claim(state, deployed.send_recorded(call, account, slot, prepared=prepared))


def start_claim(
    deployed: DeployedRound, state: ParticipantStateFile, *, account: LocalAccount
) -> str | None:
    """Send the claim and record its hash without waiting (None: one is recorded already);
    :func:`claim` then waits for it and records what it assigned."""
    if deployed.recorded(state.slot("claim_tx"), "claim") is not None:
        return None
    call, prepared = _claim_call(deployed, state, account)
    return deployed.start_recorded(call, account, state.slot("claim_tx"), prepared=prepared)


def _claim_call(
    deployed: DeployedRound, state: ParticipantStateFile, account: LocalAccount
) -> tuple[Call, PreparedCall | None]:
    """The claim to send, after the checks that refuse it in one line, and that claim as
    pre-flighted with the checks' reads (None: it is built again when sent)."""
    onchain, phase, opening, prepared = _joined(
        deployed, state, account, action=deployed.contract.claim.call
    )
    if onchain.claimed:
        tx = state.load().claim_tx
        raise AlreadyClaimedError(
            f"{account.address} already claimed" + (f" (tx {tx})" if tx else ""),
            hint="nothing to do: fetch your model with `participant fetch`",
        )
    if phase not in (Phase.CLAIM, Phase.CLOSED):
        raise ParticipantError(
            f"the round is in phase {phase.name.lower()}, claims happen in phase claim (or "
            "later: claims never expire)",
            hint="wait for every reveal or the reveal deadline (`coordinator status`)",
        )
    return deployed.contract.claim.call(**opening), prepared  # type: ignore[arg-type]


def _store_claim(state: ParticipantStateFile, result: TxResult) -> ClaimResult:
    """Record what the claim's ``Claimed`` event says, and return it."""
    event = _event(result, "Claimed")
    if event is None:
        raise ParticipantError("the claim transaction has no Claimed event", hint="report a bug")
    args = event.args
    claimed = ClaimResult(
        tx_hash=result.tx_hash,
        rung=int(args["rung"]),
        accuracy_wad=int(args["accuracyWad"]),
        target_accuracy_wad=int(args["targetAccuracyWad"]),
        model_hash="0x" + bytes(args["modelHash"]).hex(),
        bond_refund=int(args["bondRefund"]),
        slash_share=int(args["slashShare"]),
        gas_used=result.gas_used,
        compensation=int(args["compensation"]),
    )
    state.update(
        claim_rung=claimed.rung,
        claim_accuracy_wad=claimed.accuracy_wad,
        claim_target_wad=claimed.target_accuracy_wad,
        claim_model_hash=claimed.model_hash,
        claim_bond_refund=claimed.bond_refund,
        claim_slash_share=claimed.slash_share,
        claim_compensation=claimed.compensation,
    )
    return claimed


def fetch_model(
    state: ParticipantStateFile, *, models_dir: Path, out: Path, force: bool = False
) -> Path:
    """Copy the claimed model file from the coordinator's content-addressed store to ``out``
    (an existing file only with ``force``; never a keystore, state file or record:
    :func:`modelpact.outputs.check_output`), checking its keccak256 against the claimed hash
    before writing."""
    check_output(out, force=force)  # before anything else: a refused --out costs nothing
    current = state.load()
    model_hash = current.claim_model_hash
    if model_hash is None:
        raise ParticipantError("nothing claimed yet", hint="run `participant claim` first")
    if not current.claim_rung:
        raise ParticipantError(
            "your draw assigned rung 0 (no model): there is nothing to fetch",
            hint="this is the lottery's low outcome; its expectation is the promised t",
        )
    from modelpact.ml.models import StoredModelError, read_stored_model

    try:
        data = read_stored_model(models_dir, model_hash)
    except StoredModelError as error:
        hint = (
            "ask the coordinator to deliver it (its hash is posted on chain) or pass --models"
            if error.missing
            else "the coordinator's store holds another file under that name; ask for the "
            "model whose hash is posted"
        )
        raise ParticipantError(error.message, hint=hint) from error
    write_output_bytes(out, data, force=force)
    state.update(model_file=str(out.resolve()))
    return out


def verify_model(
    state: ParticipantStateFile,
    *,
    model_file: Path,
    test_set: Path,
    test_set_root: bytes,
    spec_name: str,
) -> VerifyResult:
    """Check a received model: keccak256 equals the claimed hash, the public test set matches its
    on-chain commitment, and the model's accuracy on it equals the posted accuracy (WAD, floor)."""
    from modelpact.ml.models import correct_count

    current = state.load()
    if current.claim_model_hash is None or current.claim_accuracy_wad is None:
        raise ParticipantError("nothing claimed yet", hint="run `participant claim` first")
    data = model_file.read_bytes()
    digest = "0x" + _protocol.model_hash(data).hex()
    test_rows = _test_rows(test_set, spec_name)
    test_ok = _protocol.data_root(np.asarray(test_rows)) == test_set_root
    measured = _protocol.accuracy_wad(correct_count(data, test_rows), int(test_rows.shape[0]))
    posted = current.claim_accuracy_wad
    result = VerifyResult(
        model_file=model_file,
        model_hash=digest,
        hash_ok=digest == current.claim_model_hash,
        posted_accuracy_wad=posted,
        measured_accuracy_wad=measured,
        accuracy_ok=measured == posted,
        test_set_ok=test_ok,
    )
    state.update(verified=result.ok)
    return result


def _test_rows(test_set: Path, spec_name: str) -> np.ndarray:
    """The public test set's rows (:func:`modelpact.ml.datasets.load_rows`, checked against
    the spec), parsed again only when the file's CONTENT changed: a demo verifies every
    participant's model on the same file. Its bytes are read and compared every time (a
    memcmp): a file rewritten in place keeps its path, inode and size, and within one
    modification-time tick (or with its time set back) its mtime too, so its stat says nothing.
    Rows are kept only when the file held the same bytes before and after they were parsed."""
    from modelpact.ml.datasets import builtin_spec, load_rows

    key = (str(test_set.resolve()), spec_name)
    data = _bytes_or_none(test_set)
    kept = _TEST_ROWS.get(key)
    if kept is not None and data is not None and kept[0] == data:
        return kept[1]
    rows = load_rows(test_set, builtin_spec(spec_name) if spec_name else None)
    rows.setflags(write=False)  # shared by every verification until the file changes
    _TEST_ROWS.clear()
    if data is not None and _bytes_or_none(test_set) == data:
        _TEST_ROWS[key] = (data, rows)
    return rows


def _bytes_or_none(path: Path) -> bytes | None:
    """The file's bytes, or None when it cannot be read (:func:`load_rows` names why)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


_TEST_ROWS: dict[tuple[str, str], tuple[bytes, np.ndarray]] = {}
"""The last public test set parsed by :func:`_test_rows`: (resolved path, spec) -> the file's
bytes then and its rows."""


def deliver(state: ParticipantStateFile, *, inbox: Path, address: str) -> Path:
    """Copy the committed rows to ``inbox/<checksummed address>.npy`` for the coordinator (off
    chain), safely for a shared folder (:func:`modelpact.round.inbox.deliver_rows`)."""
    rows_file = state.load().rows_file
    if rows_file is None:
        raise ParticipantError("no dataset committed", hint="run `participant commit` first")
    return deliver_rows(Path(rows_file), inbox=inbox, address=address)


def default_models_dir(record: DeploymentRecord, record_path: Path) -> Path:
    """The coordinator's model store next to a deployment record."""
    return record.models_dir(record_path.parent)


@dataclass(frozen=True)
class WithdrawResult:
    """A refund after the coordinator defaulted: bond plus a share of the coordinator's bond."""

    tx_hash: str
    bond: int
    compensation: int
    gas_used: int


def _payable(deployed: DeployedRound, account: LocalAccount) -> tuple[ParticipantState, Phase]:
    """Refuse a refund to a non-participant or to one already paid out; else its record and
    the phase (read together)."""
    standing = deployed.contract.standing(account.address)
    onchain, phase = standing.participant, standing.phase
    if onchain is None:
        raise ParticipantError(
            f"{account.address} has not joined this round", hint="only participants are refunded"
        )
    if onchain.claimed:
        raise AlreadyClaimedError(
            f"{account.address} was already paid out (claim or refund)",
            hint="nothing to do; see `coordinator status`",
        )
    return onchain, phase


def withdraw_after_default(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    *,
    account: LocalAccount,
    show: Callable[[str], None] = _no_show,
) -> WithdrawResult:
    """After the coordinator missed the post deadline (phase aborted), take back the bond plus an
    equal share of the coordinator's bond. A second withdrawal is an error."""
    _, phase = _payable(deployed, account)
    if phase != Phase.ABORTED:
        raise ParticipantError(
            f"the round is in phase {phase.name.lower()}, refunds happen only after the "
            "coordinator missed the post deadline (phase aborted)",
            hint="wait for the post deadline; if models were posted, reveal and claim instead",
        )
    call = deployed.contract.withdraw_after_default.call()
    show(sending_line(deployed, "withdrawAfterDefault", account))
    result = deployed.send_recorded(call, account, state.slot("withdraw_tx"))
    event = _event(result, "DefaultRefunded")
    args = dict(event.args) if event is not None else {"bond": 0, "compensation": 0}
    return WithdrawResult(
        tx_hash=result.tx_hash,
        bond=int(args["bond"]),
        compensation=int(args["compensation"]),
        gas_used=result.gas_used,
    )


def withdraw_after_cancel(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    *,
    account: LocalAccount,
    show: Callable[[str], None] = _no_show,
) -> WithdrawResult:
    """After the round was cancelled below quorum (phase cancelled), a participant not named
    undelivered takes back exactly its bond (after the coordinator's cancel, its bond B and the
    named participants' bonds are burned: nobody collects them).
    A second withdrawal is an error."""
    onchain, phase = _payable(deployed, account)
    if phase != Phase.CANCELLED:
        raise ParticipantError(
            f"the round is in phase {phase.name.lower()}, cancel refunds happen only in a "
            "cancelled round",
            hint="see `coordinator status`; after a post, reveal and claim instead",
        )
    if onchain.undelivered:
        raise ParticipantError(
            f"the coordinator named {account.address} undelivered: its bond is forfeited",
            hint="nothing to withdraw",
        )
    call = deployed.contract.withdraw_after_cancel.call()
    show(sending_line(deployed, "withdrawAfterCancel", account))
    result = deployed.send_recorded(call, account, state.slot("withdraw_tx"))
    event = _event(result, "CancelRefunded")
    args = dict(event.args) if event is not None else {"bond": 0, "compensation": 0}
    return WithdrawResult(
        tx_hash=result.tx_hash,
        bond=int(args["bond"]),
        compensation=int(args["compensation"]),
        gas_used=result.gas_used,
    )


def withdraw_compensation(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    *,
    account: LocalAccount,
    show: Callable[[str], None] = _no_show,
) -> WithdrawResult:
    """Take any part of this deliverer's entitlement out of the coordinator's bond not paid
    yet (raised after a claim by a fraud proof or a failed delivery; no deadline)."""
    if not deployed.is_participant(account.address):
        raise ParticipantError(
            f"{account.address} has not joined this round", hint="only deliverers are owed"
        )
    owed, paid = deployed.contract.entitlement(account.address)
    if owed <= paid:
        raise ParticipantError(
            f"nothing is owed to {account.address} out of the coordinator's bond "
            f"(entitled {owed} wei, paid {paid} wei)",
            hint="compensation is paid at claim; this command collects later increases",
        )
    call = deployed.contract.withdraw_compensation.call()
    show(sending_line(deployed, "withdrawCompensation", account))
    result = deployed.send_recorded(call, account, state.slot("compensation_tx"))
    event = _event(result, "CompensationPaid")
    amount = int(event.args["amount"]) if event is not None else 0
    return WithdrawResult(
        tx_hash=result.tx_hash, bond=0, compensation=amount, gas_used=result.gas_used
    )


def published_scenario(
    record: DeploymentRecord, record_path: Path, *, scenario_hash: bytes | None
) -> Scenario:
    """The scenario published next to the record, refused in one line when it does not hash to
    ``scenario_hash`` (the round's on-chain ``scenarioHash``; None: not checked)."""
    from modelpact.scenario import load_scenario, scenario_sha256

    path = record.scenario_path(record_path.parent)
    scenario = load_scenario(path)
    if scenario_hash is not None and scenario_sha256(scenario) != scenario_hash.hex():
        raise ParticipantError(
            f"the published scenario {path.name} does not hash to the round's on-chain "
            f"scenarioHash 0x{scenario_hash.hex()[:16]}..",
            hint="it was changed after deployment: get the committed scenario from the "
            "coordinator; nothing was computed from it",
        )
    return scenario


def outside_option(
    record: DeploymentRecord, record_path: Path, *, cost: float, scenario_hash: bytes | None = None
) -> float:
    """The reservation utility f = max(0, max_m v(a(m)) - cost m) under the published scenario:
    what a participant with this cost gets by training alone (0 if that does not pay). With
    ``scenario_hash`` (the round's on-chain ``scenarioHash``), a published file that does not
    hash to it is refused before it is used (issue 11.4: whoever handed the files over could
    have edited them)."""
    from modelpact.economics import reservation_utility

    scenario = published_scenario(record, record_path, scenario_hash=scenario_hash)
    if cost <= 0.0:  # free data: training alone reaches the curve's supremum
        return float(scenario.valuation(np.array([scenario.accuracy.supremum]))[0])
    value, _ = reservation_utility(scenario.accuracy, scenario.valuation, cost)
    return float(value)

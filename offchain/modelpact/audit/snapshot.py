"""Plain, chain-free records of one round: everything the audit rules look at.

A :class:`RoundSnapshot` is what :mod:`modelpact.audit.fetch` reads from a node (events, storage
views, balance, runtime code), but it is a plain frozen value so the rules in
:mod:`modelpact.audit.rules` can be tested on hand-built rounds without any chain.

Units follow ``IModelpactRound.sol``: ``*_wad`` values are fractions times 1e18, bonds and
balances are wei, hashes are 32 raw bytes, addresses are checksummed hex strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelpact.encoding import (
    CurveKnot,
    Deadlines,
    OnchainOption,
    ParticipantState,
    RoundConfig,
    Tier,
)

if TYPE_CHECKING:
    from modelpact.audit.clones import TrustFacts

__all__ = [
    "ClaimRecord",
    "ConfigRecord",
    "CurveCheckRecord",
    "CurveKnotRecord",
    "DeadlinesRecord",
    "DefaultRefundRecord",
    "DeliveryFailureRecord",
    "DeliveryRecord",
    "FraudRecord",
    "JoinRecord",
    "ModelsPostedRecord",
    "OptionRecord",
    "ParticipantState",
    "RevealRecord",
    "RoundSnapshot",
    "SweepRecord",
    "TierRecord",
]

ZERO32 = b"\x00" * 32

# The contract's structs are modelpact.encoding's values (the single source of truth); the audit
# names them as records of what the chain published.
OptionRecord = OnchainOption
"""One on-chain menu option (``IModelpactRound.Option``)."""
DeadlinesRecord = Deadlines
"""Phase deadlines in unix seconds."""
ConfigRecord = RoundConfig
"""``IModelpactRound.Config`` as published at deployment."""
CurveKnotRecord = CurveKnot
"""A point of the committed accuracy curve."""
TierRecord = Tier
"""A reward model: keccak256 of its file and its accuracy (WAD)."""


@dataclass(frozen=True)
class JoinRecord:
    """A ``Joined`` event."""

    participant: str
    index: int
    option_id: int
    data_root: bytes
    row_count: int
    commitment: bytes
    bond: int
    total_data: int


@dataclass(frozen=True)
class RevealRecord:
    """A participant's ``Revealed`` event."""

    participant: str
    index: int
    secret: bytes
    draw_seed: bytes
    delivery_key_x: int = 0
    delivery_key_y: int = 0


@dataclass(frozen=True)
class ModelsPostedRecord:
    """The ``ModelsPosted`` event: collective model, tiers and the data they were trained on
    (``total_data``: the deliverers' rows; ``predicted_accuracy_wad`` comes from the
    ``CurveChecked`` event of the same post)."""

    collective_model_hash: bytes
    collective_accuracy_wad: int
    tiers: tuple[TierRecord, ...]
    total_data: int
    predicted_accuracy_wad: int
    delivered: int = 0
    collective_log_root: bytes = ZERO32

    @property
    def collective(self) -> TierRecord:
        """The collective model as a posted model."""
        return TierRecord(
            self.collective_model_hash, self.collective_accuracy_wad, self.collective_log_root
        )


@dataclass(frozen=True)
class CurveCheckRecord:
    """The ``CurveChecked`` event (issue 13): WAD accuracies, wei amounts."""

    delivered_rows: int
    predicted_wad: int
    measured_wad: int
    tolerance_wad: int
    shortfall_wad: int
    allot: int
    liability: int


@dataclass(frozen=True)
class ClaimRecord:
    """A ``Claimed`` event: the rung a participant recorded and what it was paid back."""

    participant: str
    index: int
    option_id: int
    target_accuracy_wad: int
    rung: int
    accuracy_wad: int
    model_hash: bytes
    bond_refund: int
    slash_share: int
    compensation: int = 0


@dataclass(frozen=True)
class DefaultRefundRecord:
    """A ``DefaultRefunded`` event after the coordinator missed the post deadline."""

    participant: str
    bond: int
    compensation: int


@dataclass(frozen=True)
class DeliveryRecord:
    """A ``Delivered`` event (issue 15): who, the hash of (E, ciphertext) the event carries, and
    what the contract stores for that participant (``deliveryOf``)."""

    participant: str
    event_hash: bytes
    stored_hash: bytes
    ciphertext_bytes: int


@dataclass(frozen=True)
class DeliveryFailureRecord:
    """A ``DeliveryFailed`` event: reason 1 = wrong model, 2 = not delivered; ``paid`` is what
    the proof paid at once (its entitlement minus what the bond had paid it before)."""

    participant: str
    reason: int
    entitlement: int
    paid: int


@dataclass(frozen=True)
class FraudRecord:
    """A ``FraudProven`` event (issue 14)."""

    kind: int
    rung: int
    row: int
    challenger: str
    reward: int


@dataclass(frozen=True)
class SweepRecord:
    """A ``Swept`` event."""

    to: str
    amount: int
    liability: int = 0


@dataclass(frozen=True)
class RoundSnapshot:
    """Everything the chain says about one round, as plain values.

    Events are in log order. ``states`` maps each joined address to its storage record;
    ``storage_menu``/``storage_config`` are what the view functions return now (the audit checks
    they agree with the ``RoundPublished`` event). ``balance_wei`` is the contract's balance at
    ``block_number``; ``timestamp`` is that block's time.
    """

    chain_id: int
    address: str
    coordinator: str
    menu: tuple[OptionRecord, ...]
    config: ConfigRecord
    curve: tuple[CurveKnotRecord, ...]
    coordinator_bond: int
    joins: tuple[JoinRecord, ...]
    coordinator_secret: bytes | None
    models: ModelsPostedRecord | None
    reveals: tuple[RevealRecord, ...]
    claims: tuple[ClaimRecord, ...]
    refunds: tuple[DefaultRefundRecord, ...]
    sweeps: tuple[SweepRecord, ...]
    balance_wei: int
    block_number: int
    timestamp: int
    phase: int
    states: dict[str, ParticipantState] = field(default_factory=dict)
    storage_menu: tuple[OptionRecord, ...] | None = None
    storage_config: ConfigRecord | None = None
    storage_tiers: tuple[TierRecord, ...] | None = None
    storage_collective: TierRecord | None = None
    storage_counts: tuple[int, int, int] | None = None  # joinedCount, revealedCount, totalData
    event_order: tuple[str, ...] = ()  # event names in chain order (empty: not recorded)
    runtime_code: bytes = b""
    deploy_tx_hash: str | None = None
    undelivered: tuple[str, ...] = ()  # named at post or cancel (Undelivered events)
    curve_check: CurveCheckRecord | None = None
    # RoundCancelled: joined, delivered, quorum, burned (named bonds + B)
    cancelled: tuple[int, int, int, int] | None = None
    cancel_refunds: tuple[DefaultRefundRecord, ...] = ()  # CancelRefunded
    compensation_payments: tuple[tuple[str, int], ...] = ()  # CompensationPaid: who, amount
    deliveries: tuple[DeliveryRecord, ...] = ()
    delivery_failures: tuple[DeliveryFailureRecord, ...] = ()
    frauds: tuple[FraudRecord, ...] = ()
    delivery_deadline: int = 0  # 0 before the post
    proofs_address: str = ""
    proofs_runtime_code: bytes = b""
    posted_logs: tuple[bytes, ...] = ()  # postModels' packed logs (its input), collective first
    # The round's chain of trust (clone code, implementations, factory, the deployment
    # transaction's logs) as the node serves it; None for a snapshot built without a node.
    trust: TrustFacts | None = None

    @property
    def delivered(self) -> tuple[JoinRecord, ...]:
        """The joins not named undelivered."""
        out = set(self.undelivered)
        return tuple(j for j in self.joins if j.participant not in out)

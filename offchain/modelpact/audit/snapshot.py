"""Plain, chain-free records of one round: everything the audit rules look at.

A :class:`RoundSnapshot` is what :mod:`modelpact.audit.fetch` reads from a node (events, storage
views, balance, runtime code), but it is a plain frozen value so the rules in
:mod:`modelpact.audit.rules` can be tested on hand-built rounds without any chain.

Units follow ``IModelpactRound.sol``: ``*_wad`` values are fractions times 1e18, bonds and
balances are wei, hashes are 32 raw bytes, addresses are checksummed hex strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelpact.encoding import (
    CurveKnot,
    Deadlines,
    OnchainOption,
    ParticipantState,
    RoundConfig,
    Tier,
)

__all__ = [
    "ClaimRecord",
    "ConfigRecord",
    "CurveKnotRecord",
    "DeadlinesRecord",
    "DefaultRefundRecord",
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


@dataclass(frozen=True)
class ModelsPostedRecord:
    """The ``ModelsPosted`` event: collective model, tiers and the data they were trained on."""

    collective_model_hash: bytes
    collective_accuracy_wad: int
    tiers: tuple[TierRecord, ...]
    total_data: int
    predicted_accuracy_wad: int


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


@dataclass(frozen=True)
class DefaultRefundRecord:
    """A ``DefaultRefunded`` event after the coordinator missed the post deadline."""

    participant: str
    bond: int
    compensation: int


@dataclass(frozen=True)
class SweepRecord:
    """A ``Swept`` event."""

    to: str
    amount: int


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

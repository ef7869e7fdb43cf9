"""Turn decoded event arguments and view results into snapshot records (pure).

The chain adapter hands back ABI-decoded values: structs as tuples (in field order) or as
mappings with the field names, bytes32 as ``bytes`` or 0x-hex, addresses as strings. These
helpers accept either shape so the snapshot never depends on one web3 version's choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils.address import to_checksum_address

from modelpact.audit.snapshot import (
    ClaimRecord,
    ConfigRecord,
    CurveKnotRecord,
    DeadlinesRecord,
    DefaultRefundRecord,
    JoinRecord,
    ModelsPostedRecord,
    OptionRecord,
    ParticipantState,
    RevealRecord,
    SweepRecord,
    TierRecord,
)

__all__ = [
    "as_bytes32",
    "claim",
    "config",
    "default_refund",
    "join",
    "knot",
    "models_posted",
    "option",
    "participant_state",
    "reveal",
    "sweep",
    "tier",
]


def _get(value: Any, name: str, index: int) -> Any:
    if isinstance(value, Mapping):
        return value[name]
    if hasattr(value, name) and not isinstance(value, Sequence | bytes | str):
        return getattr(value, name)
    return value[index]


def as_bytes32(value: Any) -> bytes:
    """bytes32 from ``bytes`` or 0x-hex text."""
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        text = str(value)
        raw = bytes.fromhex(text[2:] if text.startswith(("0x", "0X")) else text)
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


def _addr(value: Any) -> str:
    return str(to_checksum_address(str(value)))


def option(v: Any) -> OptionRecord:
    """``Option`` struct."""
    return OptionRecord(
        int(_get(v, "dataCount", 0)),
        int(_get(v, "ratioWad", 1)),
        int(_get(v, "promisedValueWad", 2)),
        int(_get(v, "budgetValueWad", 3)),
    )


def config(v: Any) -> ConfigRecord:
    """``Config`` struct."""
    d = _get(v, "deadlines", 5)
    return ConfigRecord(
        capacity=int(_get(v, "capacity", 0)),
        participant_bond=int(_get(v, "participantBond", 1)),
        scenario_hash=as_bytes32(_get(v, "scenarioHash", 2)),
        test_set_commitment=as_bytes32(_get(v, "testSetCommitment", 3)),
        coordinator_commitment=as_bytes32(_get(v, "coordinatorCommitment", 4)),
        deadlines=DeadlinesRecord(
            int(_get(d, "join", 0)),
            int(_get(d, "post", 1)),
            int(_get(d, "reveal", 2)),
            int(_get(d, "claim", 3)),
        ),
    )


def knot(v: Any) -> CurveKnotRecord:
    """``CurveKnot`` struct."""
    return CurveKnotRecord(int(_get(v, "dataCount", 0)), int(_get(v, "accuracyWad", 1)))


def tier(v: Any) -> TierRecord:
    """``Tier`` struct."""
    return TierRecord(as_bytes32(_get(v, "modelHash", 0)), int(_get(v, "accuracyWad", 1)))


def join(a: Mapping[str, Any]) -> JoinRecord:
    """``Joined`` event arguments."""
    return JoinRecord(
        participant=_addr(a["participant"]),
        index=int(a["index"]),
        option_id=int(a["optionId"]),
        data_root=as_bytes32(a["dataRoot"]),
        row_count=int(a["rowCount"]),
        commitment=as_bytes32(a["commitment"]),
        bond=int(a["bond"]),
        total_data=int(a["totalData"]),
    )


def reveal(a: Mapping[str, Any]) -> RevealRecord:
    """``Revealed`` event arguments."""
    return RevealRecord(
        _addr(a["participant"]), int(a["index"]), as_bytes32(a["secret"]), as_bytes32(a["drawSeed"])
    )


def models_posted(a: Mapping[str, Any]) -> ModelsPostedRecord:
    """``ModelsPosted`` event arguments."""
    return ModelsPostedRecord(
        collective_model_hash=as_bytes32(a["collectiveModelHash"]),
        collective_accuracy_wad=int(a["collectiveAccuracyWad"]),
        tiers=tuple(tier(t) for t in a["tiers"]),
        total_data=int(a["totalData"]),
        predicted_accuracy_wad=int(a["predictedAccuracyWad"]),
    )


def claim(a: Mapping[str, Any]) -> ClaimRecord:
    """``Claimed`` event arguments."""
    return ClaimRecord(
        participant=_addr(a["participant"]),
        index=int(a["index"]),
        option_id=int(a["optionId"]),
        target_accuracy_wad=int(a["targetAccuracyWad"]),
        rung=int(a["rung"]),
        accuracy_wad=int(a["accuracyWad"]),
        model_hash=as_bytes32(a["modelHash"]),
        bond_refund=int(a["bondRefund"]),
        slash_share=int(a["slashShare"]),
    )


def default_refund(a: Mapping[str, Any]) -> DefaultRefundRecord:
    """``DefaultRefunded`` event arguments."""
    return DefaultRefundRecord(_addr(a["participant"]), int(a["bond"]), int(a["compensation"]))


def sweep(a: Mapping[str, Any]) -> SweepRecord:
    """``Swept`` event arguments."""
    return SweepRecord(_addr(a["to"]), int(a["amount"]))


def participant_state(v: Any) -> ParticipantState:
    """``participant(address)`` view result."""
    return ParticipantState(
        index=int(_get(v, "index", 0)),
        option_id=int(_get(v, "optionId", 1)),
        revealed=bool(_get(v, "revealed", 2)),
        claimed=bool(_get(v, "claimed", 3)),
        commitment=as_bytes32(_get(v, "commitment", 4)),
        draw_seed=as_bytes32(_get(v, "drawSeed", 5)),
    )

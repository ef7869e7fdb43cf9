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
    CurveCheckRecord,
    CurveKnotRecord,
    DefaultRefundRecord,
    FraudRecord,
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
    "curve_checked",
    "default_refund",
    "fraud",
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
    return ConfigRecord.from_abi(v)


def knot(v: Any) -> CurveKnotRecord:
    """``CurveKnot`` struct."""
    return CurveKnotRecord(int(_get(v, "dataCount", 0)), int(_get(v, "accuracyWad", 1)))


def tier(v: Any) -> TierRecord:
    """``PostedModel`` struct."""
    return TierRecord(
        as_bytes32(_get(v, "modelHash", 0)),
        int(_get(v, "accuracyWad", 1)),
        as_bytes32(_get(v, "logRoot", 2)),
    )


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
        _addr(a["participant"]),
        int(a["index"]),
        as_bytes32(a["secret"]),
        as_bytes32(a["drawSeed"]),
        int(a["deliveryKeyX"]),
        int(a["deliveryKeyY"]),
    )


def models_posted(a: Mapping[str, Any], curve: CurveCheckRecord | None) -> ModelsPostedRecord:
    """``ModelsPosted`` event arguments (the prediction from ``CurveChecked``)."""
    collective = tier(a["collective"])
    return ModelsPostedRecord(
        collective_model_hash=collective.model_hash,
        collective_accuracy_wad=collective.accuracy_wad,
        tiers=tuple(tier(t) for t in a["tiers"]),
        total_data=int(a["deliveredRows"]),
        predicted_accuracy_wad=curve.predicted_wad if curve is not None else 0,
        delivered=int(a["delivered"]),
        collective_log_root=collective.log_root,
    )


def curve_checked(a: Mapping[str, Any]) -> CurveCheckRecord:
    """``CurveChecked`` event arguments."""
    return CurveCheckRecord(
        delivered_rows=int(a["deliveredRows"]),
        predicted_wad=int(a["predictedAccuracyWad"]),
        measured_wad=int(a["measuredAccuracyWad"]),
        tolerance_wad=int(a["toleranceWad"]),
        shortfall_wad=int(a["shortfallWad"]),
        allot=int(a["allot"]),
        liability=int(a["liability"]),
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
        compensation=int(a["compensation"]),
    )


def default_refund(a: Mapping[str, Any]) -> DefaultRefundRecord:
    """``DefaultRefunded`` event arguments."""
    return DefaultRefundRecord(_addr(a["participant"]), int(a["bond"]), int(a["compensation"]))


def sweep(a: Mapping[str, Any]) -> SweepRecord:
    """``Swept`` event arguments."""
    return SweepRecord(_addr(a["to"]), int(a["amount"]), int(a["liability"]))


def participant_state(v: Any) -> ParticipantState:
    """``participant(address)`` view result."""
    return ParticipantState.from_abi(v)


def fraud(a: Mapping[str, Any]) -> FraudRecord:
    """``FraudProven`` event arguments."""
    return FraudRecord(
        kind=int(a["kind"]),
        rung=int(a["rung"]),
        row=int(a["row"]),
        challenger=_addr(a["challenger"]),
        reward=int(a["reward"]),
    )

"""Read one round from the chain into a :class:`~modelpact.audit.snapshot.RoundSnapshot`.

Talks to the node only through :mod:`modelpact.chain`: the round's decoded events (from the
deployment block on), its storage views, its balance and its runtime code. Nothing here
interprets the values; the rules do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address

from modelpact.audit import decode
from modelpact.audit.snapshot import (
    DeliveryFailureRecord,
    DeliveryRecord,
    ParticipantState,
    RoundSnapshot,
)
from modelpact.chain import (
    Chain,
    RoundContract,
    RoundEvent,
    chain_time,
    connect,
    round_at,
    round_events,
)
from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.audit.clones import TrustFacts

__all__ = ["NotARoundError", "fetch_snapshot", "open_round", "snapshot_of"]


class NotARoundError(ModelpactError, ValueError):
    """The address holds a contract, but not a modelpact round (no ``RoundPublished`` event)."""


def open_round(
    *,
    chain: Chain | None,
    rpc_url: str | None,
    address: str,
    abi: Sequence[Mapping[str, Any]] | None = None,
    expected_chain_id: int | None = None,
) -> RoundContract:
    """Connect (unless ``chain`` is given) and bind the round at ``address``.

    Raises :class:`modelpact.chain.NodeUnavailableError` when the node does not answer and
    :class:`modelpact.chain.ChainError` when there is no contract at ``address``.
    """
    if chain is None:
        chain = connect(rpc_url=rpc_url, expected_chain_id=expected_chain_id)
    elif expected_chain_id is not None and chain.chain_id != expected_chain_id:
        from modelpact.chain import ChainError

        raise ChainError(
            f"connected to chain {chain.chain_id}, the deployment is on chain {expected_chain_id}",
            hint="connect to the chain named in the deployment record",
        )
    return round_at(chain, address, abi)


def fetch_snapshot(
    *,
    chain: Chain | None = None,
    rpc_url: str | None = None,
    address: str,
    abi: Sequence[Mapping[str, Any]] | None = None,
    from_block: int = 0,
    expected_chain_id: int | None = None,
) -> RoundSnapshot:
    """The round at ``address`` as a snapshot (see :func:`snapshot_of`)."""
    rc = open_round(
        chain=chain, rpc_url=rpc_url, address=address, abi=abi, expected_chain_id=expected_chain_id
    )
    return snapshot_of(rc, from_block=from_block)


def _one(events: list[RoundEvent], name: str) -> RoundEvent | None:
    found = [e for e in events if e.name == name]
    return found[0] if found else None


def snapshot_of(rc: RoundContract, *, from_block: int = 0) -> RoundSnapshot:
    """Events, storage views, balance and code of ``rc`` as plain records."""
    events = round_events(rc, from_block=from_block)
    published = _one(events, "RoundPublished")
    if published is None:
        from modelpact.audit.clones import split_clone

        clone = split_clone(rc.runtime_code())
        what = "not a modelpact round"
        if clone is not None:  # createRound initializes in the same transaction: made by hand
            what = f"a clone of {clone[0]} never initialized (no createRound made it)"
        raise NotARoundError(
            f"{rc.address} on chain {rc.chain.chain_id} emitted no RoundPublished event "
            f"since block {from_block}: {what}",
            hint="check the address (or the deployment record's block number)",
        )
    pa = published.args
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for e in events:
        by_name.setdefault(e.name, []).append(e.args)
    joins = tuple(decode.join(a) for a in by_name.get("Joined", []))
    posted = by_name.get("ModelsPosted", [])
    coord = by_name.get("CoordinatorRevealed", [])
    states = _states(rc, [j.participant for j in joins])
    collective = rc.collective_model()
    checked = by_name.get("CurveChecked", [])
    curve = decode.curve_checked(checked[0]) if checked else None
    models = decode.models_posted(posted[0], curve) if posted else None
    cancelled = by_name.get("RoundCancelled", [])
    last_block = max((e.block_number for e in events), default=from_block)
    return RoundSnapshot(
        chain_id=rc.chain.chain_id,
        address=str(rc.address),
        coordinator=str(pa["coordinator"]),
        menu=tuple(decode.option(o) for o in pa["menu"]),
        config=decode.config(pa["config"]),
        curve=tuple(decode.knot(k) for k in pa["curve"]),
        coordinator_bond=int(pa["coordinatorBond"]),
        joins=joins,
        coordinator_secret=decode.as_bytes32(coord[0]["secret"]) if coord else None,
        models=models,
        reveals=tuple(decode.reveal(a) for a in by_name.get("Revealed", [])),
        claims=tuple(decode.claim(a) for a in by_name.get("Claimed", [])),
        refunds=tuple(decode.default_refund(a) for a in by_name.get("DefaultRefunded", [])),
        sweeps=tuple(decode.sweep(a) for a in by_name.get("Swept", [])),
        balance_wei=rc.balance(),
        block_number=last_block,
        timestamp=chain_time(rc.chain),
        phase=int(rc.phase()),
        states=states,
        storage_menu=rc.options(),
        storage_config=rc.config(),
        storage_tiers=rc.tiers() if models is not None else None,
        storage_collective=collective if models is not None else None,
        storage_counts=(rc.joined_count(), rc.revealed_count(), rc.total_data()),
        event_order=tuple(e.name for e in events),
        runtime_code=rc.runtime_code(),
        deploy_tx_hash=published.tx_hash,
        undelivered=tuple(
            str(to_checksum_address(a["participant"])) for a in by_name.get("Undelivered", [])
        ),
        curve_check=curve,
        cancelled=(
            (
                int(cancelled[0]["joined"]),
                int(cancelled[0]["delivered"]),
                int(cancelled[0]["quorum"]),
                int(cancelled[0]["burned"]),
            )
            if cancelled
            else None
        ),
        cancel_refunds=tuple(decode.default_refund(a) for a in by_name.get("CancelRefunded", [])),
        compensation_payments=tuple(
            (str(to_checksum_address(a["participant"])), int(a["amount"]))
            for a in by_name.get("CompensationPaid", [])
        ),
        deliveries=_deliveries(rc, by_name.get("Delivered", [])),
        delivery_failures=_delivery_failures(events),
        frauds=tuple(decode.fraud(a) for a in by_name.get("FraudProven", [])),
        delivery_deadline=rc.deadlines().delivery,
        posted_logs=_posted_logs(rc, events),
        trust=_trust(rc, published.tx_hash),
        **_proofs_code(rc),
    )


def _trust(rc: RoundContract, tx_hash: str) -> TrustFacts:
    """The round's chain of trust as the node serves it (``tx_hash``: the transaction that
    emitted RoundPublished, i.e. the createRound that made the round)."""
    from modelpact.chain.deployment import read_trust, references

    return read_trust(rc.chain, address=rc.address, tx_hash=tx_hash, ref=references())


def _states(rc: RoundContract, joined: list[str]) -> dict[str, ParticipantState]:
    """Each joined address's storage record, read in one exchange with the node (a batch);
    one that the contract says never joined raises, as reading it alone did."""
    records = rc.participants(joined)
    out: dict[str, ParticipantState] = {}
    for who, record in zip(joined, records, strict=True):
        out[who] = record if record is not None else rc.participant(who)
    return out


def _deliveries(
    rc: RoundContract, delivered: list[Mapping[str, Any]]
) -> tuple[DeliveryRecord, ...]:
    """Each ``Delivered`` event with the hash it carries and what the contract stores (every
    ``deliveryOf`` read in one exchange with the node)."""
    from modelpact.delivery import delivery_hash

    who = [str(to_checksum_address(a["participant"])) for a in delivered]
    stored = rc.deliveries_of(who)
    out = []
    for address, a, on_chain in zip(who, delivered, stored, strict=True):
        ciphertext = bytes(a["ciphertext"])
        carried = delivery_hash((int(a["ephemeralX"]), int(a["ephemeralY"])), ciphertext)
        out.append(DeliveryRecord(address, carried, on_chain, len(ciphertext)))
    return tuple(out)


def _delivery_failures(events: list[RoundEvent]) -> tuple[DeliveryFailureRecord, ...]:
    """``DeliveryFailed`` events with what each paid at once: the events in chain order tell
    what the coordinator's bond had paid that participant before (claims, withdrawals)."""
    paid: dict[str, int] = {}
    out = []
    for e in events:
        who = str(to_checksum_address(e.args["participant"])) if "participant" in e.args else ""
        if e.name == "Claimed":
            paid[who] = paid.get(who, 0) + int(e.args["compensation"])
        elif e.name == "CompensationPaid":
            paid[who] = int(e.args["paidFromBond"])
        elif e.name == "DeliveryFailed":
            owed = int(e.args["entitlement"])
            out.append(
                DeliveryFailureRecord(who, int(e.args["reason"]), owed, owed - paid.get(who, 0))
            )
            paid[who] = owed
    return tuple(out)


def _posted_logs(rc: RoundContract, events: list[RoundEvent]) -> tuple[bytes, ...]:
    """The packed logs postModels took (its transaction input); empty when not served."""
    posted = _one(events, "ModelsPosted")
    args = rc.call_arguments(posted.tx_hash, "postModels") if posted is not None else None
    return tuple(bytes(log) for log in args["logs"]) if args is not None else ()


def _proofs_code(rc: RoundContract) -> dict[str, Any]:
    """The ModelpactProofs extension's address and runtime code (empty for an older round)."""
    from modelpact.chain import ContractRevertError

    try:
        address = rc.proofs_address()
    except (ContractRevertError, ValueError):
        return {}
    code = bytes(rc.chain.w3.eth.get_code(address))
    return {"proofs_address": str(address), "proofs_runtime_code": code}

"""Model delivery through the chain (issue 15): the coordinator's ``deliver`` step and the
participant's ``fetch`` and ``dispute``.

The coordinator encrypts each revealed participant's rung model to the delivery key the
participant published at reveal (:mod:`modelpact.delivery`) and calls ``deliver``; the contract
stores one hash of (E, ciphertext) and emits the ciphertext. The participant reads its
``Delivered`` event, checks it is the stored delivery, decrypts with its round delivery key and
checks the plaintext's keccak256 against the model hash of ITS rung, which it reads from the
contract (``assignment`` with its own secret, then ``rungModel``): nothing the coordinator says
off chain enters that check. A wrong or missing delivery is proven on chain
(``disputeDelivery`` / ``proveNonDelivery``) and paid out of the coordinator's bond.

Crash safety: the coordinator records each deliver transaction's hash in its state before
waiting, skips every participant whose ``deliveryOf`` is set, and re-waits a recorded pending
transaction instead of sending another; the contract refuses a second delivery anyway
(``AlreadyDelivered``), so a crash can never deliver twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address

from modelpact import delivery as dc
from modelpact.chain import RoundEvent
from modelpact.chain.contract import Call, participant_of
from modelpact.chain.transactions import pending_nonce, transaction_known
from modelpact.encoding import ParticipantState, keccak256
from modelpact.errors import ModelpactError
from modelpact.outputs import check_output, write_output_bytes
from modelpact.parallel import fork_map
from modelpact.round import _protocol
from modelpact.round.deployed import DeployedRound, StepResult

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from modelpact.chain import Sender
    from modelpact.round.coordinator import CoordinatorStateFile
    from modelpact.round.participant import ParticipantStateFile

__all__ = [
    "MAX_DELIVERY_BYTES",
    "DeliveryProblemError",
    "Dispute",
    "Owed",
    "Sent",
    "Stored",
    "check_delivery_size",
    "deliver_models",
    "dispute_delivery",
    "fetch_delivery",
    "owed_model",
    "stored_delivery",
]

_ZERO = bytes(32)
# RoundCore.MAX_DELIVERY_BYTES: the contract reverts DeliveryTooLong above it, after gas is spent.
MAX_DELIVERY_BYTES = 131_072
# Deliveries from which the encryptions are spread over forked workers: below, the fork (~50 ms)
# costs more than the ~3 ms each encryption would spread.
_FORK_FROM_DELIVERIES = 64


class DeliveryProblemError(ModelpactError, ValueError):
    """A delivery is missing, wrong, or cannot be sent / disputed now."""


@dataclass(frozen=True)
class Sent:
    """One participant's delivery as the deliver step left it: ``status`` is ``delivered``
    (sent now), ``already`` (on chain before), ``rung 0`` (no model owed) or ``failed``
    (recorded on chain as failed by the participant's proof)."""

    participant: str
    rung: int
    model_hash: str
    status: str
    tx_hash: str | None = None
    gas_used: int = 0


def _revealed(deployed: DeployedRound) -> list[RoundEvent]:
    """The ``Revealed`` event of each revealed participant, once each (the first the node
    answers): the contract emits one per participant, and a node that answers one twice must
    not have the batch sign a second delivery, which would pass its pre-flight (the first is
    not mined yet), revert on chain and replace the recorded hash of the one that landed."""
    first: dict[str, RoundEvent] = {}
    for event in deployed.events("Revealed"):
        first.setdefault(str(event.args["participant"]).lower(), event)
    return list(first.values())


def deliver_models(
    deployed: DeployedRound,
    state: CoordinatorStateFile,
    *,
    models_dir: Path,
    sender: Sender,
    show: Callable[[str], None] = lambda _line: None,
) -> tuple[Sent, ...]:
    """Deliver every revealed participant's rung model on chain, resumably (module doc).
    ``show`` is told what each transaction sends before it is sent."""
    rc = deployed.contract
    deadline = rc.deadlines().delivery
    if deadline == 0:
        raise DeliveryProblemError(
            "no models are posted yet", hint="run `coordinator train-and-post` first"
        )
    done: dict[str, Sent] = {}
    due: list[_Due] = []
    in_flight: list[_Due] = []
    revealed = _revealed(deployed)
    for event, (rung, onchain, stored) in zip(
        revealed, _delivery_reads(deployed, revealed), strict=True
    ):
        who = str(event.args["participant"])
        model = "0x" + rc.rung_model(rung).model_hash.hex() if rung else ""
        slot = state.keyed_slot("deliveries", who)
        key = dc.CurvePoint(int(event.args["deliveryKeyX"]), int(event.args["deliveryKeyY"]))
        if rung == 0:
            done[who] = Sent(who, 0, "", "rung 0")
        elif onchain.delivery_failed:
            done[who] = Sent(who, rung, model, "failed", slot.get())
        elif stored != _ZERO:
            done[who] = Sent(who, rung, model, "already", slot.get())
        elif transaction_known(deployed.chain, slot.get()):
            # sent by an earlier run, not mined: waited for only after the due ones are sent (a
            # dropped earlier delivery's nonce may hold it back until its resend fills the gap)
            in_flight.append(_Due(who, rung, model, key))
        else:
            due.append(_Due(who, rung, model, key))
    send = functools.partial(
        _deliver_due, deployed, state, deadline=deadline, models_dir=models_dir, sender=sender
    )
    sent = {s.participant: s for s in send(due, show=show)}
    failed = []  # in flight, but it failed or the node lost it: due after all
    for d in in_flight:
        slot = state.keyed_slot("deliveries", d.who)
        if deployed.recorded(slot, "deliver") is None:
            failed.append(d)
        else:
            done[d.who] = Sent(d.who, d.rung, d.model, "already", slot.get())
    sent.update({s.participant: s for s in send(failed, show=show)})
    return tuple(
        done.get(str(e.args["participant"])) or sent[str(e.args["participant"])] for e in revealed
    )


@dataclass(frozen=True)
class _Due:
    """A revealed participant owed a model the chain has no delivery of yet."""

    who: str
    rung: int
    model: str
    key: dc.CurvePoint


def _sealed(models_dir: Path, due: _Due) -> dc.Delivery:
    """``due``'s model read, checked and encrypted to its key (a fresh ephemeral secret from
    the OS, so forked workers never share one)."""
    plaintext = _model_bytes(models_dir, due.model)
    check_delivery_size(size=len(plaintext), model=due.model)
    return dc.encrypt(plaintext=plaintext, recipient=due.key)


def _deliver_call(
    deployed: DeployedRound, due: _Due, sealed: dc.Delivery, show: Callable[[str], None]
) -> Call:
    """The ``deliver`` call carrying ``sealed``, ``due``'s encrypted model."""
    show(
        f"sending deliver to {due.who}: rung {due.rung}, model {due.model}, "
        f"{len(sealed.ciphertext)} bytes encrypted to its delivery key"
    )
    return deployed.contract.deliver.call(
        participant=due.who,
        ephemeral=(sealed.ephemeral.x, sealed.ephemeral.y),
        ciphertext=sealed.ciphertext,
    )


def _sealed_all(models_dir: Path, due: Sequence[_Due]) -> list[dc.Delivery]:
    """Every due model encrypted; a large batch over forked workers (each encryption is two
    alt_bn128 multiplications in Python, ~3 ms: 1,000 deliveries are 3 s on one core, and a
    fork costs ~50 ms)."""
    if len(due) < _FORK_FROM_DELIVERIES:
        return [_sealed(models_dir, d) for d in due]
    return fork_map(functools.partial(_sealed, models_dir), due)


def _before_deadline(deployed: DeployedRound, deadline: int, due: Sequence[_Due]) -> None:
    if due and deployed.latest_timestamp() > deadline:
        raise DeliveryProblemError(
            f"the delivery deadline {deadline} has passed; {due[0].who} has no delivery",
            hint="nothing was sent: the participant may now prove non-delivery",
        )


def _deliver_due(
    deployed: DeployedRound,
    state: CoordinatorStateFile,
    due: Sequence[_Due],
    *,
    deadline: int,
    models_dir: Path,
    sender: Sender,
    show: Callable[[str], None],
) -> list[Sent]:
    """Send every due delivery. A local key signs them all first at consecutive nonces (each
    pre-flighted: a revert is decoded before anything is signed), looks at the deadline again,
    records every hash in ONE durable write, then broadcasts them back to back and waits: the
    coordinator's state holds each hash before its bytes go out, as a single send does,
    without rewriting the growing state document once per participant. A node-signed sender
    (an unlocked account: the node picks the hashes) sends one at a time."""
    rc = deployed.contract
    if isinstance(sender, str):
        out = []
        for d in due:
            _before_deadline(deployed, deadline, [d])
            call = _deliver_call(deployed, d, _sealed(models_dir, d), show)
            result = deployed.send_recorded(call, sender, state.keyed_slot("deliveries", d.who))
            out.append(Sent(d.who, d.rung, d.model, "delivered", result.tx_hash, result.gas_used))
        return out
    _before_deadline(deployed, deadline, due)
    first = pending_nonce(deployed.chain, sender, action="deliver") if due else 0
    sealed = _sealed_all(models_dir, due)
    calls = [_deliver_call(deployed, d, c, show) for d, c in zip(due, sealed, strict=True)]
    signed = rc.signed_batch(calls, sender, first_nonce=first)  # fees read once
    hashes = ["0x" + keccak256(raw).hex() for raw in signed]
    # again: signing a large batch takes a while, and a delivery sent after the deadline is
    # mined, reverts DeliveryClosed and burns its calldata gas
    _before_deadline(deployed, deadline, due)
    if due:
        state.put_keyed("deliveries", {d.who: h for d, h in zip(due, hashes, strict=True)})
    with deployed.chain.blocks_on_demand():  # the anvil this process runs: a few blocks
        rc.broadcast_all(signed, sender, action="deliver")
    out = []
    for d, tx_hash in zip(due, hashes, strict=True):
        result = rc.step(state.keyed_slot("deliveries", d.who), "deliver").finish(tx_hash)
        out.append(Sent(d.who, d.rung, d.model, "delivered", result.tx_hash, result.gas_used))
    return out


def _delivery_reads(
    deployed: DeployedRound, revealed: list[RoundEvent]
) -> list[tuple[int, ParticipantState, bytes]]:
    """Per revealed participant: its rung (``assignment`` with its revealed secret), its record
    and its stored delivery hash, read in one exchange with the node (a JSON-RPC batch) instead
    of four round trips per participant."""
    calls: list[tuple[str, tuple[object, ...]]] = []
    for event in revealed:
        who = to_checksum_address(str(event.args["participant"]))
        secret = bytes(event.args["secret"])
        calls += [("assignment", (who, secret)), ("participant", (who,)), ("deliveryOf", (who,))]
    answers = deployed.contract.views(calls)
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    return [
        (int(answers[i][0]), participant_of(answers[i + 1]), bytes(answers[i + 2]))
        for i in range(0, len(answers), 3)
    ]


def check_delivery_size(*, size: int, model: str) -> None:
    """Refuse, before sending, a model whose ciphertext (as long as its plaintext) the contract
    would refuse with DeliveryTooLong."""
    if size > MAX_DELIVERY_BYTES:
        raise DeliveryProblemError(
            f"model {model} is {size} bytes, over the contract's MAX_DELIVERY_BYTES "
            f"({MAX_DELIVERY_BYTES}) for one delivery",
            hint="nothing was sent: post a smaller model (fewer classes or features)",
        )


def _model_bytes(models_dir: Path, model_hash: str) -> bytes:
    """The stored model ``model_hash``, checked against its name before it is encrypted."""
    from modelpact.ml.models import StoredModelError, read_stored_model

    try:
        return read_stored_model(models_dir, model_hash)
    except StoredModelError as error:
        hint = (
            "pass the model store train-and-post wrote (--models); nothing was sent"
            if error.missing
            else "the store was changed: restore the posted model file; nothing was sent"
        )
        raise DeliveryProblemError(error.message, hint=hint) from error


# ------------------------------------------------------------------------------------------
# The participant's side
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """What the chain says a participant is owed: its rung and that rung's model hash."""

    rung: int
    model_hash: bytes


def owed_model(deployed: DeployedRound, account: str, secret: bytes) -> Owed:
    """The rung ``account`` draws with its randomness ``secret`` and that rung's posted model
    hash, read from the contract (the rule ``disputeDelivery`` applies)."""
    rc = deployed.contract
    who = to_checksum_address(account)
    # the record and the draw in one exchange with the node
    record, draw = rc.read(
        [rc.view_read("participant", who), rc.view_read("assignment", who, secret)]
    )
    return _owed(deployed, account, record, draw)


def _owed(deployed: DeployedRound, account: str, record: object, draw: object) -> Owed:
    """:func:`owed_model` from the answers of the ``participant`` and ``assignment`` views (the
    draw reverts for a participant named undelivered, or before the post: it is looked at only
    after the record's checks)."""
    state = participant_of(_answer(record))
    if state.undelivered:
        raise DeliveryProblemError(
            f"the coordinator named {account} undelivered: no model is owed",
            hint="nothing to fetch or dispute in this round",
        )
    if not state.revealed:
        raise DeliveryProblemError(
            f"{account} has not revealed: its rung is not drawn yet",
            hint="run `participant reveal` first",
        )
    rung = int(_answer(draw)[0])
    return Owed(rung, deployed.contract.rung_model(rung).model_hash if rung else _ZERO)


@dataclass(frozen=True)
class Stored:
    """A delivery as stored on chain: the ephemeral key E (as delivered: possibly no curve
    point) and the ciphertext."""

    ephemeral: tuple[int, int]
    ciphertext: bytes


def stored_delivery(deployed: DeployedRound, account: str) -> Stored | None:
    """``account``'s delivery as stored on chain: the ``Delivered`` event whose (E, ciphertext)
    hashes to ``deliveryOf(account)``; None when nothing is stored."""
    stored = deployed.contract.delivery_of(account)
    if stored == _ZERO:
        return None
    return _matching(account, stored, deployed.events("Delivered", participant=account))


def _matching(account: str, stored: bytes, delivered: list[RoundEvent]) -> Stored:
    """The one of ``account``'s ``Delivered`` events whose (E, ciphertext) hashes to
    ``stored`` (what ``deliveryOf`` holds, not zero)."""
    for event in delivered:
        if str(event.args["participant"]).lower() != account.lower():
            continue
        point = (int(event.args["ephemeralX"]), int(event.args["ephemeralY"]))
        ciphertext = bytes(event.args["ciphertext"])
        if dc.delivery_hash(point, ciphertext) == stored:
            return Stored(point, ciphertext)
    raise DeliveryProblemError(
        f"the node has no Delivered event matching the delivery stored for {account}",
        hint="query a node that keeps the round's logs (an archive or full node)",
    )


def _answer(answer: object) -> Any:
    """One answer of :meth:`~modelpact.chain.RoundContract.views`, raised if it failed."""
    if isinstance(answer, Exception):
        raise answer
    return answer


def _decrypt(secret_key: int, delivery: Stored) -> bytes | None:
    """The plaintext, or None when E is not a curve point (nobody can decrypt that)."""
    try:
        point = dc.CurvePoint(*delivery.ephemeral)
    except dc.DeliveryError:
        return None
    return dc.decrypt(secret_key=secret_key, delivery=dc.Delivery(point, delivery.ciphertext))


def _derived_secrets(deployed: DeployedRound, account: LocalAccount) -> tuple[bytes, int]:
    """The randomness secret and the delivery secret key, derived from the unlocked keystore's
    account key and the round (nothing read from the local state: a lost or edited state file can
    neither stop a fetch nor make a correct delivery look wrong)."""
    from modelpact.delivery import randomness_secret
    from modelpact.round.participant import delivery_secret

    secret = randomness_secret(  # not round_secrets: the public key is not needed here
        account_key=bytes(account.key),
        round_address=deployed.address,
        chain_id=deployed.record.chain_id,
    )
    return secret, delivery_secret(deployed, account)


def fetch_delivery(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    *,
    account: LocalAccount,
    out: Path,
    force: bool = False,
) -> Path:
    """Read this participant's delivery from the chain, decrypt it with the round's delivery key
    derived from ``account`` (the unlocked keystore), check it is the model of its rung, and
    write it to ``out``. A missing or wrong delivery is one :class:`DeliveryProblemError` naming
    `participant dispute`."""
    check_output(out, force=force)  # a refused --out costs nothing
    secret, sk = _derived_secrets(deployed, account)
    address = account.address
    rc = deployed.contract
    # what the checks below need, in one exchange with the node
    record, draw, stored, delivered = rc.read(
        [
            rc.view_read("participant", address),
            rc.view_read("assignment", address, secret),
            rc.view_read("deliveryOf", address),
            rc.events_read(deployed.record.block_number, names=("Delivered",), participant=address),
        ]
    )
    owed = _owed(deployed, address, record, draw)
    if owed.rung == 0:
        raise DeliveryProblemError(
            "your draw assigned rung 0 (no model): nothing is delivered",
            hint="this is the lottery's low outcome; its expectation is the promised t",
        )
    stored_hash = bytes(_answer(stored))
    delivery = None if stored_hash == _ZERO else _matching(address, stored_hash, _answer(delivered))
    expected = "0x" + owed.model_hash.hex()
    if delivery is None:
        deadline = deployed.contract.deadlines().delivery
        if deployed.latest_timestamp() > deadline:
            raise DeliveryProblemError(
                f"no delivery of model {expected} arrived by the delivery deadline {deadline}",
                hint="run `participant dispute` to prove non-delivery and be compensated",
            )
        raise DeliveryProblemError(
            f"model {expected} is not delivered yet (the delivery deadline is {deadline})",
            hint="retry later; after the deadline `participant dispute` proves non-delivery",
        )
    plaintext = _decrypt(sk, delivery)
    if plaintext is None or _protocol.model_hash(plaintext) != owed.model_hash:
        raise DeliveryProblemError(
            f"the delivery on chain does not decrypt to your model {expected} (rung {owed.rung})",
            hint="run `participant dispute` to prove it on chain and be compensated",
        )
    write_output_bytes(out, plaintext, force=force)
    state.update(model_file=str(out.resolve()))
    return out


@dataclass(frozen=True)
class Dispute:
    """A dispute sent (or found recorded): which proof, its transaction, the compensation."""

    kind: str  # "wrong model" or "not delivered"
    step: StepResult
    entitlement: int


def dispute_delivery(
    deployed: DeployedRound,
    state: ParticipantStateFile,
    *,
    account: LocalAccount,
    show: Callable[[str], None] = lambda _line: None,
) -> Dispute:
    """Prove a wrong delivery (``disputeDelivery``) or a missing one after the delivery deadline
    (``proveNonDelivery``). A correct delivery is refused here, before anything is sent (its
    dispute would only reveal the delivery key and revert). Safe to re-run."""
    from modelpact.round.participant import delivery_secret, round_secrets

    done = deployed.recorded(state.slot("dispute_tx"), "dispute")
    if done is not None:
        return _dispute_of(deployed, account.address, StepResult(done.tx_hash, True, done.gas_used))
    secret, key = round_secrets(deployed, account)
    owed = owed_model(deployed, account.address, secret)
    rc = deployed.contract
    if owed.rung == 0:
        raise DeliveryProblemError(
            "your draw assigned rung 0: no model is owed, so there is nothing to dispute",
            hint="nothing was sent",
        )
    if rc.participant(account.address).delivery_failed:
        return _dispute_of(deployed, account.address, StepResult(None, True, 0))
    root = _joined_root(deployed, account.address)
    delivery = stored_delivery(deployed, account.address)
    if delivery is None:
        deadline = rc.deadlines().delivery
        if deployed.latest_timestamp() <= deadline:
            raise DeliveryProblemError(
                f"nothing is delivered yet, but the delivery window is open until {deadline}",
                hint="wait for the delivery deadline, then dispute again; nothing was sent",
            )
        call = rc.prove_non_delivery.call(data_root=root, secret=secret, delivery_key=key)
        show(f"sending proveNonDelivery from {account.address}: no delivery by {deadline}")
    else:
        sk = delivery_secret(deployed, account)
        plaintext = _decrypt(sk, delivery)
        if plaintext is not None and _protocol.model_hash(plaintext) == owed.model_hash:
            raise DeliveryProblemError(
                "your delivery decrypts to your model: nothing to dispute",
                hint="run `participant fetch` to store it; nothing was sent",
            )
        call = rc.dispute_delivery.call(
            data_root=root,
            secret=secret,
            delivery_secret_key=sk,
            ephemeral=delivery.ephemeral,
            ciphertext=delivery.ciphertext,
        )
        show(
            f"sending disputeDelivery from {account.address}: reveals this round's delivery "
            f"key so the contract decrypts the {len(delivery.ciphertext)}-byte delivery"
        )
    result = deployed.send_recorded(call, account, state.slot("dispute_tx"))
    return _dispute_of(
        deployed, account.address, StepResult(result.tx_hash, False, result.gas_used)
    )


def _joined_root(deployed: DeployedRound, account: str) -> bytes:
    for event in deployed.events("Joined", participant=account):
        if str(event.args["participant"]).lower() == account.lower():
            return bytes(event.args["dataRoot"])
    raise DeliveryProblemError(f"{account} has not joined this round", hint="nothing was sent")


def _dispute_of(deployed: DeployedRound, account: str, step: StepResult) -> Dispute:
    """The recorded failure of ``account``'s delivery (its ``DeliveryFailed`` event)."""
    for event in deployed.events("DeliveryFailed", participant=account):
        if str(event.args["participant"]).lower() == account.lower():
            kind = "wrong model" if int(event.args["reason"]) == 1 else "not delivered"
            return Dispute(kind, step, int(event.args["entitlement"]))
    return Dispute("unknown", step, 0)

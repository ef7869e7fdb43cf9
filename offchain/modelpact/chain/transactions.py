"""Transactions: build, sign, broadcast, wait, decode, and record them crash-safely.

Transactions are sent from an eth-account ``LocalAccount`` (signed locally, e.g. a participant's
keystore) or from an address the node unlocks. The steps are separate on purpose:

- :func:`build_transaction` executes the call to fix its gas limit -- once at a known bound, or
  the node's estimate -- (so a revert surfaces as a named
  :class:`~modelpact.chain.errors.ContractRevertError` before anything is sent) and fixes the
  nonce (``nonce=`` lets a caller manage nonces itself, e.g. to send independent transactions
  back to back without waiting);
- :func:`broadcast` signs (:mod:`modelpact.chain.signing` for EIP-1559 transactions) and
  sends, returning the hash before any receipt;
- :func:`wait_for_receipt` waits (the one place a faster receipt wait plugs in) and decodes the
  contract's events;
- :class:`RecordedStep` is the crash-safe workflow step: the hash is written to a
  :class:`TxSlot` BEFORE waiting, and a re-run looks at the recorded transaction on chain first
  (its receipt first: a mined one needs no other lookup).

Fewer exchanges with a node, the same reads: :func:`prepare_transaction` answers a step's own
reads in its transaction's pre-flight batch (the step checks them before the pre-flight's
verdict is looked at); :func:`send_batch` and :func:`signed_batch` read the fees once for a
batch; the waits of a batch read a block's receipts once (:class:`_Unwaited`).
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.exceptions import TimeExhausted, TransactionNotFound
from web3.types import TxParams

from modelpact.chain.backends.base import Chain
from modelpact.chain.errors import (
    ChainError,
    ContractRevertError,
    NodeUnavailableError,
    decode_revert,
    is_connection_error,
    node_unavailable,
    web3_revert_data,
)
from modelpact.chain.signing import sign_dynamic_fee
from modelpact.errors import ModelpactError

if TYPE_CHECKING:
    from modelpact.chain.backends.jsonrpc import JsonRpcClient

__all__ = [
    "RECEIPT_TIMEOUT",
    "BatchCall",
    "EncodedCall",
    "FeeCapError",
    "InsufficientFundsError",
    "NotMinedError",
    "Prepared",
    "RecordedStep",
    "RoundEvent",
    "Sender",
    "TxResult",
    "TxSlot",
    "broadcast",
    "broadcast_signed_batch",
    "build_transaction",
    "decode_logs",
    "fee_fields",
    "guarded",
    "prepare_transaction",
    "raw_log",
    "revert_from_exception",
    "send_batch",
    "send_raw_batch",
    "send_raw_once",
    "send_transaction",
    "signed_batch",
    "transaction_known",
    "transfer",
    "wait_for_receipt",
]

checksum_address: Callable[[Any], ChecksumAddress] = functools.lru_cache(maxsize=1 << 16)(
    to_checksum_address
)
"""eth-utils' ``to_checksum_address`` (a keccak per call), kept per address: a round's steps
and decoded events checksum the same few addresses over and over."""

Sender = LocalAccount | str
"""Who signs: a local account (signed here) or an address the node holds unlocked."""

_T = TypeVar("_T")
RECEIPT_TIMEOUT = 120.0
"""Seconds :func:`wait_for_receipt` waits for a transaction to be mined."""
_ALREADY_SENT = ("already known", "known transaction", "nonce too low", "already imported")

_BEFORE_BROADCAST: ContextVar[Callable[[str], None] | None] = ContextVar(
    "_BEFORE_BROADCAST", default=None
)
"""Set by :meth:`RecordedStep.start`: records a signed transaction's hash (keccak of its bytes,
known before it goes out) in the step's slot BEFORE the broadcast, which may mine it (a sync
send answers only then): a crash or a lost answer after that point cannot lose the hash."""


@dataclass(frozen=True)
class RoundEvent:
    """One decoded event, in chain order."""

    name: str
    args: Mapping[str, Any]
    block_number: int
    log_index: int
    tx_hash: str


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    events: tuple[RoundEvent, ...]
    contract_address: ChecksumAddress | None = None


class FeeCapError(ChainError):
    """The node's fees are above the cap the user allows (``--max-fee-gwei``)."""


class InsufficientFundsError(ChainError):
    """The sender cannot pay the value plus the gas of a transaction."""


class NotMinedError(ChainError):
    """A sent transaction was not mined in time (dropped by the node, or still pending). Not a
    reason to send the step again: :meth:`RecordedStep.previous` re-raises it."""


_INSUFFICIENT = ("insufficient funds", "insufficient balance")
_FALLBACK_TIP = 10**9  # 1 gwei, when the node does not suggest a priority fee


def _gwei(wei: int) -> str:
    return f"{wei / 10**9:.4g}"


def fee_fields(chain: Chain) -> dict[str, int]:
    """Fee fields for a new transaction, capped by ``chain.max_fee_per_gas``: EIP-1559
    (``maxFeePerGas`` = min(cap, 2 x base fee + tip)) where blocks carry a base fee, else a
    legacy ``gasPrice``. A base fee (or gas price) above the cap is refused, nothing sent."""
    block = chain.w3.eth.get_block("latest")
    base = block.get("baseFeePerGas")
    if base is None:
        return _capped_fees(chain, None, lambda: int(chain.w3.eth.gas_price), lambda: 0)
    return _capped_fees(chain, int(base), lambda: 0, lambda: int(chain.w3.eth.max_priority_fee))


def _capped_fees(
    chain: Chain, base: int | None, gas_price: Callable[[], int], tip_of: Callable[[], int]
) -> dict[str, int]:
    """:func:`fee_fields` from the latest block's base fee (None: a legacy chain, priced by
    ``gas_price()``) and the node's suggested tip (``tip_of()``)."""
    cap = chain.max_fee_per_gas
    hint = "wait for lower fees, or raise --max-fee-gwei if you accept paying that much"
    if base is None:
        price = gas_price()
        if price > cap:
            raise FeeCapError(
                f"the node asks a gas price of {_gwei(price)} gwei, above the cap of "
                f"{_gwei(cap)} gwei",
                hint=hint,
            )
        return {"gasPrice": price}
    if int(base) > cap:
        raise FeeCapError(
            f"the chain's base fee is {_gwei(int(base))} gwei, above the cap of {_gwei(cap)} gwei",
            hint=hint,
        )
    try:
        tip = tip_of()
    except Exception:  # a node without eth_maxPriorityFeePerGas: a modest fixed tip
        tip = _FALLBACK_TIP
    max_fee = min(cap, 2 * int(base) + max(tip, 0))
    return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": min(max(tip, 0), max_fee)}


def _insufficient_funds(chain: Chain, address: str, exc: BaseException) -> ChainError | None:
    """The one line for a node's "insufficient funds" answer, else None."""
    if not any(s in str(exc).lower() for s in _INSUFFICIENT):
        return None
    try:
        have = f"{chain.balance(address)} wei"
    except Exception:
        have = "too little"
    return InsufficientFundsError(
        f"account {address} has {have}, not enough for this transaction's value and gas",
        hint=f"send ETH to {address} from a funded account (on a local dev node: one of its "
        "prefunded dev accounts), then re-run",
    )


def _funded(
    chain: Chain, address: str, abi: Sequence[Mapping[str, Any]], action: str, fn: Callable[[], _T]
) -> _T:
    """:func:`guarded`, and a node's "insufficient funds" named with what ``address`` holds."""
    try:
        return guarded(chain, abi, action, fn)
    except ModelpactError:
        raise
    except Exception as exc:
        funds = _insufficient_funds(chain, address, exc)
        if funds is not None:
            raise funds from None
        raise


def _address_of(sender: Sender) -> ChecksumAddress:
    return checksum_address(sender if isinstance(sender, str) else sender.address)


def guarded(
    chain: Chain, abi: Sequence[Mapping[str, Any]], action: str, fn: Callable[[], _T]
) -> _T:
    """Run ``fn`` (one node call); a revert becomes the contract's named error (the backend
    extracts the data), a node that does not answer :class:`NodeUnavailableError`."""
    try:
        return fn()
    except ModelpactError:
        raise
    except Exception as exc:
        data = chain.backend.revert_data(exc)
        if data is not None:
            raise decode_revert(abi, data, action=action) from exc
        if is_connection_error(exc):
            raise node_unavailable(chain.url, exc) from exc
        raise


def revert_from_exception(
    abi: Sequence[Mapping[str, Any]], exc: BaseException, *, action: str = ""
) -> ContractRevertError | None:
    """The decoded revert a web3 or eth-tester exception carries, or None if it carries none
    (asks every backend's extractor: the exception may come from any of them)."""
    from modelpact.chain.backends import embedded

    for extract in (web3_revert_data, embedded.revert_data):
        data = extract(exc)
        if data is not None and len(data) >= 4:
            return decode_revert(abi, data, action=action)
    return None


def _lean(chain: Chain) -> JsonRpcClient | None:
    """The backend's lean JSON-RPC client (a node over HTTP), or None (the embedded chain, which
    is driven through web3 in process)."""
    client: JsonRpcClient | None = getattr(chain.backend, "rpc", None)
    return client


def _hex_int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def send_raw_once(chain: Chain, raw: bytes) -> str:
    """Broadcast a signed raw transaction; safe to call again with the same bytes.

    The hash is keccak256(raw), known before sending. When a retried (or re-run) broadcast finds
    the node already has it ("already known", "nonce too low" after it was mined), the transaction
    is looked up by that hash and its hash returned: one transaction, never a second one.
    """
    tx_hash = "0x" + bytes(keccak(raw)).hex()
    client = _lean(chain)
    record = _BEFORE_BROADCAST.get()
    if record is not None:
        record(tx_hash)
    try:
        if client is not None and client.sends_sync():
            # mined and its receipt kept for wait_for_receipt: no polls (None: not mined yet)
            answered = client.send_sync("0x" + raw.hex(), tx_hash) or tx_hash
        elif client is not None:
            answered = str(client.request("eth_sendRawTransaction", ["0x" + raw.hex()]))
            _note_sent(chain, client, tx_hash)
        else:
            answered = "0x" + bytes(chain.w3.eth.send_raw_transaction(raw)).hex()
    except Exception as exc:
        if not any(s in str(exc).lower() for s in _ALREADY_SENT):
            raise
        try:
            known = transaction_known(chain, tx_hash)
        except ModelpactError:
            raise exc from None
        if known:
            return tx_hash
        if "nonce too low" in str(exc).lower():  # another transaction took this nonce
            raise ChainError(
                f"the chain refused {tx_hash[:18]}..: its nonce is already used by another "
                "transaction of this account (a command sent at the same time, or a node whose "
                "view is stale after a reorganisation)",
                hint="re-run the command: it looks at the chain before sending again",
            ) from None
        raise exc from None
    # The hash is the signed bytes' keccak: a node answering another one (a lying or broken
    # node) would have the step recorded, waited for and reported as that other transaction.
    _check_answered(answered, tx_hash)
    return tx_hash


def _check_answered(answered: str, tx_hash: str) -> None:
    if answered.lower() != tx_hash:
        raise ChainError(
            f"the node answered hash {answered[:18]}.. for the signed transaction "
            f"{tx_hash[:18]}..: it does not report what it was sent",
            hint="use a node you trust (--rpc); the transaction may have been broadcast, so "
            "re-run the command against a trusted node: it looks at the chain first",
        )


_BROADCAST_CHUNK = 100  # signed transactions per JSON-RPC batch of send_raw_batch


def send_raw_batch(chain: Chain, raws: Sequence[bytes]) -> list[str]:
    """:func:`send_raw_once` for each of ``raws``, in order, a hundred to an exchange with the
    node: the hashes recorded first and each answer checked as :func:`send_raw_once` does; a
    transaction the node refuses (e.g. as already sent) is sent again by :func:`send_raw_once`,
    whose rules then decide (looked up, or its refusal raised). Unlike a loop of single sends,
    the transactions after a refused one in its exchange are sent too (they are independent:
    the caller signed them at their own nonces). A node that sends synchronously, or a
    web3-only backend, sends one by one."""
    client = _lean(chain)
    if client is None or len(raws) < 2 or client.sends_sync():
        return [send_raw_once(chain, raw) for raw in raws]
    hashes = ["0x" + bytes(keccak(raw)).hex() for raw in raws]
    record = _BEFORE_BROADCAST.get()
    if record is not None:
        for tx_hash in hashes:
            record(tx_hash)
    for start in range(0, len(raws), _BROADCAST_CHUNK):
        chunk = range(start, min(start + _BROADCAST_CHUNK, len(raws)))
        answers = client.batch([("eth_sendRawTransaction", ["0x" + raws[i].hex()]) for i in chunk])
        for i, answered in zip(chunk, answers, strict=True):
            if isinstance(answered, Exception):
                send_raw_once(chain, raws[i])
                continue
            _note_sent(chain, client, hashes[i])
            _check_answered(str(answered), hashes[i])
    return hashes


def build_transaction(
    chain: Chain,
    call: Any,
    sender: Sender,
    *,
    value: int = 0,
    nonce: int | None = None,
    abi: Sequence[Mapping[str, Any]] = (),
    action: str = "",
    gas_bound: int | None = None,
) -> TxParams:
    """The transaction for ``call`` (a bound web3 contract function or constructor, or an
    :class:`EncodedCall`) from ``sender``: its gas limit checked by executing it (a revert
    raises :class:`ContractRevertError` here, before anything is sent), nonce ``nonce`` or the
    sender's next pending one.

    The gas limit is ``gas_bound`` when one is given (the contract's known bound for this
    call, see :data:`modelpact.chain.contract.GAS_BOUNDS`) and the call succeeds with exactly
    that much gas: one ``eth_call`` instead of ``eth_estimateGas``'s search, which executes it
    several times. A call that fails with the bound (out of gas, or a revert: a sub-call may
    have run out of it) is estimated as without a bound, whose revert is decoded. Only gas
    used is paid; the sender must hold ``value`` + limit x fee."""
    address = _address_of(sender)
    client = _lean(chain)

    def build() -> TxParams:
        if client is not None:
            target = _call_data(call)
            return _build_lean(
                chain, client, target, address, value=value, nonce=nonce, gas_bound=gas_bound
            )
        params: dict[str, Any] = {"from": address, "value": value, **fee_fields(chain)}
        params["nonce"] = (
            chain.w3.eth.get_transaction_count(address, "pending") if nonce is None else nonce
        )
        if isinstance(call, EncodedCall):  # what web3's build_transaction fills in
            params.update(to=call.to, data=call.data, chainId=chain.chain_id)
            # the pre-flight runs on the latest state without the nonce: eth-tester refuses a
            # call or estimate at any nonce but the next, and a batch signs later ones too
            probe = {k: v for k, v in params.items() if k != "nonce"}
            params["gas"] = _checked_gas(chain, probe, gas_bound)
            return params  # type: ignore[return-value]
        tx: TxParams = call.build_transaction(params)
        return tx

    return _funded(chain, address, abi, action, build)


@dataclass(frozen=True)
class EncodedCall:
    """A contract call already encoded: the address it goes to and its calldata (0x hex)."""

    to: str
    data: str


def _call_data(call: Any) -> tuple[str | None, str]:
    """(to, data) of a bound contract function, a constructor or an :class:`EncodedCall`,
    encoded without the node."""
    if isinstance(call, EncodedCall):
        return call.to, call.data
    ctor_data = getattr(call, "data_in_transaction", None)
    if ctor_data is not None:
        return None, str(ctor_data)
    return str(call.address), str(call._encode_transaction_data())


def _build_lean(
    chain: Chain,
    client: JsonRpcClient,
    target: tuple[str | None, str],
    address: str,
    *,
    value: int,
    nonce: int | None,
    gas: int | None = None,
    gas_bound: int | None = None,
    fees: Mapping[str, int] | None = None,
) -> TxParams:
    """:func:`build_transaction` through the lean client for ``target`` = (to, data): the latest
    block, the suggested tip (unless ``fees`` are given: read for a whole batch), the gas check
    (unless ``gas`` is fixed: the call at ``gas_bound``, else the estimate) and the pending nonce
    (unless ``nonce`` is given) in ONE batched request of idempotent reads (none when nothing is
    left to ask); the chain id is the connection's. A fee above the cap is refused before the
    call's revert."""
    batch = _LeanBatch.of(
        target, address, value=value, nonce=nonce, gas=gas, gas_bound=gas_bound, fees=fees
    )
    asked = list(batch.calls.items())
    answers = dict(zip(batch.calls, client.batch(asked) if asked else [], strict=True))
    return batch.params(chain, client, answers)


@dataclass(frozen=True)
class _LeanBatch:
    """The reads a lean build asks the node (:func:`_build_lean`), and the transaction their
    answers make."""

    probe: dict[str, Any]
    calls: dict[str, list[Any]]
    nonce: int | None
    gas: int | None
    gas_bound: int | None
    fees: Mapping[str, int] | None = None

    @classmethod
    def of(
        cls,
        target: tuple[str | None, str],
        address: str,
        *,
        value: int,
        nonce: int | None,
        gas: int | None,
        gas_bound: int | None,
        fees: Mapping[str, int] | None = None,
    ) -> _LeanBatch:
        to, data = target
        probe: dict[str, Any] = {"from": address, "value": hex(value), "data": data}
        if to is not None:
            probe["to"] = to
        calls: dict[str, list[Any]] = {}
        if fees is None:
            calls.update(eth_getBlockByNumber=["latest", False], eth_maxPriorityFeePerGas=[])
        if gas is None and gas_bound is not None:
            calls["eth_call"] = [{**probe, "gas": hex(gas_bound)}, "latest"]
        elif gas is None:
            calls["eth_estimateGas"] = [probe, "latest"]  # as web3 did (its default block)
        if nonce is None:
            calls["eth_getTransactionCount"] = [address, "pending"]
        return cls(probe, calls, nonce, gas, gas_bound, fees)

    def params(self, chain: Chain, client: JsonRpcClient, answers: Mapping[str, Any]) -> TxParams:
        """The transaction from the batch's ``answers`` (method -> value or exception): fees
        (refused above the cap first), then the gas check's verdict, then the nonce."""

        def answer(method: str) -> Any:
            result = answers[method]
            if isinstance(result, Exception):
                raise result
            return result

        fees = dict(self.fees) if self.fees is not None else _lean_fees(chain, client, answers)
        gas = (
            _lean_gas(client, self.probe, dict(answers), self.gas_bound)
            if self.gas is None
            else self.gas
        )
        nonce = _hex_int(answer("eth_getTransactionCount")) if self.nonce is None else self.nonce
        tx: dict[str, Any] = {
            **{k: v for k, v in self.probe.items() if k in ("from", "to", "data")},
            "value": int(self.probe["value"], 16),
            "gas": gas,
            "nonce": nonce,
            "chainId": chain.chain_id,
            **fees,
        }
        return tx  # type: ignore[return-value]


def _lean_fees(chain: Chain, client: JsonRpcClient, answers: Mapping[str, Any]) -> dict[str, int]:
    """:func:`fee_fields` from a lean batch's answers (its latest block and suggested tip)."""

    def answer(method: str) -> Any:
        result = answers[method]
        if isinstance(result, Exception):
            raise result
        return result

    base = answer("eth_getBlockByNumber").get("baseFeePerGas")
    return _capped_fees(
        chain,
        None if base is None else _hex_int(base),
        lambda: _hex_int(client.request("eth_gasPrice")),
        lambda: _hex_int(answer("eth_maxPriorityFeePerGas")),
    )


@dataclass(frozen=True)
class Prepared:
    """A transaction pre-flighted in the same exchange with the node as a step's own reads
    (:func:`prepare_transaction`): ``answers`` holds each read's answer (or the exception it
    raised), and :meth:`send` builds, signs and broadcasts the transaction from the rest of
    that exchange, raising what the build would have raised (a fee above the cap, the call's
    decoded revert) only then: after the step has checked its reads."""

    answers: tuple[Any, ...]
    send: Callable[[], str]


def prepare_transaction(
    chain: Chain,
    call: EncodedCall,
    sender: Sender,
    *,
    reads: Sequence[tuple[str, list[Any]]],
    value: int = 0,
    nonce: int | None = None,
    abi: Sequence[Mapping[str, Any]] = (),
    action: str = "",
    gas_bound: int | None = None,
) -> Prepared | None:
    """``reads`` (JSON-RPC method, params: idempotent reads) and :func:`build_transaction`'s
    own (latest block, tip, gas check, nonce) in ONE exchange with the node; None on the
    embedded chain (the caller reads and sends as usual). The pre-flight's answer is looked
    at only by :meth:`Prepared.send`, so a step refuses what its reads refuse first, as when
    it read them on their own before building; nothing is signed or sent before that call."""
    client = _lean(chain)
    if client is None:
        return None
    address = _address_of(sender)
    batch = _LeanBatch.of(
        (call.to, call.data), address, value=value, nonce=nonce, gas=None, gas_bound=gas_bound
    )
    asked = [*reads, *batch.calls.items()]
    raw = guarded(chain, abi, action, lambda: client.batch(asked))
    answers = dict(zip(batch.calls, raw[len(reads) :], strict=True))

    def send() -> str:
        tx = _funded(chain, address, abi, action, lambda: batch.params(chain, client, answers))
        return broadcast(chain, tx, sender, abi=abi, action=action)

    return Prepared(tuple(raw[: len(reads)]), send)


def _lean_gas(
    client: JsonRpcClient, probe: dict[str, Any], answers: dict[str, Any], bound: int | None
) -> int:
    """The gas limit from a batch's answers: its call at ``bound`` (:func:`_bounded_gas`),
    else its estimate."""
    if bound is not None:
        return _bounded_gas(client, probe, answers["eth_call"], bound)
    estimate = answers["eth_estimateGas"]
    if isinstance(estimate, Exception):
        raise estimate
    return _hex_int(estimate)


def _bounded_gas(client: JsonRpcClient, probe: dict[str, Any], checked: Any, bound: int) -> int:
    """The gas limit of a call executed with ``bound`` gas (its answer ``checked``): ``bound``
    when it succeeded (the same call on the same state succeeds with that limit); otherwise
    the node's estimate, which answers as it did before bounds existed: a call that reverts
    at any gas raises its decoded revert there. A revert WITH a reason at the bound is not
    final: a sub-call can run out of the bound's gas and the contract name that (a claim paid
    to a smart account whose receive needs more gas reverts TransferFailed at the bound and
    succeeds with more)."""
    if not isinstance(checked, Exception):
        return bound
    return _hex_int(client.request("eth_estimateGas", [probe, "latest"]))


def _checked_gas(chain: Chain, params: dict[str, Any], bound: int | None) -> int:
    """:func:`_bounded_gas` through web3 (the embedded chain, whose estimate runs the call
    many times in the Python EVM): ``bound`` when the call succeeds with it, else the estimate
    (a revert at the bound may be a sub-call out of its gas: see :func:`_bounded_gas`)."""
    if bound is not None:
        try:
            chain.w3.eth.call({**params, "gas": bound})  # type: ignore[typeddict-item]
        except Exception:  # a revert at the bound is not final: the estimate decides
            pass
        else:
            return bound
    return int(chain.w3.eth.estimate_gas(params))  # type: ignore[arg-type]


def _json_tx(tx: Mapping[str, Any]) -> dict[str, Any]:
    """``tx`` with its quantities as JSON-RPC hex strings."""
    return {k: hex(v) if isinstance(v, int) else v for k, v in tx.items()}


def broadcast(
    chain: Chain,
    tx: TxParams,
    sender: Sender,
    *,
    abi: Sequence[Mapping[str, Any]] = (),
    action: str = "",
) -> str:
    """Sign ``tx`` (or have the node sign it for an unlocked address) and send it; returns the
    hash (0x hex) without waiting. A signed send is safe to repeat (:func:`send_raw_once`); a
    node-signed one is sent once and never retried."""

    client = _lean(chain)

    def send() -> str:
        if isinstance(sender, str) and client is not None:  # not retried: not IDEMPOTENT
            sent = str(client.request("eth_sendTransaction", [_json_tx(tx)]))
            _note_sent(chain, client, sent)
            return sent
        if isinstance(sender, str):
            return "0x" + bytes(chain.w3.eth.send_transaction(tx)).hex()
        return send_raw_once(chain, _signed(sender, tx))

    return _funded(chain, _address_of(sender), abi, action, send)


def _signed(sender: LocalAccount, tx: TxParams) -> bytes:
    """``tx`` signed by ``sender``: the lean EIP-1559 signer where it applies (eth-account's
    bytes, ~10x faster), else eth-account."""
    raw = sign_dynamic_fee(bytes(sender.key), sender.address, tx)
    if raw is None:
        raw = bytes(sender.sign_transaction(tx).raw_transaction)  # type: ignore[arg-type]
    return raw


def send_transaction(
    chain: Chain,
    call: Any,
    sender: Sender,
    *,
    value: int = 0,
    nonce: int | None = None,
    abi: Sequence[Mapping[str, Any]] = (),
    action: str = "",
    gas_bound: int | None = None,
) -> str:
    """:func:`build_transaction` then :func:`broadcast`; returns the tx hash."""
    tx = build_transaction(
        chain,
        call,
        sender,
        value=value,
        nonce=nonce,
        abi=abi,
        action=action,
        gas_bound=gas_bound,
    )
    return broadcast(chain, tx, sender, abi=abi, action=action)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value


_DECODED_KEPT = 100_000  # decoded logs kept per contract object (oldest dropped past it)
_DECODED_MAX_DATA = 4096  # bytes of log data above which a log is decoded every time


def decode_logs(contract: Contract, logs: Sequence[Any]) -> list[RoundEvent]:
    """The logs ``contract`` emitted among ``logs``, decoded (others are skipped). A log is in
    web3's shape (bytes, ints: :func:`raw_log`) or as JSON-RPC answers it (hex strings).

    A log's arguments depend only on its topics and data, so they are decoded once per contract
    object and reused: workflows look up one participant's event among every participant's
    (``getLogs`` answers them all), which decoded the whole round once per participant and
    lookup, quadratic in the participants."""
    decoders = _event_decoders(contract)
    decoded: dict[tuple[Any, ...], tuple[str, Any]] = contract.__dict__.setdefault(
        "_modelpact_decoded", {}
    )
    out: list[RoundEvent] = []
    address = str(contract.address).lower()  # not checksummed per log: a keccak each
    for log in logs:
        if str(log["address"]).lower() != address or not log["topics"]:
            continue
        key = (*(_log_key(t) for t in log["topics"]), _log_key(log["data"]))
        known = decoded.get(key)
        if known is None:
            shaped = raw_log(log) if isinstance(log["data"], str) else log
            decoder = decoders.get(bytes(shaped["topics"][0]))
            if decoder is None:
                continue
            known = (decoder[0], _plain(decoder[1](shaped)))
            if len(bytes(shaped["data"])) <= _DECODED_MAX_DATA:  # not a delivery's ciphertext
                decoded[key] = known
                if len(decoded) > _DECODED_KEPT:
                    del decoded[next(iter(decoded))]
        name, args = known
        tx_hash = log["transactionHash"]
        out.append(
            RoundEvent(
                name=name,
                args=dict(args),  # a copy: a caller may change its own
                block_number=_hex_int(log["blockNumber"]),
                log_index=_hex_int(log["logIndex"]),
                tx_hash=tx_hash.lower()
                if isinstance(tx_hash, str)
                else "0x" + bytes(tx_hash).hex(),
            )
        )
    return out


def _log_key(value: Any) -> Any:
    """A log's topic or data as a cache key: JSON-RPC's hex string as it is, else bytes."""
    return value.lower() if isinstance(value, str) else bytes(value)


_Decoder = Callable[[Any], dict[str, Any]]


def _event_decoders(contract: Contract) -> dict[bytes, tuple[str, _Decoder]]:
    """Log topic -> (event name, decoder) for ``contract``'s ABI, built once per contract
    object (kept on it)."""
    table: dict[bytes, tuple[str, _Decoder]] | None = getattr(contract, "_modelpact_decoders", None)
    if table is None:
        events = [dict(i) for i in contract.abi if i.get("type") == "event"]
        table = {
            bytes(event_abi_to_log_topic(e)): (str(e["name"]), _event_decoder(contract, e))  # type: ignore[arg-type]
            for e in events
        }
        contract._modelpact_decoders = table  # type: ignore[attr-defined]
    return table


def _event_decoder(contract: Contract, event: dict[str, Any]) -> _Decoder:
    """What web3's ``get_event_data`` returns as ``args`` for one event (addresses checksummed,
    structs as name -> value trees), with the ABI work done once instead of once per log: web3
    took 1.5 ms a log, which made a 50-participant round decode its logs for 20 s."""
    from web3._utils.abi import (
        exclude_indexed_event_inputs,
        get_indexed_event_inputs,
        named_tree,
        normalize_event_input_types,
    )
    from web3._utils.events import get_event_abi_types_for_decoding

    codec = contract.w3.codec
    topic_inputs = normalize_event_input_types(get_indexed_event_inputs(event))  # type: ignore[arg-type]
    topic_types = list(get_event_abi_types_for_decoding(topic_inputs))
    topic_names = [str(i["name"]) for i in topic_inputs]
    data_inputs = normalize_event_input_types(exclude_indexed_event_inputs(event))  # type: ignore[arg-type]
    data_types = list(get_event_abi_types_for_decoding(data_inputs))
    checksum = [_checksummer(t) for t in data_types]
    topic_checksum = [_checksummer(t) for t in topic_types]
    data_names = [str(i["name"]) for i in data_inputs]
    # named_tree only reshapes structs and arrays (parsing each value's type, every log); a
    # flat event's data is its names zipped with its values
    flat = not any("[" in t or t.startswith("(") for t in data_types)

    def decode(log: Any) -> dict[str, Any]:
        topics = [bytes(t) for t in log["topics"][1:]]
        if len(topics) != len(topic_types):
            raise ChainError(
                f"event {event['name']}: expected {len(topic_types)} topics, got {len(topics)}",
                hint="check the contract's ABI",
            )
        values = [
            f(v)
            for f, v in zip(checksum, codec.decode(data_types, bytes(log["data"])), strict=True)
        ]
        data = (
            dict(zip(data_names, values, strict=True)) if flat else named_tree(data_inputs, values)
        )
        if all(len(t) == 32 for t in topics):  # one word each: decoded together
            words = codec.decode(topic_types, b"".join(topics))
        else:  # as the node sent them (each decode says what is wrong)
            words = tuple(codec.decode([t], w)[0] for t, w in zip(topic_types, topics, strict=True))
        args = {name: f(v) for name, f, v in zip(topic_names, topic_checksum, words, strict=True)}
        args.update(data)
        return args

    return decode


def _checksummer(type_str: str) -> Callable[[Any], Any]:
    """``value -> value`` with every address inside a value of ABI type ``type_str``
    checksummed (web3's ``addresses_checksummed`` return normalizer), built once per type."""
    from eth_abi.grammar import parse

    return _normalizer(parse(type_str))


def _normalizer(node: Any) -> Callable[[Any], Any]:
    if node.is_array:
        inner = _normalizer(node.item_type)
        return lambda value: type(value)(inner(v) for v in value)
    components = getattr(node, "components", None)
    if components is not None:
        parts = [_normalizer(c) for c in components]
        return lambda value: tuple(f(v) for f, v in zip(parts, value, strict=True))
    if getattr(node, "base", None) == "address":
        return lambda value: checksum_address(value)
    return lambda value: value


def wait_for_receipt(
    chain: Chain,
    tx_hash: str,
    *,
    contract: Contract | None = None,
    action: str = "",
    timeout: float | None = None,
    abi: Sequence[Mapping[str, Any]] | None = None,
    receipt: Mapping[str, Any] | None = None,
) -> TxResult:
    """Wait for ``tx_hash``; a failed receipt is replayed to decode its revert reason (with
    ``abi``, by default ``contract``'s: a deployment has an ABI before it has a contract); the
    events of ``contract`` (when given) are decoded. ``receipt``: its mined receipt as the lean
    client already read it (JSON-RPC form), so it is not asked for again."""
    if abi is None:
        abi = contract.abi if contract is not None else ()
    wait = RECEIPT_TIMEOUT if timeout is None else timeout
    client = _lean(chain)
    try:
        receipt = guarded(
            chain,
            abi,
            action,
            (lambda: _poll_receipt(chain, client, tx_hash, wait, receipt))
            if client is not None
            else lambda: chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=wait),  # type: ignore[arg-type]
        )
    except TimeExhausted:
        raise NotMinedError(
            f"{action or 'transaction'} {tx_hash} was not mined within {wait:g} s (the node "
            "dropped it, or the chain is congested)",
            hint="re-run the command: it waits for this recorded transaction, or sends the step "
            "again once the node no longer knows it",
        ) from None
    if receipt["status"] != 1:
        _raise_failed(chain, tx_hash, int(receipt["blockNumber"]), abi, action)
    events = decode_logs(contract, receipt["logs"]) if contract is not None else []
    address = receipt.get("contractAddress")
    return TxResult(
        tx_hash=tx_hash,
        block_number=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]),
        events=tuple(events),
        contract_address=checksum_address(address) if address else None,
    )


RECEIPT_POLL_FIRST = 0.0002
RECEIPT_POLL_MAX = 0.05
"""Receipt polling backoff, seconds: the first poll is immediate (an automining dev node has
mined before it answers the send), then 0.2 ms doubling up to 50 ms (a busy machine or a real
chain's block time); a fixed 100 ms interval made every unlucky transaction cost 100 ms."""


def _poll_receipt(
    chain: Chain,
    client: JsonRpcClient,
    tx_hash: str,
    timeout: float,
    known: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The receipt of ``tx_hash`` in web3's shape (ints, bytes topics), polled with backoff
    unless ``known`` is its mined receipt already read; web3's ``TimeExhausted`` after
    ``timeout`` seconds, like web3's own wait."""
    deadline = time.monotonic() + timeout
    pause = RECEIPT_POLL_FIRST
    raw = known
    while raw is None:
        raw = _receipt_now(chain, client, tx_hash)
        if raw is not None:
            break
        if time.monotonic() + pause > deadline:
            raise TimeExhausted(f"transaction {tx_hash} is not in the chain after {timeout} s")
        time.sleep(pause)
        pause = min(2 * pause, RECEIPT_POLL_MAX)
    logs = [raw_log(log) for log in raw.get("logs") or ()]
    return {
        "status": _hex_int(raw.get("status", "0x1")),
        "blockNumber": _hex_int(raw["blockNumber"]),
        "gasUsed": _hex_int(raw["gasUsed"]),
        "contractAddress": raw.get("contractAddress"),
        "logs": logs,
    }


def raw_log(log: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-RPC log (hex strings) in the shape web3 formats it (ints, bytes), for
    :func:`decode_logs`."""
    from hexbytes import HexBytes

    return {
        "address": log["address"],
        "topics": [HexBytes(t) for t in log["topics"]],
        "data": HexBytes(log["data"]),
        "blockNumber": _hex_int(log["blockNumber"]),
        "logIndex": _hex_int(log["logIndex"]),
        "transactionHash": HexBytes(log["transactionHash"]),
        "transactionIndex": _hex_int(log.get("transactionIndex", "0x0")),
        "blockHash": HexBytes(log.get("blockHash") or b""),
    }


def _raise_failed(
    chain: Chain, tx_hash: str, block: int, abi: Sequence[Mapping[str, Any]], action: str
) -> None:
    """Replay a failed transaction to raise its decoded revert: on the state before its block
    (where it ran, if it was first in the block), then on its block (with that block's time: a
    deadline that passed between the latest block and the mined one shows there). A node that
    keeps no state that old answers neither; then the failure is reported without a reason."""
    tx = chain.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    replay = {k: tx[k] for k in ("from", "to", "value", "data", "gas") if k in tx}
    if "data" not in replay and "input" in tx:
        replay["data"] = tx["input"]
    for at in (block - 1, block):
        try:
            guarded(chain, abi, action, lambda at=at: chain.w3.eth.call(replay, at))  # type: ignore[misc, arg-type]
        except ContractRevertError:
            raise
        except NodeUnavailableError:
            raise
        except Exception:  # no state at that height: try the next one
            continue
    raise ChainError(
        f"{action or 'transaction'} {tx_hash} failed without a revert reason",
        hint="the transaction may have run out of gas",
    )


def transaction_known(chain: Chain, tx_hash: str | None) -> bool:
    """Whether the node knows ``tx_hash`` (pending or mined); False for None or an unknown hash.

    A workflow that recorded a hash before a crash asks this first: a known transaction is waited
    for (:func:`wait_for_receipt`), an unknown one (dropped, or a node restarted without its
    state) may be sent again.
    """
    if not tx_hash:
        return False
    client = _lean(chain)

    def lookup() -> bool:
        if client is not None and client.knows_mined(tx_hash):
            return True  # a sync send's receipt for it, not yet waited for
        if client is not None:
            return client.request("eth_getTransactionByHash", [tx_hash]) is not None
        try:
            chain.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        return True

    return guarded(chain, (), "getTransaction", lookup)


def _mined_receipt(chain: Chain, tx_hash: str) -> dict[str, Any] | None:
    """The receipt of ``tx_hash`` (JSON-RPC form) when the lean client's node has mined it: the
    one a sync send answered, else one ``eth_getTransactionReceipt``; None when it is not mined
    (pending or unknown) or the chain is the embedded one."""
    client = _lean(chain)
    if client is None:
        return None

    return guarded(chain, (), "getTransactionReceipt", lambda: _receipt_now(chain, client, tx_hash))


class _Unwaited:
    """What one lean client's transactions sent by this process and not yet waited for need:
    their hashes, and receipts read for them in bulk. A batch (a demo's participants, the
    coordinator's deliveries, funding transfers) is waited for one hash at a time; when the
    block that mined one of them may hold others (several of this process's hashes are still
    unwaited), that block's receipts are read in one ``eth_getBlockReceipts`` and those of the
    unwaited hashes kept, each taken once by its own wait (as a sync send's receipt is kept
    until its wait takes it). Only on a dev node that mines on demand (its blocks hold this
    process's transactions, not a public chain's hundreds of others). Dropped when the chain
    goes back to a snapshot; a node without ``eth_getBlockReceipts`` is asked one receipt at a
    time."""

    KEPT = 100_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reverts = 0
        self.sent: dict[str, None] = {}  # insertion-ordered set of lower-case hashes
        self.receipts: dict[str, dict[str, Any]] = {}
        self.bulk = True

    def current(self, reverts: int) -> _Unwaited:
        """This record, emptied when the chain went back to a snapshot since it was filled."""
        if reverts != self.reverts:
            self.sent.clear()
            self.receipts.clear()
            self.reverts = reverts
        return self


_UNWAITED: weakref.WeakKeyDictionary[JsonRpcClient, _Unwaited] = weakref.WeakKeyDictionary()
_UNWAITED_LOCK = threading.Lock()


def _unwaited(chain: Chain, client: JsonRpcClient) -> _Unwaited:
    with _UNWAITED_LOCK:
        record = _UNWAITED.get(client)
        if record is None:
            record = _UNWAITED[client] = _Unwaited()
    with record.lock:
        return record.current(chain.reverts)


def _note_sent(chain: Chain, client: JsonRpcClient, tx_hash: str) -> None:
    """Remember that ``tx_hash`` went out and was not waited for (see :class:`_Unwaited`)."""
    record = _unwaited(chain, client)
    with record.lock:
        record.sent[tx_hash.lower()] = None
        while len(record.sent) > _Unwaited.KEPT:
            del record.sent[next(iter(record.sent))]


def _receipt_now(chain: Chain, client: JsonRpcClient, tx_hash: str) -> dict[str, Any] | None:
    """The receipt of ``tx_hash`` (JSON-RPC form) if it is mined now, else None: a sync send's
    kept answer, one read in bulk for it (:class:`_Unwaited`), else ``eth_getTransactionReceipt``
    (and then its block's receipts when that block may hold other unwaited ones)."""
    raw = client.take_mined(tx_hash)  # a sync send's answer: already mined
    if raw is not None:
        return raw
    key = tx_hash.lower()
    record = _unwaited(chain, client)
    with record.lock:
        raw = record.receipts.pop(key, None)
        ours = key in record.sent
        others = len(record.sent) - ours
        record.sent.pop(key, None)
    if raw is not None:
        return raw
    raw = client.request("eth_getTransactionReceipt", [tx_hash])
    if raw is None or raw.get("blockNumber") is None:
        if ours:
            with record.lock:  # still unwaited: its wait polls again
                record.sent[key] = None
        return None
    # a block whose first transaction is not this one, while several of this process's are
    # unwaited: read the rest of that block at once (a block of one costs nothing more). Only
    # on a dev node mining on demand (anvil, Hardhat: sync sends), whose blocks hold what this
    # process sent; a public chain's block would be mostly others' receipts
    index = _hex_int(raw.get("transactionIndex", "0x0"))
    if others >= 2 and record.bulk and index > 0 and client.sends_sync():
        _keep_block_receipts(client, record, raw["blockNumber"])
    return dict(raw)


def _keep_block_receipts(client: JsonRpcClient, record: _Unwaited, block: str) -> None:
    """Keep the receipts of block ``block`` whose transactions are unwaited (one exchange)."""
    from modelpact.chain.backends.jsonrpc import RpcError

    try:
        receipts = client.request("eth_getBlockReceipts", [block])
    except RpcError:
        record.bulk = False  # not served here: one receipt at a time from now on
        return
    if not isinstance(receipts, list):
        return  # nothing usable kept: each wait reads its own receipt
    with record.lock:
        for receipt in receipts:
            if not isinstance(receipt, dict):
                continue
            key = str(receipt.get("transactionHash", "")).lower()
            if key in record.sent and receipt.get("blockNumber") is not None:
                record.receipts[key] = receipt
        while len(record.receipts) > _Unwaited.KEPT:
            del record.receipts[next(iter(record.receipts))]


def transfer(
    chain: Chain,
    sender: Sender,
    to: str,
    value: int,
    *,
    nonce: int | None = None,
    fees: Mapping[str, int] | None = None,
) -> str:
    """Send ``value`` wei from ``sender`` to ``to`` (a plain ETH transfer); returns the tx hash.
    ``nonce`` as in :func:`build_transaction`; ``fees``: the fee fields (:func:`fee_fields`)
    read once for a batch of transfers (:func:`send_batch`), else read here.

    Wait with :func:`wait_for_receipt`. Used to fund demo wallets from a dev account.
    """
    address = _address_of(sender)
    tx: dict[str, Any] = {"from": address, "to": checksum_address(to), "value": int(value)}
    client = _lean(chain)
    if client is not None:
        target = (tx["to"], "0x")
        built = guarded(
            chain,
            (),
            "transfer",
            lambda: _build_lean(
                chain, client, target, address, value=int(value), nonce=nonce, gas=21_000, fees=fees
            ),
        )
        return broadcast(chain, built, sender, action="transfer")
    if not isinstance(sender, str):

        def fill() -> None:
            tx["nonce"] = (
                chain.w3.eth.get_transaction_count(address, "pending") if nonce is None else nonce
            )
            tx.update(fee_fields(chain) if fees is None else fees)

        guarded(chain, (), "transfer", fill)
        tx.update(chainId=chain.chain_id, gas=21_000)
    return broadcast(chain, tx, sender, action="transfer")  # type: ignore[arg-type]


def pending_nonce(chain: Chain, sender: Sender, *, action: str = "transfer") -> int:
    """``sender``'s next nonce counting its transactions the node holds unmined: where a batch
    of explicit consecutive nonces starts."""
    address = _address_of(sender)
    client = _lean(chain)
    return guarded(
        chain,
        (),
        action,
        lambda: (
            _hex_int(client.request("eth_getTransactionCount", [address, "pending"]))
            if client is not None
            else int(chain.w3.eth.get_transaction_count(address, "pending"))
        ),
    )


def signed_transaction(
    chain: Chain,
    call: Any,
    sender: LocalAccount,
    *,
    nonce: int,
    value: int = 0,
    abi: Sequence[Mapping[str, Any]] = (),
    action: str = "",
    gas_bound: int | None = None,
) -> bytes:
    """:func:`build_transaction` (its pre-flight decodes a revert before anything is signed)
    then signed, NOT sent: a batch records every hash (the keccak of these bytes) durably first,
    then broadcasts each with :func:`broadcast_signed`."""
    tx = build_transaction(
        chain,
        call,
        sender,
        value=value,
        nonce=nonce,
        abi=abi,
        action=action,
        gas_bound=gas_bound,
    )
    return _signed(sender, tx)


@dataclass(frozen=True)
class BatchCall:
    """One transaction of :func:`signed_batch`: the encoded call, the wei it carries, its gas
    bound (None: the node estimates) and the action its revert is named after."""

    call: EncodedCall
    value: int = 0
    gas_bound: int | None = None
    action: str = ""


_SIGNED_PER_EXCHANGE = 100
"""Pre-flights per JSON-RPC batch in :func:`signed_batch` (within common batch limits)."""


def signed_batch(
    chain: Chain,
    calls: Sequence[BatchCall],
    sender: LocalAccount,
    *,
    first_nonce: int,
    abi: Sequence[Mapping[str, Any]] = (),
) -> list[bytes]:
    """:func:`signed_transaction` of each of ``calls`` at consecutive nonces from
    ``first_nonce``, NOT sent: every pre-flight runs on the same latest state, as signing them
    one by one before broadcasting any did, and each is checked in order (the first revert is
    raised, decoded; nothing is sent either way). Through a node over JSON-RPC the fee fields
    are read once for the batch and the pre-flights go 100 to an exchange (a call that fails
    at its bound is estimated on its own, as :func:`build_transaction` does)."""
    client = _lean(chain)
    if client is None:
        return [
            signed_transaction(
                chain,
                c.call,
                sender,
                nonce=first_nonce + i,
                value=c.value,
                abi=abi,
                action=c.action,
                gas_bound=c.gas_bound,
            )
            for i, c in enumerate(calls)
        ]
    fees: dict[str, int] | None = None
    out: list[bytes] = []
    for start in range(0, len(calls), _SIGNED_PER_EXCHANGE):
        chunk = calls[start : start + _SIGNED_PER_EXCHANGE]
        signed, fees = _signed_chunk(chain, client, chunk, sender, first_nonce + start, fees, abi)
        out += signed
    return out


def _signed_chunk(
    chain: Chain,
    client: JsonRpcClient,
    chunk: Sequence[BatchCall],
    sender: LocalAccount,
    first_nonce: int,
    fees: dict[str, int] | None,
    abi: Sequence[Mapping[str, Any]],
) -> tuple[list[bytes], dict[str, int]]:
    """:func:`signed_batch` of one exchange's worth of calls; ``fees`` None: read with them."""
    address = _address_of(sender)
    batches = [
        _LeanBatch.of(
            (c.call.to, c.call.data),
            address,
            value=c.value,
            nonce=first_nonce + i,
            gas=None,
            gas_bound=c.gas_bound,
            fees=fees or {},  # given: the batch does not ask for them (read once below)
        )
        for i, c in enumerate(chunk)
    ]
    fee_calls = list(_FEE_CALLS.items()) if fees is None else []
    asked = fee_calls + [item for b in batches for item in b.calls.items()]
    raw = guarded(chain, abi, chunk[0].action, functools.partial(client.batch, asked))
    if fees is None:
        answered = dict(zip(_FEE_CALLS, raw, strict=False))
        price = functools.partial(_lean_fees, chain, client, answered)
        fees = _funded(chain, address, abi, chunk[0].action, price)
    answers = iter(raw[len(fee_calls) :])
    out = []
    for c, b in zip(chunk, batches, strict=True):
        own = {method: next(answers) for method in b.calls}
        build = functools.partial(replace(b, fees=fees).params, chain, client, own)
        out.append(_signed(sender, _funded(chain, address, abi, c.action, build)))
    return out, fees


_FEE_CALLS: Mapping[str, list[Any]] = {
    "eth_getBlockByNumber": ["latest", False],
    "eth_maxPriorityFeePerGas": [],
}
"""The reads a lean build prices a transaction with (:func:`_lean_fees`)."""


def broadcast_signed(
    chain: Chain,
    raw: bytes,
    sender: LocalAccount,
    *,
    abi: Sequence[Mapping[str, Any]] = (),
    action: str = "",
) -> str:
    """Send ``sender``'s signed bytes (:func:`send_raw_once`: safe to repeat), the node's
    refusals decoded as :func:`broadcast` decodes them; returns the hash without waiting."""
    return _funded(chain, sender.address, abi, action, lambda: send_raw_once(chain, raw))


def broadcast_signed_batch(
    chain: Chain,
    raws: Sequence[bytes],
    sender: LocalAccount,
    *,
    abi: Sequence[Mapping[str, Any]] = (),
    action: str = "",
) -> list[str]:
    """:func:`broadcast_signed` for each of ``raws`` (``sender``'s), in order, through
    :func:`send_raw_batch`; returns the hashes without waiting."""
    return _funded(chain, sender.address, abi, action, lambda: send_raw_batch(chain, raws))


def send_batch(chain: Chain, sender: Sender, transfers: Sequence[tuple[str, int]]) -> list[str]:
    """Send plain transfers ``(to, value)`` from ``sender`` back to back without waiting, with
    explicit consecutive nonces from its pending one and the fees read once for them all (with
    that nonce: one exchange with the node, the fee cap checked once); returns the hashes (wait
    for each with :func:`wait_for_receipt`). A signed transfer that fails mid-batch raises;
    those before it stay sent (their hashes are lost with the exception, their nonces used)."""
    first, fees = _nonce_and_fees(chain, sender)
    return [
        transfer(chain, sender, to, value, nonce=first + i, fees=fees)
        for i, (to, value) in enumerate(transfers)
    ]


def _nonce_and_fees(chain: Chain, sender: Sender) -> tuple[int, dict[str, int]]:
    """``sender``'s pending nonce (:func:`pending_nonce`) and the fee fields
    (:func:`fee_fields`), in one exchange with a node over JSON-RPC."""
    client = _lean(chain)
    if client is None:
        return pending_nonce(chain, sender), guarded(
            chain, (), "transfer", lambda: fee_fields(chain)
        )
    address = _address_of(sender)
    batch = _LeanBatch.of((None, "0x"), address, value=0, nonce=None, gas=21_000, gas_bound=None)
    asked = list(batch.calls.items())
    answers = dict(
        zip(batch.calls, guarded(chain, (), "transfer", lambda: client.batch(asked)), strict=True)
    )
    fees = guarded(chain, (), "transfer", lambda: _lean_fees(chain, client, answers))
    nonce = answers["eth_getTransactionCount"]
    if isinstance(nonce, Exception):
        raise nonce
    return _hex_int(nonce), fees


class TxSlot(Protocol):
    """Where a workflow step keeps the hash of its transaction (a field of a state file)."""

    def get(self) -> str | None:
        """The recorded hash, or None."""

    def put(self, tx_hash: str) -> None:
        """Record ``tx_hash`` durably (before anyone waits for it)."""


@dataclass(frozen=True)
class RecordedStep:
    """One crash-safe transaction step: :meth:`start` records the hash in ``slot`` before
    :meth:`finish` waits for it, and on a re-run :meth:`previous` asks the chain about the
    recorded transaction first, so a step is never sent twice and never forgotten."""

    chain: Chain
    slot: TxSlot
    action: str
    contract: Contract | None = None
    abi: Sequence[Mapping[str, Any]] | None = None  # to decode reverts before a contract exists

    def previous(self) -> TxResult | None:
        """The result of the recorded transaction if the node knows it and it succeeded (waits
        while it is pending); None if there is no hash, the node never saw it, or it failed
        (then the step may be sent again: the chain state decides what happens)."""
        tx_hash = self.slot.get()
        if tx_hash is None:
            return None
        # the receipt first: a mined transaction (a re-run's usual case) is known and waited
        # for with that one answer; only an unmined one is looked up as pending or unknown
        receipt = _mined_receipt(self.chain, tx_hash)
        if receipt is None and not transaction_known(self.chain, tx_hash):
            return None
        try:
            return self.finish(tx_hash, receipt=receipt)
        except (NodeUnavailableError, NotMinedError):
            raise  # still pending is not "send again": a second transaction could be mined too
        except ChainError:
            return None

    def start(self, send: Callable[[], str]) -> str:
        """Send (``send`` broadcasts and returns the hash) and record the hash; no waiting. A
        signed transaction's hash is recorded before its bytes go out (:func:`send_raw_once`);
        a node-signed one's only after (the node picks it)."""
        recorded: list[str] = []

        def record(tx_hash: str) -> None:
            self.slot.put(tx_hash)
            recorded.append(tx_hash)

        token = _BEFORE_BROADCAST.set(record)
        try:
            tx_hash = send()
        finally:
            _BEFORE_BROADCAST.reset(token)
        if recorded[-1:] != [tx_hash]:
            self.slot.put(tx_hash)
        return tx_hash

    def finish(self, tx_hash: str, *, receipt: Mapping[str, Any] | None = None) -> TxResult:
        """Wait for a started transaction (``receipt``: its mined receipt, already read)."""
        return wait_for_receipt(
            self.chain,
            tx_hash,
            contract=self.contract,
            action=self.action,
            abi=self.abi,
            receipt=receipt,
        )

    def send(self, send: Callable[[], str]) -> TxResult:
        """:meth:`start` then :meth:`finish`."""
        return self.finish(self.start(send))

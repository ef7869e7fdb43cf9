"""The typed ``ModelpactRound`` contract: one method per action, one per view.

Everything returned is a plain frozen value (see the dataclasses in :mod:`modelpact.encoding`), so
the round workflows and the auditor never touch web3 objects.

An action is one small method decorated with :func:`action` that says which Solidity function
to call with which arguments (a :class:`Call`); the decorator gives it two faces:

    rc.reveal(sender, secret)             # send, wait, return the TxResult with decoded events
    rc.reveal.call(secret)                # just the Call: for a recorded step or a batch
    rc.send(rc.reveal.call(secret), sender)   # the hash, before any receipt

Reverts -- in the pre-flight call (at the function's :data:`GAS_BOUNDS` entry, or the gas
estimate) or in a mined receipt -- become
:class:`~modelpact.chain.errors.ContractRevertError` with the custom error's name and arguments.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Concatenate, Generic, ParamSpec, overload

from eth_abi.exceptions import EncodingError
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types
from eth_utils.address import is_checksum_address
from web3.contract import Contract

from modelpact.chain.backends.base import Chain
from modelpact.chain.errors import ChainError
from modelpact.chain.transactions import (
    BatchCall,
    EncodedCall,
    RecordedStep,
    RoundEvent,
    Sender,
    TxResult,
    TxSlot,
    broadcast_signed,
    broadcast_signed_batch,
    checksum_address,
    decode_logs,
    guarded,
    prepare_transaction,
    send_transaction,
    signed_batch,
    signed_transaction,
    wait_for_receipt,
)
from modelpact.chain.views import ViewFunction, view_functions
from modelpact.encoding import (
    Assignment,
    Deadlines,
    OnchainOption,
    ParticipantState,
    Phase,
    RoundConfig,
    Tier,
)

__all__ = [
    "GAS_BOUNDS",
    "Call",
    "GasBound",
    "PreparedCall",
    "Read",
    "RoundContract",
    "Standing",
    "action",
    "config_of",
    "participant_of",
    "round_events",
]

_P = ParamSpec("_P")


@dataclass(frozen=True)
class Call:
    """An unsent contract call: the Solidity function, its arguments, the wei it carries."""

    function: str
    args: tuple[Any, ...] = ()
    value: int = 0


@dataclass(frozen=True)
class Read:
    """One independent read for :meth:`RoundContract.read`: the JSON-RPC request a node
    answers and how its answer is decoded, how the embedded chain answers it, and what it is
    called in errors (a view's name decodes its reverts)."""

    method: str
    params: tuple[Any, ...]
    decode: Callable[[Any], Any]
    embedded: Callable[[], Any]
    action: str


@dataclass(frozen=True)
class PreparedCall:
    """A :class:`Call` pre-flighted in the same exchange with the node as a step's reads
    (:meth:`RoundContract.prepare`): ``answers`` as :meth:`RoundContract.read` returns them,
    and ``send`` broadcasts the call (raising the pre-flight's revert or a fee above the cap
    only then) and returns its hash."""

    call: Call
    answers: tuple[Any, ...]
    send: Callable[[], str]


@dataclass(frozen=True)
class Standing:
    """What a participant's step checks before it sends, read in one exchange with the node
    (:meth:`RoundContract.standing`)."""

    participant: ParticipantState | None
    """What the contract remembers of the account (None: it never joined)."""
    phase: Phase
    stored_commitment: bytes | None = None
    """What the contract stores under the data root asked about, when asked (zero: nothing)."""
    joined: RoundEvent | None = None
    """The account's ``Joined`` event, when asked for (None: not found, or not asked)."""
    balance: int | None = None
    """The account's ETH balance, wei, when asked for."""


@dataclass(frozen=True)
class GasBound:
    """A gas limit that covers every call of one round function: ``fixed`` plus ``per_byte``
    for each byte of calldata (a delivery's ciphertext is as long as the model's)."""

    fixed: int
    per_byte: int = 0

    def limit(self, data: str) -> int:
        """The bound for calldata ``data`` (0x hex)."""
        return self.fixed + self.per_byte * ((len(data) - 2) // 2)


GAS_BOUNDS: Mapping[str, GasBound] = MappingProxyType(
    {
        "join": GasBound(130_000),
        "reveal": GasBound(70_000),
        "claim": GasBound(100_000),
        "deliver": GasBound(90_000, per_byte=56),
    }
)
"""Gas limits of the functions every participant's transactions call (a 200-participant round
sends them ~800 times), so their pre-flight is one ``eth_call`` with this much gas instead of an
``eth_estimateGas`` search (:func:`~modelpact.chain.transactions.build_transaction`): a call
that succeeds with a limit succeeds as a transaction with it on the same state, and one that
does not falls back to the estimate. Measured on anvil (gas needed, demo rounds of 10 and 30
participants): join 89.4k, reveal 46.6k, claim 64.6k, deliver 73.8k at 672 calldata bytes and
95.7k at 1,536, and 5.27M at the longest ciphertext the contract takes (128 KiB: EIP-7623's
calldata floor, 40 gas per non-zero byte, rules there); the Foundry gas targets
(contracts/test/ModelpactRound.gas.t.sol) cap gasUsed at 100k, 50k and 65k. Each bound is at
least 1.3x what the worst case its function allows needs, checked by
tests/integration/test_send_path.py. Only gas used is paid: a bound costs nothing, it only
asks the sender to hold limit x fee."""


class _BoundAction(Generic[_P]):
    """An action of one deployed round: call it to transact, or ``.call(...)`` for the Call."""

    def __init__(
        self, rc: RoundContract, build: Callable[Concatenate[RoundContract, _P], Call]
    ) -> None:
        self._rc = rc
        self._build = build
        self.__doc__ = build.__doc__

    def __call__(self, sender: Sender, /, *args: _P.args, **kwargs: _P.kwargs) -> TxResult:
        """Send the action from ``sender``, wait, and return the mined result."""
        return self._rc.transact(self._build(self._rc, *args, **kwargs), sender)

    def call(self, *args: _P.args, **kwargs: _P.kwargs) -> Call:
        """The action as an unsent :class:`Call`."""
        return self._build(self._rc, *args, **kwargs)


class action(Generic[_P]):  # noqa: N801 (used as a decorator, like property)
    """Decorate a method returning the :class:`Call` of a contract action (see module doc)."""

    def __init__(self, build: Callable[Concatenate[RoundContract, _P], Call]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, rc: None, owner: type[RoundContract]) -> action[_P]: ...

    @overload
    def __get__(self, rc: RoundContract, owner: type[RoundContract]) -> _BoundAction[_P]: ...

    def __get__(
        self, rc: RoundContract | None, owner: type[RoundContract]
    ) -> action[_P] | _BoundAction[_P]:
        return self if rc is None else _BoundAction(rc, self._build)


@dataclass(frozen=True)
class RoundContract:
    """A deployed ``ModelpactRound`` on ``chain``: typed actions (see :func:`action`) and views."""

    chain: Chain
    address: ChecksumAddress
    abi: list[dict[str, Any]]
    deploy_tx_hash: str | None = None
    deploy_block: int | None = None

    @functools.cached_property
    def web3_contract(self) -> Contract:
        """The web3 contract object (built once: building it parses the ABI, ~5 ms)."""
        return self.chain.w3.eth.contract(address=self.address, abi=self.abi)

    # ------------------------------------------------------------------ sending

    def send(self, call: Call, sender: Sender, *, nonce: int | None = None) -> str:
        """Broadcast ``call`` from ``sender``; returns the tx hash before any receipt. Its gas
        limit is the function's :data:`GAS_BOUNDS` entry when it has one and the call succeeds
        with that much gas (one ``eth_call``), else the node's estimate; either way a revert is
        decoded before anything is sent."""
        target, bound = self._target(call)
        return send_transaction(
            self.chain,
            target,
            sender,
            value=call.value,
            nonce=nonce,
            abi=self.abi,
            action=call.function,
            gas_bound=bound,
        )

    def signed(self, call: Call, sender: LocalAccount, *, nonce: int) -> bytes:
        """``call`` from ``sender`` at ``nonce``, pre-flighted as :meth:`send` does (a revert
        is decoded here) and signed, not sent: a batch records every hash before it sends any
        (:meth:`broadcast`)."""
        target, bound = self._target(call)
        return signed_transaction(
            self.chain,
            target,
            sender,
            nonce=nonce,
            value=call.value,
            abi=self.abi,
            action=call.function,
            gas_bound=bound,
        )

    def signed_batch(
        self, calls: Sequence[Call], sender: LocalAccount, *, first_nonce: int
    ) -> list[bytes]:
        """:meth:`signed` of each of ``calls`` at consecutive nonces from ``first_nonce``, every
        pre-flight on the same latest state (a revert decoded, nothing sent): through a node
        over JSON-RPC with the fees read once and the pre-flights batched
        (:func:`~modelpact.chain.transactions.signed_batch`)."""
        targets = [self._target(call) for call in calls]
        if not all(isinstance(target, EncodedCall) for target, _ in targets):
            return [self.signed(c, sender, nonce=first_nonce + i) for i, c in enumerate(calls)]
        batch = [
            BatchCall(target, call.value, bound, call.function)
            for call, (target, bound) in zip(calls, targets, strict=True)
        ]
        return signed_batch(self.chain, batch, sender, first_nonce=first_nonce, abi=self.abi)

    def broadcast(self, raw: bytes, sender: LocalAccount, *, action: str) -> str:
        """Send bytes :meth:`signed` made; returns the hash without waiting."""
        return broadcast_signed(self.chain, raw, sender, abi=self.abi, action=action)

    def broadcast_all(self, raws: Sequence[bytes], sender: LocalAccount, *, action: str) -> None:
        """:meth:`broadcast` each of ``raws`` in order, a hundred to an exchange."""
        broadcast_signed_batch(self.chain, raws, sender, abi=self.abi, action=action)

    def prepare(
        self, call: Call, sender: Sender, reads: Sequence[Read], *, nonce: int | None = None
    ) -> PreparedCall:
        """``reads`` answered in the same exchange with the node as ``call``'s pre-flight, fee
        and nonce reads (:func:`~modelpact.chain.transactions.prepare_transaction`): a step
        checks what it read, then sends with :attr:`PreparedCall.send`, one exchange sooner.
        Where that does not apply (the embedded chain, a call web3 encodes), the reads are
        read as :meth:`read` does and ``send`` is :meth:`send`."""
        target, bound = self._target(call)
        prepared = None
        if isinstance(target, EncodedCall):
            prepared = prepare_transaction(
                self.chain,
                target,
                sender,
                reads=[(r.method, list(r.params)) for r in reads],
                value=call.value,
                nonce=nonce,
                abi=self.abi,
                action=call.function,
                gas_bound=bound,
            )
        if prepared is None:
            send = functools.partial(self.send, call, sender, nonce=nonce)
            return PreparedCall(call, tuple(self.read(reads)), send)
        answers = [self._answer_of(r, a) for r, a in zip(reads, prepared.answers, strict=True)]
        return PreparedCall(call, tuple(answers), prepared.send)

    def _target(self, call: Call) -> tuple[Any, int | None]:
        """What to send for ``call`` and its gas bound (None: the node estimates)."""
        target = self._encoded(call)
        bound = GAS_BOUNDS.get(call.function) if isinstance(target, EncodedCall) else None
        return target, None if bound is None else bound.limit(target.data)

    def _encoded(self, call: Call) -> Any:
        """``call`` as an :class:`EncodedCall` (selector and argument types from the round's ABI,
        encoded by web3's own strict codec), or web3's bound function when the arguments are not
        plain values (web3's normalizers convert them, or refuse them with its own error).
        web3's ContractFunction and ``map_abi_data`` took ~0.5 ms per transaction."""
        encoder = self._encoders.get(call.function)
        if encoder is not None and all(_plain(arg) for arg in call.args):
            selector, types = encoder
            try:
                encoded = self.chain.w3.codec.encode(types, list(call.args))
            except (EncodingError, TypeError, ValueError, OverflowError):
                pass  # web3 refuses it below with its own error
            else:
                return EncodedCall(self.address, "0x" + (selector + encoded).hex())
        return getattr(self.web3_contract.functions, call.function)(*call.args)

    @functools.cached_property
    def _encoders(self) -> dict[str, tuple[bytes, list[str]]]:
        """Function name -> (selector, input types) for every function of the ABI whose name is
        not overloaded (an overloaded name goes through web3, which picks the overload)."""
        functions = [item for item in self.abi if item.get("type") == "function"]
        names = Counter(str(item["name"]) for item in functions)
        return {
            str(item["name"]): (
                bytes(function_abi_to_4byte_selector(item)),  # type: ignore[arg-type]
                list(get_abi_input_types(item)),  # type: ignore[arg-type]
            )
            for item in functions
            if names[str(item["name"])] == 1
        }

    def wait(self, tx_hash: str, *, action: str = "") -> TxResult:
        """Wait for a transaction sent with :meth:`send`; the round's events decoded."""
        return wait_for_receipt(self.chain, tx_hash, contract=self.web3_contract, action=action)

    def transact(self, call: Call, sender: Sender) -> TxResult:
        """Send ``call`` and wait for it."""
        return self.wait(self.send(call, sender), action=call.function)

    def step(self, slot: TxSlot, action: str) -> RecordedStep:
        """The crash-safe step of the Solidity function ``action`` whose hash lives in ``slot``
        (its events decoded as this round's)."""
        return RecordedStep(self.chain, slot, action, self.web3_contract)

    # ------------------------------------------------------------------ reading

    @functools.cached_property
    def _functions(self) -> dict[str, ViewFunction]:
        """The ABI's functions, ready to encode and decode (:mod:`modelpact.chain.views`)."""
        return view_functions(self.abi)

    @functools.cached_property
    def _kept(self) -> dict[tuple[Any, ...], Any]:
        """Answers of views the round can never change once it answered them (see
        :meth:`_fixed_view`), by (snapshot reverts of the chain, function, arguments): going
        back to a snapshot (dev chains) un-happens what was final."""
        return {}

    def _function(self, name: str) -> ViewFunction:
        fn = self._functions.get(name)
        if fn is None:
            raise ChainError(f"the round's ABI has no function {name}", hint="report a bug")
        return fn

    def _view(self, name: str, *args: Any) -> Any:
        """One view call against the latest block (its revert as the contract's named error)."""
        return self._one(self.view_read(name, *args))

    def _one(self, read: Read) -> Any:
        """One :class:`Read` on its own (not batched): its value, or its exception raised."""
        client = getattr(self.chain.backend, "rpc", None)
        if client is None:  # the embedded chain: web3 in process
            return guarded(self.chain, self.abi, read.action, read.embedded)
        request = functools.partial(client.request, read.method, list(read.params))
        return read.decode(guarded(self.chain, self.abi, read.action, request))

    def _fixed_view(self, name: str, *args: Any) -> Any:
        """:meth:`_view` of a value the round cannot change once it exists, read once per
        contract object. Only for values fixed by the round's code (the clone's immutable
        args: config, coordinator, bond; the implementation's immutables and constants), which
        no transaction can change (the round has no SELFDESTRUCT, and a reorganisation that
        replaced the round under the same address within one command is the node lying like
        any other answer), and for what ``initialize`` or ``postModels`` write once and no
        other function writes (see :meth:`options` and :meth:`rung_model`). Exceptions are not
        kept: a view that reverted is asked again."""
        key = (self.chain.reverts, name, *args)
        if key not in self._kept:
            self._kept[key] = self._view(name, *args)
        return self._kept[key]

    def view_read(self, name: str, *args: Any) -> Read:
        """View ``name(*args)`` as a :class:`Read` (for :meth:`read`)."""
        fn = self._function(name)
        codec = self.chain.w3.codec
        data = fn.call_data(codec, args)
        return Read(
            method="eth_call",
            params=({"to": self.address, "data": data}, "latest"),
            decode=lambda answer: fn.result(codec, _hex_bytes(answer)),
            embedded=lambda: fn.result(codec, self._embedded_call(data)),
            action=name,
        )

    def events_read(
        self, from_block: int = 0, *, names: Sequence[str], participant: str | None = None
    ) -> Read:
        """:meth:`events` as a :class:`Read` (for :meth:`read`)."""
        topics: list[Any] = [[event_topic(self.abi, name) for name in names]] if names else []
        if participant is not None:
            if not names:
                raise ChainError("a participant's events need event names", hint="report a bug")
            for name in names:
                _require_participant_topic(self.abi, name)
            topics.append(["0x" + bytes(12).hex() + checksum_address(participant)[2:].lower()])
        query: dict[str, Any] = {"address": self.address, "toBlock": "latest"}
        # the embedded chain scans once per event-name filter (see _embedded_logs): the
        # participant is picked out after decoding, not by a rescan per participant
        scan = {**query, "topics": topics[:1]} if topics else query
        if topics:
            query["topics"] = topics
        query["fromBlock"] = hex(from_block)
        return Read(
            method="eth_getLogs",
            params=(query,),
            decode=lambda logs: self._decoded(list(logs), participant),
            embedded=lambda: self._decoded(self._embedded_logs(scan, from_block), participant),
            action="getLogs",
        )

    def balance_read(self, address: str) -> Read:
        """The ETH balance of ``address`` (wei) as a :class:`Read` (for :meth:`read`)."""
        account = checksum_address(address)
        return Read(
            method="eth_getBalance",
            params=(account, "latest"),
            decode=lambda answer: int(answer, 16),
            embedded=lambda: self.chain.balance(account),
            action="getBalance",
        )

    def read(self, reads: Sequence[Read]) -> list[Any]:
        """Several independent reads against the latest block, in one exchange with the node
        (a JSON-RPC batch; the embedded chain answers them one by one): each value, or the
        exception that read raised (a revert as the contract's named
        :class:`~modelpact.chain.errors.ContractRevertError`), in order. A node that does not
        answer raises for the whole batch."""
        client = getattr(self.chain.backend, "rpc", None)
        if client is None:
            answers = [_attempt(r.embedded) for r in reads]
        else:
            answers = []
            for start in range(0, len(reads), _BATCH_CALLS):
                chunk = [(r.method, list(r.params)) for r in reads[start : start + _BATCH_CALLS]]
                batch = functools.partial(_batch, client, chunk)
                raw = guarded(self.chain, (), "batch", batch)
                chunk_reads = reads[start : start + _BATCH_CALLS]
                answers += [
                    a if isinstance(a, Exception) else _attempt(functools.partial(r.decode, a))
                    for r, a in zip(chunk_reads, raw, strict=True)
                ]
            return [self._answer_of(r, a, raw=False) for r, a in zip(reads, answers, strict=True)]
        return [
            self._read_error(r.action, a) if isinstance(a, Exception) else a
            for r, a in zip(reads, answers, strict=True)
        ]

    def _answer_of(self, read: Read, answer: Any, *, raw: bool = True) -> Any:
        """The node's ``answer`` to ``read`` (decoded unless ``raw`` is False: done already) as
        :meth:`read` returns it: the value, or the exception (a revert as the contract's named
        error)."""
        if not isinstance(answer, Exception) and raw:
            answer = _attempt(functools.partial(read.decode, answer))
        return self._read_error(read.action, answer) if isinstance(answer, Exception) else answer

    def views(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """:meth:`read` of several views (name, arguments): one exchange with the node."""
        return self.read([self.view_read(name, *args) for name, args in calls])

    def _read_error(self, name: str, exc: Exception) -> Exception:
        """A view's exception as :func:`guarded` would have raised it (a revert decoded)."""
        try:
            guarded(self.chain, self.abi, name, functools.partial(_raise, exc))
        except Exception as error:  # handed back to the caller, who raises it
            return error
        return exc

    def _embedded_call(self, data: str) -> bytes:
        """``eth_call`` on the embedded chain (web3 in process: the exceptions ``fn.call()``
        raised, which the embedded backend decodes)."""
        tx: Any = {"to": self.address, "data": data}
        return bytes(self.chain.w3.eth.call(tx, "latest"))

    # ------------------------------------------------------------------ actions

    @action
    def join(
        self,
        *,
        option_id: int,
        data_root: bytes,
        row_count: int,
        commitment: bytes,
        value: int | None = None,
    ) -> Call:
        """Join with an option, the (address-bound) data root, its row count and the randomness
        commitment (which carries the delivery key); ``value`` defaults to the participant bond."""
        bond = self.config().participant_bond if value is None else value
        return Call("join", (option_id, data_root, row_count, commitment), bond)

    @action
    def reveal_coordinator(self, secret: bytes) -> Call:
        """The coordinator reveals its randomness secret (Post phase)."""
        return Call("revealCoordinator", (secret,))

    @action
    def post_models(
        self,
        *,
        collective: Tier,
        logs: Sequence[bytes],
        tiers: Sequence[Tier] = (),
        undelivered: Sequence[str] = (),
    ) -> Call:
        """Post the collective model and the reward tiers (budget- and curve-checked on chain),
        naming the joined participants whose data did not arrive (sorted here, ascending).
        ``logs``: each posted model's packed evaluation log
        (:func:`modelpact.encoding.pack_eval_log`), the collective model's first, then the
        tiers' in order; they stay in the transaction input, where challengers read them."""
        return Call(
            "postModels",
            (
                collective.as_tuple(),
                [t.as_tuple() for t in tiers],
                _ascending(undelivered),
                [bytes(log) for log in logs],
            ),
        )

    @action
    def cancel_below_quorum(self, undelivered: Sequence[str]) -> Call:
        """The coordinator cancels a round in which fewer than quorum participants delivered."""
        return Call("cancelBelowQuorum", (_ascending(undelivered),))

    @action
    def reveal(self, *, data_root: bytes, secret: bytes, delivery_key: tuple[int, int]) -> Call:
        """A participant reveals its secret and delivery key (Reveal phase)."""
        return Call("reveal", (data_root, secret, delivery_key[0], delivery_key[1]))

    @action
    def claim(self, *, data_root: bytes, secret: bytes, delivery_key: tuple[int, int]) -> Call:
        """A revealed participant claims its rung, bond and entitlement (forfeits are burned)."""
        return Call("claim", (data_root, secret, delivery_key[0], delivery_key[1]))

    @action
    def deliver(self, *, participant: str, ephemeral: tuple[int, int], ciphertext: bytes) -> Call:
        """The coordinator delivers ``participant``'s model encrypted to its delivery key
        (ephemeral public key E and the ciphertext, :func:`modelpact.delivery.encrypt`)."""
        return Call(
            "deliver",
            (checksum_address(participant), ephemeral[0], ephemeral[1], bytes(ciphertext)),
        )

    @action
    def dispute_delivery(
        self,
        *,
        data_root: bytes,
        secret: bytes,
        delivery_secret_key: int,
        ephemeral: tuple[int, int],
        ciphertext: bytes,
    ) -> Call:
        """A participant proves its stored delivery does not decrypt to its rung's model
        (reveals its round delivery secret key)."""
        return Call(
            "disputeDelivery",
            (data_root, secret, delivery_secret_key, ephemeral[0], ephemeral[1], bytes(ciphertext)),
        )

    @action
    def prove_non_delivery(
        self, *, data_root: bytes, secret: bytes, delivery_key: tuple[int, int]
    ) -> Call:
        """A participant with a rung above 0 and no delivery, after the delivery deadline."""
        return Call("proveNonDelivery", (data_root, secret, delivery_key[0], delivery_key[1]))

    @action
    def challenge(self, evidence: tuple[Any, ...]) -> Call:
        """Anyone proves a posted claim false (the ``Challenge`` tuple, see
        :mod:`modelpact.round.fraud`)."""
        return Call("challenge", (evidence,))

    @action
    def withdraw_compensation(self) -> Call:
        """A deliverer takes any unpaid part of its entitlement out of the coordinator's bond."""
        return Call("withdrawCompensation")

    @action
    def withdraw_after_default(self) -> Call:
        """After a coordinator default: bond + share of the coordinator's bond."""
        return Call("withdrawAfterDefault")

    @action
    def withdraw_after_cancel(self) -> Call:
        """After a cancel: exactly the bond back (the coordinator's cancel burns B)."""
        return Call("withdrawAfterCancel")

    @action
    def sweep(self) -> Call:
        """What is the coordinator's own once nothing more can be owed (see the contract)."""
        return Call("sweep")

    # ------------------------------------------------------------------ views

    def coordinator(self) -> ChecksumAddress:
        """The coordinator's address."""
        return checksum_address(self._fixed_view("coordinator"))

    def coordinator_bond(self) -> int:
        """The coordinator's bond, wei."""
        return int(self._fixed_view("coordinatorBond"))

    def coordinator_secret(self) -> bytes:
        """The revealed coordinator secret (zero bytes before the reveal)."""
        return bytes(self._view("coordinatorSecret"))

    def phase(self) -> Phase:
        """The current phase as of the latest block."""
        return Phase(self._view("phase"))

    def min_window(self) -> int:
        """The contract's MIN_WINDOW, seconds."""
        return int(self._fixed_view("MIN_WINDOW"))

    def option_count(self) -> int:
        """Number of menu options."""
        key = (self.chain.reverts, "optionCount")
        if key in self._kept:
            return int(self._kept[key])
        count = int(self._view("optionCount"))
        if count > 0:  # initialized: ``initialize`` writes the menu once (AlreadyInitialized)
            self._kept[key] = count
        return count

    def option(self, option_id: int) -> OnchainOption:
        """Menu option ``option_id``."""
        if self._initialized():  # its terms are written once, by ``initialize``
            d, r, t, tb = self._fixed_view("option", option_id)
        else:
            d, r, t, tb = self._view("option", option_id)
        return OnchainOption(int(d), int(r), int(t), int(tb))

    def options(self) -> tuple[OnchainOption, ...]:
        """The whole menu."""
        return tuple(self.option(i) for i in range(self.option_count()))

    def _initialized(self) -> bool:
        """Whether ``initialize`` ran (a menu exists), after which the menu and the curve never
        change: ``initialize`` is refused once the menu is stored and nothing else writes
        them (ModelpactProofs.initialize)."""
        return self.option_count() > 0

    def config(self) -> RoundConfig:
        """Capacity, quorum, bond, commitments, curve terms and schedule."""
        return config_of(self._fixed_view("config"))

    def deadlines(self) -> Deadlines:
        """The absolute deadlines (reveal, delivery, claim are 0 before the post)."""
        return Deadlines(*map(int, self._view("deadlines")))

    def data_deadline(self) -> int:
        """The last second of the data window (posting and cancelling open after it): 0 while
        joining is open, then MIN_WINDOW after joining closed (issue 11.7)."""
        return int(self._view("dataDeadline"))

    def participant(self, account: str) -> ParticipantState:
        """What the contract remembers of ``account`` (NotParticipant if it never joined)."""
        return participant_of(self._view("participant", checksum_address(account)))

    def standing(
        self,
        account: str,
        *,
        stored_under: bytes | None = None,
        joined_since: int | None = None,
        balance: bool = False,
    ) -> Standing:
        """What the contract remembers of ``account`` and the phase, with what is stored under
        the data root ``stored_under`` (``commitmentOf``), its ``Joined`` event (searched from
        block ``joined_since``) and its balance (``balance``) when asked, in one exchange with
        the node: what a participant's step checks before it sends."""
        reads, standing_of = self.standing_reads(
            account, stored_under=stored_under, joined_since=joined_since, balance=balance
        )
        return standing_of(self.read(reads))

    def standing_reads(
        self,
        account: str,
        *,
        stored_under: bytes | None = None,
        joined_since: int | None = None,
        balance: bool = False,
    ) -> tuple[list[Read], Callable[[Sequence[Any]], Standing]]:
        """:meth:`standing` as the reads it takes and what makes the :class:`Standing` of their
        answers: a step that sends hands them to :meth:`prepare`, so they ride in its
        pre-flight's exchange. What ``commitmentOf`` stores under a root is kept once it is not
        zero: only a join writes it, and only where nothing is stored (DuplicateDataRoot)."""
        who = checksum_address(account)
        reads = [self.view_read("participant", who), self.view_read("phase")]
        kept = (self.chain.reverts, "commitmentOf", stored_under)
        ask_stored = stored_under is not None and kept not in self._kept
        if ask_stored:
            reads.append(self.view_read("commitmentOf", stored_under))
        if joined_since is not None:
            reads.append(self.events_read(joined_since, names=("Joined",), participant=who))
        if balance:
            reads.append(self.balance_read(who))

        def standing_of(read: Sequence[Any]) -> Standing:
            answers = iter(read)
            record, phase = next(answers), next(answers)
            stored = self._kept.get(kept) if stored_under is not None else None
            if ask_stored:
                stored = bytes(_answer(next(answers)))
                if any(stored):
                    self._kept[kept] = stored
            joined = _answer(next(answers)) if joined_since is not None else None
            return Standing(
                participant=_participant_or_none(record),
                phase=Phase(_answer(phase)),
                stored_commitment=stored,
                joined=joined[0] if joined else None,
                balance=int(_answer(next(answers))) if balance else None,
            )

        return reads, standing_of

    def participants(self, accounts: Sequence[str]) -> list[ParticipantState | None]:
        """:meth:`participant` of each of ``accounts`` (None: never joined), in one exchange."""
        answers = self.views([("participant", (checksum_address(a),)) for a in accounts])
        return [_participant_or_none(answer) for answer in answers]

    def deliveries_of(self, accounts: Sequence[str]) -> list[bytes]:
        """:meth:`delivery_of` of each of ``accounts``, in one exchange."""
        answers = self.views([("deliveryOf", (checksum_address(a),)) for a in accounts])
        return [bytes(_answer(answer)) for answer in answers]

    def commitment_of(self, data_root: bytes) -> bytes:
        """What is stored under ``data_root``: the randomness commitment bound to the joining
        address (``encoding.stored_commitment``; zero if never joined)."""
        return bytes(self._view("commitmentOf", data_root))

    def joined_count(self) -> int:
        """Participants who joined."""
        return int(self._view("joinedCount"))

    def delivered_count(self) -> int:
        """Joiners not named undelivered (= joined before the post)."""
        return int(self._view("deliveredCount"))

    def revealed_count(self) -> int:
        """Participants who revealed."""
        return int(self._view("revealedCount"))

    def total_data(self) -> int:
        """Rows committed by the deliverers (every joiner before the post)."""
        return int(self._view("totalData"))

    def option_join_count(self, option_id: int) -> int:
        """Participants who joined with ``option_id``."""
        return int(self._view("optionJoinCount", option_id))

    def tier_count(self) -> int:
        """Posted reward tiers."""
        return int(self._view("tierCount"))

    def tier(self, index: int) -> Tier:
        """Reward tier ``index`` (0-based; rung = index + 1)."""
        return _posted(self._fixed_view("tier", index))  # answers only once posted: final

    def tiers(self) -> tuple[Tier, ...]:
        """All posted tiers, ascending."""
        return tuple(self.tier(i) for i in range(self.tier_count()))

    def collective_model(self) -> Tier:
        """The collective model's hash, accuracy and log root (zero before posting)."""
        return _posted(self._view("collectiveModel"))

    def rung_model(self, rung: int) -> Tier:
        """The model of rung 1..tierCount()+1 (log root 0: roots live in the commitment)."""
        # it answers only once the models are posted (TierOutOfRange before), and
        # ``postModels`` runs once and is the only writer of the posted models: final
        return _posted(self._fixed_view("rungModel", rung))

    def post_commitment(self) -> bytes:
        """keccak256(abi.encode(ModelCommitment[])) of the post (issue 14)."""
        return bytes(self._view("postCommitment"))

    def fraud_proven(self) -> bool:
        """Whether a challenge proved a posted claim false."""
        return bool(self._view("fraudProven"))

    def delivery_of(self, account: str) -> bytes:
        """keccak256(abi.encode(E.x, E.y, keccak256(ciphertext))) of ``account``'s delivery
        (zero bytes: nothing delivered)."""
        return bytes(self._view("deliveryOf", checksum_address(account)))

    def proofs_address(self) -> ChecksumAddress:
        """The ModelpactProofs extension the round DELEGATECALLs."""
        return checksum_address(self._fixed_view("proofs"))

    def assignment(self, account: str, secret: bytes) -> Assignment:
        """The rung ``account`` is (or would be) assigned for ``secret``, with accuracy and
        target."""
        rung, acc, target = self._view("assignment", checksum_address(account), secret)
        return Assignment(int(rung), int(acc), int(target))

    def predicted_accuracy(self, data_count: int) -> int:
        """The committed curve at ``data_count`` rows (WAD)."""
        if self._initialized():  # the curve is written once, by ``initialize``
            return int(self._fixed_view("predictedAccuracy", data_count))
        return int(self._view("predictedAccuracy", data_count))

    def shortfall(self) -> tuple[int, int]:
        """The curve check's shortfall (WAD) and each deliverer's allot (wei)."""
        s, allot = self._view("shortfall")
        return int(s), int(allot)

    def entitlement(self, account: str) -> tuple[int, int]:
        """What ``account`` is owed out of the coordinator's bond in total, and what was paid."""
        owed, paid = self._view("entitlement", checksum_address(account))
        return int(owed), int(paid)

    def owed(self, account: str) -> int:
        """What the contract owes ``account`` as things stand, wei."""
        return int(self._view("owed", checksum_address(account)))

    def liability(self) -> int:
        """The part of the coordinator's bond that belongs to participants, wei."""
        return int(self._view("liability"))

    def burned(self) -> int:
        """Wei the contract holds for ever (burned bonds, and B after the coordinator's cancel)."""
        return int(self._view("burned"))

    def slash_share(self) -> int:
        """Each revealer's share of forfeited bonds, wei."""
        return int(self._view("slashShare"))

    def swept(self) -> bool:
        """Whether the coordinator swept its part."""
        return bool(self._view("swept"))

    def balance(self) -> int:
        """ETH held by the contract, wei."""
        return self.chain.balance(self.address)

    def runtime_code(self) -> bytes:
        """The deployed runtime bytecode."""
        return bytes(self.chain.w3.eth.get_code(self.address))

    def call_arguments(self, tx_hash: str, function: str) -> dict[str, Any] | None:
        """The decoded arguments of transaction ``tx_hash`` when it called ``function`` of this
        round directly (None: the node does not serve it, or its input is another call, e.g. a
        multisig wrapping the call). How challengers read the logs ``postModels`` took."""
        from web3.exceptions import Web3Exception

        def fetch() -> Any:
            return self.chain.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]

        try:
            tx = guarded(self.chain, self.abi, "getTransaction", fetch)
            called, args = self.web3_contract.decode_function_input(tx["input"])
        except (Web3Exception, ValueError, KeyError):
            return None
        if called.fn_name != function or tx.get("to") != self.address:
            return None
        return dict(args)

    def events(
        self, from_block: int = 0, *, names: Sequence[str] = (), participant: str | None = None
    ) -> list[RoundEvent]:
        """Every event of the round from ``from_block`` on (only those called ``names``, when
        given: the node filters them by topic, so a participant's lookup of its own event does
        not fetch and decode every participant's), decoded, in chain order. With
        ``participant``, only the events whose indexed ``participant`` is that address: a node
        filters them by that topic too, and they are checked again here after decoding (a node
        may answer anything: one that adds other participants' events gains nothing)."""
        return list(self._one(self.events_read(from_block, names=names, participant=participant)))

    def _decoded(self, logs: list[Any], participant: str | None) -> list[RoundEvent]:
        """``logs`` decoded as this round's events (``participant``'s only, when given), in
        chain order."""
        events = decode_logs(self.web3_contract, logs)
        if participant is not None:
            who = participant.lower()
            events = [e for e in events if str(e.args.get("participant", "")).lower() == who]
        return sorted(events, key=lambda e: (e.block_number, e.log_index))

    @functools.cached_property
    def _log_scans(self) -> dict[str, tuple[int, int, list[Any]]]:
        """Per topic filter: (first block, last block scanned, logs) of the embedded chain."""
        return {}

    def _embedded_logs(self, query: dict[str, Any], from_block: int) -> list[Any]:
        """The embedded chain's logs from ``from_block``, scanning only blocks not scanned
        before. eth-tester's getLogs decodes every block and receipt of its range whatever the
        filter, so a round whose 50 participants each look up their own delivery rescanned the
        whole round 50 times (minutes); its blocks never reorganise, so what was scanned stays."""
        key = repr(query.get("topics"))
        first, scanned, logs = self._log_scans.get(key, (from_block, from_block - 1, []))
        if from_block < first:
            first, scanned, logs = from_block, from_block - 1, []
        latest = int(self.chain.w3.eth.block_number)
        if latest > scanned:
            window = {**query, "fromBlock": scanned + 1, "toBlock": latest}
            logs = logs + list(self.chain.w3.eth.get_logs(window))  # type: ignore[arg-type]
            self._log_scans[key] = (first, latest, logs)
        return [log for log in logs if int(log["blockNumber"]) >= from_block]


def _plain(value: Any) -> bool:
    """Whether ``value`` is an argument eth-abi encodes exactly as web3 would: ints, bools,
    bytes, checksummed addresses, and lists or tuples of them. (web3 also converts hex strings
    to bytes and refuses addresses that are not checksummed: such values go through web3.)"""
    if isinstance(value, int | bytes):
        return True
    if isinstance(value, str):
        return is_checksum_address(value)
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    return False


def event_topic(abi: Sequence[Mapping[str, Any]], name: str) -> str:
    """The log topic (0x hex) of event ``name`` in ``abi``."""
    from eth_utils.abi import event_abi_to_log_topic

    for item in abi:
        if item.get("type") == "event" and item.get("name") == name:
            return "0x" + bytes(event_abi_to_log_topic(dict(item))).hex()  # type: ignore[arg-type]
    raise ChainError(f"the round's ABI has no event {name}", hint="report a bug")


def _require_participant_topic(abi: Sequence[Mapping[str, Any]], name: str) -> None:
    """Event ``name``'s first indexed argument must be ``participant`` (its topic 1)."""
    for item in abi:
        if item.get("type") == "event" and item.get("name") == name:
            indexed = [i for i in item.get("inputs", ()) if i.get("indexed")]
            if indexed and indexed[0].get("name") == "participant":
                return
    raise ChainError(f"event {name} is not indexed by participant", hint="report a bug")


def round_events(round_contract: RoundContract, from_block: int = 0) -> list[RoundEvent]:
    """Every event of the round from ``from_block`` on (:meth:`RoundContract.events`)."""
    return round_contract.events(from_block)


def _ascending(accounts: Sequence[str]) -> list[ChecksumAddress]:
    """Addresses in the strictly ascending (numeric) order the contract requires, deduplicated."""
    unique = {int(a, 16): checksum_address(a) for a in accounts}
    return [unique[k] for k in sorted(unique)]


def _answer(answer: Any) -> Any:
    """One answer of :meth:`RoundContract.views`: raised when it is the view's exception."""
    if isinstance(answer, Exception):
        raise answer
    return answer


def _participant_or_none(answer: Any) -> ParticipantState | None:
    """A ``participant`` view's answer; None when it reverted with NotParticipant."""
    if getattr(answer, "error_name", None) == "NotParticipant":
        return None
    return participant_of(_answer(answer))


def _posted(value: Any) -> Tier:
    h, acc, root = value
    return Tier(bytes(h), int(acc), bytes(root))


def config_of(value: Any) -> RoundConfig:
    """A decoded ``Config`` tuple (the ``config()`` view or the ``RoundPublished`` event)."""
    return RoundConfig.from_abi(value)


def participant_of(value: Any) -> ParticipantState:
    """A decoded ``Participant`` tuple."""
    return ParticipantState.from_abi(value)


_BATCH_CALLS = 100
"""Views per JSON-RPC batch (public endpoints cap batches; 100 is within the common limits)."""


def _batch(client: Any, calls: list[tuple[str, list[Any]]]) -> list[Any]:
    """``client.batch(calls)``; a node that refuses the batch -- as a whole (one error object),
    or call by call with errors that are no reverts (a batch size limit, batches not served) --
    is asked one call at a time instead."""
    from modelpact.chain.backends.jsonrpc import RpcError

    try:
        answers: list[Any] | None = list(client.batch(calls))
    except RpcError:
        answers = None
    if answers is None or (
        len(calls) > 1 and all(isinstance(a, RpcError) and a.data is None for a in answers)
    ):
        return [_attempt(functools.partial(client.request, *c)) for c in calls]
    return answers


def _attempt(fn: Callable[[], Any]) -> Any:
    """``fn()``, or the exception it raised (a batch hands each call's failure back)."""
    try:
        return fn()
    except Exception as error:  # handed back to the caller, who raises it
        return error


def _raise(exc: Exception) -> Any:
    raise exc


def _hex_bytes(answer: Any) -> bytes:
    """A JSON-RPC data answer (0x hex) as bytes."""
    text = str(answer)
    return bytes.fromhex(text[2:] if text.startswith(("0x", "0X")) else text)

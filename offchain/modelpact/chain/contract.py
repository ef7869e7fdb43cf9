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
from eth_typing import ChecksumAddress
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types
from eth_utils.address import is_checksum_address, to_checksum_address
from web3.contract import Contract

from modelpact.chain.backends.base import Chain
from modelpact.chain.errors import ChainError
from modelpact.chain.transactions import (
    EncodedCall,
    RecordedStep,
    RoundEvent,
    Sender,
    TxResult,
    TxSlot,
    decode_logs,
    guarded,
    send_transaction,
    wait_for_receipt,
)
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
    "RoundContract",
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
        target = self._encoded(call)
        bound = GAS_BOUNDS.get(call.function) if isinstance(target, EncodedCall) else None
        return send_transaction(
            self.chain,
            target,
            sender,
            value=call.value,
            nonce=nonce,
            abi=self.abi,
            action=call.function,
            gas_bound=None if bound is None else bound.limit(target.data),
        )

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

    def _view(self, name: str, *args: Any) -> Any:
        fn = getattr(self.web3_contract.functions, name)(*args)
        client = getattr(self.chain.backend, "rpc", None)
        if client is None:  # the embedded chain: web3 in process
            return guarded(self.chain, self.abi, name, fn.call)
        return guarded(self.chain, self.abi, name, lambda: _lean_call(self.chain, client, fn))

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
            (to_checksum_address(participant), ephemeral[0], ephemeral[1], bytes(ciphertext)),
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
        return to_checksum_address(self._view("coordinator"))

    def coordinator_bond(self) -> int:
        """The coordinator's bond, wei."""
        return int(self._view("coordinatorBond"))

    def coordinator_secret(self) -> bytes:
        """The revealed coordinator secret (zero bytes before the reveal)."""
        return bytes(self._view("coordinatorSecret"))

    def phase(self) -> Phase:
        """The current phase as of the latest block."""
        return Phase(self._view("phase"))

    def min_window(self) -> int:
        """The contract's MIN_WINDOW, seconds."""
        return int(self._view("MIN_WINDOW"))

    def option_count(self) -> int:
        """Number of menu options."""
        return int(self._view("optionCount"))

    def option(self, option_id: int) -> OnchainOption:
        """Menu option ``option_id``."""
        d, r, t, tb = self._view("option", option_id)
        return OnchainOption(int(d), int(r), int(t), int(tb))

    def options(self) -> tuple[OnchainOption, ...]:
        """The whole menu."""
        return tuple(self.option(i) for i in range(self.option_count()))

    def config(self) -> RoundConfig:
        """Capacity, quorum, bond, commitments, curve terms and schedule."""
        return config_of(self._view("config"))

    def deadlines(self) -> Deadlines:
        """The absolute deadlines (reveal, delivery, claim are 0 before the post)."""
        return Deadlines(*map(int, self._view("deadlines")))

    def data_deadline(self) -> int:
        """The last second of the data window (posting and cancelling open after it): 0 while
        joining is open, then MIN_WINDOW after joining closed (issue 11.7)."""
        return int(self._view("dataDeadline"))

    def participant(self, account: str) -> ParticipantState:
        """What the contract remembers of ``account`` (NotParticipant if it never joined)."""
        return participant_of(self._view("participant", to_checksum_address(account)))

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
        return _posted(self._view("tier", index))

    def tiers(self) -> tuple[Tier, ...]:
        """All posted tiers, ascending."""
        return tuple(self.tier(i) for i in range(self.tier_count()))

    def collective_model(self) -> Tier:
        """The collective model's hash, accuracy and log root (zero before posting)."""
        return _posted(self._view("collectiveModel"))

    def rung_model(self, rung: int) -> Tier:
        """The model of rung 1..tierCount()+1 (log root 0: roots live in the commitment)."""
        return _posted(self._view("rungModel", rung))

    def post_commitment(self) -> bytes:
        """keccak256(abi.encode(ModelCommitment[])) of the post (issue 14)."""
        return bytes(self._view("postCommitment"))

    def fraud_proven(self) -> bool:
        """Whether a challenge proved a posted claim false."""
        return bool(self._view("fraudProven"))

    def delivery_of(self, account: str) -> bytes:
        """keccak256(abi.encode(E.x, E.y, keccak256(ciphertext))) of ``account``'s delivery
        (zero bytes: nothing delivered)."""
        return bytes(self._view("deliveryOf", to_checksum_address(account)))

    def proofs_address(self) -> ChecksumAddress:
        """The ModelpactProofs extension the round DELEGATECALLs."""
        return to_checksum_address(self._view("proofs"))

    def assignment(self, account: str, secret: bytes) -> Assignment:
        """The rung ``account`` is (or would be) assigned for ``secret``, with accuracy and
        target."""
        rung, acc, target = self._view("assignment", to_checksum_address(account), secret)
        return Assignment(int(rung), int(acc), int(target))

    def predicted_accuracy(self, data_count: int) -> int:
        """The committed curve at ``data_count`` rows (WAD)."""
        return int(self._view("predictedAccuracy", data_count))

    def shortfall(self) -> tuple[int, int]:
        """The curve check's shortfall (WAD) and each deliverer's allot (wei)."""
        s, allot = self._view("shortfall")
        return int(s), int(allot)

    def entitlement(self, account: str) -> tuple[int, int]:
        """What ``account`` is owed out of the coordinator's bond in total, and what was paid."""
        owed, paid = self._view("entitlement", to_checksum_address(account))
        return int(owed), int(paid)

    def owed(self, account: str) -> int:
        """What the contract owes ``account`` as things stand, wei."""
        return int(self._view("owed", to_checksum_address(account)))

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

    def events(self, from_block: int = 0, *, names: Sequence[str] = ()) -> list[RoundEvent]:
        """Every event of the round from ``from_block`` on (only those called ``names``, when
        given: the node filters them by topic, so a participant's lookup of its own event does
        not fetch and decode every participant's), decoded, in chain order."""
        topics = [event_topic(self.abi, name) for name in names]
        client = getattr(self.chain.backend, "rpc", None)

        def fetch() -> list[Any]:
            query: dict[str, Any] = {"address": self.address, "toBlock": "latest"}
            if topics:
                query["topics"] = [topics]
            if client is not None:
                query["fromBlock"] = hex(from_block)
                return list(client.request("eth_getLogs", [query]))  # decoded as they are
            return self._embedded_logs(query, from_block)

        logs = guarded(self.chain, (), "getLogs", fetch)
        events = decode_logs(self.web3_contract, logs)
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


def round_events(round_contract: RoundContract, from_block: int = 0) -> list[RoundEvent]:
    """Every event of the round from ``from_block`` on (:meth:`RoundContract.events`)."""
    return round_contract.events(from_block)


def _ascending(accounts: Sequence[str]) -> list[ChecksumAddress]:
    """Addresses in the strictly ascending (numeric) order the contract requires, deduplicated."""
    unique = {int(a, 16): to_checksum_address(a) for a in accounts}
    return [unique[k] for k in sorted(unique)]


def _posted(value: Any) -> Tier:
    h, acc, root = value
    return Tier(bytes(h), int(acc), bytes(root))


def config_of(value: Any) -> RoundConfig:
    """A decoded ``Config`` tuple (the ``config()`` view or the ``RoundPublished`` event)."""
    return RoundConfig.from_abi(value)


def participant_of(value: Any) -> ParticipantState:
    """A decoded ``Participant`` tuple."""
    return ParticipantState.from_abi(value)


def _lean_call(chain: Chain, client: Any, fn: Any) -> Any:
    """``fn.call()`` through the backend's lean JSON-RPC client: encoded and decoded as web3
    does (addresses checksummed, one output unwrapped), without web3's request stack."""
    from eth_utils.abi import get_abi_output_types
    from web3._utils.abi import map_abi_data
    from web3._utils.normalizers import BASE_RETURN_NORMALIZERS
    from web3.exceptions import BadFunctionCallOutput

    data = client.request(
        "eth_call", [{"to": fn.address, "data": fn._encode_transaction_data()}, "latest"]
    )
    output_types = get_abi_output_types(fn.abi)
    raw = bytes.fromhex(str(data)[2:])
    if not raw and output_types:
        raise BadFunctionCallOutput(f"{fn.fn_name} returned no data: is a contract there?")
    decoded = chain.w3.codec.decode(output_types, raw)
    normalized = map_abi_data(BASE_RETURN_NORMALIZERS, output_types, decoded)
    return normalized[0] if len(normalized) == 1 else normalized

"""The typed ``ModelpactRound`` contract: one method per action, one per view.

Everything returned is a plain frozen value (see the dataclasses in :mod:`modelpact.encoding`), so
the round workflows and the auditor never touch web3 objects.

An action is one small method decorated with :func:`action` that says which Solidity function
to call with which arguments (a :class:`Call`); the decorator gives it two faces:

    rc.reveal(sender, secret)             # send, wait, return the TxResult with decoded events
    rc.reveal.call(secret)                # just the Call: for a recorded step or a batch
    rc.send(rc.reveal.call(secret), sender)   # the hash, before any receipt

Reverts -- at gas estimation or in a mined receipt -- become
:class:`~modelpact.chain.errors.ContractRevertError` with the custom error's name and arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, overload

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3.contract import Contract

from modelpact.chain.backends.base import Chain
from modelpact.chain.transactions import (
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

__all__ = ["Call", "RoundContract", "action", "round_events"]

_P = ParamSpec("_P")


@dataclass(frozen=True)
class Call:
    """An unsent contract call: the Solidity function, its arguments, the wei it carries."""

    function: str
    args: tuple[Any, ...] = ()
    value: int = 0


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
        """Broadcast ``call`` from ``sender``; returns the tx hash before any receipt."""
        function = getattr(self.web3_contract.functions, call.function)(*call.args)
        return send_transaction(
            self.chain,
            function,
            sender,
            value=call.value,
            nonce=nonce,
            abi=self.abi,
            action=call.function,
        )

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
        return guarded(self.chain, self.abi, name, fn.call)

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
        """Join with an option, the data root, its row count and a randomness commitment;
        ``value`` defaults to the participant bond."""
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
        collective_model_hash: bytes,
        collective_accuracy_wad: int,
        tiers: Sequence[Tier] = (),
    ) -> Call:
        """Post the collective model and the reward tiers (budget-checked on chain)."""
        encoded = [(t.model_hash, t.accuracy_wad) for t in tiers]
        return Call("postModels", (collective_model_hash, collective_accuracy_wad, encoded))

    @action
    def reveal(self, secret: bytes) -> Call:
        """A participant reveals its randomness secret (Reveal phase)."""
        return Call("reveal", (secret,))

    @action
    def claim(self) -> Call:
        """A revealed participant claims its rung and its bond (+ slash share)."""
        return Call("claim")

    @action
    def withdraw_after_default(self) -> Call:
        """After a coordinator default: bond + share of the coordinator's bond."""
        return Call("withdrawAfterDefault")

    @action
    def sweep(self) -> Call:
        """After the claim deadline (or an empty join phase): the rest goes to the coordinator."""
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
        """Capacity, bond, commitments and deadlines."""
        cap, bond, scen, test, coord, dl = self._view("config")
        return RoundConfig(
            int(cap), int(bond), bytes(scen), bytes(test), bytes(coord), Deadlines(*map(int, dl))
        )

    def participant(self, account: str) -> ParticipantState:
        """What the contract remembers of ``account`` (NotParticipant if it never joined)."""
        idx, opt, rev, clm, com, seed = self._view("participant", to_checksum_address(account))
        return ParticipantState(int(idx), int(opt), bool(rev), bool(clm), bytes(com), bytes(seed))

    def joined_count(self) -> int:
        """Participants who joined."""
        return int(self._view("joinedCount"))

    def revealed_count(self) -> int:
        """Participants who revealed."""
        return int(self._view("revealedCount"))

    def total_data(self) -> int:
        """Total rows committed."""
        return int(self._view("totalData"))

    def option_join_count(self, option_id: int) -> int:
        """Participants who joined with ``option_id``."""
        return int(self._view("optionJoinCount", option_id))

    def tier_count(self) -> int:
        """Posted reward tiers."""
        return int(self._view("tierCount"))

    def tier(self, index: int) -> Tier:
        """Reward tier ``index`` (0-based; rung = index + 1)."""
        h, acc = self._view("tier", index)
        return Tier(bytes(h), int(acc))

    def tiers(self) -> tuple[Tier, ...]:
        """All posted tiers, ascending."""
        return tuple(self.tier(i) for i in range(self.tier_count()))

    def collective_model(self) -> Tier:
        """The collective model's hash and accuracy (zero before posting)."""
        h, acc = self._view("collectiveModel")
        return Tier(bytes(h), int(acc))

    def assignment(self, account: str) -> Assignment:
        """The rung ``account`` is (or would be) assigned, with its accuracy and target."""
        rung, acc, target = self._view("assignment", to_checksum_address(account))
        return Assignment(int(rung), int(acc), int(target))

    def predicted_accuracy(self, data_count: int) -> int:
        """The committed curve at ``data_count`` rows (WAD)."""
        return int(self._view("predictedAccuracy", data_count))

    def slash_share(self) -> int:
        """Each revealer's share of forfeited bonds, wei."""
        return int(self._view("slashShare"))

    def balance(self) -> int:
        """ETH held by the contract, wei."""
        return self.chain.balance(self.address)

    def runtime_code(self) -> bytes:
        """The deployed runtime bytecode."""
        return bytes(self.chain.w3.eth.get_code(self.address))

    def events(self, from_block: int = 0) -> list[RoundEvent]:
        """Every event of the round from ``from_block`` on, decoded, in chain order."""

        def fetch() -> list[Any]:
            query = {"address": self.address, "fromBlock": from_block, "toBlock": "latest"}
            return list(self.chain.w3.eth.get_logs(query))  # type: ignore[arg-type]

        logs = guarded(self.chain, (), "getLogs", fetch)
        events = decode_logs(self.web3_contract, logs)
        return sorted(events, key=lambda e: (e.block_number, e.log_index))


def round_events(round_contract: RoundContract, from_block: int = 0) -> list[RoundEvent]:
    """Every event of the round from ``from_block`` on (:meth:`RoundContract.events`)."""
    return round_contract.events(from_block)

"""THE adapter to the chain: connect, deploy, typed calls, revert decoding, events.

This is the only module (with :mod:`modelpact.anvil`) that talks to a node. Everything it returns
is a plain frozen value (see the dataclasses in :mod:`modelpact.encoding`), so the round workflows
and the auditor never touch web3 objects.

Chains:

- ``connect(chain="embedded")``: an in-process eth-tester (py-evm) chain, no node at all; its ten
  funded accounts come with private keys.
- ``connect(chain="anvil", rpc_url=...)`` or ``connect(rpc_url=...)``: any EVM JSON-RPC endpoint.
  Anvil's default dev accounts get their private keys (derived from anvil's default mnemonic).

Transactions are sent from an eth-account ``LocalAccount`` (signed locally, e.g. a participant's
keystore) or from an address the node unlocks. Sending and waiting are separate steps
(:func:`send_transaction` returns the hash before any receipt) so a wallet script can record the
hash first. Reverts -- at gas estimation or in a mined receipt -- become
:class:`ContractRevertError` with the custom error's name and decoded arguments.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxParams, TxReceipt

from modelpact.compiler import CompiledContract, compile_round
from modelpact.encoding import (
    Assignment,
    CurveKnot,
    Deadlines,
    OnchainOption,
    ParticipantState,
    Phase,
    RoundConfig,
    Tier,
)
from modelpact.errors import ModelpactError

__all__ = [
    "ANVIL_MNEMONIC",
    "RPC_ATTEMPTS",
    "RPC_BACKOFF_SECONDS",
    "Chain",
    "ChainError",
    "ContractRevertError",
    "NodeUnavailableError",
    "RoundContract",
    "RoundEvent",
    "Sender",
    "TxResult",
    "advance_time",
    "chain_time",
    "connect",
    "decode_revert",
    "deploy_round",
    "revert_from_exception",
    "round_at",
    "round_events",
    "send_raw_once",
    "send_transaction",
    "transaction_known",
    "transfer",
    "wait_for_receipt",
]

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
"""Anvil's default dev mnemonic (public knowledge: never use it on a real network)."""

Sender = LocalAccount | str
"""Who signs: a local account (signed here) or an address the node holds unlocked."""

_T = TypeVar("_T")
_DEFAULT_TIMEOUT = 120.0
_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")


# ------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------


class ChainError(ModelpactError, RuntimeError):
    """Something went wrong talking to the chain (wrong chain id, failed receipt, bad input)."""


class NodeUnavailableError(ChainError, ConnectionError):
    """The node does not answer."""


_HINTS: dict[str, str] = {
    "JoinClosed": "joining is over (deadline passed or round full); watch for the next round",
    "AlreadyJoined": "each address joins once; use another account for another entry",
    "UnknownOption": "pick an option id below optionCount()",
    "WrongRowCount": "commit exactly the option's dataCount rows",
    "WrongBond": "send exactly the participant bond from config()",
    "ZeroCommitment": "commit a non-zero data root and randomness commitment",
    "NotCoordinator": "send this action from the coordinator's account",
    "WrongPhase": "wait for the required phase (see phase() and the deadlines in config())",
    "CoordinatorAlreadyRevealed": "the coordinator's secret is already on chain",
    "CoordinatorRevealMismatch": "reveal the exact secret whose commitment was deployed",
    "CoordinatorNotRevealed": "call revealCoordinator before postModels",
    "ModelsAlreadyPosted": "models are posted once per round",
    "TooManyTiers": "post at most MAX_TIERS reward tiers",
    "AccuracyOutOfRange": "accuracies are WAD fractions in (0, 1e18]",
    "TierAboveCollective": "every tier must be strictly worse than the collective model",
    "TiersNotAscending": "post tiers with non-zero hashes, strictly ascending in accuracy",
    "NotParticipant": "this address never joined the round",
    "AlreadyRevealed": "the secret is already revealed",
    "RevealMismatch": "reveal the exact secret committed at join, from the joining account",
    "NotRevealed": "a participant who did not reveal forfeits bond and reward",
    "AlreadyClaimed": "claims and refunds happen once",
    "SweepTooEarly": "sweep after the claim deadline",
    "TransferFailed": "the receiving account rejected ETH",
    "EmptyMenu": "deploy with at least one option",
    "RatioAboveOne": "ratios are WAD fractions <= 1e18",
    "OptionsNotSorted": "sort options by (dataCount, ratio)",
    "ZeroDataCount": "every option asks for at least one row",
    "ZeroCapacity": "capacity must be at least 1",
    "DeadlinesInconsistent": "deadlines must satisfy now < join < post < reveal < claim",
    "CurveNotAscending": "curve knots must ascend strictly in dataCount, accuracy <= 1e18",
}


class ContractRevertError(ChainError):
    """A transaction or call reverted; ``error_name`` and ``args`` come from the ABI.

    ``args`` holds the decoded arguments in declaration order, ``named_args`` by parameter name.
    Phase arguments of ``WrongPhase`` are decoded to :class:`~modelpact.encoding.Phase`.
    """

    def __init__(
        self,
        error_name: str,
        args: Sequence[Any],
        *,
        names: Sequence[str] = (),
        data: bytes = b"",
        action: str = "",
    ) -> None:
        shown = ", ".join(_show(a) for a in args)
        where = f"{action} reverted: " if action else "reverted: "
        super().__init__(
            f"{where}{error_name}({shown})",
            hint=_HINTS.get(error_name, "see the error's NatSpec in IModelpactRound.sol"),
        )
        self.error_name = error_name
        self.args = tuple(args)
        self.named_args: dict[str, Any] = dict(zip(names, args, strict=False))
        self.data = data
        self.action = action

    def __str__(self) -> str:
        return self.message


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Phase):
        return value.name
    return str(value)


def _canonical_type(item: Mapping[str, Any]) -> str:
    typ = str(item["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in item["components"])
        return f"({inner}){typ[5:]}"
    return typ


def _error_table(abi: Sequence[Mapping[str, Any]]) -> dict[bytes, Mapping[str, Any]]:
    table: dict[bytes, Mapping[str, Any]] = {}
    for item in abi:
        if item.get("type") == "error":
            signature = f"{item['name']}({','.join(_canonical_type(i) for i in item['inputs'])})"
            table[keccak(text=signature)[:4]] = item
    return table


def decode_revert(
    abi: Sequence[Mapping[str, Any]], data: bytes, *, action: str = ""
) -> ContractRevertError:
    """Decode raw revert data against the ABI's custom errors (and Error(string) / Panic)."""
    selector, payload = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING:
            return ContractRevertError(
                "Error",
                abi_decode(["string"], payload),
                names=("reason",),
                data=data,
                action=action,
            )
        if selector == _PANIC:
            return ContractRevertError(
                "Panic", abi_decode(["uint256"], payload), names=("code",), data=data, action=action
            )
        item = _error_table(abi).get(selector)
        if item is not None:
            inputs = item["inputs"]
            values = list(abi_decode([_canonical_type(i) for i in inputs], payload))
            for k, spec in enumerate(inputs):
                if spec.get("internalType", "").startswith("enum IModelpactRound.Phase"):
                    values[k] = Phase(values[k])
                elif spec.get("type") == "address":
                    values[k] = to_checksum_address(values[k])
            return ContractRevertError(
                str(item["name"]),
                values,
                names=[str(i["name"]) for i in inputs],
                data=data,
                action=action,
            )
    except Exception:  # malformed payload: fall through to the raw form
        pass
    return ContractRevertError("UnknownError", ("0x" + data.hex(),), data=data, action=action)


def _revert_data(exc: BaseException) -> bytes | None:
    """Raw revert bytes from a web3 / eth-tester exception, or None if it is not a revert."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x..."}
        inner = data.get("data")
        if isinstance(inner, str) and inner.startswith("0x"):
            return bytes.fromhex(inner[2:])
    if type(exc).__name__ == "TransactionFailed":  # eth-tester: "execution reverted: b'...'"
        text = str(exc.args[0]) if exc.args else ""
        prefix = "execution reverted: "
        body = text[len(prefix) :] if text.startswith(prefix) else text
        if body.startswith(("b'", 'b"')):
            try:
                value = ast.literal_eval(body)
            except (ValueError, SyntaxError):
                return b""
            return value if isinstance(value, bytes) else b""
        # eth-tester decoded an Error(string) itself
        from eth_abi.abi import encode as abi_encode

        return _ERROR_STRING + abi_encode(["string"], [body])
    return None


def _is_connection_error(exc: BaseException) -> bool:
    import requests

    return isinstance(exc, ConnectionError | requests.exceptions.ConnectionError | TimeoutError)


def _unavailable(url: str, exc: BaseException | None = None) -> NodeUnavailableError:
    why = f": {exc}" if exc is not None else ""
    return NodeUnavailableError(
        f"the node at {url} does not answer{why}",
        hint="start it (e.g. `modelpact chain anvil`) or pass the right --rpc-url",
    )


# ------------------------------------------------------------------------------------------
# Retries (idempotent calls only)
# ------------------------------------------------------------------------------------------

#: Attempts per idempotent JSON-RPC call (reads, estimates, re-sending the SAME signed raw
#: transaction) when the endpoint fails (connection error, HTTP error, timeout), with backoff
#: ``RPC_BACKOFF_SECONDS * 2**attempt`` between attempts (0.125 + 0.25 + 0.5 + 1 s at most).
#: ``eth_sendTransaction`` (the node signs a NEW transaction) is never retried.
RPC_ATTEMPTS = 5
RPC_BACKOFF_SECONDS = 0.125
_ALREADY_SENT = ("already known", "known transaction", "nonce too low", "already imported")


def _retry_configuration() -> Any:
    """web3's own bounded retry (HTTPProvider ``exception_retry_configuration``) restricted to
    idempotent methods: web3's allowlist minus anything that makes the node sign."""
    import requests
    from web3.providers.rpc.utils import REQUEST_RETRY_ALLOWLIST, ExceptionRetryConfiguration

    allow = [m for m in REQUEST_RETRY_ALLOWLIST if m not in ("eth_sign", "eth_signTypedData")]
    return ExceptionRetryConfiguration(
        errors=(ConnectionError, requests.HTTPError, requests.Timeout),
        retries=RPC_ATTEMPTS,
        backoff_factor=RPC_BACKOFF_SECONDS,
        method_allowlist=allow,
    )


def send_raw_once(chain: Chain, raw: bytes) -> str:
    """Broadcast a signed raw transaction; safe to call again with the same bytes.

    The hash is keccak256(raw), known before sending. When a retried (or re-run) broadcast finds
    the node already has it ("already known", "nonce too low" after it was mined), the transaction
    is looked up by that hash and its hash returned: one transaction, never a second one.
    """
    tx_hash = "0x" + bytes(keccak(raw)).hex()
    try:
        return "0x" + bytes(chain.w3.eth.send_raw_transaction(raw)).hex()
    except Exception as exc:
        if not any(s in str(exc).lower() for s in _ALREADY_SENT):
            raise
        try:
            chain.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except Exception:
            raise exc from None
        return tx_hash


# ------------------------------------------------------------------------------------------
# Connecting
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """A connected chain: the web3 handle, its id, and funded dev accounts.

    ``private_keys`` maps an account to its key where known (eth-tester's accounts, anvil's
    default mnemonic); other node accounts are sent from unlocked.
    """

    w3: Web3
    chain_id: int
    kind: Literal["embedded", "anvil", "rpc"]
    url: str
    accounts: tuple[ChecksumAddress, ...]
    private_keys: Mapping[ChecksumAddress, bytes] = field(default_factory=dict)

    def local_account(self, index_or_address: int | str) -> LocalAccount:
        """The dev account (by index or address) as a ``LocalAccount``, when its key is known."""
        address = (
            self.accounts[index_or_address]
            if isinstance(index_or_address, int)
            else to_checksum_address(index_or_address)
        )
        key = self.private_keys.get(address)
        if key is None:
            raise ChainError(
                f"no private key known for {address}",
                hint="send from the address (node-unlocked) or load its keystore",
            )
        account: LocalAccount = Account.from_key(key)
        return account

    def balance(self, address: str) -> int:
        """Balance in wei."""
        return int(self.w3.eth.get_balance(to_checksum_address(address)))


def _embedded() -> Chain:
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    backend = PyEVMBackend()
    w3 = Web3(EthereumTesterProvider(EthereumTester(backend)))
    keys = {
        to_checksum_address(k.public_key.to_checksum_address()): k.to_bytes()
        for k in backend.account_keys
    }
    accounts = tuple(to_checksum_address(a) for a in w3.eth.accounts)
    return Chain(w3, int(w3.eth.chain_id), "embedded", "embedded", accounts, keys)


def _anvil_keys(count: int = 10) -> dict[ChecksumAddress, bytes]:
    Account.enable_unaudited_hdwallet_features()
    keys: dict[ChecksumAddress, bytes] = {}
    for i in range(count):
        acct = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        keys[to_checksum_address(acct.address)] = bytes(acct.key)
    return keys


def connect(
    *,
    chain: Literal["embedded", "anvil"] | None = None,
    rpc_url: str | None = None,
    expected_chain_id: int | None = None,
    timeout: float = 30.0,
) -> Chain:
    """Connect to the embedded chain, an anvil node or any JSON-RPC endpoint.

    ``chain="embedded"`` needs no node. ``chain="anvil"`` defaults ``rpc_url`` to
    ``$MODELPACT_RPC_URL`` or ``http://127.0.0.1:8545``. Raises :class:`NodeUnavailableError`
    when the node does not answer and :class:`ChainError` on a chain-id mismatch.
    """
    if chain == "embedded":
        if rpc_url is not None:
            raise ChainError("the embedded chain takes no rpc_url", hint="drop --rpc-url")
        result = _embedded()
    else:
        if chain not in (None, "anvil"):
            raise ChainError(f"unknown chain kind {chain!r}", hint="use 'embedded' or 'anvil'")
        url = rpc_url or os.environ.get("MODELPACT_RPC_URL") or "http://127.0.0.1:8545"
        w3 = Web3(
            Web3.HTTPProvider(
                url,
                request_kwargs={"timeout": timeout},
                exception_retry_configuration=_retry_configuration(),
            )
        )
        try:
            chain_id = int(w3.eth.chain_id)
            accounts = tuple(to_checksum_address(a) for a in w3.eth.accounts)
        except Exception as exc:
            raise _unavailable(url, exc) from exc
        known = _anvil_keys()
        keys = {a: known[a] for a in accounts if a in known}
        kind: Literal["anvil", "rpc"] = "anvil" if chain == "anvil" else "rpc"
        result = Chain(w3, chain_id, kind, url, accounts, keys)
    if expected_chain_id is not None and result.chain_id != expected_chain_id:
        raise ChainError(
            f"connected to chain {result.chain_id}, expected {expected_chain_id}",
            hint="check the RPC URL or the deployment record's chain id",
        )
    return result


def chain_time(chain: Chain) -> int:
    """The latest block's timestamp (unix seconds): base deadlines on this, not the wall clock."""
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def advance_time(chain: Chain, seconds: int) -> int:
    """Move the chain's clock forward by ``seconds`` and mine a block; returns the new time."""
    if seconds < 0:
        raise ChainError(f"cannot go back in time ({seconds}s)", hint="pass seconds >= 0")
    if chain.kind == "embedded":
        tester = chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        tester.time_travel(chain_time(chain) + int(seconds))
        tester.mine_blocks(1)
    else:
        try:
            chain.w3.provider.make_request("evm_increaseTime", [int(seconds)])  # type: ignore[arg-type]
            chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        except Exception as exc:
            if _is_connection_error(exc):
                raise _unavailable(chain.url, exc) from exc
            raise ChainError(
                f"the node refused time travel: {exc}",
                hint="time travel needs a dev node (anvil or the embedded chain)",
            ) from exc
    return chain_time(chain)


# ------------------------------------------------------------------------------------------
# Transactions
# ------------------------------------------------------------------------------------------


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


def _address_of(sender: Sender) -> ChecksumAddress:
    if isinstance(sender, str):
        return to_checksum_address(sender)
    return to_checksum_address(sender.address)


def _guard(chain: Chain, abi: Sequence[Mapping[str, Any]], action: str, fn: Callable[[], _T]) -> _T:
    try:
        return fn()
    except ModelpactError:
        raise
    except Exception as exc:
        data = _revert_data(exc)
        if data is not None:
            raise decode_revert(abi, data, action=action) from exc
        if _is_connection_error(exc):
            raise _unavailable(chain.url, exc) from exc
        raise


def send_transaction(
    chain: Chain,
    call: ContractFunction | Any,
    sender: Sender,
    *,
    value: int = 0,
    abi: Sequence[Mapping[str, Any]] = (),
    action: str = "",
) -> str:
    """Build, sign (or have the node sign) and broadcast ``call``; returns the tx hash (0x hex).

    Gas is estimated first, so a revert surfaces here as :class:`ContractRevertError` before
    anything is broadcast. ``call`` is a bound contract function or a constructor.
    """
    address = _address_of(sender)
    params: TxParams = {"from": address, "value": value}  # type: ignore[typeddict-item]

    def build() -> TxParams:
        p: dict[str, Any] = dict(params)
        p["nonce"] = chain.w3.eth.get_transaction_count(address, "pending")
        tx: TxParams = call.build_transaction(p)  # type: ignore[arg-type]
        return tx

    tx = _guard(chain, abi, action, build)

    def broadcast() -> str:
        if isinstance(sender, str):
            return "0x" + bytes(chain.w3.eth.send_transaction(tx)).hex()
        signed = sender.sign_transaction(tx)  # type: ignore[arg-type]
        return send_raw_once(chain, bytes(signed.raw_transaction))

    return _guard(chain, abi, action, broadcast)


def wait_for_receipt(
    chain: Chain,
    tx_hash: str,
    *,
    contract: Contract | None = None,
    action: str = "",
    timeout: float = _DEFAULT_TIMEOUT,
) -> TxResult:
    """Wait for ``tx_hash``; a failed receipt is replayed to decode its revert reason."""
    abi: Sequence[Mapping[str, Any]] = contract.abi if contract is not None else ()

    def wait() -> TxReceipt:
        return chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)  # type: ignore[arg-type]

    receipt = _guard(chain, abi, action, wait)
    if receipt["status"] != 1:
        tx = chain.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        replay = {k: tx[k] for k in ("from", "to", "value", "data", "gas") if k in tx}
        if "data" not in replay and "input" in tx:
            replay["data"] = tx["input"]
        _guard(chain, abi, action, lambda: chain.w3.eth.call(replay, receipt["blockNumber"] - 1))  # type: ignore[arg-type]
        raise ChainError(
            f"{action or 'transaction'} {tx_hash} failed without a revert reason",
            hint="the transaction may have run out of gas",
        )
    events = _decode_logs(contract, receipt["logs"]) if contract is not None else ()
    address = receipt.get("contractAddress")
    return TxResult(
        tx_hash=tx_hash,
        block_number=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]),
        events=tuple(events),
        contract_address=to_checksum_address(address) if address else None,
    )


def _event_table(contract: Contract) -> dict[bytes, str]:
    table: dict[bytes, str] = {}
    abi: list[dict[str, Any]] = [dict(i) for i in contract.abi]
    for item in abi:
        if item.get("type") == "event":
            sig = f"{item['name']}({','.join(_canonical_type(i) for i in item['inputs'])})"
            table[keccak(text=sig)] = str(item["name"])
    return table


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value


def _decode_logs(contract: Contract, logs: Sequence[Any]) -> list[RoundEvent]:
    table = _event_table(contract)
    out: list[RoundEvent] = []
    for log in logs:
        if to_checksum_address(log["address"]) != contract.address or not log["topics"]:
            continue
        name = table.get(bytes(log["topics"][0]))
        if name is None:
            continue
        decoded = contract.events[name]().process_log(log)
        out.append(
            RoundEvent(
                name=name,
                args=_plain(dict(decoded["args"])),
                block_number=int(log["blockNumber"]),
                log_index=int(log["logIndex"]),
                tx_hash="0x" + bytes(log["transactionHash"]).hex(),
            )
        )
    return out


# ------------------------------------------------------------------------------------------
# The round contract
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundContract:
    """A deployed ``ModelpactRound`` with typed actions and views.

    Every action signs from ``sender``, waits for the receipt and returns a :class:`TxResult`
    with the round's decoded events; :meth:`send` / :meth:`wait` split the two steps.
    """

    chain: Chain
    address: ChecksumAddress
    abi: list[dict[str, Any]]
    deploy_tx_hash: str | None = None
    deploy_block: int | None = None

    @functools.cached_property
    def contract(self) -> Contract:
        """The web3 contract object (for code that needs web3 directly: only this module).

        Built once per instance (building it parses the ABI: ~5 ms on eth-tester per call)."""
        return self.chain.w3.eth.contract(address=self.address, abi=self.abi)

    # ------------------------------------------------------------------ plumbing

    def send(self, action: str, sender: Sender, *args: Any, value: int = 0) -> str:
        """Broadcast ``action(*args)`` (the Solidity function name) and return its tx hash."""
        call = getattr(self.contract.functions, action)(*args)
        return send_transaction(self.chain, call, sender, value=value, abi=self.abi, action=action)

    def wait(self, tx_hash: str, *, action: str = "") -> TxResult:
        """Wait for a transaction sent with :meth:`send`."""
        return wait_for_receipt(self.chain, tx_hash, contract=self.contract, action=action)

    def _act(self, action: str, sender: Sender, *args: Any, value: int = 0) -> TxResult:
        return self.wait(self.send(action, sender, *args, value=value), action=action)

    def _view(self, name: str, *args: Any) -> Any:
        fn = getattr(self.contract.functions, name)(*args)
        return _guard(self.chain, self.abi, name, fn.call)

    # ------------------------------------------------------------------ actions

    def join(
        self,
        sender: Sender,
        *,
        option_id: int,
        data_root: bytes,
        row_count: int,
        commitment: bytes,
        value: int | None = None,
    ) -> TxResult:
        """Join with an option, the data root, its row count and a randomness commitment.

        ``value`` defaults to the participant bond.
        """
        bond = self.config().participant_bond if value is None else value
        return self._act("join", sender, option_id, data_root, row_count, commitment, value=bond)

    def reveal_coordinator(self, sender: Sender, secret: bytes) -> TxResult:
        """The coordinator reveals its randomness secret (Post phase)."""
        return self._act("revealCoordinator", sender, secret)

    def post_models(
        self,
        sender: Sender,
        *,
        collective_model_hash: bytes,
        collective_accuracy_wad: int,
        tiers: Sequence[Tier] = (),
    ) -> TxResult:
        """Post the collective model and the reward tiers (budget-checked on chain)."""
        encoded = [(t.model_hash, t.accuracy_wad) for t in tiers]
        return self._act(
            "postModels", sender, collective_model_hash, collective_accuracy_wad, encoded
        )

    def reveal(self, sender: Sender, secret: bytes) -> TxResult:
        """A participant reveals its randomness secret (Reveal phase)."""
        return self._act("reveal", sender, secret)

    def claim(self, sender: Sender) -> TxResult:
        """A revealed participant claims its rung and its bond (+ slash share)."""
        return self._act("claim", sender)

    def withdraw_after_default(self, sender: Sender) -> TxResult:
        """After a coordinator default: bond + share of the coordinator's bond."""
        return self._act("withdrawAfterDefault", sender)

    def sweep(self, sender: Sender) -> TxResult:
        """After the claim deadline (or an empty join phase): the rest goes to the coordinator."""
        return self._act("sweep", sender)

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


def deploy_round(
    chain: Chain,
    *,
    sender: Sender,
    menu_options: Sequence[OnchainOption],
    config: RoundConfig,
    curve: Sequence[CurveKnot] = (),
    coordinator_bond: int = 0,
    compiled: CompiledContract | None = None,
    on_sent: Callable[[str], object] | None = None,
) -> RoundContract:
    """Deploy a ``ModelpactRound`` from ``sender`` (the coordinator) with its bond as value.

    Constructor reverts (empty or unsorted menu, bad deadlines, ...) raise
    :class:`ContractRevertError`. ``on_sent(tx_hash)`` runs after broadcasting and before waiting
    for the receipt (a caller records the hash there, so a re-run after a crash finds the
    deployment with :func:`transaction_known` and :func:`wait_for_receipt` instead of deploying
    twice).
    """
    art = compile_round() if compiled is None else compiled
    factory = chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    ctor = factory.constructor(
        [o.as_tuple() for o in menu_options],
        config.as_tuple(),
        [(k.data_count, k.accuracy_wad) for k in curve],
    )
    tx_hash = send_transaction(
        chain, ctor, sender, value=coordinator_bond, abi=art.abi, action="deploy"
    )
    if on_sent is not None:
        on_sent(tx_hash)
    result = wait_for_receipt(chain, tx_hash, action="deploy")
    if result.contract_address is None:
        raise ChainError(f"deployment {tx_hash} created no contract", hint="check the node logs")
    return RoundContract(chain, result.contract_address, art.abi, tx_hash, result.block_number)


def round_at(
    chain: Chain, address: str, abi: Sequence[Mapping[str, Any]] | None = None
) -> RoundContract:
    """The round at ``address`` (ABI defaults to the compiled one); checks code is there."""
    checksum = to_checksum_address(address)
    code = _guard(chain, (), "getCode", lambda: chain.w3.eth.get_code(checksum))
    if len(code) == 0:
        raise ChainError(
            f"no contract at {checksum} on chain {chain.chain_id}",
            hint="check the address and that you are connected to the right chain",
        )
    use_abi = [dict(i) for i in abi] if abi is not None else compile_round().abi
    return RoundContract(chain, checksum, use_abi)


def round_events(round_contract: RoundContract, from_block: int = 0) -> list[RoundEvent]:
    """Every event of the round from ``from_block`` on, decoded, in chain order."""
    chain = round_contract.chain

    def fetch() -> list[Any]:
        return list(
            chain.w3.eth.get_logs(
                {"address": round_contract.address, "fromBlock": from_block, "toBlock": "latest"}
            )
        )

    logs = _guard(chain, (), "getLogs", fetch)
    events = _decode_logs(round_contract.contract, logs)
    return sorted(events, key=lambda e: (e.block_number, e.log_index))


# ------------------------------------------------------------------------------------------
# Recorded transactions and plain transfers (used by the round workflows)
# ------------------------------------------------------------------------------------------


def transaction_known(chain: Chain, tx_hash: str | None) -> bool:
    """Whether the node knows ``tx_hash`` (pending or mined); False for None or an unknown hash.

    A workflow that recorded a hash before a crash asks this first: a known transaction is waited
    for (:func:`wait_for_receipt`), an unknown one (dropped, or a node restarted without its
    state) may be sent again.
    """
    if not tx_hash:
        return False
    from web3.exceptions import TransactionNotFound

    def lookup() -> bool:
        try:
            chain.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        return True

    return _guard(chain, (), "getTransaction", lookup)


def transfer(chain: Chain, sender: Sender, to: str, value: int) -> str:
    """Send ``value`` wei from ``sender`` to ``to`` (a plain ETH transfer); returns the tx hash.

    Wait with :func:`wait_for_receipt`. Used to fund demo wallets from a dev account.
    """
    address = _address_of(sender)
    target = to_checksum_address(to)

    def broadcast() -> str:
        tx: dict[str, Any] = {"from": address, "to": target, "value": int(value)}
        if isinstance(sender, str):
            return "0x" + bytes(chain.w3.eth.send_transaction(tx)).hex()  # type: ignore[arg-type]
        tx["nonce"] = chain.w3.eth.get_transaction_count(address, "pending")
        tx["chainId"] = chain.chain_id
        tx["gas"] = 21_000
        tx["gasPrice"] = chain.w3.eth.gas_price
        signed = sender.sign_transaction(tx)
        return send_raw_once(chain, bytes(signed.raw_transaction))

    return _guard(chain, (), "transfer", broadcast)


def revert_from_exception(
    abi: Sequence[Mapping[str, Any]], exc: BaseException, *, action: str = ""
) -> ContractRevertError | None:
    """The decoded revert a web3 or eth-tester exception carries, or None if it carries none."""
    data = _revert_data(exc)
    if data is None or len(data) < 4:
        return None
    return decode_revert(abi, data, action=action)

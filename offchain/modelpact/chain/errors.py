"""What can go wrong talking to a chain, as named errors with a hint each.

- :class:`ChainError`: wrong chain id, a failed receipt, a refused dev-node call;
- :class:`NodeUnavailableError`: the node does not answer;
- :class:`ContractRevertError`: a call or transaction reverted with one of the contract's custom
  errors (decoded from the ABI by :func:`decode_revert`). Its hint is the ``Fix:`` sentence of
  that error's ``@dev`` NatSpec in ``contracts/src/interfaces/IModelpactRound.sol``, read from
  ``modelpact/data/revert_hints.json``, which ``tests/unit/test_revert_hints.py`` regenerates
  from the compiler's devdoc output and checks, so a hint cannot drift from the contract.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from modelpact.encoding import Phase
from modelpact.errors import ModelpactError

__all__ = [
    "ERROR_STRING_SELECTOR",
    "PANIC_SELECTOR",
    "ChainError",
    "ContractRevertError",
    "NodeUnavailableError",
    "decode_revert",
    "hints_from_devdoc",
    "is_connection_error",
    "node_unavailable",
    "revert_hint",
    "web3_revert_data",
]

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
"""Selector of Solidity's ``Error(string)`` (``require`` with a message)."""
PANIC_SELECTOR = bytes.fromhex("4e487b71")
"""Selector of Solidity's ``Panic(uint256)`` (assert, overflow, division by zero)."""

HINTS_FILE = Path(__file__).resolve().parent.parent / "data" / "revert_hints.json"
_FALLBACK_HINT = "see the error's NatSpec in IModelpactRound.sol"
_FIX = "Fix:"


class ChainError(ModelpactError, RuntimeError):
    """Something went wrong talking to the chain (wrong chain id, failed receipt, bad input)."""


class NodeUnavailableError(ChainError, ConnectionError):
    """The node does not answer."""


def hints_from_devdoc(devdoc: Mapping[str, Any]) -> dict[str, str]:
    """``{error name: hint}`` from a contract's devdoc: the text after ``Fix:`` in each error's
    ``@dev`` (whitespace collapsed, no final full stop). Errors without a ``Fix:`` get none."""
    hints: dict[str, str] = {}
    for signature, entries in dict(devdoc.get("errors", {})).items():
        details = " ".join(str(entries[0].get("details", "")).split()) if entries else ""
        if _FIX in details:
            hints[signature.split("(", 1)[0]] = details.split(_FIX, 1)[1].strip().rstrip(".")
    return dict(sorted(hints.items()))


@functools.cache
def _hints() -> dict[str, str]:
    try:
        loaded = json.loads(HINTS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a broken install must not turn a revert into a crash
        return {}
    return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def revert_hint(error_name: str) -> str:
    """How to fix the contract error ``error_name`` (its NatSpec ``Fix:`` sentence)."""
    return _hints().get(error_name, _FALLBACK_HINT)


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
        super().__init__(f"{where}{error_name}({shown})", hint=revert_hint(error_name))
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


def _error_table(abi: Sequence[Mapping[str, Any]]) -> dict[bytes, Mapping[str, Any]]:
    """Selector -> error item of ``abi``, built once per ABI object (a keccak per error, ~1 ms
    for the round's ABI: every NotParticipant answer of a joiner's checks paid it)."""
    from eth_utils.abi import function_abi_to_4byte_selector

    kept = _ERROR_TABLES.get(id(abi))
    if kept is not None and kept[0] is abi:  # the same object, not a new one at a reused id
        return kept[1]
    table = {
        function_abi_to_4byte_selector(item): item  # type: ignore[arg-type]
        for item in abi
        if item.get("type") == "error"
    }
    _ERROR_TABLES[id(abi)] = (abi, table)  # holds the ABI: its id stays its own
    while len(_ERROR_TABLES) > _ERROR_TABLES_KEPT:
        del _ERROR_TABLES[next(iter(_ERROR_TABLES))]
    return table


_ERROR_TABLES: dict[int, tuple[Sequence[Mapping[str, Any]], dict[bytes, Mapping[str, Any]]]] = {}
_ERROR_TABLES_KEPT = 32


def _decoded_values(item: Mapping[str, Any], payload: bytes) -> list[Any]:
    """The error's arguments: phases as :class:`Phase`, addresses checksummed."""
    from eth_abi.abi import decode as abi_decode
    from eth_utils.abi import get_abi_input_types
    from eth_utils.address import to_checksum_address

    inputs = item["inputs"]
    values = list(abi_decode(get_abi_input_types(item), payload))  # type: ignore[arg-type]
    for k, spec in enumerate(inputs):
        if spec.get("internalType", "").startswith("enum IModelpactRound.Phase"):
            values[k] = Phase(values[k])
        elif spec.get("type") == "address":
            values[k] = to_checksum_address(values[k])
    return values


def decode_revert(
    abi: Sequence[Mapping[str, Any]], data: bytes, *, action: str = ""
) -> ContractRevertError:
    """Decode raw revert data against the ABI's custom errors (and Error(string) / Panic)."""
    from eth_abi.abi import decode as abi_decode

    selector, payload = data[:4], data[4:]
    try:
        if selector == ERROR_STRING_SELECTOR:
            reason = abi_decode(["string"], payload)
            return ContractRevertError("Error", reason, names=("reason",), data=data, action=action)
        if selector == PANIC_SELECTOR:
            code = abi_decode(["uint256"], payload)
            return ContractRevertError("Panic", code, names=("code",), data=data, action=action)
        item = _error_table(abi).get(selector)
        if item is not None:
            names = [str(i["name"]) for i in item["inputs"]]
            values = _decoded_values(item, payload)
            return ContractRevertError(
                str(item["name"]), values, names=names, data=data, action=action
            )
    except Exception:  # malformed payload: fall through to the raw form
        pass
    return ContractRevertError("UnknownError", ("0x" + data.hex(),), data=data, action=action)


def is_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` means the node did not answer JSON-RPC (refused, reset, timed out, an
    HTTP error status, or an answer that is not JSON-RPC)."""
    import requests

    return isinstance(
        exc,
        ConnectionError
        | TimeoutError
        | requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | requests.exceptions.HTTPError,
    ) or _not_json_rpc(exc)


def _not_json_rpc(exc: BaseException) -> bool:
    """web3's complaint about an answer that is not a JSON-RPC response (e.g. an HTML page)."""
    import json

    from web3.exceptions import BadResponseFormat

    return isinstance(exc, BadResponseFormat | json.JSONDecodeError)


def _why(exc: BaseException | None) -> str:
    """Why a node did not answer, in a few words (not the transport's whole exception chain)."""
    import requests

    if exc is None:
        return "does not answer"
    if isinstance(exc, requests.exceptions.Timeout | TimeoutError):
        return "did not answer in time (stalled)"
    if isinstance(exc, requests.exceptions.HTTPError):
        status = getattr(exc.response, "status_code", None)
        return f"answered HTTP {status}, not JSON-RPC" if status else "answered an HTTP error"
    if _not_json_rpc(exc):
        return "answered something that is not JSON-RPC (is it an Ethereum node?)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "Name or service not known" in text or "NameResolution" in text:
            return "does not answer: its host name does not resolve"
        if "Connection refused" in text:
            return "does not answer: connection refused"
    return f"does not answer: {' '.join(str(exc).split())[:160]}"


def node_unavailable(url: str, exc: BaseException | None = None) -> NodeUnavailableError:
    """The error for a node at ``url`` that does not answer JSON-RPC."""
    return NodeUnavailableError(
        f"the node at {url} {_why(exc)}",
        hint="start it, pass the right --rpc URL, or use --chain anvil with no --rpc and no "
        "MODELPACT_RPC to let modelpact start a local node",
    )


def web3_revert_data(exc: BaseException) -> bytes | None:
    """Raw revert bytes from a web3 exception's ``data`` (``"0x..."``, or ``{"data": "0x..."}``
    as some nodes nest it), or None when it carries none."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    return None

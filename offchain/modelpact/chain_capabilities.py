"""Refuse, before any money moves, a node that cannot run a whole round.

Why: the round's contract is compiled for Cancun (``evm_version`` in foundry.toml). Its reentrancy
guard keeps its flag in transient storage (EIP-1153: ``TSTORE``/``TLOAD``), which only the claim,
refund and sweep paths touch. On a node with older rules (ganache 7.9.2, anvil
``--hardfork shanghai``) the deployment, the joins and the posted models all succeed, and then
every claim, refund and sweep hits an invalid opcode: every bond and the coordinator's deposit
stay locked for good. Deploy and join therefore ask the node first.

How: each requirement is a few bytes of *creation code* sent with ``eth_call`` and no ``to``. The
node runs it as if it deployed a contract and returns what the code ``RETURN``\\ s, so nothing is
deployed, signed or paid for, and any JSON-RPC node (or the embedded eth-tester chain) can answer.
Each snippet returns known words when the feature works; an error (invalid opcode, "not
activated") or other words mean it does not. A control snippet of Frontier opcodes runs first and
again after a failure, so "this node cannot run such a call at all" (or went away mid-check) is
told apart from "this node lacks the feature".

What it cannot see: it trusts the node's *simulation*. A node whose ``eth_call`` runs other rules
than the blocks it mines (a proxy in front of different clients, a fork whose Cancun activation
is still in the future of the block being built) passes the check and can still revert a real
transaction. The check is for honest nodes with old rules; a dishonest RPC endpoint can lie about
anything, receipts included.

    require_round_capabilities(chain)          # a modelpact Chain, a Web3, an RPC URL, or
    require_round_capabilities(http_rpc_call(url))   # any (method, params) -> result callable
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from modelpact.errors import ModelpactError

__all__ = [
    "CONTROL_CODE",
    "ROUND_REQUIREMENTS",
    "UPGRADE_HINT",
    "NodeCapabilityError",
    "RoundRequirement",
    "RpcCall",
    "http_rpc_call",
    "missing_round_capabilities",
    "require_round_capabilities",
]

RpcCall = Callable[[str, Sequence[Any]], Any]
"""``(method, params) -> result`` of one JSON-RPC request; raises when the node answers an error."""

UPGRADE_HINT = (
    "use a node with Cancun rules or later, e.g. anvil 1.x or Hardhat 3 (both tested), "
    "or any mainnet client since Dencun (March 2024)"
)


class NodeCapabilityError(ModelpactError, RuntimeError):
    """The node lacks something the round needs, or would not run the test calls that check it.

    ``missing`` names the requirements that failed (empty when the node could not be asked).
    """

    def __init__(
        self, message: str, *, hint: str | None = None, missing: Sequence[str] = ()
    ) -> None:
        super().__init__(message, hint=hint)
        self.missing = tuple(missing)


@dataclass(frozen=True)
class RoundRequirement:
    """One EVM feature the round needs, with the creation code that proves a node has it.

    ``code`` (0x-hex) run by ``eth_call`` returns exactly ``expected`` on a node that has the
    feature. ``consequence`` says what goes wrong in a round on a node without it.
    """

    key: str
    feature: str
    consequence: str
    code: str
    expected: bytes


def _words(*values: int) -> bytes:
    return b"".join(v.to_bytes(32, "big") for v in values)


# 2G on alt_bn128, G = (1, 2): what ecAdd(G, G) and ecMul(G, 2) both return (EIP-196).
_TWO_G = (
    0x030644E72E131A029B85045B68181585D97816A916871CA8D3C208C16D87CFD3,
    0x15ED738C0E0A7C92E7845F96B2AE9C0A68A6A449E3538FC7FF3EBF7A5A18A2C4,
)

CONTROL_CODE = "0x602a60005260206000f3"
"""MSTORE(0, 42) RETURN(0, 32): Frontier opcodes only, so every EVM node returns the word 42."""

ROUND_REQUIREMENTS: tuple[RoundRequirement, ...] = (
    RoundRequirement(
        key="push0",
        feature="PUSH0 (EIP-3855, Shanghai)",
        consequence="the round's contract could not even be deployed",
        # PUSH1 42 PUSH0 MSTORE PUSH1 32 PUSH0 RETURN
        code="0x602a5f5260205ff3",
        expected=_words(42),
    ),
    RoundRequirement(
        key="transient-storage",
        feature="transient storage (EIP-1153, Cancun)",
        consequence="the round would lock every wei (claims, refunds and the sweep would revert "
        "after the bonds are paid)",
        # TSTORE(1, 42); MSTORE(0, TLOAD(1)); MSTORE(32, SLOAD(1)); RETURN(0, 64): the value comes
        # back and did not land in ordinary storage. No PUSH0, so this is tested on its own.
        code="0x602a60015d60015c60005260015460205260406000f3",
        expected=_words(42, 0),
    ),
    RoundRequirement(
        key="mcopy",
        feature="MCOPY (EIP-5656, Cancun)",
        consequence="the round could not copy memory: posting models, challenges and deliveries "
        "would revert",
        # MSTORE(0, 42); MCOPY(32, 0, 32); RETURN(32, 32): the word comes back from the copy.
        code="0x602a6000526020600060205e60206020f3",
        expected=_words(42),
    ),
    RoundRequirement(
        key="ecadd",
        feature="the alt_bn128 ecAdd precompile at 0x06 (EIP-196)",
        consequence="delivery disputes could not be settled on chain",
        # MSTORE the points G, G at 0..128; CALL(200000, 0x06, 0, 0, 128, 128, 64);
        # MSTORE(192, success); RETURN(128, 96). CALL with a fixed gas, not STATICCALL/GAS, so
        # only the precompile is under test: without it the call "succeeds" into an empty account
        # and the output words stay zero.
        code="0x600160005260026020526001604052600260605260406080608060006000600662030d40f1"
        "60c05260606080f3",
        expected=_words(*_TWO_G, 1),
    ),
    RoundRequirement(
        key="ecmul",
        feature="the alt_bn128 ecMul precompile at 0x07 (EIP-196)",
        consequence="delivery disputes could not be settled on chain",
        # MSTORE G, 2 at 0..96; CALL(200000, 0x07, 0, 0, 96, 128, 64); MSTORE(192, success);
        # RETURN(128, 96)
        code="0x60016000526002602052600260405260406080606060006000600762030d40f160c05260606080f3",
        expected=_words(*_TWO_G, 1),
    ),
)
"""What the round needs beyond the Frontier EVM. A refusal names every missing one and the
consequence of the first: PUSH0 comes first because without it the deployment itself fails, so
nothing else can happen; then transient storage, whose absence locks the funds."""


class _RpcError(Exception):
    """The node answered a JSON-RPC error (execution failure or unknown method alike)."""


def http_rpc_call(url: str, *, timeout: float = 10.0) -> RpcCall:
    """An :data:`RpcCall` over plain HTTP (standard library only), for a bare node URL."""

    def call(method: str, params: Sequence[Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        request = urllib.request.Request(
            url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
        if not isinstance(answer, dict):
            raise _RpcError(f"not a JSON-RPC answer: {str(answer)[:80]}")
        if answer.get("error") is not None:
            error = answer["error"]
            raise _RpcError(str(error.get("message", error) if isinstance(error, dict) else error))
        return answer.get("result")

    return call


def _hex_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    raise _RpcError(f"eth_call returned {type(value).__name__}, not bytes")


def _runner(target: Any) -> Callable[[str], bytes]:
    """``code -> returned bytes`` of an ``eth_call`` of creation ``code`` on ``target``."""
    if isinstance(target, str):
        target = http_rpc_call(target)
    elif hasattr(target, "w3"):  # a modelpact Chain
        target = target.w3
    if hasattr(target, "eth"):  # a Web3: through its formatters (eth-tester needs them)
        eth = target.eth
        return lambda code: _hex_bytes(eth.call({"data": code}, "latest"))
    if callable(target):
        rpc: RpcCall = target
        return lambda code: _hex_bytes(rpc("eth_call", [{"data": code}, "latest"]))
    raise TypeError(
        f"cannot probe a {type(target).__name__}: pass a Chain, a Web3, an RPC URL or an RpcCall"
    )


def _attempt(run: Callable[[str], bytes], code: str) -> bytes | str:
    """What ``code`` returned, or the one-line reason it did not run.

    Any exception counts as "did not run": nodes report an invalid opcode as a JSON-RPC error,
    web3 as one of several exception types, eth-tester as its own. A ModelpactError (e.g. the
    chain layer's "node unavailable") is ours, so it is re-raised as it is.
    """
    try:
        return run(code)
    except ModelpactError:
        raise
    except Exception as exc:  # every node and library words failures its own way (see above)
        return " ".join(f"{type(exc).__name__}: {exc}".split())[:160]


def _require_control(run: Callable[[str], bytes]) -> None:
    outcome = _attempt(run, CONTROL_CODE)
    if outcome == _words(42):
        return
    detail = outcome if isinstance(outcome, str) else f"it returned 0x{outcome.hex()[:64]}"
    raise NodeCapabilityError(
        f"this node did not run a test eth_call ({detail}), so modelpact cannot check that it "
        "supports transient storage (EIP-1153, Cancun) and the rest of what a round needs",
        hint="use a node that answers eth_call without a `to` address, e.g. anvil or Hardhat 3",
    )


def missing_round_capabilities(target: Any) -> tuple[RoundRequirement, ...]:
    """The :data:`ROUND_REQUIREMENTS` the node behind ``target`` lacks (empty: it can run a round).

    ``target``: a modelpact ``Chain`` (anything with ``.w3``), a ``Web3``, an RPC URL, or an
    :data:`RpcCall`. Read-only: five or six ``eth_call`` requests, no transaction. Raises
    :class:`NodeCapabilityError` when the node does not run even the control call.
    """
    run = _runner(target)
    _require_control(run)
    missing = tuple(req for req in ROUND_REQUIREMENTS if _attempt(run, req.code) != req.expected)
    if missing:
        _require_control(run)  # a node that went away mid-check is not a node without a feature
    return missing


def require_round_capabilities(target: Any) -> None:
    """Raise :class:`NodeCapabilityError` (one line: what is missing, what follows, the fix)
    unless the node behind ``target`` can run a whole round. Call before deploying or joining.
    """
    missing = missing_round_capabilities(target)
    if not missing:
        return
    features = " or ".join(req.feature for req in missing)
    raise NodeCapabilityError(
        f"this node does not support {features}; {missing[0].consequence}",
        hint=UPGRADE_HINT,
        missing=[req.key for req in missing],
    )

"""Contract view calls encoded and decoded straight from the ABI, without web3's per-call work.

web3 builds a ``ContractFunction`` for every call (argument matching against the ABI, request
and result formatters, ``map_abi_data`` over the result), which cost more than the node's answer
on a local chain: a 200-participant round makes thousands of view calls. Here each function of
the contract's ABI (the deployment's ABI: the packaged build's, never a hand-typed selector) is
turned once into a :class:`ViewFunction` -- selector, input and output types, and an output
normalizer that checksums addresses as web3 does -- and a call is one ``codec.encode`` and one
``codec.decode`` with the web3 codec of the chain (the same strict registry web3 uses).

What a call returns is what web3's ``fn.call()`` returned: one output unwrapped, several as a
tuple, structs as tuples, addresses checksummed, ``bytesN`` as bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types, get_abi_output_types

__all__ = ["ViewFunction", "view_functions"]


@dataclass(frozen=True)
class ViewFunction:
    """One function of a contract's ABI, ready to encode its calls and decode their answers."""

    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    normalize: Callable[[Any], Any]

    def call_data(self, codec: Any, args: Sequence[Any]) -> str:
        """The call's input (selector + ABI-encoded arguments), 0x hex."""
        encoded: bytes = codec.encode(self.inputs, list(args))
        return "0x" + (self.selector + encoded).hex()

    def result(self, codec: Any, raw: bytes) -> Any:
        """The decoded answer (see the module doc); web3's ``BadFunctionCallOutput`` (as
        ``fn.call()`` raised) when the node answered no bytes: no contract at the address."""
        if not raw and self.outputs:
            from web3.exceptions import BadFunctionCallOutput

            raise BadFunctionCallOutput(f"{self.name} returned no data: is a contract there?")
        values = self.normalize(tuple(codec.decode(self.outputs, raw)))
        return values[0] if len(values) == 1 else values


def view_functions(abi: Sequence[Mapping[str, Any]]) -> dict[str, ViewFunction]:
    """Name -> :class:`ViewFunction` for every function of ``abi`` (an overloaded name is left
    out: the caller would have to pick by arguments, which the round's ABI never needs)."""
    from modelpact.chain.transactions import _checksummer

    functions = [dict(i) for i in abi if i.get("type") == "function"]
    names = [str(f["name"]) for f in functions]
    out: dict[str, ViewFunction] = {}
    for fn in functions:
        name = str(fn["name"])
        if names.count(name) != 1:
            continue
        outputs = tuple(get_abi_output_types(fn))  # type: ignore[arg-type]
        normalizers = [_checksummer(t) for t in outputs]
        out[name] = ViewFunction(
            name=name,
            selector=bytes(function_abi_to_4byte_selector(fn)),  # type: ignore[arg-type]
            inputs=tuple(get_abi_input_types(fn)),  # type: ignore[arg-type]
            outputs=outputs,
            normalize=_tuple_of(normalizers),
        )
    return out


def _tuple_of(normalizers: Sequence[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def normalize(values: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(f(v) for f, v in zip(normalizers, values, strict=True))

    return normalize

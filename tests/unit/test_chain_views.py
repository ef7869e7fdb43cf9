"""The view codec built from the packaged round ABI encodes every function's call exactly as
web3 does (same selector, same argument encoding) and decodes answers as web3's ``fn.call()``
returned them (addresses checksummed, structs as tuples, one output unwrapped)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from web3 import Web3

from modelpact.chain.deployment import ROUND_CONTRACT, _build
from modelpact.chain.views import view_functions

ADDRESS = "0x" + "ab" * 20


def _sample(abi_type: str) -> Any:
    """A value of ``abi_type`` (the round's view inputs are plain types)."""
    if abi_type == "address":
        return Web3.to_checksum_address(ADDRESS)
    if abi_type == "bytes32":
        return bytes(range(32))
    if abi_type.startswith("uint"):
        return 7
    raise AssertionError(f"no sample for {abi_type}")


@pytest.fixture(scope="module")
def abi() -> list[dict[str, Any]]:
    return list(_build()[ROUND_CONTRACT].abi)


def test_every_view_encodes_as_web3_does(abi: list[dict[str, Any]]) -> None:
    """Selector and encoded arguments of each view of the round ABI equal web3's."""
    contract = Web3().eth.contract(address=Web3.to_checksum_address(ADDRESS), abi=abi)
    functions = view_functions(abi)
    views = [f for f in abi if f.get("type") == "function" and f["stateMutability"] == "view"]
    assert len(views) > 30
    for item in views:
        args = [_sample(i["type"]) for i in item["inputs"]]
        ours = functions[item["name"]].call_data(Web3().codec, args)
        theirs = getattr(contract.functions, item["name"])(*args)._encode_transaction_data()
        assert ours == theirs, item["name"]


def test_answers_decode_as_web3_returns_them(abi: list[dict[str, Any]]) -> None:
    """A struct answer is a tuple, an address answer is checksummed, one output is unwrapped,
    several are a tuple; an empty answer where outputs are promised is web3's error."""
    from web3.exceptions import BadFunctionCallOutput

    functions = view_functions(abi)
    codec = Web3().codec
    assert functions["coordinator"].result(codec, encode(["address"], [ADDRESS])) == (
        Web3.to_checksum_address(ADDRESS)
    )
    option = functions["option"].result(
        codec, encode(["(uint64,uint64,uint128,uint128)"], [(1, 2, 3, 4)])
    )
    assert option == (1, 2, 3, 4)
    assert functions["shortfall"].result(codec, encode(["uint256", "uint256"], [5, 6])) == (5, 6)
    with pytest.raises(BadFunctionCallOutput):
        functions["phase"].result(codec, b"")

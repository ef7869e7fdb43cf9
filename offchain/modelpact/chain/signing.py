"""EIP-1559 (type 2) transactions signed without eth-account's generic machinery.

eth-account's ``sign_transaction`` took ~0.8 ms per transaction, almost all of it in validating
and reshaping the dictionary (formatters, ``rlp`` sedes objects, re-deriving the account from
its key); the signature itself (libsecp256k1 through coincurve) takes ~0.04 ms. A round sends
about five transactions per participant, so :func:`sign_dynamic_fee` serializes the one shape
the transaction layer builds -- ``chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to,
value, data`` with an empty access list -- and signs it directly. Anything else (a legacy
``gasPrice``, an access list, a blob, a field of another type) returns None, and the caller
signs with eth-account as before. The bytes are eth-account's exactly: the signature is
RFC 6979 deterministic with a low ``s`` in both (tests/unit/test_signing.py compares them on
random transactions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coincurve import PrivateKey
from eth_utils.crypto import keccak

__all__ = ["sign_dynamic_fee"]

_QUANTITIES = ("chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "value")
_FIELDS = frozenset({*_QUANTITIES, "from", "to", "data"})
_UINT256 = 2**256
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def sign_dynamic_fee(key: bytes, address: str, tx: Mapping[str, Any]) -> bytes | None:
    """The signed raw bytes of the EIP-1559 transaction ``tx`` from the account of ``key``
    (whose checksummed address is ``address``), or None when ``tx`` is not the plain shape this
    signs (see the module doc): then sign it with eth-account. ``tx["from"]``, when present,
    must be ``address`` (None otherwise: eth-account raises its own error)."""
    if not _FIELDS.issuperset(tx) or "maxFeePerGas" not in tx or "maxPriorityFeePerGas" not in tx:
        return None
    if tx.get("from", address) != address or "gas" not in tx or "chainId" not in tx:
        return None
    fields = [tx.get(name, 0) for name in _QUANTITIES]
    if not all(type(v) is int and 0 <= v < _UINT256 for v in fields) or fields[0] == 0:
        return None
    to = _address_bytes(tx.get("to"))
    data = _data_bytes(tx.get("data", b""))
    if (
        to is None
        or data is None
        or len(key) != 32
        or not 0 < int.from_bytes(key, "big") < _SECP256K1_N
    ):
        return None
    chain_id, nonce, tip, max_fee, gas, value = fields
    body = [
        _int(chain_id),
        _int(nonce),
        _int(tip),
        _int(max_fee),
        _int(gas),
        _bytes(to),
        _int(value),
        _bytes(data),
        _list([]),  # access list
    ]
    digest = keccak(b"\x02" + _list(body))
    signature = PrivateKey(key).sign_recoverable(digest, hasher=None)
    r, s, parity = signature[:32], signature[32:64], signature[64]
    body += [_int(parity), _int(int.from_bytes(r, "big")), _int(int.from_bytes(s, "big"))]
    return b"\x02" + _list(body)


def _address_bytes(to: Any) -> bytes | None:
    """``to`` as 20 bytes, b"" for a contract creation (absent or empty); None for anything
    but an EIP-55 checksummed address (eth-account refuses the rest with its own error)."""
    if to is None or to == "" or to == b"":
        return b""
    if not isinstance(to, str) or len(to) != 42 or not to.startswith("0x"):
        return None
    try:
        raw = bytes.fromhex(to[2:])
    except ValueError:
        return None
    return raw if _checksum(raw) == to else None


def _checksum(raw: bytes) -> str:
    """EIP-55 of 20 address bytes."""
    hexed = raw.hex()
    digest = keccak(hexed.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(d, 16) >= 8 else c for c, d in zip(hexed, digest[:40], strict=True)
    )


def _data_bytes(data: Any) -> bytes | None:
    """Calldata as bytes from bytes or 0x hex; None for anything else."""
    if isinstance(data, bytes):
        return bytes(data)
    if isinstance(data, str) and data.startswith("0x") and len(data) % 2 == 0:
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


# RLP (the Ethereum yellow paper, appendix B), for the byte strings, integers and lists above.


def _length(size: int, offset: int) -> bytes:
    if size < 56:
        return bytes([offset + size])
    encoded = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded)]) + encoded


def _bytes(value: bytes) -> bytes:
    if len(value) == 1 and value[0] < 0x80:
        return value
    return _length(len(value), 0x80) + value


def _int(value: int) -> bytes:
    return _bytes(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _list(items: list[bytes]) -> bytes:
    payload = b"".join(items)
    return _length(len(payload), 0xC0) + payload

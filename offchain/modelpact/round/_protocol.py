"""The few protocol encodings the round workflows use, all delegated to :mod:`modelpact.encoding`
(the single source of truth shared with Solidity). Kept in one place so the workflows read as
protocol steps."""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

from modelpact import encoding

__all__ = [
    "WAD",
    "accuracy_wad",
    "coordinator_commitment",
    "data_root",
    "model_hash",
    "new_secret",
    "participant_commitment",
    "participant_commitment_v2",
    "participant_data_root",
    "row_digest",
]

WAD = 10**18


def data_root(rows: NDArray[np.int64]) -> bytes:
    """StandardMerkleTree root of integer rows (leaf = (row index, row values)).

    Remembered by :mod:`modelpact.encoding` for these exact rows (a round hashes the same public
    test set for every participant's verification)."""
    return bytes(encoding.dataset_merkle_root(np.ascontiguousarray(rows, dtype=np.int64)))


def participant_commitment(
    secret: bytes, participant: str, round_address: str, chain_id: int
) -> bytes:
    """keccak256(abi.encode(secret, participant, round, chainid))."""
    return bytes(encoding.participant_commitment(secret, participant, round_address, chain_id))


def coordinator_commitment(
    secret: bytes, coordinator: str, scenario_hash: bytes, chain_id: int
) -> bytes:
    """keccak256(abi.encode(secret, coordinator, scenarioHash, chainid))."""
    return bytes(encoding.coordinator_commitment(secret, coordinator, scenario_hash, chain_id))


def new_secret() -> bytes:
    """A fresh 32-byte randomness secret from the OS."""
    return bytes(encoding.random_secret())


def model_hash(data: bytes) -> bytes:
    """keccak256 of a model file's bytes."""
    return bytes(encoding.model_hash(data))


def accuracy_wad(correct: int, total: int) -> int:
    """Accuracy as a WAD fraction, floored: ``correct * 1e18 // total`` (exact integer maths)."""
    return correct * WAD // total


def participant_data_root(participant: str, rows: NDArray[np.int64]) -> bytes:
    """The v2 data root: StandardMerkleTree over (participant address, row index, row values),
    so a copy of another participant's root cannot be joined or delivered."""
    arr = np.ascontiguousarray(rows, dtype=np.int64)
    return bytes(encoding.participant_dataset_root(participant, arr))


def row_digest(row: NDArray[np.int64]) -> bytes:
    """sha256 of one row's little-endian int64 values (to spot copied rows)."""
    return hashlib.sha256(np.ascontiguousarray(row, dtype="<i8").tobytes()).digest()


def participant_commitment_v2(
    secret: bytes,
    delivery_key: tuple[int, int],
    participant: str,
    round_address: str,
    chain_id: int,
) -> bytes:
    """keccak256(abi.encode(secret, deliveryKeyX, deliveryKeyY, participant, round, chainid))."""
    x, y = delivery_key
    return bytes(
        encoding.participant_commitment_v2(secret, x, y, participant, round_address, chain_id)
    )

"""The single source of truth for every value that must match Solidity byte for byte.

Hashes, commitments, draw seeds, Merkle trees, fixed-point (WAD) conversions, the rung/draw rule
and the accuracy-curve interpolation of ``contracts/src/ModelpactRound.sol`` (preimages in the
header of ``contracts/src/interfaces/IModelpactRound.sol``). Golden vectors produced here are
committed under ``contracts/test/vectors/`` and checked by Foundry and by pytest.

The delivery cipher and the per-round key derivation (issue 15) live in ``modelpact.delivery``,
with their own vectors (``contracts/test/vectors/delivery.json``); the commitment that carries the
delivery key is here (:func:`participant_commitment_v2`).

Pure core: no web3, no CLI. Byte strings are ``bytes`` (32 bytes for hashes and secrets);
addresses are hex strings (any case); integers are Python ``int``.

Rounding (every place that rounds says which way):

- :func:`to_wad` floors: ``to_wad(x) = floor(x * 1e18)`` where a float is read as the shortest
  decimal that round-trips (``repr``), so ``to_wad(0.1) == 10**17`` exactly.
- :func:`from_wad` returns the float nearest to ``n / 1e18`` (Python's correctly rounded int
  division); :func:`from_wad_exact` returns the exact :class:`~fractions.Fraction`.
- :func:`target_accuracy` floors, as ``Math.mulDiv`` does on chain.
- :func:`predicted_accuracy` rounds each segment's change toward the left knot.
- :func:`quantise_rows` floors ``x * 1e6``.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction
from typing import NamedTuple

from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak
from eth_utils.address import is_address, to_checksum_address

from modelpact.errors import ModelpactError

__all__ = [
    "QUANTISATION_SCALE",
    "WAD",
    "Assignment",
    "Bracket",
    "CurveKnot",
    "Deadlines",
    "EncodingError",
    "OnchainOption",
    "ParticipantState",
    "Phase",
    "RoundConfig",
    "StandardMerkleTree",
    "Tier",
    "assign_rung",
    "bracket",
    "coordinator_commitment",
    "dataset_merkle_root",
    "draw_seed",
    "from_wad",
    "from_wad_exact",
    "hi_probability",
    "keccak256",
    "leaf_hash",
    "merkle_proof",
    "model_hash",
    "node_hash",
    "participant_commitment",
    "participant_commitment_v2",
    "predicted_accuracy",
    "quantise_rows",
    "random_secret",
    "target_accuracy",
    "to_wad",
    "verify_proof",
]

WAD = 10**18
"""Fixed-point scale of ratios, accuracies and model values on chain."""

QUANTISATION_SCALE = 10**6
"""Real-valued features are committed as ``floor(x * 1e6)``."""

_UINT256_MAX = 2**256 - 1
_LEAF_TYPES = ("uint256", "int256[]")


class EncodingError(ModelpactError, ValueError):
    """A value cannot be encoded as the contract expects (wrong size, sign or range)."""


# ------------------------------------------------------------------------------------------
# Fixed point
# ------------------------------------------------------------------------------------------


def _exact(x: float | int | Fraction | Decimal | str) -> Fraction:
    if isinstance(x, bool):
        raise EncodingError(f"expected a number, got {x!r}", hint="pass an int, float or Fraction")
    if isinstance(x, float):
        if not math.isfinite(x):
            raise EncodingError(f"cannot encode {x!r}", hint="pass a finite number")
        return Fraction(repr(x))
    try:
        return Fraction(x)
    except (ValueError, TypeError) as exc:
        raise EncodingError(f"cannot read {x!r} as a number", hint="pass a finite number") from exc


def to_wad(x: float | int | Fraction | Decimal | str) -> int:
    """Fraction ``x`` (e.g. 0.75) as a non-negative WAD integer, floored: ``floor(x * 1e18)``.

    Floats are read as their shortest round-tripping decimal (``repr``), so ``to_wad(0.1)`` is
    exactly ``10**17``. Raises :class:`EncodingError` for negative, non-finite or > 2**256-1 values.
    """
    value = _exact(x)
    if value < 0:
        raise EncodingError(f"WAD values are unsigned, got {x!r}", hint="pass a value >= 0")
    n = math.floor(value * WAD)
    if n > _UINT256_MAX:
        raise EncodingError(f"{x!r} does not fit a uint256 WAD", hint="pass a smaller value")
    return n


def from_wad(n: int) -> float:
    """The float nearest to ``n / 1e18``."""
    return n / WAD


def from_wad_exact(n: int) -> Fraction:
    """``n / 1e18`` exactly."""
    return Fraction(n, WAD)


# ------------------------------------------------------------------------------------------
# Hashes and commitments
# ------------------------------------------------------------------------------------------


def keccak256(data: bytes) -> bytes:
    """Ethereum's keccak256 of ``data`` (32 bytes)."""
    return keccak(data)


def _bytes32(value: bytes, name: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise EncodingError(
            f"{name} must be 32 bytes, got {value!r:.80}",
            hint="use random_secret() or a 32-byte hash",
        )
    return bytes(value)


def _address(value: str, name: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise EncodingError(
            f"{name} is not an address: {value!r}", hint="pass a 0x-prefixed 20-byte hex address"
        )
    return to_checksum_address(value)


def _uint(value: int, name: str, bits: int = 256) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise EncodingError(f"{name} must be a uint{bits}, got {value!r}", hint="pass an int >= 0")
    return value


def participant_commitment(
    secret: bytes, participant: str, round_address: str, chain_id: int
) -> bytes:
    """keccak256(abi.encode(bytes32 secret, address participant, address round, uint256 chainid)).

    Binds the secret to its owner, this round and this chain: a copied commitment is useless.
    """
    return keccak(
        abi_encode(
            ["bytes32", "address", "address", "uint256"],
            [
                _bytes32(secret, "secret"),
                _address(participant, "participant"),
                _address(round_address, "round_address"),
                _uint(chain_id, "chain_id"),
            ],
        )
    )


def coordinator_commitment(
    secret: bytes, coordinator: str, scenario_hash: bytes, chain_id: int
) -> bytes:
    """keccak256(abi.encode(bytes32 secret, address coordinator, bytes32 scenarioHash,
    uint256 chainid))."""
    return keccak(
        abi_encode(
            ["bytes32", "address", "bytes32", "uint256"],
            [
                _bytes32(secret, "secret"),
                _address(coordinator, "coordinator"),
                _bytes32(scenario_hash, "scenario_hash"),
                _uint(chain_id, "chain_id"),
            ],
        )
    )


def draw_seed(
    coordinator_secret: bytes, participant_secret: bytes, round_address: str, index: int
) -> bytes:
    """keccak256(abi.encode(bytes32 coordinatorSecret, bytes32 participantSecret, address round,
    uint256 index)): the seed that decides participant #index's draw."""
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "address", "uint256"],
            [
                _bytes32(coordinator_secret, "coordinator_secret"),
                _bytes32(participant_secret, "participant_secret"),
                _address(round_address, "round_address"),
                _uint(index, "index"),
            ],
        )
    )


def model_hash(file_bytes: bytes) -> bytes:
    """keccak256 of a model file's bytes, as posted on chain."""
    return keccak(bytes(file_bytes))


def random_secret() -> bytes:
    """32 bytes from the OS CSPRNG, never all zero (the contract rejects a zero commitment)."""
    while True:
        secret = secrets.token_bytes(32)
        if any(secret):
            return secret


# ------------------------------------------------------------------------------------------
# Contract v2 (issue 15): the randomness commitment carries the delivery public key.
# Replaces participant_commitment once ModelpactRound v2 lands (notes: contract-v2.md, section 2).
# ------------------------------------------------------------------------------------------


def participant_commitment_v2(
    secret: bytes,
    delivery_key_x: int,
    delivery_key_y: int,
    participant: str,
    round_address: str,
    chain_id: int,
) -> bytes:
    """keccak256(abi.encode(bytes32 secret, uint256 deliveryKeyX, uint256 deliveryKeyY,
    address participant, address round, uint256 chainid)).

    Registers the participant's alt_bn128 delivery public key P (``modelpact.delivery``) at join
    at no extra gas; P is published at reveal. Only the encoding is checked here, not that P is
    on the curve (``modelpact.delivery.CurvePoint`` does that).
    """
    return keccak(
        abi_encode(
            ["bytes32", "uint256", "uint256", "address", "address", "uint256"],
            [
                _bytes32(secret, "secret"),
                _uint(delivery_key_x, "delivery_key_x"),
                _uint(delivery_key_y, "delivery_key_y"),
                _address(participant, "participant"),
                _address(round_address, "round_address"),
                _uint(chain_id, "chain_id"),
            ],
        )
    )


# ------------------------------------------------------------------------------------------
# Assignment: target, rungs and the draw
# ------------------------------------------------------------------------------------------


class Assignment(NamedTuple):
    """What a participant receives: rung 0 = no model, 1..L = tiers, L+1 = collective model."""

    rung: int
    accuracy_wad: int
    target_wad: int


class Bracket(NamedTuple):
    """The two neighbouring rungs around a target: lo_accuracy <= target <= hi_accuracy."""

    lo_rung: int
    lo_accuracy_wad: int
    hi_rung: int
    hi_accuracy_wad: int
    target_wad: int


def target_accuracy(ratio_wad: int, collective_accuracy_wad: int) -> int:
    """``floor(ratio_wad * collective_accuracy_wad / 1e18)`` (``Math.mulDiv`` on chain)."""
    return _uint(ratio_wad, "ratio_wad") * _uint(collective_accuracy_wad, "collective") // WAD


def _check_rungs(ratio_wad: int, collective: int, tiers: Sequence[int]) -> None:
    if ratio_wad > WAD:
        raise EncodingError(f"ratio {ratio_wad} exceeds 1e18", hint="ratios are fractions <= 1")
    if not 0 < collective <= WAD:
        raise EncodingError(
            f"collective accuracy {collective} outside (0, 1e18]", hint="pass a WAD accuracy"
        )
    previous = 0
    for i, acc in enumerate(tiers):
        if not previous < acc < collective:
            raise EncodingError(
                f"tier {i} accuracy {acc} is not strictly between {previous} and {collective}",
                hint="tiers must be strictly ascending, non-zero and below the collective model",
            )
        previous = acc


def bracket(
    ratio_wad: int, collective_accuracy_wad: int, tier_accuracies_wad: Sequence[int]
) -> Bracket:
    """The lowest rung at or above the target (``hi``) and the rung below it (``lo``).

    With a zero target both are rung 0. Validates the tiers as ``postModels`` does.
    """
    _check_rungs(ratio_wad, collective_accuracy_wad, tier_accuracies_wad)
    target = target_accuracy(ratio_wad, collective_accuracy_wad)
    if target == 0:
        return Bracket(0, 0, 0, 0, 0)
    lo_accuracy = 0
    for i, acc in enumerate(tier_accuracies_wad):
        if acc >= target:
            return Bracket(i, lo_accuracy, i + 1, acc, target)
        lo_accuracy = acc
    n = len(tier_accuracies_wad)
    return Bracket(n, lo_accuracy, n + 1, collective_accuracy_wad, target)


def hi_probability(
    ratio_wad: int, collective_accuracy_wad: int, tier_accuracies_wad: Sequence[int]
) -> Fraction:
    """P(upper rung) = (target - lo) / (hi - lo) exactly (1 when the target is a rung or 0)."""
    b = bracket(ratio_wad, collective_accuracy_wad, tier_accuracies_wad)
    if b.hi_accuracy_wad == b.lo_accuracy_wad:
        return Fraction(1)
    return Fraction(b.target_wad - b.lo_accuracy_wad, b.hi_accuracy_wad - b.lo_accuracy_wad)


def assign_rung(
    ratio_wad: int,
    collective_accuracy_wad: int,
    tier_accuracies_wad: Sequence[int],
    draw_seed: bytes,
) -> Assignment:
    """The rung the contract assigns: hi iff uint256(seed) % (hi - lo) < target - lo."""
    seed = int.from_bytes(_bytes32(draw_seed, "draw_seed"), "big")
    b = bracket(ratio_wad, collective_accuracy_wad, tier_accuracies_wad)
    if b.target_wad == 0:
        return Assignment(0, 0, 0)
    width = b.hi_accuracy_wad - b.lo_accuracy_wad
    if width == 0 or seed % width < b.target_wad - b.lo_accuracy_wad:
        return Assignment(b.hi_rung, b.hi_accuracy_wad, b.target_wad)
    return Assignment(b.lo_rung, b.lo_accuracy_wad, b.target_wad)


def predicted_accuracy(knots: Sequence[tuple[int, int]], data_count: int) -> int:
    """The committed curve at ``data_count`` rows, as ``predictedAccuracy`` computes it.

    ``knots`` are ``(dataCount, accuracyWad)`` strictly ascending in dataCount. Piecewise linear,
    0 without knots, linear from (0, 0) to the first knot, flat beyond the last; each segment's
    change is floored in magnitude (rounded toward the left knot).
    """
    x0, y0 = 0, 0
    for x1, y1 in knots:
        if data_count < x1:
            if y1 >= y0:
                return y0 + (y1 - y0) * (data_count - x0) // (x1 - x0)
            return y0 - (y0 - y1) * (data_count - x0) // (x1 - x0)
        x0, y0 = x1, y1
    return y0


# ------------------------------------------------------------------------------------------
# Merkle trees (OpenZeppelin StandardMerkleTree, leaves ("uint256", "int256[]"))
# ------------------------------------------------------------------------------------------


def _row(values: Sequence[int], i: int) -> list[int]:
    row = list(values)
    for v in row:
        if isinstance(v, bool) or not isinstance(v, int) or not -(2**255) <= v < 2**255:
            raise EncodingError(
                f"row {i} holds {v!r}, not an int256",
                hint="quantise real-valued rows with quantise_rows()",
            )
    return row


def leaf_hash(index: int, values: Sequence[int]) -> bytes:
    """keccak256(bytes.concat(keccak256(abi.encode(uint256 index, int256[] values))))."""
    encoded = abi_encode(list(_LEAF_TYPES), [_uint(index, "row index"), _row(values, index)])
    return keccak(keccak(encoded))


def node_hash(a: bytes, b: bytes) -> bytes:
    """keccak256 of the two children in ascending byte order (OpenZeppelin's commutative hash)."""
    return keccak(a + b if a <= b else b + a)


@dataclass(frozen=True)
class StandardMerkleTree:
    """An OpenZeppelin ``StandardMerkleTree`` over rows ``(index, values)``, index = position.

    ``tree`` is the flat array of ``@openzeppelin/merkle-tree`` (root at 0, leaves sorted by hash
    at the end); ``tree_index[i]`` is where row i's leaf sits.
    """

    tree: tuple[bytes, ...]
    tree_index: tuple[int, ...]

    @classmethod
    def of(cls, rows: Sequence[Sequence[int]]) -> StandardMerkleTree:
        """Build the tree of ``rows`` (each an integer row, label last)."""
        if len(rows) == 0:
            raise EncodingError("a dataset needs at least one row", hint="commit non-empty data")
        hashes = [leaf_hash(i, row) for i, row in enumerate(rows)]
        order = sorted(range(len(hashes)), key=lambda i: hashes[i])
        size = 2 * len(hashes) - 1
        tree: list[bytes] = [b""] * size
        tree_index = [0] * len(hashes)
        for position, value_index in enumerate(order):
            tree[size - 1 - position] = hashes[value_index]
            tree_index[value_index] = size - 1 - position
        for i in range(size - 1 - len(hashes), -1, -1):
            tree[i] = node_hash(tree[2 * i + 1], tree[2 * i + 2])
        return cls(tuple(tree), tuple(tree_index))

    @property
    def root(self) -> bytes:
        """The Merkle root committed on chain."""
        return self.tree[0]

    def proof(self, i: int) -> list[bytes]:
        """The sibling path of row ``i``, leaf to root (for ``MerkleProof.verify``)."""
        if not 0 <= i < len(self.tree_index):
            raise EncodingError(
                f"row {i} is not in a tree of {len(self.tree_index)} rows",
                hint="pass a row index in range",
            )
        node = self.tree_index[i]
        path: list[bytes] = []
        while node > 0:
            sibling = node - 1 if node % 2 == 0 else node + 1
            path.append(self.tree[sibling])
            node = (node - 1) // 2
        return path


def dataset_merkle_root(rows: Sequence[Sequence[int]]) -> bytes:
    """The StandardMerkleTree root of integer ``rows`` (row index = position)."""
    return StandardMerkleTree.of(rows).root


def merkle_proof(rows: Sequence[Sequence[int]], i: int) -> list[bytes]:
    """The proof of row ``i`` in the tree of ``rows``."""
    return StandardMerkleTree.of(rows).proof(i)


def verify_proof(root: bytes, index: int, values: Sequence[int], proof: Sequence[bytes]) -> bool:
    """Whether row ``(index, values)`` is in the tree with ``root`` (as ``MerkleProof.verify``)."""
    node = leaf_hash(index, values)
    for sibling in proof:
        node = node_hash(node, _bytes32(sibling, "proof element"))
    return node == _bytes32(root, "root")


def quantise_rows(float_rows: Sequence[Sequence[float]]) -> tuple[tuple[int, ...], ...]:
    """Real-valued rows as integers: ``floor(x * 1e6)``, each float read as its ``repr``."""
    out: list[tuple[int, ...]] = []
    for row in float_rows:
        out.append(tuple(math.floor(_exact(float(x)) * QUANTISATION_SCALE) for x in row))
    return tuple(out)


# ------------------------------------------------------------------------------------------
# The contract's structs, as plain values (what deploy_round takes and the views return)
# ------------------------------------------------------------------------------------------


class Phase(IntEnum):
    """``IModelpactRound.Phase``, in declaration order."""

    JOIN = 0
    POST = 1
    REVEAL = 2
    CLAIM = 3
    CLOSED = 4
    ABORTED = 5


@dataclass(frozen=True)
class OnchainOption:
    """``IModelpactRound.Option``: rows to contribute and the promised share (WAD units)."""

    data_count: int
    ratio_wad: int
    promised_value_wad: int = 0
    budget_value_wad: int = 0

    def as_tuple(self) -> tuple[int, int, int, int]:
        """ABI tuple order."""
        return (self.data_count, self.ratio_wad, self.promised_value_wad, self.budget_value_wad)


@dataclass(frozen=True)
class Deadlines:
    """``IModelpactRound.Deadlines``, unix seconds, now < join < post < reveal < claim."""

    join: int
    post: int
    reveal: int
    claim: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        """ABI tuple order."""
        return (self.join, self.post, self.reveal, self.claim)

    @classmethod
    def after(cls, now: int, *, join: int, post: int, reveal: int, claim: int) -> Deadlines:
        """Deadlines from phase durations in seconds, starting at ``now``."""
        j = now + join
        return cls(j, j + post, j + post + reveal, j + post + reveal + claim)


@dataclass(frozen=True)
class RoundConfig:
    """``IModelpactRound.Config``: capacity, bond (wei), commitments (32 bytes) and deadlines."""

    capacity: int
    participant_bond: int
    scenario_hash: bytes
    test_set_commitment: bytes
    coordinator_commitment: bytes
    deadlines: Deadlines

    def as_tuple(self) -> tuple[int, int, bytes, bytes, bytes, tuple[int, int, int, int]]:
        """ABI tuple order."""
        return (
            self.capacity,
            self.participant_bond,
            _bytes32(self.scenario_hash, "scenario_hash"),
            _bytes32(self.test_set_commitment, "test_set_commitment"),
            _bytes32(self.coordinator_commitment, "coordinator_commitment"),
            self.deadlines.as_tuple(),
        )


@dataclass(frozen=True)
class CurveKnot:
    """``IModelpactRound.CurveKnot``: predicted accuracy (WAD) at ``data_count`` rows."""

    data_count: int
    accuracy_wad: int


@dataclass(frozen=True)
class Tier:
    """``IModelpactRound.Tier``: a model file's keccak256 and its accuracy (WAD)."""

    model_hash: bytes
    accuracy_wad: int


@dataclass(frozen=True)
class ParticipantState:
    """``IModelpactRound.Participant``. ``commitment`` is zero once revealed (the slot then holds
    ``draw_seed``; the commitment stays in the ``Joined`` event)."""

    index: int
    option_id: int
    revealed: bool
    claimed: bool
    commitment: bytes
    draw_seed: bytes

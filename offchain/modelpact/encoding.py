"""The single source of truth for every value that must match Solidity byte for byte.

Hashes, commitments, draw seeds, Merkle trees, fixed-point (WAD) conversions, the rung/draw rule
and the accuracy-curve interpolation of ``contracts/src/ModelpactRound.sol`` (preimages in the
header of ``contracts/src/interfaces/IModelpactRound.sol``); the canonical integer model format
and its prediction (``contracts/src/libraries/ModelEval.sol``) and the positional evaluation-log
tree (``contracts/src/libraries/EvalLog.sol``). Golden vectors produced here are
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

import hashlib
import math
import os
import secrets
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak as _eth_keccak
from eth_utils.address import is_address, to_checksum_address
from numpy.typing import NDArray

from modelpact.errors import ModelpactError

__all__ = [
    "FEATURE_MAX",
    "FEATURE_MIN",
    "FRAUD_REWARD_BPS",
    "MIN_WINDOW_SECONDS",
    "MODEL_BIAS_BYTES",
    "MODEL_HEADER_BYTES",
    "MODEL_MAGIC",
    "MODEL_VERSION",
    "MODEL_WEIGHT_BYTES",
    "PACKED_LOG_ROW_BYTES",
    "QUANTISATION_SCALE",
    "WAD",
    "Assignment",
    "Bracket",
    "CurveKnot",
    "Deadlines",
    "EncodingError",
    "EvalLogTree",
    "IntegerModel",
    "MalformedModelError",
    "OnchainOption",
    "ParticipantState",
    "Phase",
    "PostedModel",
    "RoundConfig",
    "Schedule",
    "StandardMerkleTree",
    "Tier",
    "accuracy_of_count",
    "allot",
    "assign_rung",
    "bracket",
    "check_feature_row",
    "coordinator_commitment",
    "count_of_accuracy",
    "curve_compensation",
    "curve_shortfall",
    "dataset_merkle_root",
    "decode_integer_model",
    "draw_seed",
    "encode_integer_model",
    "eval_log_depth",
    "eval_log_entries",
    "eval_log_leaf",
    "eval_log_node",
    "features_in_range",
    "forfeit_share",
    "fraud_reward",
    "from_wad",
    "from_wad_exact",
    "hi_probability",
    "integer_model_well_formed",
    "keccak256",
    "leaf_hash",
    "merkle_proof",
    "model_byte_length",
    "model_hash",
    "node_hash",
    "option_ratio_wad",
    "pack_eval_log",
    "participant_commitment",
    "participant_commitment_v2",
    "participant_dataset_root",
    "participant_leaf_hash",
    "participant_merkle_proof",
    "predict_label",
    "predicted_accuracy",
    "promise_consistent",
    "quantise_rows",
    "random_secret",
    "stored_commitment",
    "target_accuracy",
    "to_wad",
    "unpack_eval_log",
    "verify_eval_log_leaf",
    "verify_participant_proof",
    "verify_proof",
]

WAD = 10**18
"""Fixed-point scale of ratios, accuracies and model values on chain."""

QUANTISATION_SCALE = 10**6
"""Real-valued features are committed as ``floor(x * 1e6)``."""

MIN_WINDOW_SECONDS = 3600
"""ModelpactRound v2: shortest reveal, delivery and claim window (``MIN_WINDOW``)."""

FRAUD_REWARD_BPS = 1000
"""ModelpactRound v2: share of the coordinator's bond paid to a successful challenger (10%)."""

_UINT256_MAX = 2**256 - 1
_LEAF_TYPES = ("uint256", "int256[]")
_PARTICIPANT_LEAF_TYPES = ("address", "uint256", "int256[]")


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


try:  # safe-pysha3 (C): ~0.7 us a short hash against ~5 us through eth_hash's pycryptodome
    from sha3 import keccak_256 as _keccak_256
except ImportError:  # not built for this interpreter (PyPy): eth_hash's backend, same digests
    _keccak_256 = None


def keccak(data: bytes | bytearray | memoryview) -> bytes:
    """keccak256 of ``data``: safe-pysha3 when installed, else eth_hash (the same digests)."""
    if _keccak_256 is None:
        return _eth_keccak(bytes(data))
    return bytes(_keccak_256(data).digest())


def keccak256(data: bytes) -> bytes:
    """Ethereum's keccak256 of ``data`` (32 bytes)."""
    return keccak(data)


def _eth_hash_prefers_pysha3() -> None:
    """Point eth_hash's automatic backend (web3 and eth_utils hash through it: selectors,
    checksummed addresses, event topics, transaction hashes) at safe-pysha3 when it is
    installed: eth_hash tries pycryptodome first, ~7x slower a hash, 1.5-2 s of a
    200-participant round's CPU. The same digests (tested). ``ETH_HASH_BACKEND``, eth_hash's own
    setting, still wins when set; no environment variable is set (a child process in another
    environment, without pysha3, must not be told to use it)."""
    if _keccak_256 is None or os.environ.get("ETH_HASH_BACKEND"):
        return
    from eth_hash.backends.auto import AutoBackend
    from eth_hash.backends.pysha3 import backend

    auto = getattr(_eth_keccak, "_backend", None)
    if not isinstance(auto, AutoBackend):
        return
    # AutoBackend._initialize's own step with this backend (setattr as there: mypy reads
    # methods), and the Keccak256's, which keeps the chosen methods once it has hashed
    setattr(auto, "keccak256", backend.keccak256)  # noqa: B010
    setattr(auto, "preimage", backend.preimage)  # noqa: B010
    setattr(_eth_keccak, "hasher", backend.keccak256)  # noqa: B010
    setattr(_eth_keccak, "preimage", backend.preimage)  # noqa: B010


_eth_hash_prefers_pysha3()


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
    """keccak256 of a model's canonical bytes (:func:`encode_integer_model`): its on-chain id."""
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


def stored_commitment(commitment: bytes, joiner: str) -> bytes:
    """keccak256(abi.encode(bytes32 commitment, address joiner)): what the round stores under a
    data root (``commitmentOf``). Binding the joining address means a commitment some other
    address joined with (a Sybil seat's, naming the participant) never opens for the participant."""
    return keccak(
        abi_encode(
            ["bytes32", "address"],
            [_bytes32(commitment, "commitment"), _address(joiner, "joiner")],
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
# ModelpactRound v2: exact-count accuracies, promises and money rules (RoundMath)
# ------------------------------------------------------------------------------------------


def accuracy_of_count(correct_count: int, test_row_count: int) -> int:
    """``floor(count * 1e18 / T)``: the only accuracy v2's postModels accepts for ``count``
    (which must be at least 1)."""
    rows = _uint(test_row_count, "test_row_count")
    if not 0 < rows <= WAD:
        raise EncodingError(f"test row count {rows} outside [1, 1e18]", hint="commit 1..1e18 rows")
    count = _uint(correct_count, "correct_count")
    if count > rows:
        raise EncodingError(f"{count} correct of {rows} rows", hint="count at most the test rows")
    return count * WAD // rows


def count_of_accuracy(accuracy_wad: int, test_row_count: int) -> int:
    """The unique count with ``accuracy_of_count(count, T) == accuracy`` (``ceil(acc * T / 1e18)``),
    as the contract's views recover it; raises if no count gives ``accuracy_wad``."""
    rows = _uint(test_row_count, "test_row_count")
    count = -(-_uint(accuracy_wad, "accuracy_wad") * rows // WAD)
    if count > rows or accuracy_of_count(count, rows) != accuracy_wad:
        raise EncodingError(
            f"accuracy {accuracy_wad} is no count over {rows} rows",
            hint="post floor(count * 1e18 / T)",
        )
    return count


def option_ratio_wad(promised_value_wad: int, budget_value_wad: int) -> int:
    """``floor(t * 1e18 / t_bar)`` (0 when t_bar is 0): the ratio v2's constructor expects."""
    t = _uint(promised_value_wad, "promised_value_wad")
    t_bar = _uint(budget_value_wad, "budget_value_wad")
    return 0 if t_bar == 0 else t * WAD // t_bar


def promise_consistent(ratio_wad: int, promised_value_wad: int, budget_value_wad: int) -> bool:
    """v2's constructor check: t <= t_bar and ratio within one unit of ``option_ratio_wad``
    (t_bar = 0 only with t = 0 and ratio = 0)."""
    if budget_value_wad == 0:
        return promised_value_wad == 0 and ratio_wad == 0
    if promised_value_wad > budget_value_wad:
        return False
    return abs(ratio_wad - option_ratio_wad(promised_value_wad, budget_value_wad)) <= 1


def forfeit_share(forfeited: int, bond: int, recipients: int) -> int:
    """Each recipient's equal share of ``forfeited`` bonds of ``bond`` wei (floor; 0 for none).

    A claim's share is ``forfeit_share(d - r, b, r)``: deliverers that did not reveal forfeit to
    the revealers; bonds of participants named undelivered are burned, not shared."""
    return 0 if recipients == 0 else forfeited * bond // recipients


def fraud_reward(coordinator_bond: int) -> int:
    """``floor(B * FRAUD_REWARD_BPS / 10000)``: what a successful challenger is paid."""
    return _uint(coordinator_bond, "coordinator_bond") * FRAUD_REWARD_BPS // 10_000


def allot(coordinator_bond: int, delivered: int) -> int:
    """``floor((B - fraud_reward(B)) / d)``: each deliverer's allot of the coordinator's bond (what
    fraud or a failed delivery pays it, and the cap of its curve compensation)."""
    if delivered <= 0:
        raise EncodingError("no deliverers", hint="a posted round has at least quorum >= 1")
    return (coordinator_bond - fraud_reward(coordinator_bond)) // delivered


def curve_shortfall(predicted_wad: int, measured_wad: int, tolerance_wad: int) -> int:
    """``max(0, predicted - tolerance - measured)`` (WAD), the v2 curve check at post."""
    return max(0, predicted_wad - tolerance_wad - measured_wad)


def curve_compensation(ratio_wad: int, shortfall_wad: int, wei_per_wad: int, cap: int) -> int:
    """``min(cap, floor(ratio * shortfall * rho / 1e36))`` wei: a deliverer's curve compensation
    (``cap`` is its allot)."""
    return min(cap, ratio_wad * shortfall_wad * _uint(wei_per_wad, "wei_per_wad") // (WAD * WAD))


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


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big", signed=value < 0)


def _leaf_tail(index: int, values: Sequence[int]) -> bytes:
    """``abi.encode`` of (uint256 index, int256[] values) after the static head words the caller
    puts first, written directly: the head's offset to the array, its length, its words. Equal
    to eth_abi's encoding (tested), without its per-value validation (7-14x faster: rows are
    checked once by :func:`_row`)."""
    row = _row(values, index)
    return _word(_uint(index, "row index")) + b"".join(_word(v) for v in row)


def leaf_hash(index: int, values: Sequence[int]) -> bytes:
    """keccak256(bytes.concat(keccak256(abi.encode(uint256 index, int256[] values))))."""
    tail = _leaf_tail(index, values)
    encoded = tail[:32] + _word(64) + _word(len(values)) + tail[32:]
    return keccak(keccak(encoded))


def participant_leaf_hash(participant: str, index: int, values: Sequence[int]) -> bytes:
    """ModelpactRound v2 data-root leaf, bound to its contributor: keccak256(bytes.concat(
    keccak256(abi.encode(address participant, uint256 index, int256[] values))))."""
    return _participant_leaf(_address_word(participant), index, values)


def _address_word(participant: str) -> bytes:
    return bytes(12) + bytes.fromhex(_address(participant, "participant")[2:])


def _participant_leaf(address_word: bytes, index: int, values: Sequence[int]) -> bytes:
    tail = _leaf_tail(index, values)
    encoded = address_word + tail[:32] + _word(96) + _word(len(values)) + tail[32:]
    return keccak(keccak(encoded))


def _int_matrix(rows: object) -> NDArray[np.int64] | None:
    """``rows`` as a 2-D int64 array when they are one already (an integer numpy array: every
    value is an int256, nothing to check per cell); None for anything else (lists, ragged rows,
    bools, floats, uint64 above 2^63), which the per-row path checks and encodes."""
    if not isinstance(rows, np.ndarray) or rows.ndim != 2 or rows.dtype.kind not in "iu":
        return None
    if rows.dtype.kind == "u" and rows.size and int(rows.max()) >= 2**63:
        return None
    return np.ascontiguousarray(rows, dtype=np.int64)


def _listed(rows: Sequence[Sequence[int]] | NDArray[Any]) -> Sequence[Sequence[int]]:
    """Rows the per-row path checks: an array's values as Python objects (its bools stay bools
    and its floats floats, both refused; uint64 values above 2^63 become exact ints)."""
    return rows.tolist() if isinstance(rows, np.ndarray) else rows


def _leaf_words(matrix: NDArray[np.int64], *, head: bytes | None) -> NDArray[np.uint8]:
    """Every row's ``abi.encode`` at once, one row of bytes each: ``(address head, uint256
    index, int256[] values)`` with ``head`` (v2), ``(uint256 index, int256[] values)`` without.
    Each 32-byte word is four big-endian int64 lanes: three of sign fill, then the value (an
    int64 sign-extended to int256 is exactly its two's complement in 32 bytes)."""
    n, f = matrix.shape
    lead = 0 if head is None else 1
    words = np.zeros((n, lead + 3 + f, 4), dtype=">i8")
    words[:, lead, 3] = np.arange(n, dtype=np.int64)  # the row index
    words[:, lead + 1, 3] = 32 * (lead + 2)  # offset of the array: after the static head words
    words[:, lead + 2, 3] = f  # the array's length
    words[:, lead + 3 :, :3] = np.where(matrix < 0, -1, 0)[:, :, None]
    words[:, lead + 3 :, 3] = matrix
    raw = words.view(np.uint8).reshape(n, -1)
    if head is not None:
        raw[:, :32] = np.frombuffer(head, dtype=np.uint8)
    return raw


def _leaves(raw: NDArray[np.uint8]) -> list[bytes]:
    """keccak256(bytes.concat(keccak256(row))) of every row of ``raw`` (the encoded leaves)."""
    data, width = memoryview(raw.tobytes()), raw.shape[1]
    return [keccak(keccak(data[i : i + width])) for i in range(0, len(data), width)]


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
    def of(cls, rows: Sequence[Sequence[int]] | NDArray[np.integer]) -> StandardMerkleTree:
        """Build the tree of ``rows`` (each an integer row, label last)."""
        if len(rows) == 0:
            raise EncodingError("a dataset needs at least one row", hint="commit non-empty data")
        matrix = _int_matrix(rows)
        if matrix is not None:
            return cls._of_leaves(_leaves(_leaf_words(matrix, head=None)))
        return cls._of_leaves([leaf_hash(i, row) for i, row in enumerate(_listed(rows))])

    @classmethod
    def of_participant(
        cls, participant: str, rows: Sequence[Sequence[int]] | NDArray[np.integer]
    ) -> StandardMerkleTree:
        """ModelpactRound v2: the tree of ``participant``'s ``rows`` over leaves
        ("address", "uint256", "int256[]"), so a copy of another participant's rows has another
        root."""
        if len(rows) == 0:
            raise EncodingError("a dataset needs at least one row", hint="commit non-empty data")
        word = _address_word(participant)  # checked and converted once, not per row
        matrix = _int_matrix(rows)
        if matrix is not None:
            return cls._of_leaves(_leaves(_leaf_words(matrix, head=word)))
        listed = _listed(rows)
        return cls._of_leaves([_participant_leaf(word, i, r) for i, r in enumerate(listed)])

    @classmethod
    def _of_leaves(cls, hashes: list[bytes]) -> StandardMerkleTree:
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


_ROOTS: dict[tuple[bytes, tuple[int, ...], bytes], bytes] = {}
_ROOTS_MAX = 8192  # a 1,000-participant round needs each root several times, a few apart


def _cached_root(
    head: bytes, rows: Sequence[Sequence[int]] | NDArray[np.integer], build: Callable[[], bytes]
) -> bytes:
    """``build()``, remembered for these exact rows: the key is the participant's address word
    (empty for v1 trees), the shape and the sha256 of the int64 bytes, so only identical content
    hits. Only integer arrays are remembered (lists are checked and hashed every time)."""
    matrix = _int_matrix(rows)
    if matrix is None:
        return build()
    key = (head, tuple(matrix.shape), hashlib.sha256(matrix.tobytes()).digest())
    root = _ROOTS.get(key)
    if root is None:
        root = build()
        if len(_ROOTS) >= _ROOTS_MAX:
            del _ROOTS[next(iter(_ROOTS))]  # the oldest entry
        _ROOTS[key] = root
    return root


def dataset_merkle_root(rows: Sequence[Sequence[int]] | NDArray[np.integer]) -> bytes:
    """The StandardMerkleTree root of integer ``rows`` (row index = position; a list of int
    rows or a 2-D integer array)."""
    return _cached_root(b"", rows, lambda: StandardMerkleTree.of(rows).root)


def merkle_proof(rows: Sequence[Sequence[int]], i: int) -> list[bytes]:
    """The proof of row ``i`` in the tree of ``rows``."""
    return StandardMerkleTree.of(rows).proof(i)


def verify_proof(root: bytes, index: int, values: Sequence[int], proof: Sequence[bytes]) -> bool:
    """Whether row ``(index, values)`` is in the tree with ``root`` (as ``MerkleProof.verify``)."""
    node = leaf_hash(index, values)
    for sibling in proof:
        node = node_hash(node, _bytes32(sibling, "proof element"))
    return node == _bytes32(root, "root")


def participant_dataset_root(
    participant: str, rows: Sequence[Sequence[int]] | NDArray[np.integer]
) -> bytes:
    """ModelpactRound v2: the data root ``participant`` commits at join for ``rows`` (a list of
    int rows or a 2-D integer array)."""
    return _cached_root(
        _address_word(participant),
        rows,
        lambda: StandardMerkleTree.of_participant(participant, rows).root,
    )


def participant_merkle_proof(
    participant: str, rows: Sequence[Sequence[int]], i: int
) -> list[bytes]:
    """ModelpactRound v2: the proof of row ``i`` in ``participant``'s tree."""
    return StandardMerkleTree.of_participant(participant, rows).proof(i)


def verify_participant_proof(
    root: bytes, participant: str, index: int, values: Sequence[int], proof: Sequence[bytes]
) -> bool:
    """Whether ``participant``'s row ``(index, values)`` is in the v2 tree with ``root``."""
    node = participant_leaf_hash(participant, index, values)
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
# Canonical integer models (issue 14): the bytes a posted model hash commits to and their
# prediction. Mirrored by contracts/src/libraries/ModelEval.sol (golden vectors in
# contracts/test/vectors/models.json, checked on both sides).
#
# Layout (big-endian, two's complement, no padding), C classes, F features:
#
#   offset        size    field
#   0             4       magic "MPIM"
#   4             1       format version = 1
#   5             2       C, uint16, 2..256 (MODEL_MAX_CLASSES)
#   7             2       F, uint16, 1..1024 (MODEL_MAX_FEATURES; must equal the test rows'
#                         width - 1), and C x F <= 32,768 (MODEL_MAX_WEIGHTS)
#   9             1       scaleLog2, int8: the real-valued model times 2**scaleLog2 (documentation
#                         only: argmax is invariant under a positive scale)
#   10            8 C     biases b[c], int64
#   10 + 8 C      2 C F   weights W[c][f], int16, class-major (W[c][f] at 10 + 8C + 2(cF + f))
#
# The length must be exactly 10 + 8C + 2CF: truncated or trailing bytes are malformed.
# Prediction on an integer feature row x (F values, each in int64):
#   score[c] = b[c] + sum_f W[c][f] * x[f];   label = argmax_c score[c], ties to the lowest c.
# No overflow in int256: |W x| <= 2**15 * 2**63 = 2**78 per term, F < 2**16 terms, |b| <= 2**63,
# so |score| < 2**95. Size bounds (ModelEval.MAX_*): C <= 256, F <= 1024, C x F <= 32,768.
# ------------------------------------------------------------------------------------------

MODEL_MAGIC = b"MPIM"
"""The first four bytes of every canonical model."""
MODEL_VERSION = 1
"""The only format version this code reads and writes."""
MODEL_HEADER_BYTES = 10
MODEL_BIAS_BYTES = 8
MODEL_WEIGHT_BYTES = 2
FEATURE_MIN = -(2**63)
"""Smallest feature value a model evaluates (int64); ``ModelEval.predict`` reverts below it."""
FEATURE_MAX = 2**63 - 1
"""Largest feature value a model evaluates (int64); ``ModelEval.predict`` reverts above it."""
_INT64 = (-(2**63), 2**63 - 1)
_INT16 = (-(2**15), 2**15 - 1)
_INT8 = (-(2**7), 2**7 - 1)
_UINT16_MAX = 2**16 - 1
MODEL_MAX_CLASSES = 256
"""``ModelEval.MAX_CLASSES``: a log records a predicted label in one byte."""
MODEL_MAX_FEATURES = 1024
"""``ModelEval.MAX_FEATURES``: a challenge's test row is 32 calldata bytes per feature."""
MODEL_MAX_WEIGHTS = 32_768
"""``ModelEval.MAX_WEIGHTS`` (C x F): so that a WrongPrediction challenge on any well-formed
model fits comfortably in a block (review A, attack 4; measured in ModelpactRound.reviewA.t.sol)."""


class MalformedModelError(EncodingError):
    """Bytes that are not a canonical model (``ModelEval.wellFormed`` is false for them)."""


@dataclass(frozen=True)
class IntegerModel:
    """A canonical integer model: ``biases[c]`` (int64) and ``weights[c][f]`` (int16).

    ``scale_log2`` records the fixed-point scale (real weights = weights / 2**scale_log2); it
    does not change any prediction.
    """

    biases: tuple[int, ...]
    weights: tuple[tuple[int, ...], ...]
    scale_log2: int = 0

    @property
    def classes(self) -> int:
        """Number of classes C (labels 0..C-1)."""
        return len(self.biases)

    @property
    def features(self) -> int:
        """Number of features F."""
        return len(self.weights[0]) if self.weights else 0


def model_byte_length(classes: int, features: int) -> int:
    """The exact length of a canonical model: ``10 + 8C + 2CF``."""
    return MODEL_HEADER_BYTES + classes * (MODEL_BIAS_BYTES + MODEL_WEIGHT_BYTES * features)


def _int_in(value: int, bounds: tuple[int, int], what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
        raise EncodingError(
            f"{what} is {value!r}, outside [{bounds[0]}, {bounds[1]}]",
            hint="quantise the model with modelpact.ml.canonical",
        )
    return value


def encode_integer_model(model: IntegerModel) -> bytes:
    """The canonical bytes of ``model`` (keccak256 of them is the model's on-chain id)."""
    c, f = model.classes, model.features
    if not 2 <= c <= _UINT16_MAX or not 1 <= f <= _UINT16_MAX or len(model.weights) != c:
        raise EncodingError(
            f"a model needs 2..{_UINT16_MAX} classes and 1..{_UINT16_MAX} features, one weight "
            f"row per class; got {c} biases, {len(model.weights)} weight rows, {f} features",
            hint="pad absent classes with a minimal bias and zero weights",
        )
    if (fault := _model_size_fault(c, f)) is not None:
        raise EncodingError(fault, hint="train a model with fewer classes or features")
    for k, row in enumerate(model.weights):
        if len(row) != f:
            raise EncodingError(
                f"weight row {k} has {len(row)} values, expected {f}",
                hint="every class needs one weight per feature",
            )
        for j, w in enumerate(row):
            _int_in(w, _INT16, f"weight [{k}][{j}]")
    for k, b in enumerate(model.biases):
        _int_in(b, _INT64, f"bias [{k}]")
    _int_in(model.scale_log2, _INT8, "scale_log2")
    head = MODEL_MAGIC + struct.pack(">BHHb", MODEL_VERSION, c, f, model.scale_log2)
    flat = [w for row in model.weights for w in row]
    return head + struct.pack(f">{c}q", *model.biases) + struct.pack(f">{c * f}h", *flat)


def _malformed(message: str) -> MalformedModelError:
    return MalformedModelError(
        message, hint="these bytes are not a canonical modelpact model (format MPIM/1)"
    )


def _check_model_header(data: bytes, features: int | None) -> tuple[int, int]:
    """(C, F) of well-formed model bytes; raises :class:`MalformedModelError` naming the fault."""
    if len(data) < MODEL_HEADER_BYTES:
        raise _malformed(f"model is {len(data)} bytes, shorter than the 10-byte header")
    if data[:4] != MODEL_MAGIC:
        raise _malformed(f"model starts with 0x{data[:4].hex()}, not the magic 'MPIM'")
    if data[4] != MODEL_VERSION:
        raise _malformed(f"model format version is {data[4]}, only version 1 is defined")
    c, f = struct.unpack_from(">HH", data, 5)
    if c < 2:
        raise _malformed(f"model has {c} classes, at least 2 are needed")
    if f < 1:
        raise _malformed("model has 0 features, at least 1 is needed")
    if features is not None and f != features:
        raise _malformed(f"model has {f} features but the test rows have {features}")
    if (fault := _model_size_fault(c, f)) is not None:
        raise _malformed(fault)
    if len(data) != model_byte_length(c, f):
        raise _malformed(
            f"model is {len(data)} bytes; {c} classes x {f} features need exactly "
            f"{model_byte_length(c, f)} (truncated or trailing bytes)"
        )
    return c, f


def _model_size_fault(c: int, f: int) -> str | None:
    """Why C classes x F features exceed ModelEval's bounds (None when they do not)."""
    if c <= MODEL_MAX_CLASSES and f <= MODEL_MAX_FEATURES and c * f <= MODEL_MAX_WEIGHTS:
        return None
    return (
        f"model has {c} classes x {f} features; a canonical model has at most "
        f"{MODEL_MAX_CLASSES} classes, {MODEL_MAX_FEATURES} features and {MODEL_MAX_WEIGHTS} "
        "weights (C x F), so that a challenge fits a block"
    )


def decode_integer_model(data: bytes, *, features: int | None = None) -> IntegerModel:
    """Parse canonical model bytes (``features``: the width the test rows require, if known).

    Raises :class:`MalformedModelError` naming the first fault, in the order: header length,
    magic, version, classes < 2, features < 1, features != ``features``, size bounds
    (classes, features, C x F), total length.
    """
    if not isinstance(data, bytes | bytearray):
        raise _malformed(f"model must be bytes, got {type(data).__name__}")
    raw = bytes(data)
    c, f = _check_model_header(raw, features)
    biases = struct.unpack_from(f">{c}q", raw, MODEL_HEADER_BYTES)
    flat = struct.unpack_from(f">{c * f}h", raw, MODEL_HEADER_BYTES + MODEL_BIAS_BYTES * c)
    weights = tuple(tuple(flat[k * f : (k + 1) * f]) for k in range(c))
    return IntegerModel(biases=tuple(biases), weights=weights, scale_log2=_signed8(raw[9]))


def _signed8(byte: int) -> int:
    return byte - 256 if byte >= 128 else byte


def integer_model_well_formed(data: object, features: object) -> bool:
    """``ModelEval.wellFormed(model, features)``: never raises, whatever it is given."""
    if not isinstance(data, bytes | bytearray):
        return False
    if isinstance(features, bool) or not isinstance(features, int) or features < 0:
        return False
    try:
        _check_model_header(bytes(data), features)
    except MalformedModelError:
        return False
    return True


def check_feature_row(x: Sequence[int]) -> list[int]:
    """``x`` as a list after checking every value lies in ``[FEATURE_MIN, FEATURE_MAX]``
    (``ModelEval.predict`` reverts with ``FeatureOutOfRange(index, value)`` otherwise)."""
    row = list(x)
    for i, v in enumerate(row):
        if isinstance(v, bool) or not isinstance(v, int) or not FEATURE_MIN <= v <= FEATURE_MAX:
            raise EncodingError(
                f"feature {i} is {v!r}, outside the int64 range a model evaluates",
                hint="test rows must hold integers in [-2**63, 2**63 - 1]",
            )
    return row


def features_in_range(x: Sequence[int]) -> bool:
    """``ModelEval.featuresInRange(x)``: every value is an int in ``[FEATURE_MIN, FEATURE_MAX]``."""
    return all(
        not isinstance(v, bool) and isinstance(v, int) and FEATURE_MIN <= v <= FEATURE_MAX
        for v in x
    )


def predict_label(model: IntegerModel | bytes, x: Sequence[int]) -> int:
    """``ModelEval.predict(model, x)``: argmax over classes of ``b + W x``, ties to the lowest
    class, on one integer feature row (no label). Pure Python ints: exact for any valid input."""
    m = model if isinstance(model, IntegerModel) else decode_integer_model(model)
    row = check_feature_row(x)
    if len(row) != m.features:
        raise EncodingError(
            f"the row has {len(row)} features, the model expects {m.features}",
            hint="pass the feature columns only (drop the label)",
        )
    best_label, best_score = 0, 0
    for c in range(m.classes):
        score = m.biases[c] + sum(w * v for w, v in zip(m.weights[c], row, strict=True))
        if c == 0 or score > best_score:
            best_label, best_score = c, score
    return best_label


# ------------------------------------------------------------------------------------------
# Evaluation logs (issue 14): leaf j = (uint256 j, uint256 predictedLabel, uint256 runningCorrect)
# in a POSITIONAL Merkle tree, mirrored by contracts/src/libraries/EvalLog.sol.
#
#   leaf(j)  = keccak256(bytes.concat(keccak256(abi.encode(j, predicted, count))))
#   node     = keccak256(abi.encodePacked(left, right))      (NOT sorted: position matters)
#   depth    = ceil(log2 T) (0 for T = 1); positions T..2**depth - 1 hold bytes32(0)
#   proof    = siblings from the leaf up; at level i the leaf's side is bit i of j
#
# The honest log of a model on test rows with labels y: predicted_j = the model's label for row j,
# count_j = count_{j-1} + (predicted_j == y_j), count_{-1} = 0; its accuracy is count_{T-1} / T.
# ------------------------------------------------------------------------------------------

_ZERO32 = bytes(32)


def eval_log_leaf(index: int, predicted: int, count: int) -> bytes:
    """keccak256(bytes.concat(keccak256(abi.encode(uint256 index, uint256 predicted,
    uint256 count))))."""
    encoded = abi_encode(
        ["uint256", "uint256", "uint256"],
        [_uint(index, "index"), _uint(predicted, "predicted"), _uint(count, "count")],
    )
    return keccak(keccak(encoded))


def eval_log_node(left: bytes, right: bytes) -> bytes:
    """keccak256(abi.encodePacked(left, right)): ordered, unlike :func:`node_hash`."""
    return keccak(_bytes32(left, "left") + _bytes32(right, "right"))


def eval_log_depth(row_count: int) -> int:
    """ceil(log2 row_count): 0 for one row, 1 for two, 2 for three or four, ..."""
    if _uint(row_count, "row_count") == 0:
        raise EncodingError("an evaluation log needs at least one row", hint="T > 0")
    return (row_count - 1).bit_length()


def eval_log_entries(
    predicted: Sequence[int], labels: Sequence[int]
) -> tuple[tuple[int, int], ...]:
    """The honest log's ``(predicted_j, count_j)`` for rows 0..T-1 (labels may be any int)."""
    if len(predicted) != len(labels):
        raise EncodingError(
            f"{len(predicted)} predictions for {len(labels)} labels", hint="one per test row"
        )
    out: list[tuple[int, int]] = []
    count = 0
    for p, y in zip(predicted, labels, strict=True):
        count += int(p == y)
        out.append((int(p), count))
    return tuple(out)


PACKED_LOG_ROW_BYTES = 3
"""Bytes per test row of a packed log in postModels' input: uint8 predicted, uint16 count."""


def pack_eval_log(entries: Sequence[tuple[int, int]]) -> bytes:
    """The log as ``postModels`` takes it: per row j, uint8 predicted label then uint16 running
    count, big-endian (3 bytes a row). The transaction input keeps it available for challenges."""
    out = bytearray()
    for j, (predicted, count) in enumerate(entries):
        if not (0 <= predicted < 2**8 and 0 <= count < 2**16):
            raise EncodingError(
                f"log row {j} ({predicted}, {count}) does not fit uint8 / uint16",
                hint="models have at most 256 classes and test sets at most 4,096 rows",
            )
        out += bytes((predicted,)) + count.to_bytes(2, "big")
    return bytes(out)


def unpack_eval_log(data: bytes, row_count: int) -> tuple[tuple[int, int], ...]:
    """The entries of a packed log of ``row_count`` rows (inverse of :func:`pack_eval_log`)."""
    if len(data) != PACKED_LOG_ROW_BYTES * row_count:
        raise EncodingError(
            f"a packed log of {len(data)} bytes is not {PACKED_LOG_ROW_BYTES} x {row_count} rows",
            hint="read the log posted for this round's test set",
        )
    return tuple(
        (data[i], int.from_bytes(data[i + 1 : i + 3], "big"))
        for i in range(0, len(data), PACKED_LOG_ROW_BYTES)
    )


@dataclass(frozen=True)
class EvalLogTree:
    """The positional tree of a log: ``levels[0]`` are the 2**depth padded leaves,
    ``levels[-1] == (root,)``."""

    row_count: int
    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def of(cls, entries: Sequence[tuple[int, int]]) -> EvalLogTree:
        """The tree of ``entries[j] = (predicted_j, count_j)`` for j = 0..T-1."""
        depth = eval_log_depth(len(entries))
        level = [eval_log_leaf(j, p, n) for j, (p, n) in enumerate(entries)]
        level += [_ZERO32] * ((1 << depth) - len(level))
        levels = [tuple(level)]
        while len(level) > 1:
            level = [eval_log_node(level[i], level[i + 1]) for i in range(0, len(level), 2)]
            levels.append(tuple(level))
        return cls(len(entries), tuple(levels))

    @property
    def root(self) -> bytes:
        """The log root posted with the model."""
        return self.levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """Siblings of leaf ``index``, leaf to root (``EvalLog.verify``)."""
        if not 0 <= index < self.row_count:
            raise EncodingError(
                f"row {index} is not in a log of {self.row_count} rows",
                hint="pass a row index in range",
            )
        return [self.levels[i][(index >> i) ^ 1] for i in range(len(self.levels) - 1)]


def verify_eval_log_leaf(
    root: bytes, row_count: int, index: int, predicted: int, count: int, proof: Sequence[bytes]
) -> bool:
    """``EvalLog.verifyLeaf``: leaf (index, predicted, count) sits at position ``index`` of the
    log with ``root`` over ``row_count`` rows. False for index >= row_count or a proof whose
    length is not the depth (never raises on a well-typed proof)."""
    if not 0 <= index < row_count or len(proof) != eval_log_depth(row_count):
        return False
    node = eval_log_leaf(index, predicted, count)
    for i, sibling in enumerate(proof):
        s = _bytes32(sibling, "proof element")
        node = eval_log_node(node, s) if (index >> i) & 1 == 0 else eval_log_node(s, node)
    return node == _bytes32(root, "root")


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
    CANCELLED = 6


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
class Schedule:
    """``IModelpactRound.Schedule``: ``join`` and ``post`` are absolute unix seconds; the three
    windows are durations in seconds measured from the post (reveal), then from the reveal
    deadline (delivery), then from the delivery deadline (claim), each >= MIN_WINDOW."""

    join: int
    post: int
    reveal_window: int = MIN_WINDOW_SECONDS
    delivery_window: int = MIN_WINDOW_SECONDS
    claim_window: int = MIN_WINDOW_SECONDS

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        """ABI tuple order."""
        return (self.join, self.post, self.reveal_window, self.delivery_window, self.claim_window)

    @classmethod
    def after(
        cls,
        now: int,
        *,
        join: int,
        post: int,
        reveal: int = MIN_WINDOW_SECONDS,
        delivery: int = MIN_WINDOW_SECONDS,
        claim: int = MIN_WINDOW_SECONDS,
    ) -> Schedule:
        """Join closes ``join`` seconds after ``now``, posting ``post`` seconds after that; the
        windows are ``reveal``, ``delivery`` and ``claim`` seconds long."""
        return cls(now + join, now + join + post, reveal, delivery, claim)

    def deadlines(self, posted_at: int) -> Deadlines:
        """The absolute deadlines for a post at ``posted_at``."""
        reveal = posted_at + self.reveal_window
        delivery = reveal + self.delivery_window
        return Deadlines(self.join, self.post, reveal, delivery, delivery + self.claim_window)


@dataclass(frozen=True)
class Deadlines:
    """``IModelpactRound.Deadlines``, unix seconds; reveal, delivery and claim are 0 until models
    are posted (they are measured from the post)."""

    join: int
    post: int
    reveal: int = 0
    delivery: int = 0
    claim: int = 0


@dataclass(frozen=True)
class RoundConfig:
    """``IModelpactRound.Config``: capacity and quorum, bond (wei), commitments (32 bytes), the
    test set's row count, the curve tolerance tau (WAD), the shortfall price rho (wei per WAD)
    and the schedule."""

    capacity: int
    participant_bond: int
    scenario_hash: bytes
    test_set_commitment: bytes
    coordinator_commitment: bytes
    schedule: Schedule
    quorum: int = 0  # 0: the capacity (every seat must deliver)
    test_row_count: int = 1
    curve_tolerance_wad: int = 0
    shortfall_wei_per_wad: int = 0

    @classmethod
    def from_abi(cls, value: object) -> RoundConfig:
        """A decoded ``Config`` (tuple in field order, or a mapping in ABI order)."""
        cap, quorum, bond, scen, test, rows, coord, tau, rho, schedule = _fields(value)
        return cls(
            capacity=int(cap),
            participant_bond=int(bond),
            scenario_hash=_raw32(scen),
            test_set_commitment=_raw32(test),
            coordinator_commitment=_raw32(coord),
            schedule=Schedule(*(int(x) for x in _fields(schedule))),
            quorum=int(quorum),
            test_row_count=int(rows),
            curve_tolerance_wad=int(tau),
            shortfall_wei_per_wad=int(rho),
        )

    @property
    def effective_quorum(self) -> int:
        """The quorum the contract gets (0 stands for the capacity)."""
        return self.quorum or self.capacity

    def as_tuple(self) -> tuple[object, ...]:
        """ABI tuple order."""
        return (
            self.capacity,
            self.effective_quorum,
            self.participant_bond,
            _bytes32(self.scenario_hash, "scenario_hash"),
            _bytes32(self.test_set_commitment, "test_set_commitment"),
            self.test_row_count,
            _bytes32(self.coordinator_commitment, "coordinator_commitment"),
            self.curve_tolerance_wad,
            self.shortfall_wei_per_wad,
            self.schedule.as_tuple(),
        )


@dataclass(frozen=True)
class CurveKnot:
    """``IModelpactRound.CurveKnot``: predicted accuracy (WAD) at ``data_count`` rows."""

    data_count: int
    accuracy_wad: int


_ZERO32 = b"\x00" * 32


@dataclass(frozen=True)
class Tier:
    """``IModelpactRound.PostedModel``: a model file's keccak256, its accuracy (WAD, an exact
    count over the test rows) and the root of its evaluation log."""

    model_hash: bytes
    accuracy_wad: int
    log_root: bytes = _ZERO32

    def as_tuple(self) -> tuple[bytes, int, bytes]:
        """ABI tuple order."""
        return (
            _bytes32(self.model_hash, "model_hash"),
            self.accuracy_wad,
            _bytes32(self.log_root, "log_root"),
        )


PostedModel = Tier
"""The v2 name of a posted model (a reward tier or the collective model)."""


@dataclass(frozen=True)
class ParticipantState:
    """``IModelpactRound.Participant``. The randomness commitment lives under the data root
    (``commitmentOf``); no seed is stored (it is in the ``Revealed`` event)."""

    index: int
    option_id: int
    revealed: bool
    claimed: bool
    undelivered: bool = False
    delivery_failed: bool = False
    paid_from_bond: int = 0

    @classmethod
    def from_abi(cls, value: object) -> ParticipantState:
        """A decoded ``Participant`` (tuple in field order, or a mapping in ABI order)."""
        idx, opt, rev, clm, undelivered, failed, paid = _fields(value)
        return cls(
            int(idx), int(opt), bool(rev), bool(clm), bool(undelivered), bool(failed), int(paid)
        )


def _fields(value: Any) -> list[Any]:
    """A decoded struct's fields in order, from a tuple or a mapping (web3 gives either)."""
    if isinstance(value, Mapping):
        return list(value.values())
    return list(value)


def _raw32(value: Any) -> bytes:
    """bytes32 given as bytes or 0x-hex."""
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)

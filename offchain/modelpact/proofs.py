"""Fraud proofs (issue 14), pure: find the first provable lie in what the coordinator posted,
and build the ``challenge`` evidence that proves it on chain.

What was posted (``postModels``): per model, collective first then the tiers, its hash, its
accuracy, its log root and its packed evaluation log (3 bytes per test row, in the transaction
input). :func:`find_fault` checks, in the contract's order of what can be opened:

1. the public test set itself (a row without features or with a value outside int64 is
   ``UnevaluableTestRow``: the coordinator committed a test set nobody can evaluate);
2. per model, the packed log against its posted root (``LogRootMismatch``, the only O(T) proof:
   without it no leaf of that log can be opened);
3. the log's rows against the model and the labels (:func:`modelpact.ml.evallog.check_eval_log`:
   ``MalformedModel``, ``WrongPrediction``, ``BrokenCount``) and its final count against the
   posted accuracy (``WrongAccuracy``). Without the model bytes the counts and the accuracy are
   still checked (they need only the logged labels and the test labels).

:func:`evidence` turns a fault into the ``IModelpactRound.Challenge`` ABI tuple. No web3 here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from modelpact import encoding as enc
from modelpact.ml.evallog import LogFault, check_eval_log

__all__ = [
    "Fault",
    "FraudKind",
    "ModelCheck",
    "PostedModel",
    "check_posted",
    "commitment",
    "evidence",
    "find_fault",
]


class FraudKind(IntEnum):
    """``IModelpactRound.FraudKind``."""

    NONE = 0
    WRONG_PREDICTION = 1
    BROKEN_COUNT = 2
    WRONG_ACCURACY = 3
    MALFORMED_MODEL = 4
    UNEVALUABLE_TEST_ROW = 5
    LOG_ROOT_MISMATCH = 6


_KIND_OF = {
    "prediction": FraudKind.WRONG_PREDICTION,
    "count": FraudKind.BROKEN_COUNT,
    "accuracy": FraudKind.WRONG_ACCURACY,
    "malformed-model": FraudKind.MALFORMED_MODEL,
    "root": FraudKind.LOG_ROOT_MISMATCH,
}


@dataclass(frozen=True)
class PostedModel:
    """One posted model as the post commitment holds it, with its packed log bytes."""

    model_hash: bytes
    accuracy_wad: int
    log_root: bytes
    log: bytes

    def as_commitment(self) -> tuple[bytes, int, bytes, bytes]:
        """``ModelCommitment`` in ABI order (the log by its keccak256)."""
        return (self.model_hash, self.accuracy_wad, self.log_root, enc.keccak256(self.log))


def commitment(posted: Sequence[PostedModel]) -> bytes:
    """``postCommitment``: keccak256(abi.encode(ModelCommitment[])), collective first."""
    from eth_abi.abi import encode

    rows = [m.as_commitment() for m in posted]
    return enc.keccak256(encode(["(bytes32,uint64,bytes32,bytes32)[]"], [rows]))


@dataclass(frozen=True)
class Fault:
    """A provable lie: the fraud kind, the rung it is about (0 for the test set), the row."""

    kind: FraudKind
    rung: int
    row: int
    message: str


@dataclass(frozen=True)
class ModelCheck:
    """What one posted model's check found: ``fault`` None means honest; ``checked_model`` says
    whether the predictions were checked (False: the model bytes were not available)."""

    rung: int
    name: str
    model_hash: bytes
    fault: Fault | None
    checked_model: bool


def _rung_and_name(position: int, count: int) -> tuple[int, str]:
    """Posted position -> (rung, name): 0 is the collective model (rung L + 1), i tier i - 1."""
    if position == 0:
        return count, "collective model"
    return position, f"tier {position - 1}"


def _unevaluable_row(rows: np.ndarray) -> int | None:
    for j, row in enumerate(rows.tolist()):
        if len(row) < 2 or not enc.features_in_range(row[:-1]):
            return j
    return None


def _model_free(
    entries: tuple[tuple[int, int], ...], ys: Sequence[int], accuracy_wad: int
) -> LogFault | None:
    """The counts and the final accuracy, from the logged labels alone (no model needed)."""
    previous = 0
    for j, (logged, count) in enumerate(entries):
        expected = previous + int(logged == ys[j])
        if count != expected:
            return LogFault("count", j, f"row {j}: the running count is {count}, not {expected}")
        previous = count
    supported = entries[-1][1] * enc.WAD // len(entries)
    if supported != accuracy_wad:
        return LogFault(
            "accuracy",
            len(entries) - 1,
            f"the log ends with {entries[-1][1]} of {len(entries)} correct ({supported} WAD), "
            f"the posted accuracy is {accuracy_wad} WAD",
        )
    return None


def check_posted(
    posted: PostedModel, *, rung: int, name: str, model: bytes | None, test_rows: np.ndarray
) -> ModelCheck:
    """One posted model against the labelled ``test_rows`` (see the module doc, steps 2-3)."""
    n = int(test_rows.shape[0])
    entries = enc.unpack_eval_log(posted.log, n)
    fault: LogFault | None
    if enc.EvalLogTree.of(entries).root != posted.log_root:
        fault = LogFault("root", None, "the posted log bytes do not hash to the posted log root")
    elif model is not None:
        fault = check_eval_log(model, test_rows, entries, accuracy_wad=posted.accuracy_wad)
    else:
        fault = _model_free(entries, [int(y) for y in test_rows[:, -1]], posted.accuracy_wad)
    found = None
    if fault is not None:
        row = 0 if fault.row is None else fault.row
        found = Fault(_KIND_OF[fault.kind], rung, row, fault.message)
    return ModelCheck(rung, name, posted.model_hash, found, model is not None)


def find_fault(
    posted: Sequence[PostedModel], *, models: Mapping[bytes, bytes], test_rows: np.ndarray
) -> tuple[Fault | None, tuple[ModelCheck, ...]]:
    """The first provable fault of a post (None: nothing provable), and every model's check.
    ``models`` maps posted hashes to the model bytes at hand (others are checked without)."""
    rows = np.asarray(test_rows)
    bad_row = _unevaluable_row(rows)
    if bad_row is not None:
        message = f"test row {bad_row} cannot be evaluated (no feature or outside int64)"
        return Fault(FraudKind.UNEVALUABLE_TEST_ROW, 0, bad_row, message), ()
    checks = []
    for position, m in enumerate(posted):
        rung, name = _rung_and_name(position, len(posted))
        checks.append(
            check_posted(m, rung=rung, name=name, model=models.get(m.model_hash), test_rows=rows)
        )
    first = next((c.fault for c in checks if c.fault is not None), None)
    return first, tuple(checks)


_NO_LEAF: tuple[int, int, list[bytes]] = (0, 0, [])


def _leaf(entries: tuple[tuple[int, int], ...], tree: enc.EvalLogTree, j: int) -> tuple[Any, ...]:
    predicted, count = entries[j]
    return (predicted, count, tree.proof(j))


def evidence(
    fault: Fault,
    *,
    posted: Sequence[PostedModel],
    models: Mapping[bytes, bytes],
    test_rows: np.ndarray,
) -> tuple[Any, ...]:
    """The ``Challenge`` ABI tuple proving ``fault`` (fields a kind does not read are empty)."""
    rows = [[int(v) for v in r] for r in np.asarray(test_rows).tolist()]
    n = len(rows)
    j = fault.row
    position = 0 if fault.rung == len(posted) else fault.rung
    m = posted[position] if fault.kind != FraudKind.UNEVALUABLE_TEST_ROW else None
    model = models.get(m.model_hash, b"") if m is not None else b""
    entries = enc.unpack_eval_log(m.log, n) if m is not None else ()
    tree = enc.EvalLogTree.of(entries) if entries else None
    uses_row = fault.kind in (
        FraudKind.WRONG_PREDICTION,
        FraudKind.BROKEN_COUNT,
        FraudKind.MALFORMED_MODEL,
        FraudKind.UNEVALUABLE_TEST_ROW,
    )
    opens_leaf = tree is not None and fault.kind in (
        FraudKind.WRONG_PREDICTION,
        FraudKind.BROKEN_COUNT,
        FraudKind.WRONG_ACCURACY,
    )
    previous = (
        _leaf(entries, tree, j - 1)
        if tree is not None and fault.kind == FraudKind.BROKEN_COUNT and j > 0
        else _NO_LEAF
    )
    return (
        int(fault.kind),
        fault.rung,
        [p.as_commitment() for p in posted],
        model if fault.kind in (FraudKind.WRONG_PREDICTION, FraudKind.MALFORMED_MODEL) else b"",
        j,
        rows[j] if uses_row else [],
        enc.merkle_proof(rows, j) if uses_row else [],
        _leaf(entries, tree, j) if opens_leaf and tree is not None else _NO_LEAF,
        previous,
        m.log if m is not None and fault.kind == FraudKind.LOG_ROOT_MISMATCH else b"",
    )

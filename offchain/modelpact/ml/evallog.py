"""Evaluation logs: the per-row record of a model on the public test set, and its checker.

For each posted model the coordinator publishes, next to the model file, the log of that model
on the T committed test rows: entry j = (predicted label of row j, running count of correct
predictions through row j). ``postModels`` commits the root of the positional Merkle tree over
leaves (j, predicted_j, count_j) (:class:`modelpact.encoding.EvalLogTree`), and the posted
accuracy must be ``floor(count_{T-1} * 1e18 / T)``. Anyone holding the model can then prove a
false row on chain (``challenge``); :func:`check_eval_log` finds the first one off chain.

Log file (``modelpact-evallog/1``, canonical JSON: sorted keys, no whitespace)::

    {"entries": [[predicted, count], ...],   # one per test row, in row order
     "format": "modelpact-evallog/1",
     "model": "0x<keccak256 of the model bytes>",
     "root": "0x<the tree root>",            # must equal the root of the entries
     "rowCount": T}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from modelpact import encoding as enc
from modelpact.errors import ModelpactError
from modelpact.ml.canonical import predict_rows
from modelpact.ml.datasets import Rows, features, labels

__all__ = [
    "LOG_FORMAT",
    "EvalLog",
    "EvalLogError",
    "FaultKind",
    "LogFault",
    "build_eval_log",
    "check_eval_log",
    "decode_eval_log",
    "encode_eval_log",
]

LOG_FORMAT = "modelpact-evallog/1"

FaultKind = Literal["malformed-model", "length", "root", "prediction", "count", "accuracy"]
_PROVABLE: frozenset[str] = frozenset({"malformed-model", "prediction", "count", "accuracy"})


class EvalLogError(ModelpactError, ValueError):
    """An evaluation log file is malformed or cannot be built for the given model and rows."""


@dataclass(frozen=True)
class EvalLog:
    """A model's log: ``entries[j] = (predicted_j, count_j)``; ``tree`` is derived from them."""

    model_hash: bytes
    entries: tuple[tuple[int, int], ...]
    tree: enc.EvalLogTree = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tree", enc.EvalLogTree.of(self.entries))

    @property
    def row_count(self) -> int:
        """T, the number of test rows."""
        return len(self.entries)

    @property
    def root(self) -> bytes:
        """The root posted with the model."""
        return self.tree.root

    @property
    def correct(self) -> int:
        """The final running count."""
        return self.entries[-1][1]

    @property
    def accuracy_wad(self) -> int:
        """The accuracy the log supports: ``floor(count_{T-1} * 1e18 / T)``."""
        return self.correct * enc.WAD // self.row_count

    def proof(self, index: int) -> list[bytes]:
        """The positional proof of leaf ``index``."""
        return self.tree.proof(index)


def _model_and_rows(model: bytes, test_rows: Rows) -> tuple[enc.IntegerModel, Any]:
    arr = np.asarray(test_rows)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
        raise EvalLogError(
            f"test rows have shape {arr.shape}", hint="give the labelled public test set"
        )
    return enc.decode_integer_model(model, features=int(arr.shape[1]) - 1), arr


def build_eval_log(model: bytes, test_rows: Rows) -> EvalLog:
    """The honest log of ``model`` (canonical bytes) on ``test_rows`` (label last).

    Raises :class:`modelpact.encoding.MalformedModelError` for malformed model bytes.
    """
    m, arr = _model_and_rows(model, test_rows)
    predicted = predict_rows(m, features(arr)).tolist()
    entries = enc.eval_log_entries(predicted, labels(arr).tolist())
    return EvalLog(model_hash=enc.model_hash(model), entries=entries)


@dataclass(frozen=True)
class LogFault:
    """The first false thing in a published log. ``row`` is the test row a challenge names
    (None for faults about the whole log); ``provable`` says whether ``challenge`` can prove
    it on chain (a log that does not match its posted root cannot be opened there)."""

    kind: FaultKind
    row: int | None
    message: str

    @property
    def provable(self) -> bool:
        """Whether one on-chain challenge proves this fault."""
        return self.kind in _PROVABLE


def _first_false_row(
    entries: tuple[tuple[int, int], ...], predicted: list[int], ys: list[int]
) -> LogFault | None:
    previous = 0
    for j, ((logged, count), truth, y) in enumerate(zip(entries, predicted, ys, strict=True)):
        if logged != truth:
            return LogFault(
                "prediction", j, f"row {j}: the log says {logged}, the model predicts {truth}"
            )
        expected = previous + int(logged == y)
        if count != expected:
            return LogFault(
                "count", j, f"row {j}: the running count is {count}, it should be {expected}"
            )
        previous = count
    return None


def check_eval_log(
    model: bytes,
    test_rows: Rows,
    entries: tuple[tuple[int, int], ...],
    *,
    root: bytes | None = None,
    accuracy_wad: int | None = None,
) -> LogFault | None:
    """The first fault of a published log against ``model`` and the labelled ``test_rows``,
    or None when the log is the honest one (and matches ``root`` and ``accuracy_wad`` if given).

    Checked in order: model bytes well-formed for the rows' width; one entry per row; the
    entries' tree root equals ``root``; per row ascending, the logged prediction equals the
    model's, then the running count equals the previous LOGGED count plus (logged prediction ==
    label), as the contract checks; finally ``floor(count_{T-1} * 1e18 / T) == accuracy_wad``.
    """
    try:
        m, arr = _model_and_rows(model, test_rows)
    except enc.MalformedModelError as exc:
        return LogFault("malformed-model", None, exc.message)
    n = int(arr.shape[0])
    if len(entries) != n:
        return LogFault("length", None, f"the log has {len(entries)} entries for {n} test rows")
    if root is not None and enc.EvalLogTree.of(entries).root != root:
        return LogFault(
            "root",
            None,
            "the log's entries do not hash to the posted root: their proofs fail on chain",
        )
    predicted = predict_rows(m, features(arr)).tolist()
    fault = _first_false_row(entries, predicted, labels(arr).tolist())
    if fault is not None:
        return fault
    supported = entries[-1][1] * enc.WAD // n
    if accuracy_wad is not None and supported != accuracy_wad:
        return LogFault(
            "accuracy",
            n - 1,
            f"the log ends with {entries[-1][1]} of {n} correct (accuracy {supported} WAD), "
            f"the posted accuracy is {accuracy_wad} WAD",
        )
    return None


def encode_eval_log(log: EvalLog) -> bytes:
    """The log file bytes (see the module docstring)."""
    doc = {
        "format": LOG_FORMAT,
        "model": "0x" + log.model_hash.hex(),
        "rowCount": log.row_count,
        "root": "0x" + log.root.hex(),
        "entries": [list(e) for e in log.entries],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _fail(what: str) -> EvalLogError:
    return EvalLogError(f"evaluation log file: {what}", hint="fetch the published log again")


def _entries(value: object, count: object) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list) or not isinstance(count, int) or len(value) != count:
        raise _fail("entries must be a list of rowCount [predicted, count] pairs")
    out: list[tuple[int, int]] = []
    for j, item in enumerate(value):
        ok = isinstance(item, list) and len(item) == 2
        if not ok or not all(type(v) is int and 0 <= v < 2**256 for v in item):
            raise _fail(f"entry {j} is not a pair of uint256 integers")
        out.append((item[0], item[1]))
    return tuple(out)


def _hash32(text: object, what: str) -> bytes:
    if not isinstance(text, str) or len(text) != 66 or not text.startswith("0x"):
        raise _fail(f"{what} must be a 0x-prefixed 32-byte hex string")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise _fail(f"{what} is not hex") from None


def decode_eval_log(data: bytes) -> EvalLog:
    """Parse a log file; raises :class:`EvalLogError` naming what is malformed, including a
    ``root`` that its own entries do not hash to."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != LOG_FORMAT:
        raise _fail(f"format is not {LOG_FORMAT}")
    count = doc.get("rowCount")
    if type(count) is not int or count < 1:
        raise _fail("rowCount must be a positive integer")
    log = EvalLog(
        model_hash=_hash32(doc.get("model"), "model"),
        entries=_entries(doc.get("entries"), count),
    )
    if log.root != _hash32(doc.get("root"), "root"):
        raise _fail("root does not match the entries")
    return log

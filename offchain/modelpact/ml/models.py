"""Train classifiers on delivered rows and store them as safe, deterministic model files.

A model file is canonical JSON (UTF-8, sorted keys, no whitespace, floats written with Python's
shortest round-trip ``repr``), never pickle: participants load files an untrusted coordinator
sends them, and JSON cannot execute code. Layout (format ``modelpact-model/1``)::

    {"classes": [int, ...],            # labels, ascending
     "coef": [[float] * d] * C,        # C = 1 row per class (multinomial logistic regression)
     "format": "modelpact-model/1",
     "intercept": [float] * C,
     "kind": "logistic" | "constant",  # constant: training rows had a single label
     "mean": [float] * d, "scale": [float] * d,   # standardisation z = (x - mean) / scale
     "metadata": {"rows": n, "rows_sha256": hex, "seed": s, "trainer": "..."},
     "n_features": d}

Prediction: ``classes[argmax_k (z @ coef.T + intercept)_k]`` (ties go to the lowest index), in
numpy only. The same rows and seed give a byte-identical file on the same platform and library
versions (L-BFGS is deterministic), which is what makes ``keccak256(file)`` a usable model id.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelpact.errors import ModelpactError
from modelpact.ml.datasets import Rows, features, labels

__all__ = [
    "MODEL_FORMAT",
    "TRAINER",
    "Model",
    "ModelError",
    "accuracy",
    "correct_count",
    "decode_model",
    "encode_model",
    "load_model",
    "predict",
    "rows_digest",
    "store_model",
    "train_model",
    "train_model_bytes",
]

MODEL_FORMAT = "modelpact-model/1"
_TRAINER = "sklearn.linear_model.LogisticRegression(lbfgs, C=1.0, max_iter=2000)"
TRAINER = _TRAINER
"""The learner and its settings, as recorded in every model file and in a learned curve."""
_MAX_MODEL_BYTES = 16 * 1024 * 1024


class ModelError(ModelpactError, ValueError):
    """A model file is malformed, or a model cannot be trained or applied to the given rows."""


@dataclass(frozen=True)
class Model:
    """A linear multinomial classifier over standardised integer features.

    Shapes: ``classes (C,)``, ``coef (C, d)``, ``intercept (C,)``, ``mean (d,)``, ``scale (d,)``.
    """

    kind: str
    classes: tuple[int, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    n_features: int
    rows: int
    rows_sha256: str
    seed: int
    trainer: str = _TRAINER


def rows_digest(rows: Rows) -> str:
    """sha256 (hex) of the rows as little-endian int64, row-major, with the shape prefixed."""
    arr = np.ascontiguousarray(rows, dtype="<i8")
    head = f"{arr.shape[0]}x{arr.shape[1]}:".encode()
    return hashlib.sha256(head + arr.tobytes()).hexdigest()


def train_model(rows: Rows, *, seed: int) -> Model:
    """Fit a multinomial logistic regression to ``rows`` (label last), deterministic in ``seed``.

    Features are standardised with the training rows' mean and standard deviation (a constant
    feature keeps scale 1). Rows with a single label give a ``constant`` model.
    """
    arr = np.asarray(rows)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] < 2:
        raise ModelError(
            f"cannot train on rows of shape {arr.shape}",
            hint="give at least one row of features followed by a label",
        )
    x = features(arr).astype(np.float64)
    y = labels(arr).astype(np.int64)
    d = x.shape[1]
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    classes = np.unique(y)
    digest = rows_digest(arr)

    def build(
        kind: str, cls: tuple[int, ...], coef: NDArray[np.float64], icpt: NDArray[np.float64]
    ) -> Model:
        return Model(
            kind=kind,
            classes=cls,
            coef=tuple(_floats(row) for row in coef),
            intercept=_floats(icpt),
            mean=_floats(mean),
            scale=_floats(scale),
            n_features=d,
            rows=int(arr.shape[0]),
            rows_sha256=digest,
            seed=int(seed),
        )

    if classes.size == 1:
        return build("constant", (int(classes[0]),), np.zeros((1, d)), np.zeros(1))
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    # One BLAS thread: these problems are small, and multi-threaded BLAS on a shared 2-core
    # machine (pytest -n 2, other jobs) spins and slows training by an order of magnitude.
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit((x - mean) / scale, y)
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # binary problems: sklearn keeps one row; make it two-class softmax
        coef = np.vstack([-coef[0] / 2.0, coef[0] / 2.0])
        intercept = np.array([-intercept[0] / 2.0, intercept[0] / 2.0])
    return build("logistic", tuple(int(c) for c in clf.classes_), coef, intercept)


def _floats(values: NDArray[np.float64]) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if not all(math.isfinite(v) for v in out):
        raise ModelError("training produced a non-finite parameter", hint="check the rows")
    # -0.0 and 0.0 are equal but print differently; normalise for byte-identical files.
    return tuple(0.0 if v == 0.0 else v for v in out)


def encode_model(model: Model) -> bytes:
    """The canonical model file bytes of ``model`` (see the module docstring)."""
    doc = {
        "format": MODEL_FORMAT,
        "kind": model.kind,
        "classes": list(model.classes),
        "coef": [list(row) for row in model.coef],
        "intercept": list(model.intercept),
        "mean": list(model.mean),
        "scale": list(model.scale),
        "n_features": model.n_features,
        "metadata": {
            "rows": model.rows,
            "rows_sha256": model.rows_sha256,
            "seed": model.seed,
            "trainer": model.trainer,
        },
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def train_model_bytes(rows: Rows, *, seed: int) -> bytes:
    """``encode_model(train_model(rows, seed=seed))``: the model file for ``rows``."""
    return encode_model(train_model(rows, seed=seed))


def decode_model(data: bytes) -> Model:
    """Parse and validate model file bytes. Never executes anything from the file.

    Raises :class:`ModelError` for anything that is not a well-formed ``modelpact-model/1``
    document with consistent shapes and finite numbers.
    """
    if len(data) > _MAX_MODEL_BYTES:
        raise ModelError(
            f"model file is {len(data)} bytes, above the {_MAX_MODEL_BYTES} byte limit",
            hint="this is not a modelpact model file",
        )
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ModelError(
            f"model file is not valid JSON ({exc})", hint="fetch the file again"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
        raise ModelError(
            f"model file format is not {MODEL_FORMAT}", hint="this is not a modelpact model file"
        )
    try:
        kind = _expect(doc["kind"], str, "kind")
        if kind not in ("logistic", "constant"):
            raise ModelError(f"unknown model kind {kind!r}", hint="upgrade modelpact")
        d = _expect(doc["n_features"], int, "n_features")
        classes = tuple(_expect(c, int, "classes[]") for c in _expect(doc["classes"], list, "c"))
        coef = tuple(_vector(row, d, "coef[]") for row in _expect(doc["coef"], list, "coef"))
        intercept = _vector(doc["intercept"], len(classes), "intercept")
        mean = _vector(doc["mean"], d, "mean")
        scale = _vector(doc["scale"], d, "scale")
        meta = _expect(doc["metadata"], dict, "metadata")
        model = Model(
            kind=kind,
            classes=classes,
            coef=coef,
            intercept=intercept,
            mean=mean,
            scale=scale,
            n_features=d,
            rows=_expect(meta["rows"], int, "metadata.rows"),
            rows_sha256=_expect(meta["rows_sha256"], str, "metadata.rows_sha256"),
            seed=_expect(meta["seed"], int, "metadata.seed"),
            trainer=_expect(meta["trainer"], str, "metadata.trainer"),
        )
    except KeyError as exc:
        raise ModelError(
            f"model file lacks the field {exc.args[0]!r}", hint="this is not a complete model file"
        ) from None
    if d < 1 or not classes or len(coef) != len(classes) or list(classes) != sorted(set(classes)):
        raise ModelError(
            "model file shapes are inconsistent (classes, coef rows, features)",
            hint="this model file is corrupt",
        )
    if any(s <= 0.0 for s in scale):
        raise ModelError("model file has a non-positive feature scale", hint="file is corrupt")
    return model


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _expect(value: Any, kind: type[Any], what: str) -> Any:
    if kind is int and isinstance(value, bool):
        raise ModelError(f"model field {what} must be an integer", hint="file is corrupt")
    if not isinstance(value, kind):
        raise ModelError(f"model field {what} must be {kind.__name__}", hint="file is corrupt")
    return value


def _vector(value: Any, length: int, what: str) -> tuple[float, ...]:
    items = _expect(value, list, what)
    if len(items) != length:
        raise ModelError(
            f"model field {what} has {len(items)} entries, expected {length}",
            hint="this model file is corrupt",
        )
    out: list[float] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise ModelError(f"model field {what} holds a non-number", hint="file is corrupt")
        if not math.isfinite(float(item)):
            raise ModelError(f"model field {what} holds a non-finite number", hint="corrupt")
        out.append(float(item))
    return tuple(out)


def load_model(data: bytes) -> Model:
    """Alias of :func:`decode_model`: model file bytes to a validated :class:`Model`."""
    return decode_model(data)


def predict(model: Model | bytes, x: NDArray[np.generic]) -> NDArray[np.int64]:
    """Predicted labels for the feature matrix ``x`` of shape ``(n, d)`` (numpy only)."""
    m = decode_model(model) if isinstance(model, bytes) else model
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != m.n_features:
        raise ModelError(
            f"features have shape {xs.shape}, the model expects (n, {m.n_features})",
            hint="pass feature columns only (drop the label) of the model's dataset",
        )
    classes = np.asarray(m.classes, dtype=np.int64)
    if m.kind == "constant":
        return np.full(xs.shape[0], classes[0], dtype=np.int64)
    z = (xs - np.asarray(m.mean)) / np.asarray(m.scale)
    scores = z @ np.asarray(m.coef, dtype=np.float64).T + np.asarray(m.intercept)
    result: NDArray[np.int64] = classes[np.argmax(scores, axis=1)]
    return result


def correct_count(model: Model | bytes, test_rows: Rows) -> int:
    """How many ``test_rows`` (label last) the model labels correctly."""
    arr = np.asarray(test_rows)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ModelError("the test set is empty", hint="give at least one labelled test row")
    return int(np.count_nonzero(predict(model, features(arr)) == labels(arr)))


def accuracy(model: Model | bytes, test_rows: Rows) -> float:
    """Fraction of ``test_rows`` (label last) the model labels correctly, in ``[0, 1]``."""
    return correct_count(model, test_rows) / int(np.asarray(test_rows).shape[0])


def _keccak_hex(data: bytes) -> str:
    """keccak256 of ``data`` as 0x-hex: ``modelpact.encoding.model_hash`` when it exists."""
    try:
        # Looked up dynamically: encoding.py is written concurrently and is the single source
        # of truth for hashes; the keccak fallback computes the same function meanwhile.
        hasher: Any = getattr(importlib.import_module("modelpact.encoding"), "model_hash")  # noqa: B009
        digest: Any = hasher(data)
    except (ImportError, AttributeError):
        from eth_hash.auto import keccak

        digest = keccak(data)
    if isinstance(digest, bytes | bytearray):
        return "0x" + bytes(digest).hex()
    text = str(digest)
    return text if text.startswith("0x") else "0x" + text


def store_model(directory: Path | str, data: bytes) -> Path:
    """Store model file bytes content-addressed: ``<directory>/<keccak256 hex>.json``.

    Validates the bytes first; storing the same bytes twice returns the same path.
    """
    decode_model(data)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_keccak_hex(data)}.json"
    if not path.exists() or path.read_bytes() != data:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path

"""Train classifiers on delivered rows and turn them into canonical integer model files.

A model FILE is the canonical integer model of :mod:`modelpact.encoding` (format ``MPIM/1``:
a 10-byte header, int64 biases, int16 weights with the standardisation folded in; see the
section "Canonical integer models" there and :mod:`modelpact.ml.canonical`). Its keccak256 is
the model's id on chain, and its prediction (argmax of ``b + W x`` on the integer rows, ties to
the lowest class) is exactly what ``ModelEval.predict`` computes on chain. It is bytes, never
pickle: participants load files an untrusted coordinator sends them, and parsing only checks
a header and a length. :func:`modelpact.ml.canonical.model_view` renders a readable JSON view.

Training (:func:`train_model`) returns the float :class:`Model` (a multinomial logistic
regression over standardised features, with its training metadata); :func:`encode_model`
quantises it. The same rows and seed give byte-identical model files on the same platform and
library versions (L-BFGS is deterministic, rounding is round-half-even on exact powers of two).

Which model a function evaluates: a :class:`Model` is evaluated in floating point (the learning
curve of :mod:`modelpact.ml.curve` uses this), model BYTES or an
:class:`~modelpact.encoding.IntegerModel` with exact integer arithmetic (everything posted,
delivered or audited).
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelpact import encoding as enc
from modelpact.errors import ModelpactError
from modelpact.ml import canonical
from modelpact.ml.datasets import Rows, features, labels

__all__ = [
    "MODEL_FORMAT",
    "MODEL_SUFFIX",
    "TRAINER",
    "Model",
    "ModelError",
    "accuracy",
    "correct_count",
    "decode_model",
    "encode_model",
    "load_model",
    "load_trainer",
    "predict",
    "rows_digest",
    "store_model",
    "train_model",
    "train_model_bytes",
]

MODEL_FORMAT = "MPIM/1"
"""The model file format: canonical integer models, version 1 (:mod:`modelpact.encoding`)."""
MODEL_SUFFIX = ".bin"
"""Stored model files are named ``<keccak256 hex>.bin``."""
_TRAINER = "sklearn.linear_model.LogisticRegression(lbfgs, C=1.0, max_iter=2000)"
TRAINER = _TRAINER
"""The learner and its settings, as recorded in every model file and in a learned curve."""


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

    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    # One BLAS thread: these problems are small, and multi-threaded BLAS on a shared 2-core
    # machine (pytest -n 2, other jobs) spins and slows training by an order of magnitude.
    with warnings.catch_warnings(), _blas_controller().limit(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit((x - mean) / scale, y)
    coef = np.asarray(clf.coef_, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # binary problems: sklearn keeps one row; make it two-class softmax
        coef = np.vstack([-coef[0] / 2.0, coef[0] / 2.0])
        intercept = np.array([-intercept[0] / 2.0, intercept[0] / 2.0])
    return build("logistic", tuple(int(c) for c in clf.classes_), coef, intercept)


def load_trainer() -> None:
    """Import the learner (scikit-learn, ~0.5 s) and build the BLAS controller in this process,
    as the first :func:`train_model` would: before forking workers that train, so each of them
    inherits both instead of loading them again."""
    from sklearn.linear_model import LogisticRegression  # noqa: F401

    _blas_controller()


_CONTROLLER: list[Any] = []


def _blas_controller() -> Any:
    """One ``ThreadpoolController`` for every training, created at the first one (after
    scikit-learn's import has loaded scipy's BLAS next to numpy's): ``threadpool_limits``
    rescans every loaded library each time, ~5 ms a model, a quarter of a small fit."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def _floats(values: NDArray[np.float64]) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if not all(math.isfinite(v) for v in out):
        raise ModelError("training produced a non-finite parameter", hint="check the rows")
    # -0.0 and 0.0 are equal but print differently; normalise for byte-identical files.
    return tuple(0.0 if v == 0.0 else v for v in out)


def encode_model(model: Model) -> bytes:
    """The canonical model file bytes of ``model``: quantised by
    :func:`modelpact.ml.canonical.quantise`, encoded by
    :func:`modelpact.encoding.encode_integer_model`."""
    try:
        integer = canonical.quantise(
            classes=model.classes,
            coef=np.asarray(model.coef, dtype=np.float64).reshape(-1, model.n_features),
            intercept=np.asarray(model.intercept, dtype=np.float64),
            mean=np.asarray(model.mean, dtype=np.float64),
            scale=np.asarray(model.scale, dtype=np.float64),
        )
    except canonical.CanonicalModelError as exc:
        raise ModelError(exc.message, hint=exc.hint) from None
    return enc.encode_integer_model(integer)


def train_model_bytes(rows: Rows, *, seed: int) -> bytes:
    """``encode_model(train_model(rows, seed=seed))``: the model file for ``rows``."""
    return encode_model(train_model(rows, seed=seed))


def decode_model(data: bytes, *, n_features: int | None = None) -> enc.IntegerModel:
    """Parse and validate model file bytes (``n_features``: the width the rows need, if known).

    Raises :class:`ModelError` naming what is malformed (header, magic, version, classes,
    features, length), exactly when ``ModelEval.wellFormed`` is false on chain.
    """
    try:
        return enc.decode_integer_model(data, features=n_features)
    except enc.MalformedModelError as exc:
        raise ModelError(exc.message, hint=exc.hint) from None


def load_model(data: bytes) -> enc.IntegerModel:
    """Alias of :func:`decode_model`: model file bytes to a validated integer model."""
    return decode_model(data)


def predict(model: Model | enc.IntegerModel | bytes, x: NDArray[np.generic]) -> NDArray[np.int64]:
    """Predicted labels for the feature matrix ``x`` of shape ``(n, d)``: floating point for a
    :class:`Model`, exact integer arithmetic for model bytes or an integer model."""
    if not isinstance(model, Model):
        integer = decode_model(model) if isinstance(model, bytes | bytearray) else model
        try:
            return canonical.predict_rows(integer, x)
        except (canonical.CanonicalModelError, enc.EncodingError) as exc:
            raise ModelError(exc.message, hint=exc.hint) from None
    xs = np.asarray(x, dtype=np.float64)
    if xs.ndim != 2 or xs.shape[1] != model.n_features:
        raise ModelError(
            f"features have shape {xs.shape}, the model expects (n, {model.n_features})",
            hint="pass feature columns only (drop the label) of the model's dataset",
        )
    classes = np.asarray(model.classes, dtype=np.int64)
    if model.kind == "constant":
        return np.full(xs.shape[0], classes[0], dtype=np.int64)
    z = (xs - np.asarray(model.mean)) / np.asarray(model.scale)
    scores = z @ np.asarray(model.coef, dtype=np.float64).T + np.asarray(model.intercept)
    result: NDArray[np.int64] = classes[np.argmax(scores, axis=1)]
    return result


def correct_count(model: Model | enc.IntegerModel | bytes, test_rows: Rows) -> int:
    """How many ``test_rows`` (label last) the model labels correctly."""
    arr = np.asarray(test_rows)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ModelError("the test set is empty", hint="give at least one labelled test row")
    return int(np.count_nonzero(predict(model, features(arr)) == labels(arr)))


def accuracy(model: Model | enc.IntegerModel | bytes, test_rows: Rows) -> float:
    """Fraction of ``test_rows`` (label last) the model labels correctly, in ``[0, 1]``."""
    return correct_count(model, test_rows) / int(np.asarray(test_rows).shape[0])


class StoredModelError(ModelpactError):
    """A model asked for by hash is missing from a store (``missing``) or another file sits
    under its name (not ``missing``): callers add what their user should do."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing


def read_stored_model(directory: Path, model_hash: str) -> bytes:
    """The bytes :func:`store_model` stored for ``model_hash`` (0x hex), checked against that
    hash: a store is only a cache, the hash posted on chain is what the model is."""
    path = directory / f"{model_hash}{MODEL_SUFFIX}"
    if not path.is_file():
        raise StoredModelError(f"model {model_hash} is not in {directory}", missing=True)
    data = path.read_bytes()
    if "0x" + enc.model_hash(data).hex() != model_hash:
        raise StoredModelError(f"{path} does not hash to {model_hash}", missing=False)
    return data


def store_model(directory: Path | str, data: bytes) -> Path:
    """Store model file bytes content-addressed: ``<directory>/<keccak256 hex>.bin``.

    Validates the bytes first; storing the same bytes twice returns the same path.
    """
    decode_model(data)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"0x{enc.model_hash(data).hex()}{MODEL_SUFFIX}"
    if not path.exists() or path.read_bytes() != data:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path

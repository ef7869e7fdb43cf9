"""Canonical integer models from trained classifiers, and their fast exact prediction.

The byte format and the one-row prediction that Solidity mirrors live in
:mod:`modelpact.encoding` (section "Canonical integer models"); this module is the ML side:

- :func:`quantise` folds the standardisation ``z = (x - mean) / scale`` of a trained multinomial
  logistic regression into its weights (``W' = coef / scale``, ``b' = intercept - W' mean``) and
  rounds ``W' * 2**e`` to int16 and ``b' * 2**e`` to int64 (round half to even), with the largest
  power-of-two scale ``e`` under which every weight fits int16 (and every bias int64). Classes a
  model never saw get zero weights and the minimal bias -2**63, so labels stay class indices.
  On digits this costs at most 0.28 percentage points of test accuracy against the float model
  (``bench/ml.py`` measures it; int8 weights would cost up to 2.5 points).
- :func:`predict_rows` evaluates many rows exactly: numpy int64 when the model and the rows
  provably cannot overflow int64 (the bound is computed exactly), Python ints otherwise.
- :func:`model_view` is the readable JSON view of model bytes (the hash is of the bytes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelpact import encoding as enc
from modelpact.errors import ModelpactError

__all__ = [
    "CanonicalModelError",
    "absent_class_bias",
    "model_view",
    "predict_rows",
    "quantise",
]

_W_MAX = 2**15 - 1
_B_MAX = 2**63 - 1
_E_RANGE = (-128, 127)


class CanonicalModelError(ModelpactError, ValueError):
    """A trained model cannot be quantised, or rows cannot be evaluated by an integer model."""


def absent_class_bias() -> int:
    """The bias of a class the training rows never held: the smallest int64, so such a class
    wins only where every seen class scores below -2**63 (never on in-range data of real
    models, and deterministic either way)."""
    return -(2**63)


def _largest_scale(largest: float, limit: int) -> int | None:
    """The largest e with round(largest * 2**e) <= limit, or None when ``largest`` is 0."""
    if largest == 0.0:
        return None
    e = limit.bit_length() - math.frexp(largest)[1]  # largest * 2**e is within a factor 2
    while round(math.ldexp(largest, e)) > limit:
        e -= 1
    while round(math.ldexp(largest, e + 1)) <= limit:
        e += 1
    return e


def quantise(
    *,
    classes: Sequence[int],
    coef: NDArray[np.float64],
    intercept: NDArray[np.float64],
    mean: NDArray[np.float64],
    scale: NDArray[np.float64],
) -> enc.IntegerModel:
    """The canonical integer model of ``argmax_k ((x - mean) / scale) @ coef[k] + intercept[k]``
    whose row ``k`` predicts label ``classes[k]``.

    Shapes: ``classes (K,)`` ascending non-negative labels, ``coef (K, d)``, ``intercept (K,)``,
    ``mean (d,)``, ``scale (d,)`` positive. The result has ``max(classes) + 1`` classes (at
    least 2): row ``classes[k]`` holds the folded, scaled, rounded row ``k``.
    """
    labels = [int(c) for c in classes]
    w = np.asarray(coef, dtype=np.float64) / np.asarray(scale, dtype=np.float64)
    b = np.asarray(intercept, dtype=np.float64) - w @ np.asarray(mean, dtype=np.float64)
    if not labels or labels != sorted(set(labels)) or labels[0] < 0 or w.shape[0] != len(labels):
        raise CanonicalModelError(
            f"cannot quantise a model with classes {labels} and {w.shape[0]} weight rows",
            hint="classes must be distinct non-negative labels, one weight row each",
        )
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
        raise CanonicalModelError("the model has a non-finite parameter", hint="retrain it")
    scales = [
        e
        for e in (
            _largest_scale(float(np.max(np.abs(w), initial=0.0)), _W_MAX),
            _largest_scale(float(np.max(np.abs(b), initial=0.0)), _B_MAX),
        )
        if e is not None
    ]
    e = min(min(scales, default=0), _E_RANGE[1])
    if e < _E_RANGE[0]:
        raise CanonicalModelError(
            f"the model's weights need a scale of 2**{e}, below 2**-128",
            hint="the features are far outside their usual range; rescale them",
        )
    n_classes = max(labels[-1] + 1, 2)
    d = int(w.shape[1])
    biases = [absent_class_bias()] * n_classes
    weights = [(0,) * d] * n_classes
    for k, label in enumerate(labels):
        biases[label] = round(math.ldexp(float(b[k]), e))
        weights[label] = tuple(round(math.ldexp(float(v), e)) for v in w[k])
    return enc.IntegerModel(biases=tuple(biases), weights=tuple(weights), scale_log2=e)


def _as_model(model: enc.IntegerModel | bytes) -> enc.IntegerModel:
    return model if isinstance(model, enc.IntegerModel) else enc.decode_integer_model(model)


def _integer_rows(x: NDArray[np.generic] | Sequence[Sequence[int]], features: int) -> Any:
    """``x`` as a 2-D integer array (int64, or object for Python ints beyond int64)."""
    arr = np.asarray(x)
    if arr.ndim != 2 or arr.shape[1] != features:
        raise CanonicalModelError(
            f"features have shape {arr.shape}, the model expects (n, {features})",
            hint="pass feature columns only (drop the label) of the model's dataset",
        )
    if arr.dtype.kind == "i" or (arr.dtype.kind == "u" and arr.dtype.itemsize < 8):
        return arr.astype(np.int64)  # int64 range is exactly the bound a model evaluates
    if arr.dtype.kind in "uO":
        for row in arr.tolist():
            enc.check_feature_row(row)
        return arr.astype(np.int64)
    raise CanonicalModelError(
        f"features have type {arr.dtype}, an integer model evaluates integers only",
        hint="quantise real-valued features to integers first",
    )


def _fits_int64(m: enc.IntegerModel, xs: NDArray[np.int64]) -> bool:
    """Whether every partial sum of every score stays within int64 (exact bound)."""
    if xs.shape[0] == 0:
        return True
    top = [max(-int(lo), int(hi)) for lo, hi in zip(xs.min(axis=0), xs.max(axis=0), strict=True)]
    worst = max(
        abs(b) + sum(abs(w) * t for w, t in zip(row, top, strict=True))
        for b, row in zip(m.biases, m.weights, strict=True)
    )
    return worst <= _B_MAX


def predict_rows(
    model: enc.IntegerModel | bytes, x: NDArray[np.generic] | Sequence[Sequence[int]]
) -> NDArray[np.int64]:
    """:func:`modelpact.encoding.predict_label` of every row of ``x`` (shape ``(n, F)``),
    exactly: int64 matrix arithmetic when :func:`_fits_int64` proves it cannot overflow."""
    m = _as_model(model)
    xs = _integer_rows(x, m.features)
    if _fits_int64(m, xs):
        weights = np.asarray(m.weights, dtype=np.int64)
        scores = xs @ weights.T + np.asarray(m.biases, dtype=np.int64)
        # np.argmax returns the first maximum: ties go to the lowest class, as on chain.
        return np.asarray(np.argmax(scores, axis=1), dtype=np.int64)
    return np.asarray([enc.predict_label(m, row) for row in xs.tolist()], dtype=np.int64)


def model_view(model: bytes) -> str:
    """A readable JSON view of canonical model bytes (keys sorted, one line): format, id,
    classes, features, scale, biases and weights. The model's id is the hash of the BYTES."""
    m = enc.decode_integer_model(model)
    doc = {
        "format": f"{enc.MODEL_MAGIC.decode()}/{enc.MODEL_VERSION}",
        "keccak256": "0x" + enc.model_hash(model).hex(),
        "classes": m.classes,
        "features": m.features,
        "scaleLog2": m.scale_log2,
        "biases": list(m.biases),
        "weights": [list(row) for row in m.weights],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))

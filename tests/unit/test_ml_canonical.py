"""Canonical integer models: format, prediction (pure and fast paths) against a plain reference,
quantisation of trained models and its accuracy cost on digits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelpact import encoding as enc
from modelpact.ml import canonical as cn
from modelpact.ml import datasets as ds
from modelpact.ml import models as md

I16 = (-(2**15), 2**15 - 1)
I64 = (-(2**63), 2**63 - 1)


def _ints(bounds: tuple[int, int]) -> st.SearchStrategy[int]:
    """Integers in bounds, with the bounds themselves, zero and small values drawn often."""
    lo, hi = bounds
    return st.one_of(st.sampled_from([lo, hi, 0, -1, 1]), st.integers(-20, 20), st.integers(lo, hi))


@st.composite
def models_and_rows(draw: st.DrawFn) -> tuple[enc.IntegerModel, list[list[int]]]:
    c = draw(st.integers(2, 5))
    f = draw(st.integers(1, 18))  # the 32-byte word boundary (16 weights) matters on chain only
    biases = tuple(draw(_ints(I64)) for _ in range(c))
    weights = tuple(tuple(draw(_ints(I16)) for _ in range(f)) for _ in range(c))
    rows = [[draw(_ints(I64)) for _ in range(f)] for _ in range(draw(st.integers(1, 4)))]
    scale = draw(st.integers(-128, 127))
    return enc.IntegerModel(biases=biases, weights=weights, scale_log2=scale), rows


def _reference_predict(data: bytes, x: list[int]) -> int:
    """The format read field by field from the bytes, written plainly (the spec, not the code)."""
    c = int.from_bytes(data[5:7], "big")
    f = int.from_bytes(data[7:9], "big")
    scores = []
    for k in range(c):
        start = 10 + 8 * k
        score = int.from_bytes(data[start : start + 8], "big", signed=True)
        for j in range(f):
            at = 10 + 8 * c + 2 * (k * f + j)
            score += int.from_bytes(data[at : at + 2], "big", signed=True) * x[j]
        scores.append(score)
    return scores.index(max(scores))  # first maximum: ties to the lowest class


def _reference_well_formed(data: bytes, features: int) -> bool:
    if len(data) < 10 or data[:4] != b"MPIM" or data[4] != 1:
        return False
    c, f = int.from_bytes(data[5:7], "big"), int.from_bytes(data[7:9], "big")
    if not (2 <= c <= 256 and 1 <= f <= 1024 and c * f <= 32_768):  # ModelEval.MAX_*
        return False
    return f == features and len(data) == 10 + 8 * c + 2 * c * f


@pytest.mark.parametrize(
    ("c", "f", "ok"),
    [
        (256, 128, True),
        (32, 1024, True),
        (10, 64, True),
        (257, 1, False),
        (2, 1025, False),
        (33, 1000, False),
        (129, 255, False),
        (40000, 3, False),
    ],
)
def test_size_bounds_are_modeleval_s(c: int, f: int, ok: bool) -> None:
    """C <= 256, F <= 1024 and C x F <= 32,768 (review A, attack 4): the encoder refuses a model
    beyond them in one line, and bytes beyond them are malformed, as in ModelEval.wellFormed."""
    model = enc.IntegerModel(biases=(0,) * c, weights=((0,) * f,) * c)
    header = b"MPIM\x01" + c.to_bytes(2, "big") + f.to_bytes(2, "big") + b"\x00"
    data = header + bytes(c * (8 + 2 * f))
    assert enc.integer_model_well_formed(data, f) is ok
    if ok:
        assert enc.encode_integer_model(model) == data
        return
    with pytest.raises(enc.EncodingError) as err:
        enc.encode_integer_model(model)
    assert "\n" not in str(err.value)
    assert "at most 256 classes, 1024 features" in str(err.value)
    with pytest.raises(enc.MalformedModelError, match="so that a challenge fits a block"):
        enc.decode_integer_model(data, features=f)


@settings(max_examples=100, deadline=None)
@given(models_and_rows())
def test_prediction_matches_the_plain_reference(case) -> None:
    """For any model and int64 rows: the bytes round-trip, and predict_label, predict_rows (numpy
    or Python ints, whichever the bound allows) and a field-by-field reference agree."""
    model, rows = case
    data = enc.encode_integer_model(model)
    assert len(data) == enc.model_byte_length(model.classes, model.features)
    assert enc.decode_integer_model(data) == model
    want = [_reference_predict(data, x) for x in rows]
    assert [enc.predict_label(data, x) for x in rows] == want
    assert cn.predict_rows(data, np.asarray(rows, dtype=np.int64)).tolist() == want


@settings(max_examples=60, deadline=None)
@given(models_and_rows(), st.data())
def test_a_copied_class_never_wins(case, data) -> None:
    """Ties go to the lowest class: a class that copies a lower one is never predicted."""
    model, rows = case
    lo = data.draw(st.integers(0, model.classes - 2))
    hi = data.draw(st.integers(lo + 1, model.classes - 1))
    biases, weights = list(model.biases), list(model.weights)
    biases[hi], weights[hi] = biases[lo], weights[lo]
    tied = enc.IntegerModel(biases=tuple(biases), weights=tuple(weights))
    labels = cn.predict_rows(tied, np.asarray(rows, dtype=np.int64)).tolist()
    assert hi not in labels
    assert labels == [enc.predict_label(tied, x) for x in rows]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80), st.integers(-3, 2**17))
def test_well_formed_never_raises_and_matches_the_reference(data: bytes, features: int) -> None:
    """On arbitrary bytes, well-formedness is a plain header-and-length check, and decoding
    succeeds exactly when it holds."""
    ok = enc.integer_model_well_formed(data, features)
    assert ok == _reference_well_formed(data, features)
    if ok:
        enc.decode_integer_model(data, features=features)
    else:
        with pytest.raises(enc.MalformedModelError):
            enc.decode_integer_model(data, features=features)


@settings(max_examples=40, deadline=None)
@given(models_and_rows(), st.integers(-2, 2), st.sampled_from([0, 1, 2**16]))
def test_header_and_length_edges(case, delta: int, feature_shift: int) -> None:
    """A valid model is well-formed only at its exact length and only for its own feature count
    (not the same count modulo 2**16)."""
    model, _ = case
    data = enc.encode_integer_model(model)
    mutated = data[: len(data) + delta] if delta < 0 else data + bytes(delta)
    ok = enc.integer_model_well_formed(mutated, model.features + feature_shift)
    assert ok == (delta == 0 and feature_shift == 0)
    assert not enc.integer_model_well_formed(data, True)  # a bool is not a feature count
    assert not enc.integer_model_well_formed(bytearray(data), -1)


def test_fast_path_falls_back_exactly_when_int64_could_overflow() -> None:
    """Rows large enough that numpy's int64 would wrap are evaluated with Python ints, and
    Python ints beyond int64 are refused naming the feature."""
    model = enc.IntegerModel(biases=(0, 0), weights=((I16[1], I16[1]), (I16[0], 1)))
    rows = np.asarray([[2**62, 2**62], [-(2**62), 2**62], [I64[0], I64[1]]], dtype=np.int64)
    want = [_reference_predict(enc.encode_integer_model(model), x) for x in rows.tolist()]
    assert cn.predict_rows(model, rows).tolist() == want
    with pytest.raises(enc.EncodingError, match="feature 1 is"):
        cn.predict_rows(model, np.asarray([[0, 2**63]], dtype=object))
    with pytest.raises(cn.CanonicalModelError, match="integers only"):
        cn.predict_rows(model, np.zeros((1, 2)))


@given(st.lists(st.integers(-(2**255), 2**255 - 1), max_size=4))
def test_features_in_range_exactly_when_prediction_accepts_the_row(x: list[int]) -> None:
    """features_in_range (ModelEval.featuresInRange) holds iff predict_label evaluates the row."""
    model = enc.IntegerModel(biases=(0, 1), weights=((1,) * max(len(x), 1), (0,) * max(len(x), 1)))
    ok = enc.features_in_range(x)
    assert ok == all(I64[0] <= v <= I64[1] for v in x)
    if not x:
        return
    if ok:
        enc.predict_label(model, x)
    else:
        with pytest.raises(enc.EncodingError, match="outside the int64 range"):
            enc.predict_label(model, x)


@pytest.fixture(scope="module")
def split() -> ds.Split:
    return ds.split_test(ds.digits_rows(), test_size=360, seed=0)


def test_quantisation_costs_at_most_half_a_point_on_digits(split: ds.Split) -> None:
    """Against the float model, the canonical model loses at most 0.5 points of test accuracy
    on digits (models on 30 rows to the whole pool); bench/ml.py measures the full curve grid."""
    for size, seed in [(30, 0), (120, 1), (500, 2), (split.pool.shape[0], 0)]:
        rows = split.pool[np.random.default_rng(seed).permutation(split.pool.shape[0])[:size]]
        model = md.train_model(rows, seed=seed)
        cost = md.accuracy(model, split.test) - md.accuracy(md.encode_model(model), split.test)
        assert cost <= 0.005, (size, cost)


def test_quantise_uses_the_largest_power_of_two_scale(split: ds.Split) -> None:
    """The largest weight fills int16 (within a factor 2), so precision is not wasted; the view
    records the scale."""
    data = md.train_model_bytes(split.pool[:200], seed=0)
    m = enc.decode_integer_model(data)
    largest = max(abs(w) for row in m.weights for w in row)
    assert 2**14 <= largest <= 2**15 - 1
    assert -128 <= m.scale_log2 <= 127


def test_absent_classes_get_the_minimal_bias(split: ds.Split) -> None:
    """Labels stay class indices: a 3-vs-8 model has 9 classes, unseen ones with zero weights and
    bias -2**63, and predicts only 3 or 8; a single-label model predicts its label."""
    pool = split.pool
    m = enc.decode_integer_model(
        md.train_model_bytes(pool[np.isin(pool[:, -1], [3, 8])][:80], seed=0)
    )
    assert m.classes == 9
    for k in set(range(9)) - {3, 8}:
        assert m.biases[k] == cn.absent_class_bias() == -(2**63)
        assert set(m.weights[k]) == {0}
    assert set(cn.predict_rows(m, ds.features(split.test)).tolist()) == {3, 8}
    zero = enc.decode_integer_model(md.train_model_bytes(pool[pool[:, -1] == 0][:4], seed=0))
    assert zero.classes == 2  # at least two classes, even for label 0 alone
    assert set(cn.predict_rows(zero, ds.features(split.test)).tolist()) == {0}


def test_quantise_refuses_bad_inputs() -> None:
    """Unsorted or negative class labels and non-finite parameters are refused by name."""
    ok = {
        "coef": np.ones((2, 3)),
        "intercept": np.zeros(2),
        "mean": np.zeros(3),
        "scale": np.ones(3),
    }
    with pytest.raises(cn.CanonicalModelError, match="classes"):
        cn.quantise(classes=[1, 0], **ok)
    with pytest.raises(cn.CanonicalModelError, match="classes"):
        cn.quantise(classes=[-1, 0], **ok)
    with pytest.raises(cn.CanonicalModelError, match="non-finite"):
        cn.quantise(classes=[0, 1], **{**ok, "intercept": np.array([np.nan, 0.0])})
    zero = cn.quantise(classes=[0, 1], **{**ok, "coef": np.zeros((2, 3))})
    assert zero.scale_log2 == 0
    assert zero.biases == (0, 0)

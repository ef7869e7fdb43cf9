"""Model files: deterministic canonical JSON, safe loading, numpy-only prediction, storage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from eth_hash.auto import keccak

from modelpact.ml import datasets as ds
from modelpact.ml import models as md


@pytest.fixture(scope="module")
def split() -> ds.Split:
    return ds.split_test(ds.digits_rows(), test_size=360, seed=0)


def test_same_rows_and_seed_give_byte_identical_files(split: ds.Split) -> None:
    """Training twice on the same rows with the same seed gives the same model file bytes."""
    rows = split.pool[:300]
    first = md.train_model_bytes(rows, seed=11)
    second = md.train_model_bytes(rows.copy(), seed=11)
    assert first == second
    assert md.encode_model(md.decode_model(first)) == first  # canonical: decode/encode is identity
    other = md.train_model_bytes(split.pool[:299], seed=11)
    assert other != first


def test_numpy_prediction_matches_sklearn(split: ds.Split) -> None:
    """The file's numpy-only prediction equals scikit-learn's on the same standardised data."""
    from sklearn.linear_model import LogisticRegression

    rows = split.pool[:400]
    model = md.train_model(rows, seed=0)
    x = ds.features(rows).astype(float)
    mean, std = x.mean(axis=0), x.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=0).fit(
        (x - mean) / scale, ds.labels(rows)
    )
    xt = ds.features(split.test).astype(float)
    expected = clf.predict((xt - mean) / scale)
    assert np.array_equal(md.predict(model, ds.features(split.test)), expected)
    acc = md.accuracy(md.encode_model(model), split.test)
    assert acc == pytest.approx(float(np.mean(expected == ds.labels(split.test))))
    assert acc > 0.9  # 400 real digits rows train a good classifier


def test_more_data_gives_a_better_model(split: ds.Split) -> None:
    """A model on 30 rows is clearly worse on the test set than one on the whole pool."""
    small = md.accuracy(md.train_model_bytes(split.pool[:30], seed=0), split.test)
    full = md.accuracy(md.train_model_bytes(split.pool, seed=0), split.test)
    assert small + 0.1 < full


def test_single_label_rows_give_a_constant_model(split: ds.Split) -> None:
    """Rows with one label train a constant model that predicts that label everywhere."""
    ones = split.pool[ds.labels(split.pool) == 1][:5]
    model = md.train_model(ones, seed=0)
    assert model.kind == "constant"
    assert set(md.predict(model, ds.features(split.test)).tolist()) == {1}
    assert md.accuracy(md.encode_model(model), split.test) == pytest.approx(
        float(np.mean(ds.labels(split.test) == 1))
    )


def test_binary_models_predict_like_sklearn(split: ds.Split) -> None:
    """Two-class rows give a two-row softmax model agreeing with scikit-learn's predictions."""
    from sklearn.linear_model import LogisticRegression

    rows = split.pool[np.isin(ds.labels(split.pool), [3, 8])][:80]
    model = md.train_model(rows, seed=0)
    assert model.classes == (3, 8)
    x = ds.features(rows).astype(float)
    mean, std = x.mean(axis=0), x.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=0).fit(
        (x - mean) / scale, ds.labels(rows)
    )
    xt = ds.features(split.test).astype(float)
    assert np.array_equal(md.predict(model, xt), clf.predict((xt - mean) / scale))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"\x80\x81", "not valid JSON"),
        (lambda d: b"[1, 2]", "format is not"),
        (lambda d: d.replace(b'"kind":"logistic"', b'"kind":"pickle"'), "unknown model kind"),
        (lambda d: d.replace(b'"n_features":64', b'"n_features":63'), "expected 63"),
        (lambda d: d.replace(b'"intercept":[', b'"intercept":[NaN,'), "not valid JSON"),
        (lambda d: d.replace(b'"metadata":', b'"metadatx":'), "lacks the field 'metadata'"),
    ],
)
def test_malformed_model_files_are_refused(split: ds.Split, mutate, message: str) -> None:
    """Corrupt or foreign model files raise ModelError naming the problem, never load."""
    good = md.train_model_bytes(split.pool[:100], seed=0)
    with pytest.raises(md.ModelError, match=message):
        md.load_model(mutate(good))


def test_model_file_is_plain_json_with_metadata(split: ds.Split) -> None:
    """The file is JSON with classes, coefficients, intercepts and the rows count and seed."""
    rows = split.pool[:120]
    doc = json.loads(md.train_model_bytes(rows, seed=9))
    assert doc["format"] == md.MODEL_FORMAT
    assert doc["metadata"]["rows"] == 120
    assert doc["metadata"]["seed"] == 9
    assert doc["metadata"]["rows_sha256"] == md.rows_digest(rows)
    assert len(doc["coef"]) == len(doc["classes"]) == len(doc["intercept"])


def test_store_model_is_content_addressed(tmp_path: Path, split: ds.Split) -> None:
    """store_model names the file by the keccak256 of its bytes; storing twice is idempotent."""
    data = md.train_model_bytes(split.pool[:100], seed=0)
    path = md.store_model(tmp_path / "models", data)
    assert path.name == "0x" + keccak(data).hex() + ".json"
    assert path.read_bytes() == data
    assert md.store_model(tmp_path / "models", data) == path
    with pytest.raises(md.ModelError):
        md.store_model(tmp_path / "models", b"not a model")


def test_prediction_checks_feature_count(split: ds.Split) -> None:
    """Features of the wrong width raise ModelError instead of broadcasting silently."""
    model = md.train_model(split.pool[:100], seed=0)
    with pytest.raises(md.ModelError, match="expects"):
        md.predict(model, split.test)  # label column left in


def test_model_bytes_are_identical_across_processes(split: ds.Split) -> None:
    """A fresh interpreter (other hash seed, other BLAS thread setting) trains the same bytes."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from modelpact.ml import datasets as ds, models as md\n"
        "sp = ds.split_test(ds.digits_rows(), test_size=360, seed=0)\n"
        "sys.stdout.buffer.write(md.train_model_bytes(sp.pool[:250], seed=5))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "123", "OPENBLAS_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, env=env)
    assert done.stdout == md.train_model_bytes(split.pool[:250], seed=5)

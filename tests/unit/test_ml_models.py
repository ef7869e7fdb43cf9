"""Model files: deterministic canonical integer models, safe loading, prediction, storage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from eth_hash.auto import keccak

from modelpact import encoding as enc
from modelpact.ml import canonical as cn
from modelpact.ml import datasets as ds
from modelpact.ml import models as md


@pytest.fixture(scope="module")
def split() -> ds.Split:
    return ds.split_test(ds.digits_rows(), test_size=360, seed=0)


def _sklearn_predict(rows: ds.Rows, x_test: np.ndarray) -> np.ndarray:
    """scikit-learn's logistic regression, trained on ``rows`` standardised the way
    :func:`modelpact.ml.models.train_model` standardises them: the reference predictions."""
    from sklearn.linear_model import LogisticRegression

    x = ds.features(rows).astype(float)
    mean, std = x.mean(axis=0), x.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=0).fit(
        (x - mean) / scale, ds.labels(rows)
    )
    predicted: np.ndarray = clf.predict((x_test - mean) / scale)
    return predicted


def test_same_rows_and_seed_give_byte_identical_files(split: ds.Split) -> None:
    """Training twice on the same rows with the same seed gives the same model file bytes."""
    rows = split.pool[:300]
    first = md.train_model_bytes(rows, seed=11)
    second = md.train_model_bytes(rows.copy(), seed=11)
    assert first == second
    assert enc.encode_integer_model(md.decode_model(first)) == first  # decode/encode: identity
    other = md.train_model_bytes(split.pool[:299], seed=11)
    assert other != first


def test_numpy_prediction_matches_sklearn(split: ds.Split) -> None:
    """The float model's numpy prediction equals scikit-learn's on the same standardised data,
    and its canonical integer model file scores within 0.5 points of it."""
    rows = split.pool[:400]
    model = md.train_model(rows, seed=0)
    expected = _sklearn_predict(rows, ds.features(split.test).astype(float))
    assert np.array_equal(md.predict(model, ds.features(split.test)), expected)
    acc = md.accuracy(md.encode_model(model), split.test)
    assert abs(acc - float(np.mean(expected == ds.labels(split.test)))) <= 0.005
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
    rows = split.pool[np.isin(ds.labels(split.pool), [3, 8])][:80]
    model = md.train_model(rows, seed=0)
    assert model.classes == (3, 8)
    xt = ds.features(split.test).astype(float)
    assert np.array_equal(md.predict(model, xt), _sklearn_predict(rows, xt))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"\x80\x81", "shorter than the 10-byte header"),
        (lambda d: b"{" + d[1:], "not the magic 'MPIM'"),
        (lambda d: d[:4] + b"\x02" + d[5:], "version is 2"),
        (lambda d: d[:5] + b"\x00\x01" + d[7:], "1 classes, at least 2"),
        (lambda d: d[:7] + b"\x00\x00" + d[9:], "0 features"),
        (lambda d: d[:-1], "truncated or trailing"),
        (lambda d: d + b"\x00", "truncated or trailing"),
    ],
)
def test_malformed_model_files_are_refused(split: ds.Split, mutate, message: str) -> None:
    """Corrupt or foreign model files raise ModelError naming the problem, never load."""
    good = md.train_model_bytes(split.pool[:100], seed=0)
    with pytest.raises(md.ModelError, match=message):
        md.load_model(mutate(good))


def test_model_file_is_the_canonical_model_with_a_readable_view(split: ds.Split) -> None:
    """The file is the canonical integer model of the digits (10 classes x 64 features, 1,370
    bytes); its JSON view shows the same numbers and the keccak256 of the bytes."""
    rows = split.pool[:120]
    data = md.train_model_bytes(rows, seed=9)
    assert data[:4] == b"MPIM"
    assert len(data) == enc.model_byte_length(10, 64) == 1370
    view = json.loads(cn.model_view(data))
    assert view["format"] == md.MODEL_FORMAT
    assert view["keccak256"] == "0x" + keccak(data).hex()
    m = md.decode_model(data)
    assert (view["classes"], view["features"]) == (m.classes, m.features) == (10, 64)
    assert view["weights"] == [list(r) for r in m.weights]


def test_store_model_is_content_addressed(tmp_path: Path, split: ds.Split) -> None:
    """store_model names the file by the keccak256 of its bytes; storing twice is idempotent."""
    data = md.train_model_bytes(split.pool[:100], seed=0)
    path = md.store_model(tmp_path / "models", data)
    assert path.name == "0x" + keccak(data).hex() + ".bin"
    assert path.read_bytes() == data
    assert md.store_model(tmp_path / "models", data) == path
    with pytest.raises(md.ModelError):
        md.store_model(tmp_path / "models", b"not a model")


def test_prediction_checks_feature_count(split: ds.Split) -> None:
    """Features of the wrong width raise ModelError instead of broadcasting silently, for the
    float model and for its model file alike."""
    model = md.train_model(split.pool[:100], seed=0)
    for m in (model, md.encode_model(model)):
        with pytest.raises(md.ModelError, match="expects"):
            md.predict(m, split.test)  # label column left in


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


def test_read_stored_model_returns_only_the_bytes_of_the_asked_hash(tmp_path: Path) -> None:
    """What store_model stored reads back by its hash; a missing hash and a file whose bytes hash
    to something else are refused, each saying which (callers' hints differ)."""
    rows = ds.load_dataset("digits", seed=0)[:200]
    data = md.train_model_bytes(rows, seed=0)
    path = md.store_model(tmp_path, data)
    name = path.name.removesuffix(md.MODEL_SUFFIX)
    assert md.read_stored_model(tmp_path, name) == data
    missing = "0x" + "00" * 32
    with pytest.raises(md.StoredModelError) as absent:
        md.read_stored_model(tmp_path, missing)
    assert absent.value.missing
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(md.StoredModelError) as other:
        md.read_stored_model(tmp_path, name)
    assert not other.value.missing
    assert name in other.value.message


def test_fits_in_forked_workers_use_one_blas_thread_and_give_the_same_bytes(
    split: ds.Split, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model trained in a forked worker (modelpact.parallel) fits with one BLAS thread, as in
    this process (two workers each running N BLAS threads on two cores would be slower), and
    its file is byte for byte the one trained here."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

    from modelpact.parallel import fork_map

    seen: list[list[int]] = []
    fit = LogisticRegression.fit

    def spying(self: LogisticRegression, *args: object, **kwargs: object) -> LogisticRegression:
        seen.append([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", spying)

    def train(seed: int) -> tuple[bytes, list[list[int]]]:
        return md.train_model_bytes(split.pool[:300], seed=seed), list(seen)  # this worker's

    forked = fork_map(train, [0, 1])
    here = [md.train_model_bytes(split.pool[:300], seed=seed) for seed in (0, 1)]
    assert [data for data, _ in forked] == here
    for _, threads in forked:
        assert threads == [[1] * len(threads[0])], threads  # one fit, every BLAS at 1 thread
    assert seen == [[1] * len(seen[0])] * 2

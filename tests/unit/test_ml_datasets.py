"""Datasets as integer rows: digits, generated data, splits, shards, files and validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modelpact.errors import ModelpactError
from modelpact.ml import datasets as ds


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return ds.digits_rows()


def test_digits_are_integer_rows_with_label_last(digits: np.ndarray) -> None:
    """Digits is 1,797 int64 rows of 64 features in 0..16 and a label 0..9 in the last column."""
    assert digits.shape == (1797, 65)
    assert digits.dtype == np.int64
    assert ds.features(digits).min() == 0
    assert ds.features(digits).max() == 16
    assert set(ds.labels(digits).tolist()) == set(range(10))
    assert ds.validate_rows(digits, ds.DIGITS_SPEC) is not None


def test_split_is_deterministic_disjoint_and_stratified(digits: np.ndarray) -> None:
    """The same seed gives the same split; test and pool partition the rows; labels keep shares."""
    a = ds.split_test(digits, test_size=360, seed=7)
    b = ds.split_test(digits, test_size=360, seed=7)
    c = ds.split_test(digits, test_size=360, seed=8)
    assert np.array_equal(a.test, b.test)
    assert np.array_equal(a.pool, b.pool)
    assert not np.array_equal(a.test, c.test)
    assert a.test.shape == (360, 65)
    assert a.pool.shape == (1437, 65)
    together = np.vstack([a.test, a.pool])
    assert sorted(map(tuple, together.tolist())) == sorted(map(tuple, digits.tolist()))
    counts = np.bincount(ds.labels(a.test), minlength=10)
    assert counts.min() >= 34
    assert counts.max() <= 38


def test_shards_have_exact_counts_and_are_disjoint(digits: np.ndarray) -> None:
    """Each shard has exactly its count of rows, no pool row appears twice, seed-deterministic."""
    pool = ds.split_test(digits, test_size=360, seed=1).pool
    indexed = np.column_stack([np.arange(pool.shape[0]), pool])  # tag rows to detect reuse
    counts = [140, 120, 120, 90, 90, 90, 60, 60, 0, 77]
    shards = ds.shard_pool(indexed, counts, seed=3)
    assert [s.shape[0] for s in shards] == counts
    ids = np.concatenate([s[:, 0] for s in shards])
    assert ids.size == len(set(ids.tolist())) == sum(counts)
    again = ds.shard_pool(indexed, counts, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(shards, again, strict=True))


def test_shards_beyond_the_pool_are_refused(digits: np.ndarray) -> None:
    """Asking for more rows than the pool holds raises DatasetError saying how many."""
    with pytest.raises(ds.DatasetError, match="need 1800 rows but the pool has only 1797"):
        ds.shard_pool(digits, [900, 900], seed=0)


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_save_load_round_trip_is_exact_and_deterministic(
    tmp_path: Path, digits: np.ndarray, suffix: str
) -> None:
    """Saving then loading gives the same rows; saving twice gives identical bytes."""
    rows = digits[:50]
    first = ds.save_rows(tmp_path / f"a{suffix}", rows)
    second = ds.save_rows(tmp_path / f"b{suffix}", rows)
    assert first.read_bytes() == second.read_bytes()
    loaded = ds.load_rows(first, ds.DIGITS_SPEC)
    assert loaded.dtype == np.int64
    assert np.array_equal(loaded, rows)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("x0,label\n", "has no rows"),
        ("1,2,3\n4,5\n", "row 1 has 2 columns, expected 3"),
        ("1,2.5,3\n", "row 0 column 1 is '2.5', not an integer"),
        ("1,abc,3\n2,2,2\n", "row 0 column 1 is 'abc', not an integer"),
    ],
)
def test_bad_csv_files_give_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    """Malformed CSVs raise DatasetError (a ModelpactError) with a message naming the problem."""
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ds.DatasetError, match=message) as info:
        ds.load_rows(path)
    assert isinstance(info.value, ModelpactError)
    assert info.value.hint
    assert "\n" not in info.value.one_line()


def test_spec_violations_are_named(digits: np.ndarray) -> None:
    """validate_rows names wrong column counts, out-of-range features and labels, floats."""
    with pytest.raises(ds.DatasetError, match="have 64 columns, expected 65"):
        ds.validate_rows(digits[:, 1:], ds.DIGITS_SPEC)
    bad = digits[:5].copy()
    bad[2, 3] = 17
    with pytest.raises(ds.DatasetError, match="row 2 feature 3 is 17, outside"):
        ds.validate_rows(bad, ds.DIGITS_SPEC)
    bad = digits[:5].copy()
    bad[4, -1] = 10
    with pytest.raises(ds.DatasetError, match="row 4 label is 10"):
        ds.validate_rows(bad, ds.DIGITS_SPEC)
    floats = digits[:3].astype(np.float64)
    floats[1, 0] = 0.5
    with pytest.raises(ds.DatasetError, match="not an integer"):
        ds.validate_rows(floats, ds.DIGITS_SPEC)
    with pytest.raises(ds.DatasetError, match="is empty"):
        ds.validate_rows(digits[:0], ds.DIGITS_SPEC)


def test_npy_refuses_pickles_and_wrong_extensions(tmp_path: Path) -> None:
    """An object (pickled) .npy is refused without unpickling; unknown extensions are refused."""
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ds.DatasetError, match="not a plain NumPy array"):
        ds.load_rows(path)
    other = tmp_path / "rows.txt"
    other.write_text("1,2\n")
    with pytest.raises(ds.DatasetError, match="unknown extension"):
        ds.load_rows(other)
    with pytest.raises(ds.DatasetError, match="does not exist"):
        ds.load_rows(tmp_path / "missing.csv")


def test_generated_dataset_is_quantised_and_deterministic() -> None:
    """Generated rows are integers within the spec, the same for the same seed, large enough."""
    a = ds.generated_rows(3000, seed=5)
    b = ds.generated_rows(3000, seed=5)
    assert np.array_equal(a, b)
    assert a.shape == (3000, 21)
    ds.validate_rows(a, ds.generated_spec())
    assert not np.array_equal(a, ds.generated_rows(3000, seed=6))
    assert set(ds.labels(a).tolist()) == set(range(10))

"""Datasets as integer rows: the digits data that ships with scikit-learn, a generated one, files.

A dataset is a 2-D ``int64`` array of shape ``(rows, features + 1)`` whose LAST column is the
label. Integer rows can be Merkle-committed as ``int256[]`` leaves without quantisation (see
``modelpact.encoding``). Every split and shard is a pure function of its inputs and a seed.

Built-in datasets (:data:`BUILTIN_DATASETS`):

- ``digits``: scikit-learn's 8x8 handwritten digits, 1,797 rows, 64 pixel intensities in 0..16,
  labels 0..9. Real data, shipped inside scikit-learn (no download).
- ``generated``: ``sklearn.datasets.make_classification`` quantised to integers (features times
  :data:`GENERATED_SCALE`, rounded, clipped to +-:data:`GENERATED_LIMIT`), for rounds larger than
  the digits data allows (e.g. 200 participants).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from modelpact.errors import ModelpactError

__all__ = [
    "BUILTIN_DATASETS",
    "DIGITS_SPEC",
    "GENERATED_LIMIT",
    "GENERATED_SCALE",
    "DatasetError",
    "DatasetSpec",
    "Rows",
    "Split",
    "builtin_spec",
    "digits_rows",
    "features",
    "generated_rows",
    "generated_spec",
    "labels",
    "load_dataset",
    "load_rows",
    "save_rows",
    "shard_pool",
    "sharing_rows",
    "split_test",
    "validate_rows",
]

Rows = NDArray[np.int64]

GENERATED_SCALE = 100
"""Quantisation scale of the generated dataset: feature value x is stored as round(100 x)."""
GENERATED_LIMIT = 1000
"""Generated features are clipped to [-1000, 1000] after quantisation (|x| <= 10)."""


class DatasetError(ModelpactError, ValueError):
    """A dataset (array or file) does not satisfy its dataset's rules."""


@dataclass(frozen=True)
class DatasetSpec:
    """The validation rules of one dataset: every row has ``n_features`` integer features in
    ``[feature_min, feature_max]`` followed by an integer label in ``[0, n_classes)``."""

    name: str
    n_features: int
    feature_min: int
    feature_max: int
    n_classes: int

    @property
    def n_columns(self) -> int:
        """Columns per row: the features plus the label (last)."""
        return self.n_features + 1


DIGITS_SPEC = DatasetSpec(name="digits", n_features=64, feature_min=0, feature_max=16, n_classes=10)


def generated_spec(n_features: int = 20, n_classes: int = 10) -> DatasetSpec:
    """The rules of a generated dataset with ``n_features`` features and ``n_classes`` labels."""
    return DatasetSpec(
        name="generated",
        n_features=n_features,
        feature_min=-GENERATED_LIMIT,
        feature_max=GENERATED_LIMIT,
        n_classes=n_classes,
    )


BUILTIN_DATASETS: tuple[str, ...] = ("digits", "generated")


@dataclass(frozen=True)
class Split:
    """A public test set and the pool participants' shards are drawn from (disjoint rows)."""

    test: Rows
    pool: Rows


def features(rows: Rows) -> Rows:
    """The feature columns (all but the last) of ``rows``, shape ``(n, d)``."""
    return rows[:, :-1]


def labels(rows: Rows) -> Rows:
    """The label column (the last) of ``rows``, shape ``(n,)``."""
    return rows[:, -1]


def digits_rows() -> Rows:
    """scikit-learn's digits as integer rows, shape ``(1797, 65)``, label last, file order."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.data)
    if not np.array_equal(x, np.round(x)):  # pragma: no cover - sklearn ships integers
        raise DatasetError("digits pixel values are not integers", hint="check scikit-learn")
    y = np.asarray(bunch.target, dtype=np.int64)
    return np.ascontiguousarray(np.column_stack([x.astype(np.int64), y]), dtype=np.int64)


def generated_rows(
    n_rows: int, *, n_features: int = 20, n_classes: int = 10, seed: int = 0
) -> Rows:
    """A synthetic classification dataset of ``n_rows`` integer rows (label last).

    ``make_classification`` with ``n_informative = n_features // 2`` (at least ``log2`` of the
    classes), quantised by :data:`GENERATED_SCALE` and clipped to +-:data:`GENERATED_LIMIT`.
    Deterministic in ``seed``.
    """
    if n_rows < n_classes:
        raise DatasetError(
            f"a generated dataset needs at least {n_classes} rows, got {n_rows}",
            hint="ask for more rows",
        )
    from sklearn.datasets import make_classification

    informative = max(n_features // 2, int(np.ceil(np.log2(n_classes))) + 1)
    if informative > n_features:
        raise DatasetError(
            f"{n_features} features are too few for {n_classes} classes",
            hint="use more features or fewer classes",
        )
    x, y = make_classification(
        n_samples=n_rows,
        n_features=n_features,
        n_informative=informative,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=seed,
    )
    q = np.clip(np.round(np.asarray(x) * GENERATED_SCALE), -GENERATED_LIMIT, GENERATED_LIMIT)
    y64 = np.asarray(y, dtype=np.int64)
    return np.ascontiguousarray(np.column_stack([q.astype(np.int64), y64]), dtype=np.int64)


def builtin_spec(name: str) -> DatasetSpec:
    """The validation rules of a built-in dataset (``generated`` with its default shape)."""
    if name == "digits":
        return DIGITS_SPEC
    if name == "generated":
        return generated_spec()
    raise DatasetError(
        f"unknown dataset {name!r}",
        hint=f"use one of {', '.join(BUILTIN_DATASETS)} or a path to a .csv or .npy file",
    )


def load_dataset(name_or_path: str, *, generated_size: int = 4000, seed: int = 0) -> Rows:
    """Rows of a built-in dataset by name, or of a ``.csv`` / ``.npy`` file by path.

    Files are validated for shape and integer values only; pass the result to
    :func:`validate_rows` with the dataset's spec for range checks.
    """
    if name_or_path == "digits":
        return digits_rows()
    if name_or_path == "generated":
        return generated_rows(generated_size, seed=seed)
    path = Path(name_or_path)
    if path.suffix.lower() not in (".csv", ".npy"):
        raise DatasetError(
            f"unknown dataset {name_or_path!r}",
            hint=f"use one of {', '.join(BUILTIN_DATASETS)} or a path to a .csv or .npy file",
        )
    return load_rows(path)


def validate_rows(rows: NDArray[np.generic], spec: DatasetSpec) -> Rows:
    """Check ``rows`` against ``spec`` and return them as a contiguous ``int64`` array.

    Raises :class:`DatasetError` naming the first offending row and column for: not 2-D, no
    rows, wrong column count, non-integer values, a feature outside
    ``[feature_min, feature_max]``, a label outside ``[0, n_classes)``.
    """
    arr = np.asarray(rows)
    if arr.ndim != 2:
        raise DatasetError(
            f"{spec.name} rows must be a 2-D table, got {arr.ndim} dimension(s)",
            hint=f"give one row per line with {spec.n_columns} columns (label last)",
        )
    if arr.shape[0] == 0:
        raise DatasetError(f"the {spec.name} dataset is empty", hint="give at least one row")
    if arr.shape[1] != spec.n_columns:
        raise DatasetError(
            f"{spec.name} rows have {arr.shape[1]} columns, expected {spec.n_columns}",
            hint=f"give {spec.n_features} features then the label in the last column",
        )
    ints = _as_int64(arr, spec.name)
    feats = ints[:, :-1]
    bad = np.argwhere((feats < spec.feature_min) | (feats > spec.feature_max))
    if bad.size:
        r, c = (int(v) for v in bad[0])
        raise DatasetError(
            f"{spec.name} row {r} feature {c} is {int(feats[r, c])}, outside "
            f"[{spec.feature_min}, {spec.feature_max}]",
            hint="fix or drop the row; features must be integers in range",
        )
    ys = ints[:, -1]
    bad_y = np.flatnonzero((ys < 0) | (ys >= spec.n_classes))
    if bad_y.size:
        r = int(bad_y[0])
        raise DatasetError(
            f"{spec.name} row {r} label is {int(ys[r])}, outside [0, {spec.n_classes - 1}]",
            hint="labels are class indices in the last column",
        )
    return ints


def _as_int64(arr: NDArray[np.generic], name: str) -> Rows:
    """``arr`` as int64, refusing anything that is not exactly an integer."""
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
            raise DatasetError(f"{name} values overflow int64", hint="use smaller integers")
        return np.ascontiguousarray(arr, dtype=np.int64)
    if arr.dtype.kind == "b":
        raise DatasetError(f"{name} values are booleans, not integers", hint="store integers")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        whole = finite & (arr == np.round(np.where(finite, arr, 0.0)))
        if not whole.all():
            r, c = (int(v) for v in np.argwhere(~whole)[0])
            raise DatasetError(
                f"{name} row {r} column {c} is {arr[r, c]!r}, not an integer",
                hint="quantise real-valued features to integers first",
            )
        return np.ascontiguousarray(arr, dtype=np.int64)
    raise DatasetError(
        f"{name} values have type {arr.dtype}, not integers", hint="store integers only"
    )


def split_test(rows: Rows, *, test_size: int, seed: int) -> Split:
    """Split ``rows`` into a public test set of ``test_size`` rows and the remaining pool.

    Stratified by label (each class keeps its share, as far as integers allow) and deterministic
    in ``seed``; both parts keep the original relative row order, so the result does not depend
    on hash ordering or platform.
    """
    n = rows.shape[0]
    if not 0 < test_size < n:
        raise DatasetError(
            f"test set size {test_size} must be between 1 and {n - 1} for {n} rows",
            hint="choose a smaller --test-size",
        )
    from sklearn.model_selection import train_test_split

    ys = labels(rows)
    _, counts = np.unique(ys, return_counts=True)
    stratify = ys if counts.min() >= 2 and test_size >= counts.size else None
    idx = np.arange(n)
    pool_idx, test_idx = train_test_split(
        idx, test_size=test_size, random_state=seed, stratify=stratify, shuffle=True
    )
    return Split(
        test=np.ascontiguousarray(rows[np.sort(test_idx)]),
        pool=np.ascontiguousarray(rows[np.sort(pool_idx)]),
    )


def sharing_rows(rows_by_owner: Mapping[str, Rows]) -> frozenset[str]:
    """The owners whose rows include a row (all values, label included) that another owner's
    rows also include: a copy. Review hole 6: a copy earns nothing whoever committed it first,
    so every sharer is excluded (which one is the original cannot be told from the rows; the
    join order can be, by anyone who obtained the rows before the original's join)."""
    owners: dict[bytes, set[str]] = {}
    for owner, rows in rows_by_owner.items():
        contiguous = np.ascontiguousarray(rows, dtype="<i8")
        for row in contiguous:
            owners.setdefault(row.tobytes(), set()).add(owner)
    return frozenset(o for group in owners.values() if len(group) > 1 for o in group)


def shard_pool(pool: Rows, counts: Sequence[int], seed: int) -> list[Rows]:
    """Disjoint shards of ``pool``: shard ``j`` has exactly ``counts[j]`` rows.

    The pool is shuffled once with ``numpy.random.default_rng(seed)`` and cut in order, so
    shards never share a row (indices are disjoint) and the result is deterministic in ``seed``.
    """
    want = [int(c) for c in counts]
    if any(c < 0 for c in want):
        raise DatasetError(f"shard sizes must be non-negative, got {want}", hint="fix the counts")
    total = sum(want)
    if total > pool.shape[0]:
        raise DatasetError(
            f"the shards need {total} rows but the pool has only {pool.shape[0]}",
            hint="use fewer participants, smaller options, or a larger dataset",
        )
    order = np.random.default_rng(seed).permutation(pool.shape[0])
    cuts = np.cumsum([0, *want])
    return [np.ascontiguousarray(pool[order[cuts[j] : cuts[j + 1]]]) for j in range(len(want))]


def save_rows(path: Path | str, rows: Rows) -> Path:
    """Write ``rows`` to ``path`` as ``.csv`` (header ``x0..x{d-1},label``) or ``.npy``.

    Both formats are byte-deterministic for the same rows.
    """
    target = Path(path)
    arr = np.ascontiguousarray(rows, dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise DatasetError(
            f"rows to save must be 2-D with at least 2 columns, got shape {arr.shape}",
            hint="give features then a label per row",
        )
    suffix = target.suffix.lower()
    if suffix == ".npy":
        with target.open("wb") as handle:
            np.save(handle, arr, allow_pickle=False)
    elif suffix == ".csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*(f"x{j}" for j in range(arr.shape[1] - 1)), "label"])
        writer.writerows(arr.tolist())
        target.write_text(out.getvalue(), encoding="utf-8")
    else:
        raise DatasetError(
            f"cannot save rows to {target.name}: unknown extension", hint="use .csv or .npy"
        )
    return target


def load_rows(path: Path | str, spec: DatasetSpec | None = None) -> Rows:
    """Read integer rows from a ``.csv`` (optional header line) or ``.npy`` file.

    Raises :class:`DatasetError` for a missing or empty file, ragged or non-integer CSV cells,
    a pickled or non-2-D ``.npy``, and, when ``spec`` is given, anything
    :func:`validate_rows` refuses.
    """
    source = Path(path)
    if source.is_dir():
        raise DatasetError(
            f"dataset file {source} is a folder", hint="pass the .csv or .npy file itself"
        )
    if not source.is_file():
        raise DatasetError(f"dataset file {source} does not exist", hint="check the path")
    if source.stat().st_size == 0:
        raise DatasetError(f"dataset file {source} is empty", hint="give at least one row")
    suffix = source.suffix.lower()
    if suffix == ".npy":
        try:
            arr = np.load(source, allow_pickle=False)
        except ValueError as exc:
            raise DatasetError(
                f"{source} is not a plain NumPy array file ({exc})",
                hint="save with numpy.save(..., allow_pickle=False) and an integer dtype",
            ) from None
        rows = _as_int64(np.atleast_2d(arr) if arr.ndim == 1 else arr, source.name)
    elif suffix == ".csv":
        rows = _read_csv(source)
    else:
        raise DatasetError(
            f"cannot read {source.name}: unknown extension", hint="use a .csv or .npy file"
        )
    if rows.ndim != 2 or rows.shape[0] == 0:
        raise DatasetError(f"dataset file {source} has no rows", hint="give at least one row")
    return rows if spec is None else validate_rows(rows, spec)


def _read_csv(source: Path) -> Rows:
    """Parse a CSV of integers strictly; the first line may be a header of names."""
    with source.open(newline="", encoding="utf-8") as handle:
        lines = [row for row in csv.reader(handle) if row and any(c.strip() for c in row)]
    if lines and len(lines[0]) == 1 and any(sep in lines[0][0] for sep in ";\t|"):
        found = next(sep for sep in ";\t|" if sep in lines[0][0])
        raise DatasetError(
            f"{source.name} separates its columns with {found!r}, not commas",
            hint="save the file as comma-separated values (features, then the label)",
        )
    if lines and not any(_is_number(c) for c in lines[0]):
        lines = lines[1:]  # a header: names only, no number at all
    if not lines:
        raise DatasetError(f"dataset file {source} has no rows", hint="give at least one row")
    width = len(lines[0])
    values: list[list[int]] = []
    for r, row in enumerate(lines):
        if len(row) != width:
            raise DatasetError(
                f"{source.name} row {r} has {len(row)} columns, expected {width}",
                hint="every row needs the same columns (features, then the label)",
            )
        for c, cell in enumerate(row):
            if not _is_int(cell):
                raise DatasetError(
                    f"{source.name} row {r} column {c} is {cell.strip()!r}, not an integer",
                    hint="quantise real-valued features to integers first",
                )
        values.append([int(cell) for cell in row])
    try:
        return np.asarray(values, dtype=np.int64)
    except OverflowError:
        raise DatasetError(
            f"{source.name} has values beyond int64", hint="use smaller integers"
        ) from None


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_int(cell: str) -> bool:
    text = cell.strip()
    if text[:1] in "+-":
        text = text[1:]
    return text.isascii() and text.isdigit()

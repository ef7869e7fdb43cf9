"""The audit's file rules: delivered datasets, model files and the test set against the chain.

Pure functions over a :class:`~modelpact.audit.snapshot.RoundSnapshot` and files on disk (no
node). The dataset and test-set commitments are OpenZeppelin ``StandardMerkleTree`` roots over
leaves ``("uint256", "int256[]")`` = (row index, row values, label last), recomputed with
:mod:`modelpact.encoding` (the single source of truth, checked against the contract's
``MerkleProof`` by golden vectors in Foundry).

Delivered data layout (``--data DIR``): one file per participant, ``.npy`` or ``.csv`` as
:func:`modelpact.ml.datasets.load_rows` reads them, named after the participant's address
(``<address>.npy``, any case) or its join index (``<index>.npy`` / ``participant-<index>.npy``),
anywhere below ``DIR``. Model files (``--models DIR``): any files below ``DIR``; each posted model
hash must be the keccak256 of one of them (``modelpact.ml.models.store_model`` names them by hash).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from modelpact.audit.report import Evidence, Finding, make_finding, skipped
from modelpact.audit.snapshot import ZERO32, JoinRecord, RoundSnapshot
from modelpact.audit.tolerances import DEFAULT_ACCURACY_TOLERANCE, DEFAULT_SAMPLE_ROWS
from modelpact.encoding import (
    WAD,
    dataset_merkle_root,
    keccak256,
    model_hash,
    participant_dataset_root,
)
from modelpact.ml.datasets import (
    DIGITS_SPEC,
    DatasetError,
    DatasetSpec,
    Rows,
    generated_spec,
    load_dataset,
    load_rows,
    sharing_rows,
    validate_rows,
)
from modelpact.ml.models import TRAINER, ModelError, accuracy, train_model_bytes

if TYPE_CHECKING:
    from modelpact.scenario import Scenario

__all__ = [
    "DEFAULT_ACCURACY_TOLERANCE",
    "DEFAULT_SAMPLE_ROWS",
    "TrainingRecipe",
    "check_collective",
    "check_data",
    "check_logs",
    "check_models",
    "check_test_set",
    "find_dataset_files",
    "infer_spec",
    "sample_indices",
    "standard_merkle_root",
    "training_recipe",
]

_DATA_SUFFIXES = (".npy", ".csv")


def standard_merkle_root(rows: Rows) -> bytes:
    """The StandardMerkleTree root of ``rows`` as committed on chain
    (:func:`modelpact.encoding.dataset_merkle_root` of the integer rows)."""
    arr = np.asarray(rows)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise DatasetError("cannot commit to an empty dataset", hint="give at least one row")
    return dataset_merkle_root(_int_rows(arr))


def _int_rows(rows: Rows) -> Rows | list[list[int]]:
    """Integer rows as they are (encoded and hashed at once, remembered by content); anything
    else as lists, which the encoding checks value by value (and refuses: bools, floats)."""
    arr = np.asarray(rows)
    return arr if arr.dtype.kind in "iu" else arr.tolist()


def infer_spec(rows: Rows, name: str | None = None) -> DatasetSpec:
    """The validation rules for ``rows``: the named built-in dataset's (``digits``,
    ``generated``); unnamed 65-column rows are digits; anything else gets structural rules only
    (integer features, a non-negative integer label)."""
    if name == "digits" or (name is None and rows.shape[1] == DIGITS_SPEC.n_columns):
        return DIGITS_SPEC
    if name == "generated":
        return generated_spec(n_features=int(rows.shape[1]) - 1)
    limit = 2**62
    return DatasetSpec("unknown", int(rows.shape[1]) - 1, -limit, limit, limit)


def sample_indices(data_root: bytes, salt: bytes, n_rows: int, k: int) -> list[int]:
    """Seed-derived sample of ``min(k, n_rows)`` distinct row indices, ascending.

    Seed = keccak256(dataRoot || salt) with salt = the coordinator's revealed secret (zero before
    the reveal): fixed by the chain, unknown to the participant when it committed its data.
    """
    seed = int.from_bytes(keccak256(data_root + salt), "big")
    rng = np.random.default_rng(seed)
    picked = rng.choice(n_rows, size=min(k, n_rows), replace=False)
    return sorted(int(i) for i in picked)


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


_INDEX_NAME = re.compile(r"^(?:participant[-_]?)?(\d+)$")


def find_dataset_files(data_dir: Path, joins: Sequence[JoinRecord]) -> dict[str, Path]:
    """Map each participant address to its delivered file (by address, else by join index)."""
    by_address = {j.participant.lower(): j.participant for j in joins}
    by_index = {j.index: j.participant for j in joins}
    found: dict[str, Path] = {}
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in _DATA_SUFFIXES:
            continue
        stem = path.stem.lower()
        owner = by_address.get(stem)
        if owner is None:
            match = _INDEX_NAME.match(stem)
            owner = by_index.get(int(match.group(1))) if match else None
        if owner is not None and owner not in found:
            found[owner] = path
    return found


@dataclass(frozen=True)
class _Loaded:
    join: JoinRecord
    path: Path
    rows: Rows | None
    error: str | None


_DATA_IDS = (
    ("data.delivered", "Delivered datasets present for every revealed participant"),
    ("data.root", "Delivered datasets match their committed Merkle roots"),
    ("data.count", "Delivered datasets have the committed row count"),
    ("data.sample", "A seed-derived sample of each dataset's rows passes validation"),
    ("data.undelivered", "Participants named undelivered have no matching delivered data"),
)


@dataclass(frozen=True)
class _DataFailures:
    """What :func:`check_data` found wrong, per check."""

    root: list[Evidence]
    count: list[Evidence]
    sample: list[Evidence]
    wrongly_excluded: list[Evidence]


def _load_deliveries(joins: Sequence[JoinRecord], files: dict[str, Path]) -> list[_Loaded]:
    """Every joiner's delivered file, read (an unreadable one keeps its error)."""
    loaded: list[_Loaded] = []
    for j in joins:
        path = files.get(j.participant)
        if path is None:
            continue
        try:
            loaded.append(_Loaded(j, path, load_rows(path), None))
        except DatasetError as error:
            loaded.append(_Loaded(j, path, None, error.one_line()))
    return loaded


def check_data(
    s: RoundSnapshot,
    data_dir: Path | None,
    *,
    dataset: str | None = None,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
) -> list[Finding]:
    """``data.delivered``, ``data.root``, ``data.count``, ``data.sample``, ``data.undelivered``.

    Every deliverer's (and every revealed participant's) dataset must be delivered; every
    delivered dataset of a deliverer must hash to its committed, address-bound root
    (leaves (participant, index, row)), have exactly the committed row count, and a seed-derived
    sample of its rows must pass the dataset's validation rules
    (:func:`modelpact.ml.datasets.validate_rows`). A participant the coordinator named
    undelivered must have no file in ``data_dir`` that matches its root and count (else it was
    excluded although its data is there), unless that file shares a row with another matching
    file: every sharer of a row must be named undelivered (a copy earns nothing).
    """
    if data_dir is None:
        return [skipped(i, t, "no --data given") for i, t in _DATA_IDS]
    if not s.joins:
        return [skipped(i, t, "nobody joined") for i, t in _DATA_IDS]
    files = find_dataset_files(data_dir, s.joins)
    revealed = {r.participant for r in s.reveals}
    excluded = set(s.undelivered)
    posted = s.models is not None or s.cancelled is not None
    must = [
        j
        for j in s.joins
        if j.participant in revealed or (posted and j.participant not in excluded)
    ]
    missing = [
        Evidence(f"#{j.index} {j.participant}", "a delivered dataset file", f"none in {data_dir}")
        for j in must
        if j.participant not in files
    ]
    loaded = _load_deliveries(s.joins, files)
    salt = s.coordinator_secret or ZERO32
    # Hole 6: a participant whose matching file shares a row with another's is excluded by rule.
    copies = sharing_rows(
        {
            i.join.participant: i.rows
            for i in loaded
            if i.rows is not None and _matches(i.join, i.rows)
        }
    )
    fails = _judge_deliveries(
        loaded, excluded, copies, salt, dataset=dataset, sample_rows=sample_rows
    )
    fails.wrongly_excluded.extend(
        Evidence(f"#{i.join.index} {i.join.participant}", "undelivered", "kept", "copied rows")
        for i in loaded
        if i.join.participant in copies and i.join.participant not in excluded
    )
    n = len(loaded) - sum(item.join.participant in excluded for item in loaded)
    return _data_findings(must, missing, fails, n=n, excluded=len(excluded), sample=sample_rows)


def _judge_deliveries(
    loaded: Sequence[_Loaded],
    excluded: set[str],
    copies: Collection[str],
    salt: bytes,
    *,
    dataset: str | None,
    sample_rows: int,
) -> _DataFailures:
    """Root, count and sample failures of the deliverers' files; matching files of excluded
    participants (``copies``, sharers of a row, are excluded by rule)."""
    fails = _DataFailures([], [], [], [])
    for item in loaded:
        who = f"#{item.join.index} {item.join.participant} ({item.path.name})"
        if item.join.participant in excluded:
            if item.join.participant in copies:
                continue  # shares rows with another delivery: excluded by rule
            if item.rows is not None and _matches(item.join, item.rows):
                fails.wrongly_excluded.append(
                    Evidence(who, "no matching delivery", "a file matching root and count")
                )
            continue
        if item.rows is None:
            fails.root.append(
                Evidence(who, _hex(item.join.data_root), "unreadable", item.error or "")
            )
            continue
        rows = item.rows
        if rows.shape[0] != item.join.row_count:
            fails.count.append(
                Evidence(who, f"{item.join.row_count} rows", f"{rows.shape[0]} rows")
            )
        root = participant_dataset_root(item.join.participant, _int_rows(rows))
        if root != item.join.data_root:
            fails.root.append(Evidence(who, _hex(item.join.data_root), _hex(root)))
        picks = sample_indices(item.join.data_root, salt, int(rows.shape[0]), sample_rows)
        try:
            validate_rows(rows[picks], infer_spec(rows, dataset))
        except DatasetError as error:
            fails.sample.append(
                Evidence(who, "sampled rows pass validation", "invalid", error.one_line())
            )
    return fails


def _data_findings(
    must: Sequence[JoinRecord],
    missing: list[Evidence],
    fails: _DataFailures,
    *,
    n: int,
    excluded: int,
    sample: int,
) -> list[Finding]:
    """The five ``data.*`` findings (see :func:`check_data`)."""
    (i0, t0), (i1, t1), (i2, t2), (i3, t3), (i4, t4) = _DATA_IDS
    return [
        make_finding(
            i0,
            t0,
            checked=len(must),
            failures=missing,
            detail_pass=f"{len(must)} revealed participants' datasets found",
        ),
        make_finding(i1, t1, checked=n, failures=fails.root, detail_pass=f"{n} roots recomputed"),
        make_finding(i2, t2, checked=n, failures=fails.count, detail_pass=f"{n} row counts"),
        make_finding(
            i3,
            t3,
            checked=n,
            failures=fails.sample,
            detail_pass=f"up to {sample} sampled rows of {n} datasets valid",
        ),
        make_finding(
            i4,
            t4,
            checked=excluded,
            failures=fails.wrongly_excluded,
            detail_pass=f"{excluded} undelivered participants: no matching file, or a copy",
        )
        if excluded or fails.wrongly_excluded
        else skipped(i4, t4, "nobody was named undelivered"),
    ]


def _matches(join: JoinRecord, rows: Rows) -> bool:
    """Whether ``rows`` are the dataset ``join`` committed to (count and address-bound root)."""
    if rows.shape[0] != join.row_count:
        return False
    return participant_dataset_root(join.participant, _int_rows(rows)) == join.data_root


def check_test_set(s: RoundSnapshot, test_set: Path | None) -> tuple[Finding, Rows | None]:
    """``testset.root``: the test set file hashes to the committed test-set root."""
    title = "Test set matches its on-chain commitment"
    if test_set is None:
        return skipped("testset.root", title, "no test set given"), None
    try:
        rows = load_rows(test_set)
    except DatasetError as error:
        ev = Evidence(
            str(test_set), _hex(s.config.test_set_commitment), "unreadable", error.one_line()
        )
        return make_finding("testset.root", title, checked=1, failures=[ev], detail_pass=""), None
    root = standard_merkle_root(rows)
    ev = Evidence(test_set.name, _hex(s.config.test_set_commitment), _hex(root))
    ok = root == s.config.test_set_commitment
    finding = make_finding(
        "testset.root",
        title,
        checked=1,
        failures=[] if ok else [ev],
        detail_pass=f"{rows.shape[0]} rows, root recomputed",
        evidence=[ev],
    )
    return finding, rows if ok else None


CURVE_DATA_TITLE = "A curve tolerance is granted only on the curve's own dataset"


def check_curve_data(
    s: RoundSnapshot, scenario: Scenario | None, test_rows: Rows | None
) -> Finding:
    """``curve.data``: a round deployed with tau > 0 must run on the data its learned curve
    records: every row of the committed test set is a row of the record's dataset (review 13b:
    the digits curve deployed on generated rows with the scenario's tau by the coordinator's
    own tool passed every check; planning gives such a round tau = 0, `--any-curve`). The rows
    a participant holds are private; the public test set is the round's data the audit sees."""
    title = CURVE_DATA_TITLE
    if s.config.curve_tolerance_wad == 0:
        return skipped("curve.data", title, "tau = 0: every shortfall is owed on any data")
    if scenario is None or scenario.curve.fitted_on is None:
        return skipped("curve.data", title, "no learned curve (curve.terms holds it to tau = 0)")
    if test_rows is None:
        return skipped("curve.data", title, "no verified test set given")
    fitted = scenario.curve.fitted_on
    try:
        known = load_dataset(fitted.dataset, generated_size=fitted.rows, seed=fitted.seed)
    except DatasetError as error:
        return skipped("curve.data", title, f"the record's dataset: {error.one_line()}")
    table = {row.tobytes() for row in np.ascontiguousarray(known, dtype=np.int64)}
    rows = np.ascontiguousarray(test_rows, dtype=np.int64)
    foreign = [i for i, row in enumerate(rows) if row.tobytes() not in table]
    ev = Evidence(
        "test set",
        f"rows of {fitted.dataset} ({fitted.rows} rows), the curve's record",
        f"{len(foreign)} of {rows.shape[0]} rows are not" if foreign else "all are",
        f"tau {s.config.curve_tolerance_wad / 10**18:.6f} > 0 on data the curve does not "
        "describe: deploy with tau = 0 (--any-curve)"
        if foreign
        else "",
    )
    return make_finding(
        "curve.data",
        title,
        checked=1,
        failures=[ev] if foreign else [],
        detail_pass=f"every test row is a row of {fitted.dataset}, the curve's record",
        evidence=[ev],
    )


def _model_files(models_dir: Path) -> dict[bytes, Path]:
    return {model_hash(p.read_bytes()): p for p in sorted(models_dir.rglob("*")) if p.is_file()}


def _named_like(models_dir: Path, model_hash: bytes) -> Path | None:
    wanted = {model_hash.hex(), "0x" + model_hash.hex()}
    for p in sorted(models_dir.rglob("*")):
        if p.is_file() and p.stem.lower() in wanted:
            return p
    return None


def check_models(
    s: RoundSnapshot,
    models_dir: Path | None,
    test_rows: Rows | None,
    *,
    tolerance: float = DEFAULT_ACCURACY_TOLERANCE,
) -> list[Finding]:
    """``model.hash`` and ``model.accuracy`` for the collective model and every tier.

    Each posted hash must be the keccak256 of a file under ``models_dir``; each such model,
    re-measured on the committed test set, must score within ``tolerance`` of its posted accuracy.
    """
    hash_title = "Posted model hashes match the model files"
    acc_title = f"Re-measured accuracies match the posted ones (tolerance {tolerance:g})"
    why = "no --models given" if models_dir is None else "models not posted"
    if models_dir is None or s.models is None:
        return [skipped("model.hash", hash_title, why), skipped("model.accuracy", acc_title, why)]
    posted = [("collective", s.models.collective_model_hash, s.models.collective_accuracy_wad)]
    posted += [(f"tier {i}", t.model_hash, t.accuracy_wad) for i, t in enumerate(s.models.tiers)]
    files = _model_files(models_dir)
    hash_fail: list[Evidence] = []
    acc_fail: list[Evidence] = []
    measured = attempted = 0
    for name, posted_hash, acc_wad in posted:
        path = files.get(posted_hash)
        if path is None:
            hash_fail.append(_missing_model(models_dir, name, posted_hash))
            continue
        if test_rows is None:
            continue
        attempted += 1
        problem, ok = _remeasure(name, path, acc_wad, test_rows, tolerance)
        measured += ok
        acc_fail.extend(problem)
    hash_finding = make_finding(
        "model.hash",
        hash_title,
        checked=len(posted),
        failures=hash_fail,
        detail_pass=f"{len(posted)} posted models found by keccak256",
    )
    if test_rows is None:
        why = "no test set matching the commitment to measure on"
        return [hash_finding, skipped("model.accuracy", acc_title, why)]
    acc_finding = make_finding(
        "model.accuracy",
        acc_title,
        checked=attempted,
        failures=acc_fail,
        detail_pass=f"{measured} models re-measured on {test_rows.shape[0]} test rows",
    )
    return [hash_finding, acc_finding]


def _missing_model(models_dir: Path, name: str, posted_hash: bytes) -> Evidence:
    """Why no file under ``models_dir`` is the posted model (an impostor named like it?)."""
    impostor = _named_like(models_dir, posted_hash)
    found = (
        f"{impostor.name} hashes to {_hex(model_hash(impostor.read_bytes()))}"
        if impostor is not None
        else f"no file with this hash under {models_dir}"
    )
    return Evidence(name, _hex(posted_hash), found)


def _remeasure(
    name: str, path: Path, acc_wad: int, test_rows: Rows, tolerance: float
) -> tuple[list[Evidence], bool]:
    """(failures, whether it was measured) of one model re-measured on the test set."""
    try:
        got = accuracy(path.read_bytes(), test_rows)
    except ModelError as error:
        return [Evidence(name, f"{acc_wad / WAD:.6f}", "unloadable", error.one_line())], False
    if abs(got - acc_wad / WAD) <= tolerance:
        return [], True
    return [
        Evidence(
            f"{name} ({path.name})",
            f"{acc_wad / WAD:.6f} (posted on chain)",
            f"{got:.6f} (re-measured on the committed test set)",
            f"difference {acc_wad / WAD - got:+.6f} exceeds {tolerance:g}",
        )
    ], True


@dataclass(frozen=True)
class TrainingRecipe:
    """How the collective model must have been trained: the learner and seed the committed
    scenario records (``[accuracy.fitted_on]``), and where they came from."""

    learner: str
    seed: int
    source: str


def training_recipe(scenario: Scenario | None) -> TrainingRecipe:
    """The scenario's recorded learner and seed; without a record, the project's learner and
    the coordinator's default seed 0 (lbfgs ignores the seed, so no seed changes the model)."""
    fitted = scenario.curve.fitted_on if scenario is not None else None
    if fitted is None:
        return TrainingRecipe(TRAINER, 0, "no [accuracy.fitted_on] in the scenario: defaults")
    return TrainingRecipe(fitted.learner, fitted.seed, "the scenario's [accuracy.fitted_on]")


def check_collective(s: RoundSnapshot, data_dir: Path | None, recipe: TrainingRecipe) -> Finding:
    """``model.collective_retrained``: the collective model retrained from every delivered
    dataset (the deliverers' files, join order, each matching its committed root and count),
    with the recorded learner and seed, hashes to the posted collective model. A coordinator
    that trained on part of the data (or on other data) posts another hash."""
    check_id = "model.collective_retrained"
    title = "The collective model retrains from the delivered data to the posted hash"
    if data_dir is None or s.models is None or not s.joins:
        why = "no --data given" if data_dir is None else "models not posted"
        return skipped(check_id, title, why if s.joins else "nobody joined")
    files = find_dataset_files(data_dir, s.delivered)
    loaded = _load_deliveries(sorted(s.delivered, key=lambda j: j.index), files)
    good = [item for item in loaded if item.rows is not None and _matches(item.join, item.rows)]
    if not good or len(good) != len(s.delivered):
        why = f"{len(good)} of {len(s.delivered)} deliverers' datasets match their roots (data.*)"
        return skipped(check_id, title, why)
    posted = s.models.collective_model_hash
    if recipe.learner != TRAINER:
        ev = Evidence("learner", recipe.learner, TRAINER, f"recorded in {recipe.source}")
        return make_finding(check_id, title, checked=1, failures=[ev], detail_pass="")
    rows = np.concatenate([np.asarray(item.rows) for item in good])
    retrained = model_hash(train_model_bytes(rows, seed=recipe.seed))
    how = f"{rows.shape[0]} rows of {len(good)} deliverers, seed {recipe.seed} ({recipe.source})"
    ev = Evidence("collective model", _hex(posted), _hex(retrained), f"retrained on {how}")
    return make_finding(
        check_id,
        title,
        checked=1,
        failures=[] if retrained == posted else [ev],
        detail_pass=f"retrained on {how}: same keccak256",
        detail_fail="the posted collective model is not the one the delivered data trains",
    )


def check_logs(s: RoundSnapshot, models_dir: Path | None, test_rows: Rows | None) -> Finding:
    """``model.logs`` (issue 14): each posted evaluation log (read from the post transaction's
    input) hashes to its posted root, and its rows hold against the committed test set and the
    model file when given (else the counts and the accuracy alone); the first false row of each
    model is named. A false row is provable fraud: `participant challenge` proves it."""
    from modelpact.proofs import PostedModel, check_posted

    title = "Every posted evaluation log holds on the committed test set"
    if s.models is None:
        return skipped("model.logs", title, "models not posted")
    if test_rows is None:
        return skipped("model.logs", title, "no committed test set given")
    posted = [s.models.collective, *s.models.tiers]
    if len(s.posted_logs) != len(posted):
        return skipped("model.logs", title, "the post transaction's logs are not served")
    files = _model_files(models_dir) if models_dir is not None else {}
    rows = np.asarray(test_rows)
    failures = []
    for position, (m, log) in enumerate(zip(posted, s.posted_logs, strict=True)):
        rung = len(posted) if position == 0 else position
        name = "collective" if position == 0 else f"tier {position - 1}"
        entry = PostedModel(m.model_hash, m.accuracy_wad, m.log_root, log)
        path = files.get(m.model_hash)
        model = path.read_bytes() if path is not None else None
        found = check_posted(entry, rung=rung, name=name, model=model, test_rows=rows).fault
        if found is not None:
            failures.append(Evidence(name, "an honest log", found.kind.name.lower(), found.message))
    return make_finding(
        "model.logs",
        title,
        checked=len(posted),
        failures=failures,
        detail_pass=f"{len(posted)} logs hold ({len(files)} model files given)",
    )

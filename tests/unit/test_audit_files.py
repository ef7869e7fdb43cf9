"""Unit tests of the audit's file rules: datasets, model files and the test set against a
hand-built snapshot. Honest files pass; each doctored file fails with its own finding id."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_audit_rules import _honest

from modelpact.audit import files
from modelpact.audit.report import Status
from modelpact.audit.snapshot import ModelsPostedRecord, RoundSnapshot, TierRecord
from modelpact.encoding import participant_dataset_root
from modelpact.ml.datasets import digits_rows, save_rows
from modelpact.ml.models import accuracy, store_model, train_model_bytes

WAD = 10**18


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return digits_rows()


def _with_data(tmp_path: Path, digits: np.ndarray) -> tuple[RoundSnapshot, Path]:
    """The honest snapshot with real data roots for files written under tmp_path/data."""
    s = _honest()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    joins = []
    start = 0
    for j in s.joins:
        rows = digits[start : start + j.row_count]
        start += j.row_count
        name = f"{j.participant.lower()}.npy" if j.index % 2 else f"participant-{j.index}.csv"
        save_rows(data_dir / name, rows)
        joins.append(replace(j, data_root=_root(j.participant, rows)))
    return replace(s, joins=tuple(joins)), data_dir


def _root(participant: str, rows: np.ndarray) -> bytes:
    """The v2 data root: leaves bind the participant's address."""
    return participant_dataset_root(participant, rows.tolist())


def _status(findings, check_id: str) -> Status:
    return {f.id: f.status for f in findings}[check_id]


def test_honest_data_passes(tmp_path, digits) -> None:
    """Delivered datasets named by address or index, matching roots and counts, pass all four
    data checks."""
    s, data_dir = _with_data(tmp_path, digits)
    found = files.check_data(s, data_dir)
    assert [f.status for f in found] == [Status.PASS] * 4 + [Status.SKIP]


def test_copied_root_fails_data_root(tmp_path, digits) -> None:
    """Issue 11.6: a participant who copies another's rows (and root) is caught, because the
    leaves bind the contributor's address: the copied root is not the copier's root."""
    s, data_dir = _with_data(tmp_path, digits)
    source = data_dir / f"{s.joins[1].participant.lower()}.npy"
    target = data_dir / f"{s.joins[3].participant.lower()}.npy"
    save_rows(target, np.load(source))
    joins = list(s.joins)
    joins[3] = replace(joins[3], data_root=joins[1].data_root)
    found = files.check_data(replace(s, joins=tuple(joins)), data_dir)
    assert _status(found, "data.root") is Status.FAIL


def test_undelivered_with_matching_data_fails(tmp_path, digits) -> None:
    """A participant named undelivered whose delivered file matches its root and count was
    excluded wrongly: data.undelivered fails; without a matching file it passes."""
    s, data_dir = _with_data(tmp_path, digits)
    last = s.joins[-1].participant
    named = replace(s, undelivered=(last,))
    assert _status(files.check_data(named, data_dir), "data.undelivered") is Status.FAIL
    for path in data_dir.iterdir():
        if path.stem.lower() in (last.lower(), "participant-3"):
            path.unlink()
    assert _status(files.check_data(named, data_dir), "data.undelivered") is Status.PASS


def test_tampered_row_fails_data_root(tmp_path, digits) -> None:
    """One changed pixel in a delivered dataset breaks its committed root."""
    s, data_dir = _with_data(tmp_path, digits)
    path = data_dir / f"{s.joins[1].participant.lower()}.npy"
    rows = np.load(path)
    rows[3, 10] = (rows[3, 10] + 1) % 17
    save_rows(path, rows)
    found = files.check_data(s, data_dir)
    assert _status(found, "data.root") is Status.FAIL
    assert _status(found, "data.count") is Status.PASS


def test_remembered_roots_never_pass_tampered_files(tmp_path, digits) -> None:
    """Roots are remembered by content (modelpact.encoding): after the honest files' roots were
    computed from arrays (and remembered) and the audit passed on them, a changed pixel, two
    swapped rows or another participant's rows under a root still fail data.root, in the same
    process."""
    s, data_dir = _with_data(tmp_path, digits)
    for j in s.joins:  # the honest roots, from arrays: remembered
        path = data_dir / f"{j.participant.lower()}.npy"
        if path.exists():
            assert participant_dataset_root(j.participant, np.load(path)) == j.data_root
    assert _status(files.check_data(s, data_dir), "data.root") is Status.PASS
    path = data_dir / f"{s.joins[1].participant.lower()}.npy"
    honest = np.load(path)
    pixel = honest.copy()
    pixel[3, 10] = (pixel[3, 10] + 1) % 17
    swapped = honest[[1, 0, *range(2, len(honest))]]
    assert not np.array_equal(swapped, honest)
    for tampered in (pixel, swapped):
        save_rows(path, tampered)
        assert _status(files.check_data(s, data_dir), "data.root") is Status.FAIL
    save_rows(path, honest)
    assert _status(files.check_data(s, data_dir), "data.root") is Status.PASS
    other = data_dir / f"{s.joins[3].participant.lower()}.npy"
    save_rows(other, honest[: s.joins[3].row_count])  # rows of #1 where #3's should be
    joins = list(s.joins)
    joins[3] = replace(joins[3], data_root=_root(s.joins[1].participant, np.load(other)))
    found = files.check_data(replace(s, joins=tuple(joins)), data_dir)
    assert _status(found, "data.root") is Status.FAIL


def test_short_dataset_fails_data_count(tmp_path, digits) -> None:
    """A dataset with fewer rows than committed fails data.count."""
    s, data_dir = _with_data(tmp_path, digits)
    path = data_dir / f"{s.joins[1].participant.lower()}.npy"
    save_rows(path, np.load(path)[:-1])
    assert _status(files.check_data(s, data_dir), "data.count") is Status.FAIL


def test_invalid_rows_fail_sample(tmp_path, digits) -> None:
    """Rows outside the dataset's rules (pixel 99 in digits), committed honestly, fail the
    seed-derived sample validation."""
    s, data_dir = _with_data(tmp_path, digits)
    path = data_dir / f"{s.joins[1].participant.lower()}.npy"
    rows = np.load(path)
    rows[:, 5] = 99
    save_rows(path, rows)
    joins = list(s.joins)
    joins[1] = replace(joins[1], data_root=_root(joins[1].participant, rows))
    found = files.check_data(replace(s, joins=tuple(joins)), data_dir, dataset="digits")
    assert _status(found, "data.sample") is Status.FAIL
    assert _status(found, "data.root") is Status.PASS


def test_missing_dataset_fails_delivered(tmp_path, digits) -> None:
    """A revealed participant's dataset missing from --data fails data.delivered."""
    s, data_dir = _with_data(tmp_path, digits)
    (data_dir / f"{s.joins[1].participant.lower()}.npy").unlink()
    assert _status(files.check_data(s, data_dir), "data.delivered") is Status.FAIL


def test_sample_is_seed_derived() -> None:
    """The sample depends only on (root, salt): same inputs, same rows; another salt, other rows."""
    a = files.sample_indices(b"\x01" * 32, b"\x02" * 32, 1000, 16)
    assert a == files.sample_indices(b"\x01" * 32, b"\x02" * 32, 1000, 16)
    assert a != files.sample_indices(b"\x01" * 32, b"\x03" * 32, 1000, 16)
    assert files.sample_indices(b"\x01" * 32, b"\x02" * 32, 5, 16) == [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def trained(digits, tmp_path_factory):
    """A real collective model and a real tier model, stored by hash, and the test set."""
    test = digits[1500:]
    full = train_model_bytes(digits[:600], seed=0)
    tier = train_model_bytes(digits[:60], seed=0)
    models_dir = tmp_path_factory.mktemp("models")
    store_model(models_dir, full)
    store_model(models_dir, tier)
    test_file = tmp_path_factory.mktemp("test") / "test.npy"
    save_rows(test_file, test)
    return full, tier, models_dir, test, test_file


def _posted(full: bytes, tier: bytes, test: np.ndarray) -> ModelsPostedRecord:
    from eth_utils.crypto import keccak

    acc_full = int(accuracy(full, test) * WAD)
    acc_tier = int(accuracy(tier, test) * WAD)
    return ModelsPostedRecord(keccak(full), acc_full, (TierRecord(keccak(tier), acc_tier),), 800, 0)


def test_honest_models_pass(trained) -> None:
    """Posted hashes of real model files and their measured accuracies pass both model checks,
    and the test set file matches its committed root."""
    full, tier, models_dir, test, test_file = trained
    s = replace(_honest(), models=_posted(full, tier, test))
    s = replace(s, config=replace(s.config, test_set_commitment=files.standard_merkle_root(test)))
    test_finding, rows = files.check_test_set(s, test_file)
    assert test_finding.status is Status.PASS
    found = files.check_models(s, models_dir, rows)
    assert [f.status for f in found] == [Status.PASS, Status.PASS]


def test_overstated_accuracy_fails(trained) -> None:
    """A collective accuracy posted 0.01 above what the model scores fails model.accuracy."""
    full, tier, models_dir, test, _ = trained
    posted = _posted(full, tier, test)
    posted = replace(posted, collective_accuracy_wad=posted.collective_accuracy_wad + WAD // 100)
    found = files.check_models(replace(_honest(), models=posted), models_dir, test)
    assert _status(found, "model.accuracy") is Status.FAIL
    assert _status(found, "model.hash") is Status.PASS


def test_modified_model_file_fails_hash(trained, tmp_path) -> None:
    """A model file whose bytes differ from the posted hash fails model.hash, naming the file."""
    full, tier, _models_dir, test, _ = trained
    posted = _posted(full, tier, test)
    bad_dir = tmp_path / "models"
    bad_dir.mkdir()
    (bad_dir / f"0x{posted.collective_model_hash.hex()}.json").write_bytes(full + b" ")
    store_model(bad_dir, tier)
    found = files.check_models(replace(_honest(), models=posted), bad_dir, test)
    finding = next(f for f in found if f.id == "model.hash")
    assert finding.status is Status.FAIL
    assert "hashes to" in finding.failures[0].found


def test_wrong_test_set_fails_root(trained) -> None:
    """A test set that is not the committed one fails testset.root and is not measured on."""
    _, _, _, _, test_file = trained
    finding, rows = files.check_test_set(_honest(), test_file)
    assert finding.status is Status.FAIL
    assert rows is None


def test_infer_spec_by_name_and_shape(digits) -> None:
    """Named datasets get their own rules; unnamed 65-column rows are digits; other rows get
    structural rules only (so foreign data is not judged by another dataset's ranges)."""
    assert files.infer_spec(digits[:3]).name == "digits"
    wide = np.zeros((3, 21), dtype=np.int64)
    assert files.infer_spec(wide, "generated").name == "generated"
    assert files.infer_spec(wide).name == "unknown"
    wide[0, 0] = 5000  # outside the generated range, valid structurally
    from modelpact.ml.datasets import validate_rows

    validate_rows(wide, files.infer_spec(wide))


def _delivered_rows(s: RoundSnapshot, data_dir: Path) -> np.ndarray:
    """Every deliverer's rows in join order, as the coordinator trains on them."""
    found = files.find_dataset_files(data_dir, s.joins)
    delivered = set(s.undelivered)
    ordered = sorted(s.joins, key=lambda j: j.index)
    paths = [found[j.participant] for j in ordered if j.participant not in delivered]
    from modelpact.ml.datasets import load_rows

    return np.concatenate([load_rows(p) for p in paths])


def _collective_posted(s: RoundSnapshot, model: bytes) -> RoundSnapshot:
    from eth_utils.crypto import keccak

    return replace(s, models=ModelsPostedRecord(keccak(model), 9 * WAD // 10, (), 800, 0))


def test_collective_retrained_from_the_delivered_data_passes(tmp_path, digits) -> None:
    """Issue 13: the collective model trained on every deliverer's rows (join order) with the
    recorded learner and seed retrains to the posted hash: model.collective_retrained passes;
    without --data or before a post it is skipped."""
    s, data_dir = _with_data(tmp_path, digits)
    model = train_model_bytes(_delivered_rows(s, data_dir), seed=0)
    posted = _collective_posted(s, model)
    recipe = files.training_recipe(None)
    assert files.check_collective(posted, data_dir, recipe).status is Status.PASS
    assert files.check_collective(posted, None, recipe).status is Status.SKIP
    unposted = replace(s, models=None)
    assert files.check_collective(unposted, data_dir, recipe).status is Status.SKIP


def test_collective_trained_on_a_subsample_fails(tmp_path, digits) -> None:
    """A collective model trained on all but the last deliverer's rows fails
    model.collective_retrained with the posted and retrained hashes as evidence; a recorded
    learner this audit does not train with fails too."""
    s, data_dir = _with_data(tmp_path, digits)
    rows = _delivered_rows(s, data_dir)
    short = train_model_bytes(rows[: rows.shape[0] - s.joins[-1].row_count], seed=0)
    finding = files.check_collective(
        _collective_posted(s, short), data_dir, files.training_recipe(None)
    )
    assert finding.status is Status.FAIL
    assert finding.failures[0].subject == "collective model"
    assert f"retrained on {rows.shape[0]} rows" in finding.failures[0].note
    other = files.TrainingRecipe("sklearn.svm.SVC()", 0, "test")
    full = _collective_posted(s, train_model_bytes(rows, seed=0))
    assert files.check_collective(full, data_dir, other).status is Status.FAIL


def test_excluded_participants_rows_are_not_retrained_on(tmp_path, digits) -> None:
    """A participant named undelivered is left out of the retrained collective model (its file,
    if any, is not training data): the model of the other deliverers passes."""
    s, data_dir = _with_data(tmp_path, digits)
    named = replace(s, undelivered=(s.joins[-1].participant,))
    model = train_model_bytes(_delivered_rows(named, data_dir), seed=0)
    finding = files.check_collective(
        _collective_posted(named, model), data_dir, files.training_recipe(None)
    )
    assert finding.status is Status.PASS

"""The pure fraud-proof finder and its evidence (issue 14): an honest post has no fault, each
kind of lie is found at the right rung and row, and the evidence carries what that kind reads."""

from __future__ import annotations

import numpy as np
import pytest

from modelpact import encoding as enc
from modelpact import proofs
from modelpact.ml.evallog import build_eval_log

# A two-feature, two-class model: class 1 wins when x0 > x1 (ties to class 0).
MODEL = enc.encode_integer_model(
    enc.IntegerModel(biases=(0, 0), weights=((0, 1), (1, 0)), scale_log2=0)
)
ROWS = np.array([[3, 1, 1], [1, 3, 0], [2, 2, 1], [5, 0, 1], [0, 4, 1]], dtype=np.int64)


def _posted(entries: list[tuple[int, int]], count: int | None = None) -> proofs.PostedModel:
    n = len(entries)
    final = entries[-1][1] if count is None else count
    return proofs.PostedModel(
        enc.model_hash(MODEL),
        enc.accuracy_of_count(final, n),
        enc.EvalLogTree.of(entries).root,
        enc.pack_eval_log(entries),
    )


def _honest() -> list[tuple[int, int]]:
    return list(build_eval_log(MODEL, ROWS).entries)


def _find(posted: proofs.PostedModel, *, with_model: bool = True) -> proofs.Fault | None:
    models = {posted.model_hash: MODEL} if with_model else {}
    fault, _ = proofs.find_fault([posted], models=models, test_rows=ROWS)
    return fault


def test_an_honest_post_has_no_fault() -> None:
    """The honest log with its exact accuracy: nothing to prove, with or without the model."""
    assert _find(_posted(_honest())) is None
    assert _find(_posted(_honest()), with_model=False) is None


@pytest.mark.parametrize("with_model", [True, False])
def test_counts_and_accuracy_are_checked_even_without_the_model(with_model: bool) -> None:
    """An accuracy one row above the log's final count is WrongAccuracy at row T - 1; a count
    that does not follow is BrokenCount at its row, whether or not the model is at hand."""
    fault = _find(_posted(_honest(), count=_honest()[-1][1] - 1), with_model=with_model)
    assert fault is not None
    assert (fault.kind, fault.row) == (proofs.FraudKind.WRONG_ACCURACY, len(ROWS) - 1)
    broken = _honest()
    broken[2] = (broken[2][0], broken[2][1] + 1)
    fault = _find(_posted(broken), with_model=with_model)
    assert fault is not None
    assert (fault.kind, fault.row) == (proofs.FraudKind.BROKEN_COUNT, 2)


def test_a_wrong_prediction_needs_the_model_and_its_evidence_opens_row_and_leaf() -> None:
    """A logged label the model does not predict is WrongPrediction at that row; the evidence
    carries the model, the test row with its proof against the test-set root and leaf j."""
    lied = _honest()
    lied[1] = (1 - lied[1][0], lied[1][1] + (1 if lied[1][0] != ROWS[1][-1] else -1))
    lied = [*lied[:2], *[(p, c + (lied[1][1] - _honest()[1][1])) for p, c in lied[2:]]]
    posted = _posted(lied)
    fault = _find(posted)
    assert fault is not None
    assert (fault.kind, fault.row) == (proofs.FraudKind.WRONG_PREDICTION, 1)
    ev = proofs.evidence(fault, posted=[posted], models={posted.model_hash: MODEL}, test_rows=ROWS)
    kind, rung, _, model, row, test_row, test_proof, leaf, previous, log = ev
    assert (kind, rung, model, row, test_row) == (1, 1, MODEL, 1, ROWS[1].tolist())
    root = enc.dataset_merkle_root(ROWS.tolist())
    assert enc.verify_proof(root, 1, test_row, test_proof)
    assert enc.verify_eval_log_leaf(posted.log_root, len(ROWS), 1, leaf[0], leaf[1], leaf[2])
    assert previous == (0, 0, [])
    assert log == b""


def test_a_log_that_is_not_its_root_and_an_unevaluable_test_set_are_found() -> None:
    """Log bytes whose tree is not the posted root: LogRootMismatch (evidence carries the log);
    a test row without features: UnevaluableTestRow before any model is looked at."""
    honest = _posted(_honest())
    swapped = proofs.PostedModel(honest.model_hash, honest.accuracy_wad, bytes(32), honest.log)
    fault = _find(swapped)
    assert fault is not None
    assert fault.kind == proofs.FraudKind.LOG_ROOT_MISMATCH
    ev = proofs.evidence(fault, posted=[swapped], models={}, test_rows=ROWS)
    assert ev[-1] == honest.log
    bad_rows = np.array([[7], [1]], dtype=np.int64)
    fault, _ = proofs.find_fault([honest], models={}, test_rows=bad_rows)
    assert fault is not None
    assert (fault.kind, fault.rung, fault.row) == (proofs.FraudKind.UNEVALUABLE_TEST_ROW, 0, 0)


def test_the_commitment_is_the_contracts_encoding() -> None:
    """postCommitment = keccak256(abi.encode(ModelCommitment[])) with logHash = keccak(log)."""
    from eth_abi.abi import encode

    posted = _posted(_honest())
    row = (posted.model_hash, posted.accuracy_wad, posted.log_root, enc.keccak256(posted.log))
    want = enc.keccak256(encode(["(bytes32,uint64,bytes32,bytes32)[]"], [[row]]))
    assert proofs.commitment([posted]) == want

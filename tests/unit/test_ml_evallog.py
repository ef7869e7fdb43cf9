"""Evaluation logs: the positional tree binds each leaf to its row, the checker names the first
false row of a published log, and log files round-trip."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelpact import encoding as enc
from modelpact.ml import datasets as ds
from modelpact.ml import evallog as el
from modelpact.ml import models as md


@st.composite
def honest_logs(draw: st.DrawFn) -> tuple[tuple[tuple[int, int], ...], list[int]]:
    t = draw(st.integers(1, 70))
    predicted = draw(st.lists(st.integers(0, 3), min_size=t, max_size=t))
    labels = draw(st.lists(st.integers(-1, 4), min_size=t, max_size=t))
    return enc.eval_log_entries(predicted, labels), labels


@settings(max_examples=60, deadline=None)
@given(honest_logs())
def test_every_leaf_verifies_at_its_position_only(case) -> None:
    """Each leaf of an honest log verifies with its proof at its own row, and not at its
    sibling's, its successor's or a row past T with the same path bits, nor with another count;
    proofs are ceil(log2 T) long; counts follow the labels."""
    entries, labels = case
    t = len(entries)
    tree = enc.EvalLogTree.of(entries)
    depth = enc.eval_log_depth(t)
    assert depth == (0 if t == 1 else int(np.ceil(np.log2(t))))
    running = 0
    for j, (p, c) in enumerate(entries):
        running += int(p == labels[j])
        assert c == running
        proof = tree.proof(j)
        assert len(proof) == depth
        assert enc.verify_eval_log_leaf(tree.root, t, j, p, c, proof)
        assert not enc.verify_eval_log_leaf(tree.root, t, j, p, c + 1, proof)
        assert not enc.verify_eval_log_leaf(tree.root, t, j + (1 << depth), p, c, proof)
        assert not enc.verify_eval_log_leaf(tree.root, t, j, p, c, [*proof, bytes(32)])
        for other in {j ^ 1, j + 1} - {j}:
            if other < t:
                assert not enc.verify_eval_log_leaf(tree.root, t, other, p, c, proof)


def test_depth_and_unused_positions() -> None:
    """Depth is ceil(log2 T); positions from T to the next power of two hold zero, so a log of
    three rows is the tree of four leaves with the last one zero."""
    assert [enc.eval_log_depth(t) for t in (1, 2, 3, 4, 5, 360, 1024, 1025)] == [
        0, 1, 2, 2, 3, 9, 10, 11,
    ]  # fmt: skip
    entries = ((1, 0), (2, 1), (0, 1))
    leaves = [enc.eval_log_leaf(j, p, c) for j, (p, c) in enumerate(entries)] + [bytes(32)]
    left = enc.eval_log_node(leaves[0], leaves[1])
    right = enc.eval_log_node(leaves[2], leaves[3])
    assert enc.EvalLogTree.of(entries).root == enc.eval_log_node(left, right)
    assert enc.EvalLogTree.of(entries[:1]).root == leaves[0]
    with pytest.raises(enc.EncodingError, match="at least one row"):
        enc.eval_log_depth(0)
    with pytest.raises(enc.EncodingError, match="not in a log"):
        enc.EvalLogTree.of(entries).proof(3)


@pytest.fixture(scope="module")
def honest() -> tuple[bytes, ds.Rows, el.EvalLog]:
    split = ds.split_test(ds.digits_rows(), test_size=360, seed=0)
    model = md.train_model_bytes(split.pool[:150], seed=0)
    return model, split.test, el.build_eval_log(model, split.test)


def test_honest_log_checks_clean(honest) -> None:
    """The built log agrees with the model's accuracy and passes the checker with its root and
    accuracy."""
    model, test, log = honest
    assert log.correct == md.correct_count(model, test)
    assert log.accuracy_wad == log.correct * enc.WAD // 360
    assert (
        el.check_eval_log(model, test, log.entries, root=log.root, accuracy_wad=log.accuracy_wad)
        is None
    )


def _with(entries: tuple[tuple[int, int], ...], j: int, value: tuple[int, int]) -> tuple:
    return (*entries[:j], value, *entries[j + 1 :])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 359), st.sampled_from(["prediction", "count", "both"]))
def test_checker_names_the_first_false_row(honest, j: int, what: str) -> None:
    """One falsified row (prediction, count, or a wrong prediction logged with the count it
    implies) is reported at exactly that row, as a fault one challenge can prove."""
    model, test, log = honest
    p, c = log.entries[j]
    label = int(test[j, -1])
    if what == "prediction":
        forged = (p + 1, c)
    elif what == "count":
        forged = (p, c + 1)
    else:
        previous = log.entries[j - 1][1] if j else 0
        forged = (p + 1, previous + int(p + 1 == label))
    fault = el.check_eval_log(model, test, _with(log.entries, j, forged))
    assert fault is not None
    assert fault.row == j
    assert fault.provable
    assert fault.kind == ("count" if what == "count" else "prediction")
    assert f"row {j}" in fault.message


def test_checker_names_whole_log_faults(honest) -> None:
    """An overstated accuracy (by one row) is a provable fault at the last row; a log that does
    not hash to the posted root, or has a row missing, is reported but not provable on chain;
    malformed model bytes are provable."""
    model, test, log = honest
    over = (log.correct + 1) * enc.WAD // 360
    fault = el.check_eval_log(model, test, log.entries, accuracy_wad=over)
    assert fault is not None
    assert (fault.kind, fault.row, fault.provable) == ("accuracy", 359, True)
    fault = el.check_eval_log(model, test, log.entries, root=bytes(32))
    assert fault is not None
    assert (fault.kind, fault.provable) == ("root", False)
    fault = el.check_eval_log(model, test, log.entries[:-1])
    assert fault is not None
    assert fault.kind == "length"
    fault = el.check_eval_log(model + b"\x00", test, log.entries)
    assert fault is not None
    assert (fault.kind, fault.provable) == ("malformed-model", True)
    assert "truncated or trailing" in fault.message


def test_log_file_round_trips_and_refuses_corruption(honest) -> None:
    """A log file decodes to the same log; a changed entry (root no longer matching), a wrong row
    count or non-integer entries are refused by name."""
    _, _, log = honest
    data = el.encode_eval_log(log)
    assert el.decode_eval_log(data) == log
    assert el.decode_eval_log(data).root == log.root
    bad = [
        (data.replace(b'"entries":[[', b'"entries":[[9'), "root does not match"),
        (data.replace(b'"rowCount":360', b'"rowCount":361'), "rowCount"),
        (data.replace(b'"entries":[[', b'"entries":[["x",'), "entry 0"),
        (b"{", "not valid JSON"),
        (data.replace(b"modelpact-evallog/1", b"other"), "format"),
    ]
    for corrupt, message in bad:
        with pytest.raises(el.EvalLogError, match=message):
            el.decode_eval_log(corrupt)

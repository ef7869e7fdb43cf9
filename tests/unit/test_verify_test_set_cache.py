"""verify_model's public test set, read once per unchanged file: "unchanged" is its content.

A demo verifies every participant's model against the same test set file, so the rows are
kept between verifications. What verify_model reports (the test set matches its on-chain
commitment, the accuracy measured on it) must hold for the file as it is when verify_model
runs: a file rewritten in place with the same size within one modification-time tick (or with
its time set back) has the same path, inode, size and mtime, and must still be read again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from modelpact.round import participant


def _rewrite_in_place(path: Path, rows: np.ndarray) -> None:
    """Overwrite ``path`` with ``rows`` (same inode, same size) and restore its timestamps."""
    before = path.stat()
    with path.open("r+b") as handle:  # same inode: no rename, no new file
        np.save(handle, rows, allow_pickle=False)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )


def test_a_test_set_rewritten_with_the_same_stat_is_read_again(tmp_path: Path) -> None:
    """Rows read from a file, then the file rewritten in place with other rows of the same
    shape (same path, inode, size, mtime): the second read returns the new rows, not the
    kept ones (else verify_model checks a commitment and an accuracy against a file that is
    no longer there)."""
    path = tmp_path / "test.npy"
    first = np.arange(12, dtype=np.int64).reshape(3, 4)
    second = first[::-1].copy()
    np.save(path, first, allow_pickle=False)
    assert np.array_equal(participant._test_rows(path, ""), first)
    _rewrite_in_place(path, second)
    assert np.array_equal(participant._test_rows(path, ""), second)


def test_an_unchanged_test_set_is_kept(tmp_path: Path) -> None:
    """The same file read twice gives the same (read-only) rows object: the cache still
    serves a demo's many verifications."""
    path = tmp_path / "test.npy"
    np.save(path, np.arange(8, dtype=np.int64).reshape(2, 4), allow_pickle=False)
    first = participant._test_rows(path, "")
    assert participant._test_rows(path, "") is first
    assert not first.flags.writeable

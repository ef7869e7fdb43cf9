"""``modelpact sweep`` end to end: rows, resuming after a real crash, bad grids in one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "offchain" / "modelpact" / "data"


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelpact", *args],
        capture_output=True, text=True, check=False, cwd=cwd, timeout=600,
    )  # fmt: skip


def grid_file(tmp_path: Path, sweep_table: str, extra: str = "") -> Path:
    shutil.copy(DATA / "scenarios" / "paper_two_type.toml", tmp_path / "base.toml")
    path = tmp_path / "grid.toml"
    path.write_text(f'scenario = "base.toml"\n{extra}\n[sweep]\n{sweep_table}\n')
    return path


def rows_of(path: Path) -> list[dict[str, object]]:
    lines = path.read_text().split("\n")[:-1]  # a row torn by a kill has no newline yet
    return sorted((json.loads(line) for line in lines[1:]), key=lambda r: int(r["index"]))  # type: ignore[call-overload]


def test_sweep_writes_rows_and_a_rerun_resumes(tmp_path: Path) -> None:
    """A 2 x 2 grid under both beliefs writes a header and 8 rows (every information cost <= 0);
    running the same command again finds every row done and solves nothing."""
    grid = grid_file(
        tmp_path, "participants = [2, 5]\np1 = [0.3, 0.7]", 'beliefs = ["paper", "bayes"]'
    )
    done = run(["sweep", str(grid), "--out", "rows.jsonl", "--workers", "2"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "8 points: 0 already in rows.jsonl, 8 solved now (0 failed)" in done.stdout
    rows = rows_of(tmp_path / "rows.jsonl")
    assert [r["index"] for r in rows] == list(range(8))
    assert all(r["status"] == "ok" and r["information_cost"] <= 0 for r in rows)  # type: ignore[operator]
    again = run(["sweep", str(grid), "--out", "rows.jsonl"], tmp_path)
    assert "8 already in rows.jsonl, 0 solved now" in again.stdout


@pytest.mark.slow
def test_sweep_killed_mid_run_resumes_to_the_uninterrupted_rows(tmp_path: Path) -> None:
    """A sweep SIGKILLed after its first row is on disk, then run again, ends with exactly the
    rows of an uninterrupted run (no point lost, none duplicated)."""
    grid = grid_file(tmp_path, "participants = [2, 4, 6, 8, 10, 12]\np1 = [0.3, 0.7]")
    whole = run(["sweep", str(grid), "--out", "whole.jsonl", "--workers", "1"], tmp_path)
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "crashed.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "modelpact", "sweep", str(grid), "--out", str(out),
         "--workers", "1"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and len(out.read_bytes().splitlines()) >= 2:  # header + a row
            break
        time.sleep(0.01)
    killed = process.poll() is None
    if killed:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert killed, "the sweep finished before it could be killed; use a larger grid"
    partial = len(rows_of(out))
    assert 1 <= partial < 12
    resumed = run(["sweep", str(grid), "--out", str(out), "--workers", "1"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{partial} already in" in resumed.stdout
    assert rows_of(out) == rows_of(tmp_path / "whole.jsonl")


@pytest.mark.parametrize(
    ("table", "args", "expected"),
    [
        ("beta = [1]", (), "error: grid.toml: unknown sweep parameter 'beta'; use participants"),
        ("p1 = [nan, 0.5]", (), "error: grid.toml: sweep.p1 has a non-finite value nan; use"),
        ("participants = [-inf]", (), "error: grid.toml: sweep.participants has a non-finite"),
        ("participants = [2]", ("--out", "a-file/rows.jsonl"), "error: cannot write a-file/rows"),
        ("participants = [2]", ("--out", "."), "error: . is a directory; pass a file name to"),
        ("participants = [2]", ("--workers", "0"), "error: --workers must be >= 1, got 0"),
        ("participants = [2]", ("--scheduler", "tcp://127.0.0.1:9"),
         "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    ],
)  # fmt: skip
def test_bad_grid_or_output_is_one_line(
    tmp_path: Path, table: str, args: tuple[str, ...], expected: str
) -> None:
    """A grid with an unknown parameter or a non-finite value, an unwritable or directory --out,
    a bad worker count or an unreachable scheduler: one line on stderr, exit code 2."""
    (tmp_path / "a-file").write_text("not a directory")
    grid_file(tmp_path, table)
    done = run(["sweep", "grid.toml", *args], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(expected)


def test_missing_grid_and_missing_base_are_one_line(tmp_path: Path) -> None:
    """A missing grid file, or a grid naming a missing base scenario, is one line and exit 2."""
    (tmp_path / "grid.toml").write_text('scenario = "nowhere.toml"\n[sweep]\nparticipants = [2]\n')
    for name, expected in (
        ("missing.toml", "error: missing.toml: no such grid file; check the path"),
        ("grid.toml", "error: nowhere.toml: no such scenario file; check the path"),
    ):
        done = run(["sweep", name], tmp_path)
        assert done.returncode == 2
        assert done.stderr.strip() == expected


def test_solve_names_its_no_ic_benchmark() -> None:
    """`modelpact solve` no longer calls its belief-dependent no-IC benchmark 'complete
    information' (the paper's complete information is in `reproduce`)."""
    done = subprocess.run(
        [sys.executable, "-m", "modelpact", "solve", str(DATA / "scenarios" / "paper_case1.toml")],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "no-IC benchmark (menu without IC, bayes belief)" in done.stdout
    assert "complete information" not in done.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"format": "modelpact-sweep/1"}\n{"foo": 1}\n',
         "error: rows.jsonl: line 2 is not a sweep row; delete line 2 (the other rows are kept)"),
        ('{"format": "modelpact-sweep/1"}\n{"index": "x"}\n',
         "error: rows.jsonl: line 2 is not a sweep row; delete line 2"),
        ('{"format": "modelpact-sweep/1"}\n{"index": 0}\n{"index": 1, "m": [1\n',
         "error: rows.jsonl: line 3 is not a sweep row; delete line 3"),
        ("my own notes\n", "error: rows.jsonl: not a sweep file (no modelpact-sweep/1 header); "
         "use another --out"),
    ],
)  # fmt: skip
def test_a_damaged_or_foreign_out_file_is_one_line_and_kept(
    tmp_path: Path, content: str, expected: str
) -> None:
    """An --out file with a damaged row (no integer index, or a torn row that a newline
    followed) or that is not a sweep file at all: one line naming the problem and the fix,
    exit 2, no traceback, and the file is left exactly as it was (nothing lost)."""
    grid_file(tmp_path, "participants = [2]")
    (tmp_path / "rows.jsonl").write_text(content)
    done = run(["sweep", "grid.toml", "--out", "rows.jsonl", "--workers", "1"], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(expected)
    assert (tmp_path / "rows.jsonl").read_text() == content

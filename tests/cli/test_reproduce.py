"""``modelpact reproduce`` end to end through the real entry point (on a small two-type grid)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelpact", *args],
        capture_output=True, text=True, check=False, cwd=cwd, timeout=600,
    )  # fmt: skip


@pytest.mark.slow
def test_reproduce_writes_report_index_and_figures(tmp_path: Path) -> None:
    """On a 2 x 2 grid with both beliefs, `reproduce` exits 0 (every judged number within its
    rule), writes report.json with the comparisons, both studies and the three Sec. 6.2 cases
    per belief, an index.md that embeds every figure, and the PNG figures themselves."""
    done = run(["reproduce", "--out", "out", "--participants", "2,10", "--p1", "0.2,0.8",
                "--workers", "2"], tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "judged numbers within their rule" in done.stdout
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["format"] == "modelpact-reproduce/1"
    assert set(report["two_type"]) == {"paper", "bayes"}
    assert report["two_type"]["paper"]["participants"] == [2, 10]
    assert len(report["multi_type"]) == 6
    judged = [c for c in report["comparisons"] if c["ok"] is not None]
    assert judged
    assert all(c["ok"] for c in judged)
    assert report["checks"]["max_information_cost"] <= 0.0
    index = (out / "index.md").read_text()
    figures = sorted(p.name for p in out.glob("*.png"))
    assert len(figures) == 11  # 2 x 2 two-type, IR shortfall, 3 x 2 multi-type
    for name in figures:
        assert f"]({name})" in index
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert "| information cost | N=10, p1=0.5 | -0.737 |" in index


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--belief", "both,paper"],
            "error: Invalid value for '--belief': 'both,paper' is not one of",
        ),
        (["--workers", "0"], "error: --workers must be >= 1, got 0; e.g. --workers 2"),
        (["--p1", "nan"], "error: --p1 'nan' has a non-finite value; use finite numbers"),
        (["--p1", "0.5,1.5"], "error: --p1 values must be in (0, 1); e.g. --p1 0.1,0.5,0.9"),
        (["--participants", "2,x"], "error: --participants '2,x' is not a comma-separated list"),
        (["--out", "a-file/out"], "error: cannot write to a-file/out (Not a directory); choose a"),
    ],
)
def test_reproduce_bad_input_is_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    """Bad options and an unwritable --out give one line on stderr and exit code 2, before
    any solving."""
    (tmp_path / "a-file").write_text("not a directory")
    done = run(["reproduce", "--participants", "2", "--p1", "0.5", *args], tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(expected)
    assert "Traceback" not in done.stderr


def test_study_cli_modules_import_no_heavy_library() -> None:
    """Importing the reproduce and sweep CLI modules (what `modelpact --help` does) loads none of
    cvxpy, matplotlib, Dask or web3: the studies are imported inside the commands."""
    code = (
        "import sys, modelpact.cli.reproduce, modelpact.cli.sweep; print(sorted(m for m in "
        "('web3', 'cvxpy', 'matplotlib', 'distributed', 'modelpact.studies') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.parametrize("name", ["index.md", "report.json"])
def test_reproduce_refuses_to_overwrite_files_it_did_not_write(tmp_path: Path, name: str) -> None:
    """An --out directory holding an index.md or report.json of someone else's is refused in one
    line (exit 2) before any solving, and the file is left as it was; the files of an earlier
    reproduction may be replaced."""
    from modelpact.studies.reproduce import REPORT_FORMAT, _prepare

    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text("my own notes\n")
    done = run(["reproduce", "--participants", "2", "--p1", "0.5", "--out", "out"], tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: out/{name} exists and was not written by modelpact reproduce; choose a new or "
        "empty --out (it would be overwritten)"
    ]
    assert (out / name).read_text() == "my own notes\n"
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "report.json").write_text(json.dumps({"format": REPORT_FORMAT}))
    (earlier / "index.md").write_text(
        "# Paid with Models (AAAI 2025): results reproduced by modelpact\n"
    )
    _prepare(earlier)

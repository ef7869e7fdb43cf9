"""``modelpact curve`` end to end through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from modelpact.ml import datasets as ds


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelpact", "curve", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_curve_on_digits_writes_toml_json_and_plot(tmp_path: Path) -> None:
    """`modelpact curve digits` exits 0, prints the fit, and writes a parseable [accuracy]
    section, a JSON record with every size, and a PNG."""
    done = _run(
        "digits",
        "--sizes", "20,40,80,160",
        "--repeats", "2",
        "--test-size", "300",
        "--out", "accuracy.toml",
        "--json", "curve.json",
        "--plot", "curve.png",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "R^2" in done.stdout
    section = tomllib.loads((tmp_path / "accuracy.toml").read_text())["accuracy"]
    assert section["kind"] == "power"
    record = json.loads((tmp_path / "curve.json").read_text())
    assert [p["size"] for p in record["points"]] == [20, 40, 80, 160]
    assert section["a_max"] == record["fit"]["a_max"]
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG"


def test_curve_reads_a_csv_dataset(tmp_path: Path) -> None:
    """A CSV path works as DATASET: the curve is measured on its rows."""
    ds.save_rows(tmp_path / "rows.csv", ds.generated_rows(600, n_features=8, n_classes=3, seed=1))
    done = _run("rows.csv", "--sizes", "20,60,180", "--repeats", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "480 pool rows, 120 test rows" in done.stdout


def test_curve_errors_are_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown datasets, malformed sizes and bad CSV cells give one line and exit code 2
    (through `modelpact.cli.main`, the console script's function, in process for speed)."""
    from modelpact.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("1,2,3\n4,x,6\n")
    for args in (
        ("nope",),
        ("digits", "--sizes", "20,abc"),
        ("bad.csv",),
        ("digits", "--sizes", "20,40,99999"),
    ):
        code = main(["curve", *args])
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, (args, err)
        assert lines[0].startswith("error: ")


def test_curve_on_generated_rows_records_them(tmp_path: Path) -> None:
    """`modelpact curve generated --rows 900` learns the generated dataset of 900 rows and
    records exactly those rows (their sha256) in [accuracy.fitted_on]; --rows on digits is one
    line and exit 2."""
    from modelpact.ml.models import rows_digest

    done = _run(
        "generated", "--rows", "900", "--seed", "4", "--sizes", "40,120,360", "--repeats", "2",
        "--out", "acc.toml", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = tomllib.loads((tmp_path / "acc.toml").read_text())["accuracy"]["fitted_on"]
    assert record["dataset"] == "generated"
    assert record["rows"] == 900
    assert record["sha256"] == rows_digest(ds.generated_rows(900, seed=4))
    bad = _run("digits", "--rows", "900", cwd=tmp_path)
    assert bad.returncode == 2
    assert "only applies to the generated dataset" in bad.stderr

"""``modelpact demo`` through the real entry point, on a managed anvil node."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.anvil
def test_demo_on_anvil_exits_zero_with_all_checks_and_report(tmp_path: Path) -> None:
    """`python -m modelpact demo --chain anvil --tiers lottery` starts its own anvil (state in
    --state-dir), runs a whole 3-participant round with lottery reward tiers, prints the summary
    table, the predicted-versus-measured collective accuracy and the tier mode with the models it
    cost, passes every check (audit included), exits 0, and leaves the anvil state file plus the
    auditor's files and report (tier mode, models trained, both predictions) in --out."""
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "modelpact",
            "demo",
            "--participants",
            "3",
            "--seed",
            "1",
            "--chain",
            "anvil",
            "--state-dir",
            str(tmp_path / "state"),
            "--out",
            str(out),
            "--tiers",
            "lottery",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout
    assert "independent audit" in done.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] is True
    assert report["chain_id"] == 31337
    assert report["tier_mode"] == "lottery"
    assert report["tiers_posted"] <= 1  # default --lottery-tiers 1
    assert report["models_trained"] >= 2  # at least the collective model, trained for the targets
    assert 0.0 <= report["scenario_predicted_accuracy"] <= 1.0
    assert 0.0 <= report["predicted_accuracy"] <= 1.0
    printed = " ".join(done.stdout.split())  # rich wraps long lines
    assert "reward tiers: lottery" in printed
    assert "by the scenario's curve" in printed
    assert "contract's committed curve" in printed
    assert len(report["outcomes"]) == 3
    assert (tmp_path / "state" / "anvil-state.json").is_file()
    record = json.loads((out / "deployment.json").read_text())
    assert record["runtime_bytecode_sha3"].startswith("0x")


def test_demo_rejects_bad_chain_option(tmp_path: Path) -> None:
    """An unknown --chain value is one line on stderr naming the fix, exit 2."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "modelpact",
            "demo",
            "--chain",
            "mainnet",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "unknown --chain 'mainnet'" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_refuses_to_replace_an_unrelated_directory(tmp_path: Path) -> None:
    """--out pointing at a non-empty directory that is not a previous demo output is refused in
    one line (exit 2) and nothing in it is deleted."""
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("do not delete")
    done = subprocess.run(
        [sys.executable, "-m", "modelpact", "demo", "--out", str(precious)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is not a previous demo output" in done.stderr
    assert (precious / "chapter1.tex").read_text() == "do not delete"


def test_demo_rejects_unknown_tier_mode_before_any_work(tmp_path: Path) -> None:
    """`--tiers` accepts only deterministic or lottery: anything else exits 2 naming the option,
    before a chain is opened or an output directory is written."""
    done = subprocess.run(
        [sys.executable, "-m", "modelpact", "demo", "--tiers", "raffle", "--out", "o"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "--tiers" in done.stderr
    assert not (tmp_path / "o").exists()


def test_demo_refuses_the_digits_curve_on_generated_rows(tmp_path: Path) -> None:
    """Issue 13: the demo scenario's curve was fitted on digits, so `demo --dataset generated`
    stops before any chain is opened: exit 2, one `error:` line naming both datasets and the two
    ways out (learn the curve for the data, or --any-curve with compensation), no traceback."""
    done = subprocess.run(
        [*(sys.executable, "-m", "modelpact", "demo", "--dataset", "generated"), "--out", "o"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "fitted on digits" in errors[0]
    assert "modelpact curve generated" in errors[0]
    assert "--any-curve" in errors[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "o" / "deployment.json").exists()


def test_cli_modules_import_no_heavy_library() -> None:
    """Importing the participant, coordinator and demo CLI modules (what `modelpact --help` does)
    loads none of web3, sklearn, cvxpy or matplotlib: they are imported inside the commands."""
    code = (
        "import sys, modelpact.cli.participant, modelpact.cli.coordinator, modelpact.cli.demo; "
        "print(sorted(m for m in ('web3', 'sklearn', 'cvxpy', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_demo_never_deletes_user_files_put_into_a_previous_demo_output(tmp_path: Path) -> None:
    """A previous demo's --out folder (it carries the demo's marker) that has since received a
    keystore is refused in one line (exit 2) naming the file, before anything is deleted: only
    what a demo writes is ever removed (found by the wallet review: `demo --out .` twice deleted
    the folder, keystore included)."""
    previous = tmp_path / "runs"
    previous.mkdir()
    (previous / ".modelpact-demo").write_text("modelpact demo output\n")
    (previous / "report.json").write_text("{}")
    keystore = previous / "alice.json"
    keystore.write_text('{"crypto": {}, "address": "00"}')
    done = subprocess.run(
        [sys.executable, "-m", "modelpact", "demo", "--out", str(previous)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "holds files a demo did not write: alice.json" in done.stderr
    assert "Traceback" not in done.stderr
    assert keystore.is_file()
    assert (previous / "report.json").is_file()


@pytest.mark.anvil
def test_ctrl_c_while_participants_join_ends_in_one_line_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    """Ctrl-C (SIGINT to the terminal's process group) while the simulated participants join
    (in forked workers where the machine has two cores): the demo ends with one line on stderr,
    no traceback, and no process of its group (workers, anvil) is left running."""
    import os
    import signal

    demo = subprocess.Popen(
        [
            *(sys.executable, "-m", "modelpact", "demo", "--participants", "60"),
            *("--dataset", "generated", "--any-curve", "--chain", "anvil"),
            *("--state-dir", str(tmp_path / "state"), "--out", str(tmp_path / "out")),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    assert demo.stdout is not None
    for line in demo.stdout:
        if "commit their data and join" in line:
            os.killpg(demo.pid, signal.SIGINT)
            break
    _, err = demo.communicate(timeout=120)
    assert demo.returncode != 0
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    with pytest.raises(ProcessLookupError):
        os.killpg(demo.pid, 0)

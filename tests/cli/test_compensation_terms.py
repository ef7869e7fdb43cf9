"""A round never deploys without curve compensation silently (SECURITY.md, open hole 5), through
the real entry point:

- `coordinator deploy` of a scenario without `[valuation] unit_wei` is refused (one line, exit 2,
  no record); with `--no-compensation` it deploys tau = 1, rho = 0, says so in a WARNING line,
  and `modelpact audit` states NO CURVE COMPENSATION in `curve.terms`;
- `demo` refuses the same scenario; with `--no-compensation` its report names the missing
  compensation in its curve check and its audit in `curve.terms`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "offchain/modelpact/data/scenarios/digits_demo.toml"
WAD = 10**18


def _bare(directory: Path) -> Path:
    """The digits demo scenario without its wei price of a value unit."""
    lines = SCENARIO.read_text().splitlines(keepends=True)
    path = directory / "bare.toml"
    path.write_text("".join(x for x in lines if not x.startswith("unit_wei")))
    return path


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelpact", *args],
        cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def node() -> Iterator[str]:
    from modelpact.chain.backends.anvil import AnvilNode

    with AnvilNode() as anvil:
        yield anvil.rpc_url


@pytest.mark.anvil
def test_deploy_refuses_then_deploys_loudly_with_the_opt_out(tmp_path: Path, node: str) -> None:
    """Without unit_wei, `coordinator deploy` exits 2 in one line naming --no-compensation and
    writes no record; with --no-compensation the round has tau = 1 and rho = 0, the output
    carries a WARNING, and the audit's curve.terms says NO CURVE COMPENSATION."""
    from modelpact import chain as ch
    from modelpact.round.records import list_records, read_record

    bare = _bare(tmp_path)
    deploy = ("coordinator", "deploy", "--scenario", str(bare), "--dev-account", "0", "--rpc", node)
    refused = _run(tmp_path, *deploy)
    assert refused.returncode == 2, refused.stderr
    (line,) = refused.stderr.splitlines()
    assert "no wei price" in line
    assert "pass --no-compensation" in line
    assert not (tmp_path / "deploy").exists() or not list_records(tmp_path / "deploy")
    done = _run(tmp_path, *deploy, "--no-compensation")
    assert done.returncode == 0, done.stderr
    assert "WARNING: this round pays NO curve compensation" in done.stdout
    record_path = list_records(tmp_path / "deploy")[-1]
    record = read_record(record_path)
    config = ch.round_at(ch.connect(rpc_url=node), record.address).config()
    assert (config.curve_tolerance_wad, config.shortfall_wei_per_wad) == (WAD, 0)
    out = tmp_path / "audit.json"
    audit = _run(tmp_path, "audit", "--deployment", str(record_path), "--rpc", node,
                 "--json", str(out), "--quiet")  # fmt: skip
    assert audit.returncode in (0, 1), audit.stderr
    terms = next(f for f in json.loads(out.read_text())["findings"] if f["id"] == "curve.terms")
    assert terms["status"] == "pass"
    assert terms["detail"].startswith("NO CURVE COMPENSATION")


@pytest.mark.slow
def test_demo_refuses_then_reports_the_missing_compensation(tmp_path: Path) -> None:
    """`demo` on the scenario without unit_wei exits 2 in one line before anything runs; with
    --no-compensation the report's curve check and the audit's curve.terms name it."""
    bare = _bare(tmp_path)
    demo = ("demo", "--participants", "3", "--scenario", str(bare), "--out", "out")
    refused = _run(tmp_path, *demo)
    assert refused.returncode == 2, refused.stderr
    assert "pass --no-compensation" in refused.stderr.splitlines()[0]
    assert not (tmp_path / "out" / "deployment.json").exists()
    done = _run(tmp_path, *demo, "--no-compensation")
    assert done.returncode in (0, 1), done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    curve = next(c for c in report["checks"] if "curve" in c["name"])
    assert curve["name"].startswith("NO curve compensation")
    audit = json.loads((tmp_path / "out" / "audit.json").read_text())
    terms = next(f for f in audit["findings"] if f["id"] == "curve.terms")
    assert "NO CURVE COMPENSATION" in terms["detail"] + json.dumps(terms["failures"])

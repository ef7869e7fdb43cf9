"""The tamper suite: deliberately dishonest executions, done for real, each caught by the audit.

Every case below is a real execution on a real chain (anvil): a lying coordinator script driving
the real contract through ``modelpact.chain``, a modified contract compiled from modified source
and deployed, or a published file modified after the fact. Each is audited through the real
``modelpact audit`` command (its entry point, with ``--rpc``/``--address`` and the published
files) and must exit non-zero with its own named finding failed.

On the rung assignment: the genuine contract computes every rung itself from the revealed seeds,
so a coordinator cannot hand a participant a rung its draw does not give. The only way to do it
is to deploy a different contract; ``test_rigged_draw_contract`` does exactly that (draws always
go to the lower rung) and the audit catches it twice: the bytecode differs from the source, and
the recorded assignments do not recompute from the seeds.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from test_audit_round import (
    ROOT,
    SCENARIO,
    WAD,
    Executed,
    Lies,
    execute_round,
    honest_menu,
)

from modelpact.chain import connect
from modelpact.chain.backends.anvil import AnvilNode
from modelpact.cli import main
from modelpact.compiler import CompiledContract, compile_contracts, find_solc
from modelpact.encoding import OnchainOption, to_wad
from modelpact.ml.datasets import save_rows
from modelpact.ml.models import train_model_bytes
from modelpact.optimizer import integerize_menu, solve
from modelpact.scenario import load_scenario

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with AnvilNode(log_file=tmp_path_factory.mktemp("anvil") / "anvil.log") as running:
        yield running


@pytest.fixture(scope="module")
def chain(node):
    return connect(rpc_url=node.rpc_url)


@pytest.fixture(scope="module")
def honest(chain, tmp_path_factory) -> Executed:
    """One honest round, run to the end; file tampers start from copies of its files."""
    return execute_round(chain, tmp_path_factory.mktemp("honest"))


def cli_audit(done: Executed, tmp_path: Path, **files: Path) -> tuple[int, dict]:
    """Run `modelpact audit` (its real entry point) and return (exit code, JSON report)."""
    paths = {
        "scenario": done.scenario,
        "data": done.data,
        "models": done.models,
        "test_set": done.test_set,
    }
    paths.update(files)
    out = tmp_path / "audit.json"
    argv = ["audit", "--rpc", done.chain.url, "--address", str(done.round.address)]
    argv += ["--scenario", str(paths["scenario"]), "--data", str(paths["data"])]
    argv += ["--models", str(paths["models"]), "--test-set", str(paths["test_set"])]
    argv += ["--json", str(out), "--quiet"]
    code = main(argv)
    return code, json.loads(out.read_text())


def failed(report: dict) -> set[str]:
    return {f["id"] for f in report["findings"] if f["status"] == "fail"}


def evidence(report: dict, check_id: str) -> list[dict]:
    return next(f["failures"] for f in report["findings"] if f["id"] == check_id)


def copy_files(done: Executed, target: Path) -> Executed:
    """The published files of ``done`` copied under ``target`` (to be tampered with)."""
    shutil.copytree(done.out, target)
    return replace(
        done,
        out=target,
        scenario=target / done.scenario.name,
        data=target / "data",
        models=target / "models",
        test_set=target / done.test_set.name,
    )


def modified_contract(tmp: Path, patch) -> dict[str, CompiledContract]:
    """The contracts compiled from a modified copy of contracts/src (OpenZeppelin as is): a round
    of them is a clone of the modified ModelpactRound, made by their factory."""
    root = tmp / "checkout"
    shutil.copytree(ROOT / "contracts" / "src", root / "contracts" / "src")
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    patch(root / "contracts" / "src")
    return compile_contracts(root=root, solc_binary=find_solc())


# ---------------------------------------------------------------------------------------------
# The honest baseline
# ---------------------------------------------------------------------------------------------


def test_honest_anvil_round_audits_clean_through_cli(honest, tmp_path) -> None:
    """The honest anvil round, audited by the CLI from the chain and the files, exits 0."""
    code, report = cli_audit(honest, tmp_path)
    assert code == 0, failed(report)
    assert report["ok"] is True


def test_cli_subprocess_exit_codes(honest, tmp_path) -> None:
    """As a separate process: clean round -> 0; node down -> exit 2 with one line; unknown
    address -> exit 2 with one line."""
    base = [sys.executable, "-m", "modelpact", "audit", "--no-source", "--quiet"]
    ok = subprocess.run(
        [*base, "--rpc", honest.chain.url, "--address", str(honest.round.address)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    down = subprocess.run(
        [*base, "--rpc", "http://127.0.0.1:9", "--address", str(honest.round.address)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert down.returncode == 2
    assert down.stderr.count("\n") == 1
    assert "error:" in down.stderr
    unknown = subprocess.run(
        [*base, "--rpc", honest.chain.url, "--address", "0x" + "12" * 20],
        capture_output=True,
        text=True,
        check=False,
    )
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1
    assert "no contract" in unknown.stderr


# ---------------------------------------------------------------------------------------------
# Lying coordinator scripts on the genuine contract
# ---------------------------------------------------------------------------------------------


def test_menu_violating_ic(chain, tmp_path) -> None:
    """The coordinator deploys a menu whose cheapest option lures type 2 away (IC broken)."""
    scenario = load_scenario(SCENARIO)
    o0, o1, o2 = honest_menu()
    lure = o1.promised_value_wad / WAD - float(scenario.costs[1]) * (o1.data_count - o0.data_count)
    bad = replace(o0, promised_value_wad=to_wad(float(lure) + 2.0))
    bad = replace(bad, ratio_wad=bad.promised_value_wad * WAD // bad.budget_value_wad)
    done = execute_round(chain, tmp_path / "r", lies=Lies(menu=[bad, o1, o2]))
    code, report = cli_audit(done, tmp_path)
    assert code == 1
    assert "menu.ic" in failed(report)
    assert any("IC" in e.get("note", "") for e in evidence(report, "menu.ic"))


def test_feasible_but_suboptimal_menu(chain, tmp_path) -> None:
    """The coordinator deploys a real, feasible menu that serves only the cheapest type: IR, IC
    and budget hold, but expected accuracy is below the optimum."""
    scenario = load_scenario(SCENARIO)
    narrow = integerize_menu(scenario, solve(scenario, serve=(3,), benchmarks=False))
    menu = [
        OnchainOption(round(o.m), to_wad(min(o.ratio, 1.0)), to_wad(o.t), to_wad(o.t_bar))
        for o in narrow.offered
    ]
    done = execute_round(chain, tmp_path / "r", participants=3, lies=Lies(menu=menu))
    code, report = cli_audit(done, tmp_path)
    assert code == 1
    assert "menu.optimal" in failed(report)
    assert not {"menu.ir", "menu.ic", "menu.budget"} & failed(report)


def test_overstated_collective_accuracy(chain, tmp_path) -> None:
    """The coordinator posts the collective model 0.02 better than it measures."""
    done = execute_round(chain, tmp_path / "r", lies=Lies(overstate_accuracy_wad=2 * WAD // 100))
    code, report = cli_audit(done, tmp_path)
    assert code == 1
    assert "model.accuracy" in failed(report)
    assert evidence(report, "model.accuracy")[0]["subject"].startswith("collective")


def test_collective_trained_on_part_of_the_data(chain, tmp_path) -> None:
    """Issue 13: the coordinator trains the collective model on half the delivered rows and
    posts it with its true accuracy (so model.hash and model.accuracy hold, and the curve
    check prices the shortfall honestly). Retraining from the delivered data gives another hash:
    model.collective_retrained fails, naming both hashes."""

    def half(rows: np.ndarray) -> bytes:
        return train_model_bytes(rows[: rows.shape[0] // 2], seed=0)

    done = execute_round(chain, tmp_path / "r", trainer=half, lies=Lies(stop_after="post"))
    code, report = cli_audit(done, tmp_path)
    assert code == 1
    assert "model.collective_retrained" in failed(report)
    assert not {"model.hash", "model.accuracy", "data.root", "data.count"} & failed(report)
    (ev,) = evidence(report, "model.collective_retrained")
    assert ev["subject"] == "collective model"
    assert ev["expected"] != ev["found"]


def test_inflated_accuracy_curve(chain, tmp_path) -> None:
    """The coordinator commits a curve 0.05 above the scenario's accuracy function."""
    done = execute_round(chain, tmp_path / "r", lies=Lies(curve_boost_wad=5 * WAD // 100))
    code, report = cli_audit(done, tmp_path)
    assert code == 1
    assert failed(report) == {"curve.matches_scenario"}


# ---------------------------------------------------------------------------------------------
# A different contract deployed
# ---------------------------------------------------------------------------------------------


def test_rigged_draw_contract(chain, tmp_path) -> None:
    """A contract whose draws always give the lower rung: participants are assigned rungs their
    seeds do not give. Caught as differing bytecode AND as assignments that do not recompute."""

    def rig(src: Path) -> None:
        lib = src / "libraries" / "RoundMath.sol"
        text = lib.read_text()
        honest_line = (
            "return uint256(seed) % (hiAccuracy - loAccuracy) < targetAccuracy - loAccuracy;"
        )
        assert honest_line in text
        lib.write_text(text.replace(honest_line, "return seed == bytes32(0);"))

    evil = modified_contract(tmp_path, rig)
    done = execute_round(chain, tmp_path / "r", lies=Lies(contract=evil))
    code, report = cli_audit(done, tmp_path)
    assert code == 1
    assert {"bytecode.matches_source", "assignment.recomputes"} <= failed(report)
    notes = [e.get("note", "") for e in evidence(report, "assignment.recomputes")]
    assert any("draw gives another rung" in n for n in notes)


def test_contract_from_other_source(chain, tmp_path) -> None:
    """A contract built from a source that differs from the repository by one comment: same
    behaviour, different metadata hash, so the deployed code is not the published source."""

    def touch(src: Path) -> None:
        path = src / "ModelpactRound.sol"
        path.write_text(path.read_text() + "\n// built from an unpublished fork\n")

    done = execute_round(
        chain,
        tmp_path / "r",
        participants=2,
        lies=Lies(contract=modified_contract(tmp_path, touch)),
    )
    code, report = cli_audit(done, tmp_path)
    assert code == 1
    assert failed(report) == {"bytecode.matches_source"}


# ---------------------------------------------------------------------------------------------
# Published files modified after the fact
# ---------------------------------------------------------------------------------------------


def test_scenario_edited_after_deployment(honest, tmp_path) -> None:
    """The published scenario's first cost is edited after deployment."""
    files = copy_files(honest, tmp_path / "f")
    text = files.scenario.read_text()
    files.scenario.write_text(re.sub(r"cost = 1\.0", "cost = 1.05", text, count=1))
    code, report = cli_audit(files, tmp_path)
    assert code == 1
    assert "scenario.hash" in failed(report)


def test_model_file_not_matching_hash(honest, tmp_path) -> None:
    """The delivered collective model file is replaced by another real model under its name."""
    files = copy_files(honest, tmp_path / "f")
    biggest = max(files.models.iterdir(), key=lambda p: p.stat().st_size)
    rows = np.concatenate([np.load(p) for p in sorted(files.data.iterdir())])
    victim = sorted(files.models.iterdir())[0]
    victim.write_bytes(train_model_bytes(rows[:25], seed=1))
    assert biggest.exists()
    code, report = cli_audit(files, tmp_path)
    assert code == 1
    assert "model.hash" in failed(report)
    assert "hashes to" in evidence(report, "model.hash")[0]["found"]


def test_dataset_not_matching_root(honest, tmp_path) -> None:
    """One pixel of one delivered dataset is changed after the participant committed."""
    files = copy_files(honest, tmp_path / "f")
    path = sorted(files.data.iterdir())[0]
    rows = np.load(path)
    rows[0, 20] = (rows[0, 20] + 3) % 17
    save_rows(path, rows)
    code, report = cli_audit(files, tmp_path)
    assert code == 1
    assert failed(report) == {"data.root"}


def test_dataset_with_fewer_rows(honest, tmp_path) -> None:
    """A delivered dataset has one row fewer than its committed count."""
    files = copy_files(honest, tmp_path / "f")
    path = sorted(files.data.iterdir())[1]
    save_rows(path, np.load(path)[:-1])
    code, report = cli_audit(files, tmp_path)
    assert code == 1
    assert {"data.count", "data.root"} <= failed(report)


def test_test_set_swapped(honest, tmp_path) -> None:
    """The coordinator publishes an easier test set (the training rows) instead of the committed
    one: its root does not match, and accuracy is not measured on it."""
    files = copy_files(honest, tmp_path / "f")
    rows = np.concatenate([np.load(p) for p in sorted(files.data.iterdir())])
    save_rows(files.test_set, rows[:360])
    code, report = cli_audit(files, tmp_path)
    assert code == 1
    assert "testset.root" in failed(report)


# ---------------------------------------------------------------------------------------------
# Auditing from a deployment record
# ---------------------------------------------------------------------------------------------


def write_record(done: Executed, path: Path, **changes: object) -> Path:
    """A deployment record (modelpact.round.records format) for ``done``, published files
    relative to it, optionally with fields changed."""
    from eth_utils.crypto import keccak

    from modelpact.compiler import compile_round
    from modelpact.round.records import DeploymentRecord, file_sha256
    from modelpact.round.records import write_record as write

    compiled = compile_round()
    menu_file = path.parent / "menu.json"
    menu_file.write_text("{}")
    record = DeploymentRecord(
        chain_id=done.chain.chain_id,
        address=done.round.address,
        tx_hash=str(done.round.deploy_tx_hash),
        block_number=int(done.round.deploy_block or 0),
        coordinator=done.chain.accounts[0],
        compiler_version=compiled.compiler_version,
        compiler_settings=dict(compiled.settings),
        abi=list(compiled.abi),
        runtime_bytecode_sha3="0x" + keccak(done.round.runtime_code()).hex(),
        scenario_file=str(done.scenario.relative_to(path.parent)),
        scenario_sha256=file_sha256(done.scenario),
        menu_file="menu.json",
        menu_sha256=file_sha256(menu_file),
        test_set_file=str(done.test_set.relative_to(path.parent)),
        scenario_hash_onchain="0x" + done.round.config().scenario_hash.hex(),
        test_set_root="0x" + done.round.config().test_set_commitment.hex(),
    )
    return write(replace(record, **changes), path)  # type: ignore[arg-type]


def record_audit(record: Path, done: Executed, tmp_path: Path) -> tuple[int, dict]:
    out = tmp_path / "audit.json"
    argv = ["audit", "--deployment", str(record), "--rpc", done.chain.url]
    argv += ["--data", str(done.data), "--models", str(done.models), "--json", str(out), "--force"]
    return main(argv), json.loads(out.read_text())


def test_deployment_record_audits_clean(honest, tmp_path) -> None:
    """With a deployment record the scenario, test set, ABI, deployment block and compiler
    settings come from the record; the honest round audits clean (exit 0), nothing skipped but
    what this round has none of: default and cancel refunds, undelivered participants."""
    files = copy_files(honest, tmp_path / "f")
    code, report = record_audit(write_record(files, files.out / "deployment.json"), files, tmp_path)
    assert code == 0, failed(report)
    skipped = {f["id"] for f in report["findings"] if f["status"] == "skip"}
    assert skipped == {"refund.default", "refund.cancel", "data.undelivered"}
    assert next(f for f in report["findings"] if f["id"] == "record.matches_chain")["checked"] == 4


def test_record_with_other_compiler_settings(honest, tmp_path) -> None:
    """A record claiming other compiler settings (optimizer runs 1000) than the deployed code was
    built with: rebuilding with the recorded settings does not give the deployed bytecode."""
    files = copy_files(honest, tmp_path / "f")
    from modelpact.compiler import settings

    other = settings()
    other["optimizer"] = {"enabled": True, "runs": 1000}
    path = write_record(files, files.out / "deployment.json", compiler_settings=other)
    code, report = record_audit(path, files, tmp_path)
    assert code == 1
    # both runtimes (the round and its ModelpactProofs extension) fail to rebuild
    assert failed(report) == {"bytecode.matches_source", "bytecode.proofs_matches_source"}


def test_record_audits_from_its_published_compiler_input(honest, tmp_path) -> None:
    """With the standard-JSON input published beside the record, the audit rebuilds the bytecode
    from it (no checkout sources needed): clean. A published source that differs from this
    release's (one comment added) is refused: both bytecode checks fail."""
    from modelpact.compiler import write_verification_files

    files = copy_files(honest, tmp_path / "f")
    path = write_record(files, files.out / "deployment.json")
    input_path, _ = write_verification_files(path)
    code, report = record_audit(path, files, tmp_path)
    assert code == 0, failed(report)
    found = next(f for f in report["findings"] if f["id"] == "bytecode.matches_source")
    assert "published deployment.input.json" in json.dumps(found)
    doctored = json.loads(input_path.read_text())
    doctored["sources"]["contracts/src/ModelpactRound.sol"]["content"] += "// edited\n"
    input_path.write_text(json.dumps(doctored))
    code, report = record_audit(path, files, tmp_path)
    assert code == 1
    # Sources other than this release's are refused before any comparison (hostile review:
    # the coordinator writes the published input), and the proofs check needs the round's
    # rebuild for the chain of trust, so it cannot be checked either.
    assert failed(report) == {"bytecode.matches_source", "bytecode.proofs_matches_source"}
    assert "reads sources other than this release's for ModelpactRound" in json.dumps(report)


def test_record_claiming_another_test_set(honest, tmp_path) -> None:
    """A deployment record naming a test-set root other than the one committed on chain (and
    that root's file): the record disagrees with the chain, and the file with the commitment."""
    files = copy_files(honest, tmp_path / "f")
    rows = np.concatenate([np.load(p) for p in sorted(files.data.iterdir())])[:360]
    save_rows(files.test_set, rows)
    from modelpact.encoding import dataset_merkle_root

    root = "0x" + dataset_merkle_root(rows.tolist()).hex()
    path = write_record(files, files.out / "deployment.json", test_set_root=root)
    code, report = record_audit(path, files, tmp_path)
    assert code == 1
    assert {"record.matches_chain", "testset.root"} <= failed(report)

"""Audit timing of a 200-participant round on anvil, printed as JSON (one object).

Run: .venv/bin/python bench/audit.py [--participants 200] [--seed 0]

Sets up for real (not timed): ``modelpact demo`` in process (:func:`modelpact.round.demo.run_demo`)
on an anvil node it starts with a state file: the scenario solved for N participants, deployment,
N participants with their own keys committing generated-data shards (digits for N <= 10), real
training, reward tiers, reveals, claims and the sweep. The demo stops its node; the bench restarts
anvil from the saved state, as an auditor would after the fact.
Timed: ``run_audit`` from the deployment record over a fresh RPC connection with every published
file (scenario re-solve, bytecode rebuild from the compiler cache, all chain rules, every
dataset's Merkle root and sample, every model re-measured), and its two halves (fetching the
snapshot; running the checks). Issue 5 target: the whole audit under 30 s on the 2-core machine.
The load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = args.participants

    from modelpact.audit import audit_snapshot, run_audit
    from modelpact.audit.fetch import fetch_snapshot
    from modelpact.chain.backends import ChainSettings
    from modelpact.chain.backends.anvil import AnvilNode
    from modelpact.round.demo import DemoConfig, run_demo
    from modelpact.round.records import read_record

    dataset = "digits" if n <= 10 else "generated"
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="modelpact-bench-audit-") as tmp_name:
        tmp = Path(tmp_name)
        state, out = tmp / "state", tmp / "out"
        settings = ChainSettings.build(chain="anvil", rpc_url=None, chain_id=None, state_dir=state)
        setup_started = time.perf_counter()
        demo = run_demo(
            DemoConfig(
                participants=n,
                seed=args.seed,
                out_dir=out,
                settings=settings,
                dataset=dataset,
                any_curve=dataset != "digits",  # the digits curve on generated rows
            )
        )
        setup_s = time.perf_counter() - setup_started
        record_path = out / "deployment.json"
        record = read_record(record_path)
        data_dir, models_dir = out / "delivered", out / "models"
        with AnvilNode(state_file=state / "anvil-state.json") as node:
            started = time.perf_counter()
            report = run_audit(
                deployment=record_path,
                rpc_url=node.rpc_url,
                data_dir=data_dir,
                models_dir=models_dir,
                dataset=dataset,
            )
            total_s = time.perf_counter() - started
            started = time.perf_counter()
            snapshot = fetch_snapshot(
                rpc_url=node.rpc_url,
                address=str(record.address),
                from_block=record.block_number,
            )
            fetch_s = time.perf_counter() - started
            started = time.perf_counter()
            audit_snapshot(
                snapshot,
                scenario=record.scenario_path(out),
                test_set=(out / record.test_set_file) if record.test_set_file else None,
                compiler_settings={
                    "version": record.compiler_version,
                    "settings": record.compiler_settings,
                },
                recorded_sha3=record.runtime_bytecode_sha3 or None,
                data_dir=data_dir,
                models_dir=models_dir,
                dataset=dataset,
            )
            checks_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "audit",
                "chain": "anvil",
                "participants": n,
                "dataset": dataset,
                "joined": len(snapshot.joins),
                "revealed": len(snapshot.reveals),
                "claims": len(snapshot.claims),
                "rows_committed": snapshot.joins[-1].total_data if snapshot.joins else 0,
                "audit_seconds": round(total_s, 3),
                "fetch_seconds": round(fetch_s, 3),
                "checks_seconds": round(checks_s, 3),
                "target_seconds": 30,
                "within_target": total_s < 30,
                "audit_ok": report.ok,
                "failed": sorted(report.failed_ids()),
                "demo_checks_passed": demo.report.passed,
                "round_setup_seconds": round(setup_s, 1),
                "cpu_count": os.cpu_count(),
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""Audit timing of a 200-participant round on anvil, printed as JSON (one object).

Run: .venv/bin/python bench/audit.py [--participants 200]

Sets up for real (not timed): an anvil node with enough funded accounts, the digits-demo economy
scaled to N participants (exact expectations), a generated integer dataset large enough for every
participant's shard, and a complete honest round driven through ``modelpact.chain`` by the same
coordinator/participant script the tamper suite uses (tests/integration/test_audit_round.py).
Timed: ``run_audit`` from a fresh RPC connection with every published file (scenario re-solve,
bytecode rebuild from the compiler cache, all chain rules, every dataset's Merkle root and sample,
every model re-measured), and its two halves (fetching the snapshot; running the checks).
Issue 5 target: the whole audit under 30 s on the 2-core machine. The load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The round driver lives with the integration tests; the bench reuses it rather than a copy.
sys.path.insert(0, str(ROOT / "tests" / "integration"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=200)
    args = parser.parse_args()
    n = args.participants

    from test_audit_round import SCENARIO, Lies, execute_round

    from modelpact.anvil import AnvilNode
    from modelpact.audit import audit_snapshot, run_audit
    from modelpact.audit.fetch import fetch_snapshot
    from modelpact.chain import connect
    from modelpact.encoding import OnchainOption, to_wad
    from modelpact.ml.datasets import generated_rows, split_test
    from modelpact.optimizer import integerize_menu, solve
    from modelpact.scenario import load_scenario

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        scenario_path = tmp / "scenario.toml"
        text = SCENARIO.read_text().replace("participants = 10", f"participants = {n}")
        scenario_path.write_text(text)
        scenario = load_scenario(scenario_path)
        menu = integerize_menu(scenario, solve(scenario, benchmarks=False))
        options = [
            OnchainOption(round(o.m), to_wad(min(o.ratio, 1.0)), to_wad(o.t), to_wad(o.t_bar))
            for o in menu.offered
        ]
        rows_needed = n * max(o.data_count for o in options) + 2000
        split = split_test(generated_rows(rows_needed, seed=0), test_size=2000, seed=0)
        setup_started = time.perf_counter()
        with AnvilNode(extra_args=("--accounts", str(n + 1))) as node:
            chain = connect(rpc_url=node.rpc_url)
            done = execute_round(
                chain,
                tmp / "round",
                participants=n,
                lies=Lies(menu=options, no_reveal=frozenset({n - 1})),
                dataset=(split.test, split.pool),
                scenario_path=scenario_path,
            )
            setup_s = time.perf_counter() - setup_started
            files = {
                "scenario": done.scenario,
                "data_dir": done.data,
                "models_dir": done.models,
                "test_set": done.test_set,
                "dataset": "generated",
            }
            started = time.perf_counter()
            report = run_audit(rpc_url=node.rpc_url, address=str(done.round.address), **files)
            total_s = time.perf_counter() - started
            started = time.perf_counter()
            snapshot = fetch_snapshot(rpc_url=node.rpc_url, address=str(done.round.address))
            fetch_s = time.perf_counter() - started
            started = time.perf_counter()
            audit_snapshot(snapshot, **files)
            checks_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "bench": "audit",
                "chain": "anvil",
                "participants": n,
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

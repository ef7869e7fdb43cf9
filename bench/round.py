"""Whole-round wall time and gas, printed as JSON (one object).

Run: .venv/bin/python bench/round.py [--cases embedded:10,anvil:10,anvil:50,anvil:200]
     [--tiers deterministic,lottery]

Each case is `modelpact demo` in process (solve, deploy, N participants fund/commit/join with
their own keys, coordinator reveal, delivery checks, real training and reward tiers, post, N
reveals and claims with model fetch + verification, time travel and sweep, the independent
audit, report). Rounds larger than the digits data allows (N > 10) use the generated dataset of
`modelpact.ml.datasets`. Targets (issue 4, 2-core machine): embedded:10 <= 60 s, anvil:10 <= 20 s,
anvil:200 <= 300 s; issue 17: anvil:200 <= 8 s, anvil:1000 <= 40 s. `total_gas` sums every
round transaction (deploy, joins, reveals, post, claims, sweep), not the demo's funding
transfers. The machine's load average is recorded, and
the CPU seconds of this process (the node's excluded), which a busy machine inflates less, those
of its forked workers (``worker_cpu_seconds``: the simulated participants' steps and the model
fits, as each worker measured itself; ``total_cpu_seconds`` is both), and the node's own CPU
seconds (anvil, once it has stopped: the reaped children's CPU minus the workers').
``http_requests`` and ``rpc_calls`` count what the round asked of its node, the workers'
requests included (carried back from each worker), ``rpc_wall_ms_by_exchange`` the wall
milliseconds spent in exchanges by their (first) method (the workers' overlap: a sum of both);
``phase_seconds`` is the wall time between the demo's progress messages.
Each case runs once per tier mode (``--tiers``): ``models_trained`` is what the reward tiers
cost, next to the collective accuracy the scenario's curve and the contract's curve predicted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelpact import parallel
from modelpact.chain.backends import ChainSettings, jsonrpc
from modelpact.round.demo import DemoConfig, run_demo


@contextmanager
def _counted() -> Iterator[Counter[str]]:
    """Counts HTTP exchanges and JSON-RPC calls by method at the project's client (the node's
    side is not seen): what a round asks of its node. A forked worker counts in its own copy of
    the counter; what it counted is added here when it returns."""
    calls: Counter[str] = Counter()
    original = jsonrpc.JsonRpcClient._exchange

    def counting(self: Any, batch: Any, *, retry: bool) -> Any:
        calls["http_requests"] += 1
        for method, _ in batch:
            calls[str(method)] += 1
        started = time.perf_counter()
        try:
            return original(self, batch, retry=retry)
        finally:  # wall ms waiting on exchanges, by their first method (a batch: its lead)
            waited = time.perf_counter() - started
            calls[f"ms:{batch[0][0]}"] += round(waited * 1000)

    def merge(before: Counter[str], after: Counter[str]) -> None:
        calls.update(after - before)

    jsonrpc.JsonRpcClient._exchange = counting  # type: ignore[method-assign,assignment]
    try:
        with parallel.carried_back(lambda: Counter(calls), merge):
            yield calls
    finally:
        jsonrpc.JsonRpcClient._exchange = original  # type: ignore[method-assign]


def run_case(kind: str, participants: int, seed: int, tiers: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="modelpact-bench-") as tmp:
        base = Path(tmp)
        settings = ChainSettings.build(
            chain=kind, rpc_url=None, chain_id=None, state_dir=base / "state"
        )
        load_before = os.getloadavg()[0]
        phases: list[tuple[float, str]] = []
        started, cpu_started = time.perf_counter(), time.process_time()
        children_started, workers_started = _children_cpu(), parallel.worker_cpu_seconds()
        with _counted() as calls:
            result = run_demo(
                DemoConfig(
                    participants=participants,
                    seed=seed,
                    out_dir=base / "out",
                    settings=settings,
                    dataset="digits" if participants <= 10 else "generated",
                    tiers=tiers,
                    # the digits curve on generated rows: refused without it; compensated with it
                    any_curve=participants > 10,
                ),
                progress=lambda message: phases.append((time.perf_counter(), message)),
            )
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started  # this process only: not the node's
        workers_cpu = parallel.worker_cpu_seconds() - workers_started
        node_cpu = _children_cpu() - children_started - workers_cpu  # reaped: node, workers
        report = result.report
        return {
            "chain": kind,
            "participants": participants,
            "dataset": "digits" if participants <= 10 else "generated",
            "wall_seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "worker_cpu_seconds": round(workers_cpu, 2),
            "total_cpu_seconds": round(cpu + workers_cpu, 2),
            "workers": parallel.usable_workers(participants) if kind != "embedded" else 1,
            "node_cpu_seconds": round(node_cpu, 2) if kind != "embedded" else None,
            "total_gas": report.total_gas,
            "gas_per_participant": round(report.total_gas / participants),
            "total_rows": report.total_data,
            "collective_accuracy": report.collective_accuracy,
            "predicted_accuracy_scenario_curve": report.scenario_predicted_accuracy,
            "predicted_accuracy_contract_curve": report.predicted_accuracy,
            "tier_mode": report.tier_mode,
            "tiers_posted": report.tiers_posted,
            "models_trained": report.models_trained,
            "all_checks_passed": report.passed,
            "failed_checks": [f"{c.name}: {c.detail}" for c in report.checks if not c.passed],
            "http_requests": calls["http_requests"],
            "http_requests_per_participant": round(calls["http_requests"] / participants, 1),
            "rpc_calls": {k: v for k, v in calls.most_common() if not k.startswith("ms:")},
            "rpc_wall_ms_by_exchange": {
                k[3:]: v for k, v in calls.most_common() if k.startswith("ms:")
            },
            "phase_seconds": _phase_seconds(started, phases, started + wall),
            "load_avg_1m_before": round(load_before, 2),
            "load_avg_1m_after": round(os.getloadavg()[0], 2),
        }


def _children_cpu() -> float:
    """CPU seconds of this process's reaped children: the demo's anvil once it has stopped."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _phase_seconds(
    started: float, phases: list[tuple[float, str]], ended: float
) -> list[tuple[str, float]]:
    """Wall seconds from each progress message of the demo to the next (the first row: from
    the start to the first message)."""
    marks = [(started, "start"), *phases, (ended, "end")]
    return [
        (label[:60], round(later - at, 2)) for (at, label), (later, _) in itertools.pairwise(marks)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="embedded:10,anvil:10,anvil:50,anvil:200")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiers", default="deterministic", help="comma-separated tier modes")
    args = parser.parse_args()
    results = []
    for case in args.cases.split(","):
        kind, n = case.split(":")
        for mode in args.tiers.split(","):
            results.append(run_case(kind, int(n), args.seed, mode))
    print(json.dumps({"bench": "round", "cpus": os.cpu_count(), "cases": results}, indent=2))


if __name__ == "__main__":
    main()

"""Exact solves past a million outcomes, printed as JSON (one object).

Run: .venv/bin/python bench/optimizer_large.py [--skip-full-100] [--only integerize,N40]

Goals (issue 17, 2-core machine): N=100, K=5 exact <= 3 s; N=200, K=5 <= 30 s within 2 GiB, with
the certified gap; sampled N=1000, K=20 with a certified bound; ``integerize_*``: the integer
menu search of the demo scenario (digits, K=3, exact) at N=200 and N=1,000 (501,501 outcomes,
<= 0.5 s on the first call), first and second call in one process, as a round plans and audits.
Each goal is measured next to its anchor in the same run: the full exact solve wherever it
still fits (N=40; N=100 with the limit raised). Every case runs in a fresh process, so
``peak_rss_mib`` is that solve's own peak (interpreter and libraries included, ~150 MiB of it).
``cpu_seconds`` is the solve's process CPU time: on a machine shared with other work it is
steadier than the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CASE = r"""
import json, resource, sys, time
sys.path.insert(0, {bench!r})
import numpy as np
from optimizer import scenario_text
import modelpact.optimizer.economy as economy
from modelpact.optimizer import solve
from modelpact.scenario import parse_scenario
n, k, truncation, solver, limit = {n!r}, {k!r}, {truncation!r}, {solver!r}, {limit!r}
if limit:
    economy.EXACT_LIMIT = limit
costs = [float(x) for x in np.linspace(0.2, 0.04 if k == 5 else 0.01, k)]
scenario = parse_scenario(scenario_text(n, costs, [1.0 / k] * k, solver))
start, cpu = time.perf_counter(), time.process_time()
menu = solve(scenario, benchmarks=False, truncation=truncation)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({{
    "seconds": seconds,
    "cpu_seconds": cpu,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "outcomes": menu.extra["outcomes"],
    "expected_accuracy": menu.expected_accuracy,
    "upper_bound": menu.upper_bound,
    "certified_gap": menu.upper_bound - menu.expected_accuracy,
    "dropped_mass": menu.extra.get("dropped_mass", 0.0),
    "certified_upper_bound": menu.extra.get("certified_upper_bound"),
    "certification": menu.certification,
}}))
"""


INTEGERIZE = r"""
import json, os, re, resource, time
from pathlib import Path
import modelpact
from modelpact.optimizer import integerize_menu, solve
from modelpact.scenario import parse_scenario
text = (Path(modelpact.__file__).parent / "data/scenarios/digits_demo.toml").read_text()
text = re.sub(r"(?m)^participants = \d+", "participants = {n}", text, count=1)
scenario = parse_scenario(text)
start = time.perf_counter()
menu = solve(scenario, benchmarks=False)
out = {{"solve_seconds": time.perf_counter() - start}}
for call in ("first", "second"):
    start, cpu = time.perf_counter(), time.process_time()
    integer = integerize_menu(scenario, menu)
    out[call + "_seconds"] = time.perf_counter() - start
    out[call + "_cpu_seconds"] = time.process_time() - cpu
out["load_average_1min"] = os.getloadavg()[0]
out["m"] = [o.m for o in integer.options]
out["expected_accuracy"] = integer.expected_accuracy
out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_integerize(n: int) -> dict:
    """integerize_menu on the demo scenario with N participants, in a fresh process."""
    code = INTEGERIZE.format(n=n)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout)


def run(n: int, k: int, *, truncation=None, solver='belief = "bayes"', limit=0) -> dict:
    code = CASE.format(
        bench=os.path.dirname(os.path.abspath(__file__)),
        n=n,
        k=k,
        truncation=truncation,
        solver=solver,
        limit=limit,
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-full-100", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated case name prefixes to run")
    args = parser.parse_args()
    sampled = 'expectation = "sampled"\nsamples = 20000\nseed = 7'
    cases = {
        "N40_K5_full_exact": lambda: run(40, 5, truncation=0.0),
        "N40_K5_truncated_1e-13": lambda: run(40, 5, truncation=1e-13),
        "N100_K5_full_exact_raised_limit": lambda: run(100, 5, truncation=0.0, limit=10**7),
        "N100_K5_truncated_auto": lambda: run(100, 5),
        "N200_K5_full_exact": lambda: {"refused": "70,058,751 outcomes (~2.8 GB of counts alone)"},
        "N200_K5_truncated_auto": lambda: run(200, 5),
        "N1000_K20_sampled": lambda: run(1000, 20, solver=sampled),
        "integerize_demo_N200": lambda: run_integerize(200),
        "integerize_demo_N1000": lambda: run_integerize(1000),
    }
    if args.skip_full_100:
        del cases["N100_K5_full_exact_raised_limit"]
    wanted = [w for w in args.only.split(",") if w]
    results: dict[str, object] = {"load_average_before": os.getloadavg()}
    for name, case in cases.items():
        if not wanted or any(name.startswith(w) for w in wanted):
            results[name] = case()
    results["load_average_after"] = os.getloadavg()
    results["cpu_count"] = os.cpu_count()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

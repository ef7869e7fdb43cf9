"""The paper's two-type grid (Sec. 6.1), printed as JSON: 1,500 solves.

Run: .venv/bin/python bench/grid.py [--belief paper] [--skip-anchor]

c = (0.02, 0.01), p = (p1, 1 - p1), N in 2, 4, ..., 100, p1 in linspace(0.01, 0.99, 30), sgb
accuracy (a_opt = 1, k = 1), v = 100 x; ``solve(..., benchmarks=False)`` per point. Goal (issue
17): <= 5 s in all on a 2-core machine. The anchor, measured in the same run, is the same grid
through the general trust-region SQP (the fast path switched off), as every solve was before.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import modelpact.optimizer.sqp as sqp
from modelpact.optimizer import solve
from modelpact.scenario import parse_scenario


def text(n: int, p1: float, belief: str) -> str:
    return (
        f"participants = {n}\n[[types]]\ncost = 0.02\nprobability = {p1!r}\n"
        f"[[types]]\ncost = 0.01\nprobability = {1.0 - p1!r}\n"
        '[accuracy]\nkind = "sgb"\na_opt = 1.0\nk = 1.0\n'
        f'[valuation]\nkind = "linear"\nscale = 100.0\n[solver]\nbelief = "{belief}"\n'
    )


def grid(belief: str) -> dict[str, float]:
    scenarios = [
        parse_scenario(text(n, float(p1), belief))
        for n in range(2, 101, 2)
        for p1 in np.linspace(0.01, 0.99, 30)
    ]
    solve(scenarios[0], benchmarks=False)  # compile once, outside the timing
    start = time.perf_counter()
    menus = [solve(s, benchmarks=False) for s in scenarios]
    seconds = time.perf_counter() - start
    return {
        "solves": len(menus),
        "seconds": seconds,
        "worst_certified_gap": max(m.gap for m in menus),
        "sum_expected_accuracy": sum(m.expected_accuracy for m in menus),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--belief", default="paper", choices=["paper", "bayes"])
    parser.add_argument("--skip-anchor", action="store_true")
    args = parser.parse_args()
    results: dict[str, object] = {"load_average_before": os.getloadavg()}
    results["grid_fast_path"] = grid(args.belief)
    if not args.skip_anchor:
        sqp.FAST_MAX_K = sqp.FAST_MAX_K_SMALL_MODEL = 0
        results["grid_general_sqp_anchor"] = grid(args.belief)
    results["load_average_after"] = os.getloadavg()
    results["cpu_count"] = os.cpu_count()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

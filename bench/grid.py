"""The paper's two-type grid (Sec. 6.1), printed as JSON: 1,500 solves.

Run: .venv/bin/python bench/grid.py [--belief paper] [--workers 2] [--skip-anchor]

c = (0.02, 0.01), p = (p1, 1 - p1), N in 2, 4, ..., 100, p1 in linspace(0.01, 0.99, 30), sgb
accuracy (a_opt = 1, k = 1), v = 100 x; ``solve(..., benchmarks=False)`` per point. Goal (issue
17): <= 5 s in all on a 2-core machine. The points are independent, so they are solved by
``--workers`` processes (default: every core), in interleaved chunks, results in grid order.
The anchor, measured in the same run, is the same grid through the general
trust-region SQP (the fast path switched off), as every solve was before the fast path, in
one worker in grid order as it always ran; ``max_objective_difference`` compares the two
point by point.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import modelpact.optimizer.sqp as sqp
from modelpact.optimizer import solve
from modelpact.scenario import parse_scenario

POINTS = [(n, float(p1)) for n in range(2, 101, 2) for p1 in np.linspace(0.01, 0.99, 30)]


def text(n: int, p1: float, belief: str) -> str:
    return (
        f"participants = {n}\n[[types]]\ncost = 0.02\nprobability = {p1!r}\n"
        f"[[types]]\ncost = 0.01\nprobability = {1.0 - p1!r}\n"
        '[accuracy]\nkind = "sgb"\na_opt = 1.0\nk = 1.0\n'
        f'[valuation]\nkind = "linear"\nscale = 100.0\n[solver]\nbelief = "{belief}"\n'
    )


def _solve_chunk(job: tuple[list[tuple[int, float]], str, bool]) -> list[tuple[float, float]]:
    """(expected accuracy, certified gap) of each point of one chunk."""
    points, belief, general = job
    if general:  # the anchor: the fast path off in this worker
        sqp.FAST_MAX_K = sqp.FAST_MAX_K_SMALL_MODEL = 0
    menus = [solve(parse_scenario(text(n, p1, belief)), benchmarks=False) for n, p1 in points]
    return [(m.expected_accuracy, m.gap) for m in menus]


def grid(
    belief: str, workers: int, *, general: bool = False
) -> tuple[dict[str, float], list[float]]:
    chunks = [POINTS[i::workers] for i in range(workers)]  # interleaved: equal work per chunk
    before = os.times()
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(_solve_chunk, [(c, belief, general) for c in chunks]))
    seconds = time.perf_counter() - start
    by_point: dict[tuple[int, float], tuple[float, float]] = {}
    for chunk, part in zip(chunks, parts, strict=True):
        by_point.update(zip(chunk, part, strict=True))
    results = [by_point[p] for p in POINTS]
    after = os.times()  # the workers have exited: their CPU time is counted
    cpu = sum(
        getattr(after, f) - getattr(before, f)
        for f in ("user", "system", "children_user", "children_system")
    )
    return {
        "solves": len(results),
        "workers": workers,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "worst_certified_gap": max(g for _, g in results),
        "sum_expected_accuracy": sum(a for a, _ in results),
    }, [a for a, _ in results]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--belief", default="paper", choices=["paper", "bayes"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-anchor", action="store_true")
    args = parser.parse_args()
    results: dict[str, object] = {"load_average_before": os.getloadavg()}
    fast, fast_values = grid(args.belief, args.workers)
    results["grid_fast_path"] = fast
    if not args.skip_anchor:
        # one worker, points in grid order: exactly the sequence the anchor always ran (the
        # general SQP warm-starts its shared compiled subproblem from the previous point)
        anchor, anchor_values = grid(args.belief, 1, general=True)
        anchor["max_objective_difference"] = max(
            abs(a - b) for a, b in zip(fast_values, anchor_values, strict=True)
        )
        results["grid_general_sqp_anchor"] = anchor
    results["load_average_after"] = os.getloadavg()
    results["cpu_count"] = os.cpu_count()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""The paper's two-type grid (Sec. 6.1), printed as JSON: 1,500 solves.

Run: .venv/bin/python bench/grid.py [--belief paper] [--workers 2] [--skip-anchor] [--skip-cold]

c = (0.02, 0.01), p = (p1, 1 - p1), N in 2, 4, ..., 100, p1 in linspace(0.01, 0.99, 30), sgb
accuracy (a_opt = 1, k = 1), v = 100 x; ``solve(..., benchmarks=False)`` per point. Goal (issue
17): <= 5 s in all on a 2-core machine. The points are independent, so they are solved by
``--workers`` processes (default: every core), in interleaved chunks, results in grid order.
Each worker walks its chunk as a serpentine (N ascending, p1 up one row and down the next) and
warm-starts every solve from the menu of the point before (``solve(..., warm_start=...)``).
``grid_fast_path_cold`` is the same run without warm starts (every point solved on its own, as
before warm starts), with ``max_objective_difference`` against the warm run. The anchor,
measured in the same run, is the same grid through the general trust-region SQP (the fast path
switched off), as every solve was before the fast path, in one worker in grid order as it
always ran; its ``max_objective_difference`` compares it with the warm run point by point.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import modelpact.optimizer.sqp as sqp
from modelpact.menu import Menu
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


def serpentine(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """``points`` by N, p1 ascending in one row and descending in the next: each point's
    predecessor is a grid neighbour (the warm start)."""
    rows = sorted({n for n, _ in points})
    ordered: list[tuple[int, float]] = []
    for r, n in enumerate(rows):
        row = sorted(p for p in points if p[0] == n)
        ordered.extend(row if r % 2 == 0 else row[::-1])
    return ordered


def _solve_chunk(
    job: tuple[list[tuple[int, float]], str, str],
) -> list[tuple[float, float, int]]:
    """(expected accuracy, certified gap, SQP iterations) of each point of one chunk, in the
    chunk's order."""
    points, belief, mode = job
    if mode == "general":  # the anchor: the fast path off in this worker
        sqp.FAST_MAX_K = sqp.FAST_MAX_K_SMALL_MODEL = 0
    menus: list[Menu] = []
    for n, p1 in points:
        warm = menus[-1] if menus and mode == "warm" else None
        menus.append(solve(parse_scenario(text(n, p1, belief)), benchmarks=False, warm_start=warm))
    return [(m.expected_accuracy, m.gap, int(m.extra["sqp_iterations"])) for m in menus]


def grid(belief: str, workers: int, *, mode: str = "warm") -> tuple[dict[str, float], list[float]]:
    # interleaved: equal work per chunk; the warm run walks each chunk as a serpentine
    chunks = [POINTS[i::workers] for i in range(workers)]
    if mode == "warm":
        chunks = [serpentine(c) for c in chunks]
    before = os.times()
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(_solve_chunk, [(c, belief, mode) for c in chunks]))
    seconds = time.perf_counter() - start
    by_point: dict[tuple[int, float], tuple[float, float, int]] = {}
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
        "cpu_ms_per_solve": 1e3 * cpu / len(results),  # worker start-up included
        "mean_sqp_iterations": sum(i for _, _, i in results) / len(results),
        "worst_certified_gap": max(g for _, g, _ in results),
        "sum_expected_accuracy": sum(a for a, _, _ in results),
    }, [a for a, _, _ in results]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--belief", default="paper", choices=["paper", "bayes"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-anchor", action="store_true")
    parser.add_argument("--skip-cold", action="store_true")
    args = parser.parse_args()
    results: dict[str, object] = {"load_average_before": os.getloadavg()}
    fast, fast_values = grid(args.belief, args.workers)
    results["grid_fast_path"] = fast
    if not args.skip_cold:
        cold, cold_values = grid(args.belief, args.workers, mode="cold")
        cold["max_objective_difference"] = max(
            abs(a - b) for a, b in zip(fast_values, cold_values, strict=True)
        )
        results["grid_fast_path_cold"] = cold
    if not args.skip_anchor:
        # one worker, points in grid order: exactly the sequence the anchor always ran (the
        # general SQP warm-starts its shared compiled subproblem from the previous point)
        anchor, anchor_values = grid(args.belief, 1, mode="general")
        anchor["max_objective_difference"] = max(
            abs(a - b) for a, b in zip(fast_values, anchor_values, strict=True)
        )
        results["grid_general_sqp_anchor"] = anchor
    results["load_average_after"] = os.getloadavg()
    results["cpu_count"] = os.cpu_count()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

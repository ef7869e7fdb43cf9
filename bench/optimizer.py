"""Optimizer timings, printed as JSON (one object). Run: .venv/bin/python bench/optimizer.py

Cases (issue 2 targets on a 2-core machine): N=10,K=5 exact (<= 50 ms); N=40,K=5 exact
(<= 2 s); N=1000,K=20 sampled (<= 60 s, 99% CI half-width on expected accuracy <= 1e-4);
type selection K=8 (<= 30 s). Times are wall clock of `solve` without benchmarks (median of
`--repeat` runs for the fast cases), plus the machine's load average when measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np

from modelpact.optimizer import solve
from modelpact.scenario import parse_scenario


def scenario_text(n: int, costs: list[float], probs: list[float], solver: str) -> str:
    types = "".join(
        f"[[types]]\ncost = {c!r}\nprobability = {p!r}\n" for c, p in zip(costs, probs, strict=True)
    )
    return (
        f'participants = {n}\n{types}[accuracy]\nkind = "sgb"\na_opt = 1.0\nk = 1.0\n'
        f'[valuation]\nkind = "linear"\nscale = 100.0\n[solver]\n{solver}\n'
    )


def timed(text: str, repeat: int, **kwargs):
    scenario = parse_scenario(text)
    times = []
    menu = None
    for _ in range(repeat):
        start = time.perf_counter()
        menu = solve(scenario, benchmarks=False, **kwargs)
        times.append(time.perf_counter() - start)
    assert menu is not None
    return statistics.median(times), menu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    results: dict[str, object] = {"load_average_before": os.getloadavg()}
    c5 = [0.2, 0.16, 0.12, 0.08, 0.04]
    p5 = [0.2] * 5
    for n, label in ((10, "N10_K5_exact"), (40, "N40_K5_exact")):
        for belief in ("bayes", "paper"):
            reps = args.repeat if n == 10 else max(1, args.repeat // 2)
            secs, menu = timed(scenario_text(n, c5, p5, f'belief = "{belief}"'), reps)
            results[f"{label}_{belief}"] = {
                "seconds": secs,
                "outcomes": menu.extra["outcomes"],
                "expected_accuracy": menu.expected_accuracy,
                "gap": menu.upper_bound - menu.expected_accuracy,
            }
    c8 = [float(x) for x in np.linspace(0.2, 0.04, 8)]
    p8 = [0.125] * 8
    secs, menu = timed(scenario_text(10, c8, p8, 'serve = "optimal"'), 1)
    results["type_selection_K8_N10"] = {
        "seconds": secs,
        "method": menu.method,
        "served": [o.type for o in menu.options if o.served],
        "expected_accuracy": menu.expected_accuracy,
        "upper_bound_over_sets": menu.upper_bound,
    }
    if not args.skip_large:
        c20 = [float(x) for x in np.linspace(0.2, 0.01, 20)]
        p20 = [0.05] * 20
        text = scenario_text(1000, c20, p20, 'expectation = "sampled"\nsamples = 20000\nseed = 7')
        secs, menu = timed(text, 1)
        lo, hi = menu.accuracy_ci or (float("nan"), float("nan"))
        results["N1000_K20_sampled"] = {
            "seconds": secs,
            "samples": 20000,
            "expected_accuracy": menu.expected_accuracy,
            "ci99_half_width": (hi - lo) / 2,
            "certification": menu.certification,
        }
    results["load_average_after"] = os.getloadavg()
    results["cpu_count"] = os.cpu_count()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""ML timings and quality, printed as JSON (one object). Run: .venv/bin/python bench/ml.py

Cases: learning the digits curve (default sizes, 5 repeats); the quantisation cost of canonical
integer models against the float models on the digits curve grid (8 sizes x 8 repeats, in
percentage points of test accuracy; issue 14 requires <= 0.5); training the collective model of a
10-participant digits round (1,310 rows); reward tiers for the demo menu's targets in both modes
(with the largest miss); 2,000 simulated rounds of the paper's Scenario 1 (curve accuracy); a
few real simulated rounds of the digits demo. Wall-clock seconds, with the machine's load
average before and after, since the machine is shared.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from modelpact.ml import curve, datasets, models, rewards, simulate
from modelpact.optimizer import integerize_menu, solve
from modelpact.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "offchain/modelpact/data/scenarios"


QUANTISATION_SIZES = (20, 37, 68, 125, 230, 424, 780, 1437)


def quantisation_cost(split: datasets.Split, repeats: int = 8) -> dict[str, object]:
    """Float accuracy minus canonical accuracy, in points, over the curve's subsamples."""
    start = time.perf_counter()
    costs: list[float] = []
    for size in QUANTISATION_SIZES:
        for r in range(repeats):
            rng = np.random.default_rng([0, size, r])
            pick = np.sort(rng.choice(split.pool.shape[0], size=size, replace=False))
            model = models.train_model(split.pool[pick], seed=r)
            exact = models.accuracy(models.encode_model(model), split.test)
            costs.append(100 * (models.accuracy(model, split.test) - exact))
    return {
        "seconds": time.perf_counter() - start,
        "models": len(costs),
        "max_cost_points": max(costs),
        "mean_cost_points": sum(costs) / len(costs),
        "min_cost_points": min(costs),
        "models_with_a_changed_accuracy": sum(1 for c in costs if c != 0.0),
    }


def main() -> None:
    load_before = os.getloadavg()
    out: dict[str, object] = {"cpus": os.cpu_count(), "load_before": load_before}
    rows = datasets.digits_rows()
    split = datasets.split_test(rows, test_size=360, seed=0)

    start = time.perf_counter()
    learned = curve.learn_curve(rows, dataset="digits", repeats=5, seed=0, test_size=360)
    out["curve_digits"] = {
        "seconds": time.perf_counter() - start,
        "models": learned.models_trained,
        "r2": learned.fit.r2,
        "rmse": learned.fit.rmse,
    }

    out["quantisation_digits"] = quantisation_cost(split)

    collective = datasets.shard_pool(split.pool, [1310], seed=0)[0]
    start = time.perf_counter()
    model = models.train_model_bytes(collective, seed=0)
    out["train_collective_1310_rows"] = {
        "seconds": time.perf_counter() - start,
        "accuracy": models.accuracy(model, split.test),
        "file_bytes": len(model),
    }

    demo = load_scenario(SCENARIOS / "digits_demo.toml")
    menu = integerize_menu(demo, solve(demo, benchmarks=False))
    top = models.accuracy(model, split.test)
    targets = [min(o.ratio, 1.0) * top for o in menu.offered]
    for mode in ("deterministic", "lottery"):
        plan = rewards.build_tiers(collective, split.test, targets, mode=mode, seed=0)
        out[f"tiers_{mode}"] = {
            "seconds": plan.seconds,
            "models_trained": plan.models_trained,
            "tiers": len(plan.tiers),
            "max_abs_miss": plan.max_abs_miss,
        }

    case1 = load_scenario(SCENARIOS / "paper_case1.toml")
    result = simulate.simulate(case1, solve(case1, benchmarks=False), rounds=2000, seed=0)
    out["simulate_case1_2000_rounds"] = {
        "seconds": result.seconds,
        "promises_kept": result.promises_kept,
    }
    real = simulate.simulate(demo, menu, rounds=10, seed=0, data=split)
    out["simulate_digits_real_10_rounds"] = {
        "seconds": real.seconds,
        "mean_collective_accuracy": real.mean_collective_accuracy,
        "curve_prediction": float(demo.accuracy([real.mean_pooled_data])[0]),
    }
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

"""Command start-up and end-to-end wall time, printed as JSON (one object).

Run: .venv/bin/python bench/cli.py [--repeat 7]

Issue 17's goal: `modelpact solve` on the Sec. 6.2 scenarios in <= 0.4 s end to end. Each case is a
fresh process (what a user waits for), timed by wall clock and by the child's CPU time (user +
system, from getrusage), min and median over `--repeat` runs. The anchors, measured in the same
run: the bare interpreter (`python -c pass`), the interpreter importing numpy (the floor any
numpy program pays) and `modelpact --help`. The 1-minute load average is recorded before and
after: on a shared machine the wall time is an upper bound and the CPU time is the better gauge.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "offchain" / "modelpact" / "data" / "scenarios"
MODELPACT = Path(sys.executable).parent / "modelpact"


def _run(argv: list[str], repeat: int) -> dict[str, float]:
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {
        "wall_min_s": round(min(walls), 3),
        "wall_median_s": round(statistics.median(walls), 3),
        "cpu_min_s": round(min(cpus), 3),
        "cpu_median_s": round(statistics.median(cpus), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    out: dict[str, object] = {
        "load_average_before": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
    }
    anchors = {
        "python_bare": [sys.executable, "-c", "pass"],
        "python_import_numpy": [sys.executable, "-c", "import numpy"],
        "modelpact_help": [str(MODELPACT), "--help"],
    }
    out["anchors"] = {name: _run(argv, args.repeat) for name, argv in anchors.items()}
    out["modelpact_solve"] = {
        f"paper_case{case}": _run(
            [str(MODELPACT), "solve", str(SCENARIOS / f"paper_case{case}.toml")], args.repeat
        )
        for case in (1, 2, 3)
    }
    out["target_wall_s"] = 0.4
    out["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

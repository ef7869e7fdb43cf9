"""Timing of the whole reproduction, printed as JSON (one object).

Run: .venv/bin/python bench/reproduce.py [--workers W] [--belief both|paper|bayes] [--out DIR]

What `modelpact reproduce` does: the Sec. 6.1 two-type grid (50 N x 30 p1 per belief) on W worker
processes, the reference points and the three Sec. 6.2 cases, the figures, report.json and
index.md. Issue 16's goal: both beliefs under 2 minutes on a 2-core machine (the authors report
1 min 20 s for their incomplete-information grid and 10 min 37 s for their complete-information
grid on an Apple M2). Wall-clock seconds per phase, with the machine's load average before and
after, since the machine is shared, and the CPU seconds of the main and worker processes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from modelpact.studies.reproduce import reproduce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--belief", choices=("both", "paper", "bayes"), default="both")
    parser.add_argument("--out", type=Path, default=None, help="keep the outputs here")
    args = parser.parse_args()
    beliefs = ("paper", "bayes") if args.belief == "both" else (args.belief,)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out if args.out is not None else Path(scratch)
        started = time.perf_counter()
        report = reproduce(out=out, beliefs=beliefs, workers=args.workers)  # type: ignore[arg-type]
        wall = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # worker processes, once joined
    judged = [c for c in report.comparisons if c.ok is not None]
    print(
        json.dumps(
            {
                "case": f"modelpact reproduce --belief {args.belief}",
                "cpus": os.cpu_count(),
                "workers": args.workers,
                "load_before": load_before,
                "load_after": os.getloadavg(),
                "wall_seconds": wall,
                "phases_seconds": report.seconds,
                # CPU time does not grow with the load of a shared machine the way wall time
                # does: on an idle machine the wall time is about cpu / workers for the grid
                "cpu_seconds_main": own.ru_utime + own.ru_stime,
                "cpu_seconds_workers": workers.ru_utime + workers.ru_stime,
                "grid_points": report.grid_points,
                "failed_points": report.failed_points,
                "judged": len(judged),
                "mismatches": len(report.mismatches),
                "max_information_cost": report.checks["max_information_cost"],
                "max_bayes_ir_shortfall_two_type": report.checks["max_bayes_ir_shortfall_two_type"],
                "target_seconds": 120,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()

"""The paper's results in one call: both studies, the comparison table, figures, report, index.

Writes into ``out``: ``report.json`` (every number behind every figure and table), ``index.md``
(the tables and the figures), and the PNG figures of :mod:`.figures`.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from modelpact.studies import figures
from modelpact.studies.grid import GridError, Workers, run_grid
from modelpact.studies.paper import (
    MULTI_TYPE_CASES,
    TWO_TYPE_P1,
    TWO_TYPE_PARTICIPANTS,
    MultiTypeCase,
    MultiTypeResult,
    TwoTypeStudy,
    multi_type_case,
    run_two_type,
    two_type_spec,
)
from modelpact.studies.point import PointResult
from modelpact.studies.reference import (
    REFERENCE_POINTS,
    Comparison,
    compare_multi_type,
    compare_two_type,
    published,
)

__all__ = ["REPORT_FORMAT", "ReproduceReport", "reproduce"]

Belief = Literal["bayes", "paper"]
REPORT_FORMAT = "modelpact-reproduce/1"


@dataclass(frozen=True)
class ReproduceReport:
    """What :func:`reproduce` did: files written, the comparison, timings, health checks."""

    out: Path
    beliefs: tuple[Belief, ...]
    grid_points: int
    failed_points: int
    comparisons: tuple[Comparison, ...]
    checks: dict[str, float]
    seconds: dict[str, float]
    files: tuple[Path, ...]

    @property
    def mismatches(self) -> tuple[Comparison, ...]:
        """Judged comparisons that failed their rule."""
        return tuple(c for c in self.comparisons if c.ok is False)


_TITLE = "# Paid with Models (AAAI 2025): results reproduced by modelpact"


def _ours(path: Path) -> bool:
    """Whether ``path`` (report.json or index.md) was written by :func:`reproduce`."""
    try:
        if path.suffix == ".json":
            document = json.loads(path.read_text(encoding="utf-8"))
            return isinstance(document, dict) and document.get("format") == REPORT_FORMAT
        return path.read_text(encoding="utf-8").startswith(_TITLE)
    except (OSError, ValueError):
        return False


def _prepare(out: Path) -> None:
    """Create ``out``; refuse one whose report.json or index.md another program wrote (they
    would be overwritten). A previous reproduction's files are replaced."""
    for name in ("report.json", "index.md"):
        existing = out / name
        if (existing.exists() or existing.is_symlink()) and not _ours(existing):
            raise GridError(
                f"{existing} exists and was not written by modelpact reproduce",
                hint="choose a new or empty --out (it would be overwritten)",
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".modelpact-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise GridError(
            f"cannot write to {out} ({reason})", hint="choose a writable --out"
        ) from error


def _reference_points(
    beliefs: Sequence[Belief], pool: Workers
) -> dict[tuple[Belief, int, float], PointResult]:
    n_values = tuple(dict.fromkeys(n for n, _ in REFERENCE_POINTS))
    p_values = tuple(dict.fromkeys(p for _, p in REFERENCE_POINTS))
    spec = two_type_spec(beliefs=beliefs, participants=n_values, p1=p_values)
    results = run_grid(spec=spec, pool=pool)
    return {
        (r.belief, int(r.params["participants"]), float(r.params["p1"])): r  # type: ignore[arg-type]
        for r in results
    }


def _case_job(case: MultiTypeCase, belief: Belief) -> MultiTypeResult:
    return multi_type_case(case=case, belief=belief)


def _figure_jobs(
    studies: dict[Belief, TwoTypeStudy], cases: dict[tuple[Belief, str], MultiTypeResult], out: Path
) -> list[tuple[Callable[..., Any], Any, Path]]:
    jobs: list[tuple[Callable[..., Any], Any, Path]] = [
        (figures.two_type_figures, study, out) for study in studies.values()
    ]
    if "paper" in studies and "bayes" in studies:
        jobs.append((figures.ir_shortfall_figure, studies["paper"], out))
    jobs += [(figures.multi_type_figure, result, out) for result in cases.values()]
    return jobs


def _draw(function: Callable[..., Any], subject: Any, out: Path) -> list[Path]:
    drawn = function(subject, out)
    return list(drawn) if isinstance(drawn, list) else [drawn]


def _checks(
    studies: dict[Belief, TwoTypeStudy], cases: dict[tuple[Belief, str], MultiTypeResult]
) -> dict[str, float]:
    """Health of the results: the information cost is never positive, and the worst Bayesian IR
    shortfall under the paper-belief menu (0 when the paper belief was not run)."""
    costs = [s.information_cost for s in studies.values()]
    costs += [np.array([r.point.information_cost]) for r in cases.values()]
    worst = max(float(np.nanmax(c)) for c in costs)
    shortfall = 0.0
    if "paper" in studies and studies["paper"].bayes_ir_shortfall is not None:
        shortfall = float(np.nanmax(studies["paper"].bayes_ir_shortfall))
    return {"max_information_cost": worst, "max_bayes_ir_shortfall_two_type": shortfall}


def reproduce(
    *,
    out: str | Path,
    beliefs: Sequence[Belief] = ("paper",),
    workers: int = 1,
    participants: Sequence[int] = TWO_TYPE_PARTICIPANTS,
    p1: Sequence[float] = TWO_TYPE_P1,
    progress: Callable[[int, int], None] | None = None,
) -> ReproduceReport:
    """Run both studies under each belief and write report, index and figures into ``out``.

    ``participants`` and ``p1`` shrink the two-type grid (tests); the defaults are the paper's.
    """
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    path = Path(out)
    _prepare(path)
    seconds: dict[str, float] = {}
    chosen = tuple(dict.fromkeys(beliefs))
    with Workers(workers=workers) as pool:  # one set of worker processes for every phase
        studies = run_two_type(
            beliefs=chosen, participants=participants, p1=p1, pool=pool, progress=progress
        )
        seconds["two_type_grid"] = time.perf_counter() - started
        mark = time.perf_counter()
        points = _reference_points(chosen, pool)
        jobs = [(c, b) for b in chosen for c in MULTI_TYPE_CASES]
        done = dict(pool.unordered(_case_job, jobs))
        cases = {(b, c.key): done[i] for i, (c, b) in enumerate(jobs)}
        seconds["reference_points_and_multi_type"] = time.perf_counter() - mark
        mark = time.perf_counter()
        drawn = dict(pool.unordered(_draw, _figure_jobs(studies, cases, path)))
        files = [f for i in sorted(drawn) for f in drawn[i]]
        seconds["figures"] = time.perf_counter() - mark
    comparisons = tuple(compare_two_type(points=points) + compare_multi_type(results=cases))
    seconds["total"] = time.perf_counter() - started
    report = ReproduceReport(
        out=path,
        beliefs=chosen,
        grid_points=sum(s.m.shape[0] * s.m.shape[1] for s in studies.values()),
        failed_points=sum(s.failed for s in studies.values()),
        comparisons=comparisons,
        checks=_checks(studies, cases),
        seconds=seconds,
        files=tuple(files),
    )
    document = _document(report, studies, points, cases, workers, load_before)
    files.append(_write_json(path / "report.json", document))
    files.append(_write_index(path / "index.md", report, studies, cases))
    return replace(report, files=tuple(files))


# ------------------------------------------------------------------------------------------
# report.json and index.md
# ------------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON-ready: arrays to lists, NaN and infinities to null, paths to strings."""
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return value.name
    return value


def _study_json(study: TwoTypeStudy) -> dict[str, Any]:
    fields = asdict(study)
    fields["layout"] = "arrays indexed [N][p1] (per-type arrays [N][p1][type])"
    return fields


def _case_json(result: MultiTypeResult) -> dict[str, Any]:
    return {
        "title": result.case.title,
        "costs": result.case.costs,
        "point": result.point.to_row(),
        "rewards": asdict(result.rewards),
        "contributions": {
            "alone": result.alone,
            "base": result.base,
            "additional": result.additional,
            "reduction": result.reduction,
        },
    }


def _document(
    report: ReproduceReport,
    studies: dict[Belief, TwoTypeStudy],
    points: dict[tuple[Belief, int, float], PointResult],
    cases: dict[tuple[Belief, str], MultiTypeResult],
    workers: int,
    load_before: float,
) -> dict[str, Any]:
    return {
        "format": REPORT_FORMAT,
        "beliefs": report.beliefs,
        "machine": {
            "cpus": os.cpu_count(),
            "workers": workers,
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
        },
        "seconds": report.seconds,
        "authors_timing": published("paper_sec6_1").get("timing_reported_by_authors"),
        "checks": report.checks,
        "comparisons": [{**asdict(c), "difference": c.difference} for c in report.comparisons],
        "two_type": {b: _study_json(s) for b, s in studies.items()},
        "reference_points": [p.to_row() for p in points.values()],
        "multi_type": {f"{b}/{k}": _case_json(r) for (b, k), r in cases.items()},
        "figures": [f.name for f in report.files],
    }


def _write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(
        json.dumps(_clean(document), indent=1, allow_nan=False) + "\n", encoding="utf-8"
    )
    return path


def _fmt(value: float | None, digits: int = 6) -> str:
    return "" if value is None else f"{value:.{digits}g}"


def _verdict(ok: bool | None) -> str:
    return {True: "ok", False: "**MISMATCH**", None: ""}[ok]


def _table(comparisons: Sequence[Comparison], beliefs: Sequence[Belief]) -> list[str]:
    bayes = "bayes" in beliefs
    head = "| sec. | quantity | where | published | ours (paper) | diff. | rule | tol. | verdict |"
    head += " ours (bayes) |" if bayes else ""
    head += " note |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for c in comparisons:
        row = (
            f"| {c.section} | {c.quantity} | {c.where} | {_fmt(c.published, 8)} | "
            f"{_fmt(c.paper, 8)} | {_fmt(c.difference, 3)} | {c.rule} | {_fmt(c.tolerance, 2)} | "
            f"{_verdict(c.ok)} |"
        )
        lines.append(row + (f" {_fmt(c.bayes, 8)} |" if bayes else "") + f" {c.note} |")
    return lines


def _shortfall_lines(
    studies: dict[Belief, TwoTypeStudy], cases: dict[tuple[Belief, str], MultiTypeResult]
) -> list[str]:
    paper = studies.get("paper")
    if paper is None or paper.bayes_ir_shortfall is None:
        return []
    lines = [
        "## IR shortfall of a Bayesian participant under the paper-belief menu",
        "",
        "A participant who knows its type values reward i at ratio_i tbar_i^bayes(m); the "
        "shortfall is max(0, f_i + c_i m_i - ratio_i tbar_i^bayes(m)), in value units.",
        "",
        "| where | type 1 | type 2 | type 3 | type 4 | type 5 |",
        "|---|---|---|---|---|---|",
    ]
    short = paper.bayes_ir_shortfall
    worst = []
    for i in range(2):
        j = np.unravel_index(int(np.nanargmax(short[..., i])), short.shape[:2])
        value = float(short[j][i])
        where = f" at N={paper.participants[j[0]]}, p1={paper.p1[j[1]]:.3f}" if value > 0 else ""
        worst.append(f"{_fmt(value, 4)}{where}")
    lines.append(f"| two types, worst over the grid | {' | '.join(worst)} | | | |")
    share = [f"{float(np.nanmean(short[..., i] > 1e-6)):.1%}" for i in range(2)]
    lines.append(f"| two types, share of grid points short by > 1e-6 | {' | '.join(share)} | | | |")
    for (belief, key), result in cases.items():
        if belief == "paper" and result.point.bayes_ir_shortfall is not None:
            values = " | ".join(_fmt(v, 4) for v in result.point.bayes_ir_shortfall)
            lines.append(f"| Sec. 6.2 {key} ({result.case.title}) | {values} |")
    return [*lines, ""]


def _write_index(
    path: Path,
    report: ReproduceReport,
    studies: dict[Belief, TwoTypeStudy],
    cases: dict[tuple[Belief, str], MultiTypeResult],
) -> Path:
    judged = [c for c in report.comparisons if c.ok is not None]
    lines = [
        _TITLE,
        "",
        f"Beliefs: {', '.join(report.beliefs)}. Two-type grid: {report.grid_points} points "
        f"({report.failed_points} failed). Wall clock: {report.seconds['total']:.1f} s. "
        f"Comparisons: {sum(bool(c.ok) for c in judged)} of {len(judged)} judged numbers within "
        "their rule. Every number is in `report.json`.",
        "",
        f"Checks: largest information cost {report.checks['max_information_cost']:.3g} "
        "(never positive).",
        "",
        "## Published vs reproduced",
        "",
        *_table(report.comparisons, report.beliefs),
        "",
        *_shortfall_lines(studies, cases),
        "## Figures",
        "",
    ]
    lines += [f"![{f.stem}]({f.name})\n" for f in report.files if f.suffix == ".png"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

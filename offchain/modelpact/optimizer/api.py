"""``solve``: the first-moment problem of a scenario, solved to a certified optimal menu."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from modelpact.menu import Menu
from modelpact.optimizer.economy import Economy, make_economy, single_blas_thread
from modelpact.optimizer.menu_rows import menu_options
from modelpact.optimizer.robust import robust_published, robust_select
from modelpact.optimizer.sampled import certify_sampled
from modelpact.optimizer.selection import Selection, select
from modelpact.optimizer.selection import benchmarks as solve_benchmarks
from modelpact.optimizer.sqp import Solution
from modelpact.optimizer.truncation import dropped_floor, truncation_extra, truncation_text
from modelpact.optimizer.types import Belief, FloatArray, Serve
from modelpact.scenario import Scenario, scenario_sha256

__all__ = ["solve"]


def _select(
    econ: Economy, serve: Serve, ic: bool, warm: FloatArray | None
) -> tuple[Selection, Economy, str]:
    """The selection (robust: at the fixed point of the band margin), its economy, and a note
    for the certification text ("" when not robust)."""
    robust = econ.scenario.solver.robust
    if robust is None:
        return select(econ, serve, ic, warm=warm), econ, ""
    found = robust_select(econ, serve, ic)  # budget against the curve's lower band
    note = (
        f"; robust: budget at the curve's {robust:g} lower band, margin settled in "
        f"{found.rounds} rounds (the bound is for that margin)"
    )
    return found.selection, found.economy, note


@single_blas_thread
def solve(
    scenario: Scenario,
    *,
    belief: Belief | None = None,
    serve: Serve | None = None,
    expectation: Literal["exact", "sampled"] | None = None,
    benchmarks: bool = True,
    truncation: float | None = None,
    warm_start: Menu | None = None,
) -> Menu:
    """Solve the first-moment problem of ``scenario`` and return the certified optimal menu.

    Keyword arguments override the scenario's ``[solver]`` options; the menu's
    ``scenario_sha256`` hashes the scenario with those overrides applied (what was solved).
    ``truncation`` (exact): None = automatic (:func:`~modelpact.optimizer.economy_model`), 0 =
    every outcome, > 0 = drop outcomes below that probability; still certified (lower-bound
    t_bar and accuracy, :func:`~modelpact.optimizer.certificate.truncation_slack`).
    ``warm_start``: a solved neighbour's menu, where the fast path starts (:func:`_warm`).
    Raises :class:`InfeasibleScenarioError` when no menu exists for the requested served set
    and :class:`SolverError` when the optimum cannot be certified.
    """
    started = time.perf_counter()
    effective = scenario.with_solver(belief=belief, serve=serve, expectation=expectation)
    econ = make_economy(effective, effective.solver.belief, truncation=truncation)
    selection, econ, robust_note = _select(econ, effective.solver.serve, True, _warm(warm_start))
    pub = _published(econ, selection.solution, selection.bound)
    if robust_note:  # publish the band's t_bar and the greatest t under it
        tbar_low, t_low = robust_published(econ, pub.solution)
        pub = replace(pub, tbar=tbar_low, t=t_low, certification=pub.certification + robust_note)
    bound, objective = pub.bound, pub.objective
    certification = pub.certification + _gap_warning(pub)
    sol = pub.solution
    serve_text = (
        effective.solver.serve
        if isinstance(effective.solver.serve, str)
        else ",".join(str(s) for s in effective.solver.serve)
    )
    return Menu(
        options=menu_options(econ, sol.served, sol.m, pub.t, pub.tbar),
        expected_accuracy=objective,
        expected_value=pub.value,
        upper_bound=max(bound, objective),
        belief=effective.solver.belief,
        expectation=effective.solver.expectation,
        scenario_sha256=scenario_sha256(effective),
        solve_seconds=time.perf_counter() - started,
        participants=effective.participants,
        serve=serve_text,
        method=selection.method,
        integer=False,
        accuracy_ci=pub.accuracy_ci,
        certification=certification,
        benchmarks=solve_benchmarks(econ, sol.m) if benchmarks else None,
        extra={
            "outcomes": econ.model.size,
            "sqp_iterations": sol.iterations,
            **truncation_extra(econ),
            **pub.extra,
        },
    )


def _warm(menu: Menu | None) -> FloatArray | None:
    """m of a warm-start menu: a nearby scenario with as many types, solved (a grid
    neighbour). The small-K fast path starts there (a smooth sweep then needs a third of the
    SQP iterations) and its result is certified by the same rule; when the warm-started path
    declines, the solve runs exactly as without it, so the menu is the same to within the
    certified gap either way."""
    if menu is None:
        return None
    return np.array([option.m for option in menu.options], dtype=np.float64)


@dataclass(frozen=True)
class _Published:
    """What the menu publishes of a solution: exact, truncated or sampled."""

    solution: Solution
    tbar: FloatArray
    t: FloatArray
    objective: float
    value: float
    bound: float
    certification: str
    accuracy_ci: tuple[float, float] | None = None
    extra: dict[str, float] = field(default_factory=dict)


def _published(econ: Economy, sol: Solution, bound: float) -> _Published:
    if econ.scenario.solver.expectation == "sampled":
        cert = certify_sampled(econ, sol, True, bound)
        return _Published(
            solution=cert.solution,
            tbar=cert.tbar,
            t=cert.t,
            objective=cert.objective,
            value=cert.value,
            bound=cert.bound,
            certification=cert.certification,
            accuracy_ci=cert.accuracy_ci,
            extra={"certified_upper_bound": cert.certified_bound},
        )
    truncated = econ.model.truncated
    return _Published(
        solution=sol,
        tbar=sol.tbar,
        t=sol.t,
        # a truncated F(m) plus what the dropped outcomes surely add is still a lower bound
        objective=sol.objective + (dropped_floor(econ, sol.m) if truncated else 0.0),
        value=sol.value,
        bound=bound,
        certification=(
            truncation_text(econ)
            if truncated
            else "exact expectations; upper bound by weak duality with concave majorants"
        ),
    )


def _gap_warning(pub: _Published) -> str:
    """The certification's warning when the gap exceeds 1e-6 (empty otherwise)."""
    gap = max(pub.bound, pub.objective) - pub.objective
    if gap <= 1e-6:
        return ""
    reason = (
        "to 1e-6 (sampled: see the certified upper bound above)"
        if pub.accuracy_ci is not None
        else "(the curve is not concave over the pooled data sizes in play)"
    )
    return f"; WARNING gap {gap:.2g} > 1e-6: optimum not certified {reason}"

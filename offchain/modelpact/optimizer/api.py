"""``solve``: the first-moment problem of a scenario, solved to a certified optimal menu."""

from __future__ import annotations

import time
from typing import Literal

from modelpact.menu import Menu
from modelpact.optimizer.economy import make_economy, single_blas_thread
from modelpact.optimizer.menu_rows import menu_options
from modelpact.optimizer.sampled import certify_sampled
from modelpact.optimizer.selection import benchmarks as solve_benchmarks
from modelpact.optimizer.selection import select
from modelpact.optimizer.types import Belief, Serve
from modelpact.scenario import Scenario, scenario_sha256

__all__ = ["solve"]


@single_blas_thread
def solve(
    scenario: Scenario,
    *,
    belief: Belief | None = None,
    serve: Serve | None = None,
    expectation: Literal["exact", "sampled"] | None = None,
    benchmarks: bool = True,
) -> Menu:
    """Solve the first-moment problem of ``scenario`` and return the certified optimal menu.

    Keyword arguments override the scenario's ``[solver]`` options; the menu's
    ``scenario_sha256`` hashes the scenario with those overrides applied (what was solved).
    Raises :class:`InfeasibleScenarioError` when no menu exists for the requested served set
    and :class:`SolverError` when the optimum cannot be certified.
    """
    started = time.perf_counter()
    effective = scenario.with_solver(belief=belief, serve=serve, expectation=expectation)
    chosen: Belief = effective.solver.belief
    econ = make_economy(effective, chosen)
    ic = True
    selection = select(econ, effective.solver.serve, ic)
    sol, bound = selection.solution, selection.bound
    accuracy_ci: tuple[float, float] | None = None
    certification = "exact expectations; upper bound by weak duality with concave majorants"
    tbar_pub, t_pub = sol.tbar, sol.t
    objective, value = sol.objective, sol.value
    if effective.solver.expectation == "sampled":
        cert = certify_sampled(econ, sol, ic, bound)
        sol, tbar_pub, t_pub, bound = cert.solution, cert.tbar, cert.t, cert.bound
        objective, value, accuracy_ci = cert.objective, cert.value, cert.accuracy_ci
        certification = cert.certification
    if max(bound, objective) - objective > 1e-6:
        certification += (
            f"; WARNING gap {max(bound, objective) - objective:.2g} > 1e-6: optimum not certified "
            "(the curve is not concave over the pooled data sizes in play)"
        )
    serve_text = (
        effective.solver.serve
        if isinstance(effective.solver.serve, str)
        else ",".join(str(s) for s in effective.solver.serve)
    )
    return Menu(
        options=menu_options(econ, sol.served, sol.m, t_pub, tbar_pub),
        expected_accuracy=objective,
        expected_value=value,
        upper_bound=max(bound, objective),
        belief=chosen,
        expectation=effective.solver.expectation,
        scenario_sha256=scenario_sha256(effective),
        solve_seconds=time.perf_counter() - started,
        participants=effective.participants,
        serve=serve_text,
        method=selection.method,
        integer=False,
        accuracy_ci=accuracy_ci,
        certification=certification,
        benchmarks=solve_benchmarks(econ, sol.m) if benchmarks else None,
        extra={"outcomes": econ.model.size, "sqp_iterations": sol.iterations},
    )

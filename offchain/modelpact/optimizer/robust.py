"""Robust promises: the budget against the learned curve's lower confidence band.

With ``[solver] robust = gamma`` the menu is solved as if the collective model followed the
one-sided lower band of the fitted curve,

    a_low(x) = max(0, a(x) - z_gamma * sd_mean(x)),   z_gamma = Phi^-1(gamma),

where ``sd_mean`` combines the fit's parameter covariance (delta method) and its residual error
(:func:`modelpact.curve_record.sd_mean`). Only the budget uses the band: the objective stays the
nominal expected accuracy and the outside options f_i stay nominal (training alone is judged by
the participant's best estimate, which is the nominal curve). The published t_bar_i is
E[v(a_low(S)) | type i] and ratio_i = t_i / t_bar_i, so whenever the true curve lies above the
band over the data sizes in play (probability >= gamma at each size) every participant's expected
model value ratio_i x E[v(a_true(S))] is at least t_i, and IR and the budget hold with it.

Solve: the band enters as a per-type margin t_bar_i(m) - t_bar_low_i(m) subtracted from the
budget (``Economy.margin``). The margin depends on m only through the curve's uncertainty at the
pooled sizes, so it is iterated to a fixed point (solve with the margin at the last m, recompute
it at the new m; a few rounds). The published t is the greatest vector under the exact robust
budget at the final m, so the robust constraints hold exactly there; the certificate is that of
the problem with the margin held at its final value (the band's slope in m, ignored by the
iteration, is second order: it only makes the menu slightly more conservative).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from modelpact.curve_record import sd_mean
from modelpact.errors import InfeasibleScenarioError, ScenarioError, SolverError
from modelpact.optimizer.constraints import greatest_t, ir_violation
from modelpact.optimizer.economy import FEASIBILITY_TOL, Economy
from modelpact.optimizer.selection import Selection, select
from modelpact.optimizer.sqp import Solution
from modelpact.optimizer.types import FloatArray, Serve
from modelpact.outcomes import BeliefModel
from modelpact.scenario import Scenario

__all__ = [
    "RobustSelection",
    "lower_band",
    "robust_margin",
    "robust_published",
    "robust_select",
    "tbar_under",
]

_MAX_ROUNDS = 30


def lower_band(scenario: Scenario, rows: FloatArray) -> FloatArray:
    """a_low(rows): the curve minus z_gamma sd_mean, clipped at 0 (``solver.robust`` = gamma)."""
    gamma = scenario.solver.robust
    if gamma is None:
        raise ScenarioError(
            f"{scenario.source}: no robust confidence set", hint="set [solver] robust = 0.95"
        )
    from scipy.stats import norm  # lazy: scipy costs the CLI start

    z = float(norm.ppf(gamma))
    x = np.asarray(rows, dtype=np.float64)
    low: FloatArray = np.maximum(scenario.accuracy(x) - z * sd_mean(scenario, x), 0.0)
    return low


def tbar_under(
    scenario: Scenario, model: BeliefModel, m: FloatArray, accuracy: FloatArray
) -> FloatArray:
    """t_bar_i from the accuracies ``accuracy`` (shape of ``model.pooled(m)``) of every outcome."""
    v = scenario.valuation(accuracy)
    w = model.tbar_weights
    tbar: FloatArray = np.einsum("io,oi->i", w, v) if model.shifted else w @ v[:, 0]
    return tbar


def robust_margin(scenario: Scenario, model: BeliefModel, m: FloatArray) -> FloatArray:
    """t_bar_i(m) - t_bar_low_i(m) >= 0 under ``model`` (zeros when the scenario is not robust)."""
    if scenario.solver.robust is None:
        return np.zeros(scenario.n_types)
    mm = np.asarray(m, dtype=np.float64)
    s = model.pooled(mm) if model.shifted else (model.base @ mm)[:, None]
    nominal = tbar_under(scenario, model, mm, scenario.accuracy(s))
    low = tbar_under(scenario, model, mm, lower_band(scenario, s))
    margin: FloatArray = np.maximum(nominal - low, 0.0)
    return margin


@dataclass(frozen=True)
class RobustSelection:
    """The robust solve: the selection at the fixed point and the economy whose margin it used."""

    selection: Selection
    economy: Economy
    rounds: int


def robust_select(econ: Economy, mode: Serve, ic: bool) -> RobustSelection:
    """Iterate margin(m) -> solve -> m to a fixed point (module doc)."""
    scenario = econ.scenario
    if scenario.solver.expectation != "exact":
        raise ScenarioError(
            f"{scenario.source}: solver.robust needs exact expectations (the sampled solve "
            "shades the budget for its own sampling error)",
            hint='set expectation = "exact" or drop solver.robust',
        )
    current = econ
    selection = select(current, mode, ic)
    for rounds in range(1, _MAX_ROUNDS + 1):
        margin = robust_margin(scenario, econ.model, selection.solution.m)
        if float(np.max(np.abs(margin - current.margin))) <= 1e-10 * max(1.0, econ.v_sup):
            return RobustSelection(selection=selection, economy=current, rounds=rounds)
        current = replace(econ, margin=margin)
        selection = select(current, mode, ic)
    raise SolverError(
        f"{scenario.source}: the robust budget did not settle in {_MAX_ROUNDS} rounds",
        hint="lower solver.robust or check the curve's uncertainty",
    )


def robust_published(econ: Economy, solution: Solution) -> tuple[FloatArray, FloatArray]:
    """(t_bar_low, t) to publish at the solution's m: the exact robust budget and the greatest t
    under it (IC and exclusion), checked for IR."""
    margin = robust_margin(econ.scenario, econ.model, solution.m)
    tbar_low = np.where(solution.served, solution.tbar - margin, 0.0)
    t = greatest_t(econ, solution.served, solution.m, tbar_low, True)
    short = ir_violation(econ, solution.served, solution.m, t)
    if short > FEASIBILITY_TOL * max(1.0, econ.v_sup):
        raise InfeasibleScenarioError(
            f"{econ.scenario.source}: no menu keeps IR under the curve's lower band at "
            f"confidence {econ.scenario.solver.robust} (IR short by {short:.3g})",
            hint="lower [solver] robust, or measure the curve with more repeats to narrow it",
        )
    return tbar_low, t

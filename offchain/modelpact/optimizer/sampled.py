"""Sampled expectations: shade the budget, re-solve, and certify BC on a fresh sample."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from modelpact.errors import SolverError
from modelpact.optimizer.certificate import Candidate, kkt_multipliers, upper_bound
from modelpact.optimizer.constraints import greatest_t, ir_violation
from modelpact.optimizer.economy import FEASIBILITY_TOL, Economy, economy_model
from modelpact.optimizer.expectations import evaluate, tbar_spread
from modelpact.optimizer.sqp import Solution, sqp
from modelpact.optimizer.subproblem import frame
from modelpact.optimizer.types import FloatArray
from modelpact.outcomes import mean_field_model

__all__ = ["SampledCertificate", "certify_sampled", "jensen_bound"]


@dataclass(frozen=True)
class SampledCertificate:
    """The re-solved menu with t certified on fresh draws, and what is published about it."""

    solution: Solution
    tbar: FloatArray  # estimated on the fresh sample
    t: FloatArray  # greatest t under the fresh lower confidence bound of tbar
    objective: float
    value: float
    accuracy_ci: tuple[float, float]
    certification: str
    bound: float  # statistical: of the sample-average problem plus z se
    certified_bound: float  # deterministic: Jensen over the concave majorants (any N and K)


def jensen_bound(shaded: Economy, sol: Solution) -> float:
    """A deterministic upper bound on the true optimum: weak duality over the mean-field model,
    whose expectations bound the true ones from above for concave curves (Jensen's inequality),
    with small KKT multipliers of the (shaded) sample problem solved at ``sol`` (any
    nonnegative multipliers give a valid bound; these make it tight)."""
    scenario = shaded.scenario
    vals = evaluate(scenario, shaded.model, sol.m, hessians=False)
    budget = vals.tbar - shaded.margin
    sample_frame = frame(shaded, sol.served, True)
    at = Candidate(m=sol.m, t=sol.t, vals=vals, budget=budget)
    duals = kkt_multipliers(shaded, sample_frame, at=at)
    model = mean_field_model(shaded.belief, scenario.participants, scenario.probabilities)
    exact = replace(shaded, model=model, margin=np.zeros(scenario.n_types), cache={})
    fr = frame(exact, sol.served, True)
    bound = scenario.accuracy.supremum
    if duals is not None:
        bound = min(bound, upper_bound(exact, fr, m_start=sol.m, duals=duals, sigma=exact.v_sup))
    return bound


def certify_sampled(econ: Economy, sol: Solution, ic: bool, bound: float) -> SampledCertificate:
    """Shade the budget, re-solve, and certify BC on a fresh sample.

    The solve sample A gives m; the budget is shaded by 2 z se_i (z one-sided with a Bonferroni
    split of 1 - confidence over the K types), the problem re-solved, and then an independent
    sample B estimates tbar(m): t is the greatest feasible vector under tbar_B - z se_B, so each
    t_i <= tbar_i(m) holds jointly with probability >= confidence. If IR fails under the
    certified budget, the shading doubles (at most 4 times) before giving up.
    """
    scenario = econ.scenario
    k = scenario.n_types
    conf = scenario.solver.confidence
    from scipy.stats import norm  # lazy: scipy costs the CLI start

    z_one = float(norm.ppf(1.0 - (1.0 - conf) / k))
    from scipy.stats import norm  # lazy: scipy costs the CLI start

    z_two = float(norm.ppf(0.5 + conf / 2.0))
    fresh = economy_model(scenario, belief=econ.belief, stream=1)
    factor = 2.0
    current = sol
    for _attempt in range(5):
        se_a, _ = tbar_spread(scenario, econ.model, current.m)
        shaded = replace(econ, margin=np.where(current.served, factor * z_one * se_a, 0.0))
        current = sqp(shaded, current.served, ic, start=current.m)
        vals_b = evaluate(scenario, fresh, current.m, hessians=False)
        se_b, se_f = tbar_spread(scenario, fresh, current.m)
        lcb = vals_b.tbar - z_one * se_b
        t = greatest_t(econ, current.served, current.m, lcb, ic)
        if ir_violation(econ, current.served, current.m, t) <= FEASIBILITY_TOL * econ.v_sup:
            half = z_two * se_f
            text = (
                f"sampled: solved on {econ.model.size} draws with budget shaded by "
                f"{factor:g} z se; BC certified on {fresh.size} fresh draws at one-sided "
                f"{conf:g} (Bonferroni over {k} types); accuracy CI at {conf:g}; upper bound "
                f"is of the sample-average problem plus z se"
            )
            certified = jensen_bound(shaded, current)
            text += (
                f"; certified (deterministic) upper bound {certified:.10f} by weak duality "
                "over the mean counts (Jensen), gap to the CI's lower end "
                f"{certified - (vals_b.objective - z_two * se_f):.2g}"
            )
            return SampledCertificate(
                solution=current,
                tbar=vals_b.tbar,
                t=t,
                objective=vals_b.objective,
                value=vals_b.value,
                accuracy_ci=(vals_b.objective - half, vals_b.objective + half),
                certification=text,
                bound=bound + half,  # the unshaded sample problem is the relaxation
                certified_bound=certified,
            )
        factor *= 2.0
    raise SolverError(
        f"{scenario.source}: the budget constraint could not be certified out of sample",
        hint="increase solver.samples",
    )

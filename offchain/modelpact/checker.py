"""Menu checker: every IR, IC, budget and exclusion violation of any menu, with its size.

Pure: takes a scenario and a menu (from the solver, a file, or hand-made) and recomputes the
reservation utilities and t_bar(m) itself under the requested belief, trusting nothing in the
menu but its ``served``, ``m``, ``t`` and ``ratio`` columns.

The chain executes (m, ratio): under belief B a participant who picks option j expects the value
``d_j = ratio_j * t_bar_j^B(m)`` (the proportional rule). IR and IC are checked on those delivered
values; BC checks the promise, ``t_i <= t_bar_i^B(m)``, and ``ratio_i <= 1``. For a menu solved
under B itself, d = t, so this is exactly the first-moment problem's constraint set. A menu solved
under ``paper`` delivers different values to a Bayesian participant, which is how its IR
violation under ``bayes`` shows.

The scenario's own settings are part of what is checked: ``[participation]`` makes t_bar the
expectation over the participation mixture, ``[solver] robust`` makes it the expectation under the
curve's lower band (:mod:`modelpact.optimizer.robust`), and ``[solver] ic_margin`` = d makes IC and
exclusion strict: a violation is any preference for another option short of d (two types on the
very same option, same rows and ratio, need no margin between them: there is nothing to pick).

Sizes are in value units (the valuation's money units), positive = violated by that much.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from modelpact.economics import reservation_utilities
from modelpact.menu import Menu
from modelpact.optimizer import conditional_values, economy_model
from modelpact.optimizer.robust import robust_margin
from modelpact.scenario import Scenario

__all__ = ["CheckReport", "Violation", "check_menu"]

Kind = Literal["IR", "IC", "BC", "EX", "ratio", "sign"]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Violation:
    """One violated constraint: ``kind``, the type(s) involved (1-based) and by how much.

    IR: type ``i`` gets less than its reservation utility. IC: type ``i`` strictly prefers
    option ``j``. BC: t_i exceeds t_bar_i(m). EX: excluded type ``i`` prefers served option
    ``j`` to its outside option. ratio: the published ratio exceeds 1. sign: negative m or t.
    """

    kind: Kind
    i: int
    j: int | None
    size: float

    def describe(self) -> str:
        """One line for humans."""
        pair = f"type {self.i}" if self.j is None else f"type {self.i} -> option {self.j}"
        return f"{self.kind} {pair}: violated by {self.size:.3g}"


@dataclass(frozen=True)
class CheckReport:
    """All violations above 0 (sorted largest first) and the tolerance that decides ``ok``."""

    violations: tuple[Violation, ...]
    tolerance: float
    belief: str
    t_bar: tuple[float, ...]
    delivered: tuple[float, ...]
    exact: bool

    @property
    def ok(self) -> bool:
        """No violation exceeds the tolerance."""
        return all(v.size <= self.tolerance for v in self.violations)

    @property
    def worst(self) -> float:
        """Largest violation size (0 if none)."""
        return max((v.size for v in self.violations), default=0.0)

    def above_tolerance(self) -> tuple[Violation, ...]:
        """The violations that make the menu fail."""
        return tuple(v for v in self.violations if v.size > self.tolerance)


def _violations(
    menu: Menu,
    *,
    served: NDArray[np.bool_],
    m: FloatArray,
    t: FloatArray,
    ratio: FloatArray,
    tbar: FloatArray,
    d: FloatArray,
    c: FloatArray,
    f: FloatArray,
    strict: float,
) -> list[Violation]:
    """Every IR, BC, ratio, sign, IC and EX violation above 0 (``strict``: the ic_margin)."""
    k = len(served)
    found: list[Violation] = []

    def add(kind: Kind, i: int, j: int | None, size: float) -> None:
        if size > 0.0:
            found.append(Violation(kind, i + 1, None if j is None else j + 1, float(size)))

    idx = [i for i in range(k) if served[i]]
    for i in idx:
        add("IR", i, None, f[i] - (d[i] - c[i] * m[i]))
        add("BC", i, None, t[i] - tbar[i])
        add("ratio", i, None, menu.options[i].ratio - 1.0)
        add("sign", i, None, max(-m[i], -t[i]))
        for j in idx:
            if j != i:
                # the same option twice (pooled types, or the empty menu) needs no margin
                same = m[i] == m[j] and abs(ratio[i] - ratio[j]) <= 1e-12
                gap = 0.0 if same else strict
                add("IC", i, j, (d[j] - c[i] * m[j]) - (d[i] - c[i] * m[i]) + gap)
    for jx in range(k):
        if served[jx]:
            continue
        for i in idx:
            add("EX", jx, i, (d[i] - c[jx] * m[i]) - f[jx] + strict)
    return found


def check_menu(
    scenario: Scenario,
    menu: Menu,
    *,
    belief: Literal["bayes", "paper"] | None = None,
    tolerance: float = 1e-7,
) -> CheckReport:
    """Check ``menu`` against ``scenario`` under ``belief`` (default: the menu's belief).

    Expectations are exact when the scenario's expectation is exact; for sampled scenarios t_bar
    is estimated on an independent sample stream (stream 2), so the BC verdict is an estimate.
    """
    chosen: Literal["bayes", "paper"] = (
        belief if belief is not None else ("paper" if menu.belief == "paper" else "bayes")
    )
    k = scenario.n_types
    if len(menu.options) != k:
        from modelpact.menu import MenuError

        raise MenuError(
            f"menu has {len(menu.options)} options but the scenario has {k} types",
            hint="check the menu against the scenario it was solved from",
        )
    served = np.array([o.served for o in menu.options], dtype=bool)
    m = np.where(served, [o.m for o in menu.options], 0.0).astype(np.float64)
    t = np.where(served, [o.t for o in menu.options], 0.0).astype(np.float64)
    ratio = np.where(served, [o.ratio for o in menu.options], 0.0).astype(np.float64)
    c = scenario.costs
    f, _ = reservation_utilities(scenario.accuracy, scenario.valuation, c)
    effective = scenario.with_solver(belief=chosen)
    stream = 2 if effective.solver.expectation == "sampled" else 0
    model = economy_model(effective, belief=chosen, stream=stream)
    tbar, _, _ = conditional_values(effective, m, belief=chosen, model=model)
    tbar = tbar - robust_margin(effective, model, m)  # robust: t_bar under the curve's band
    d = ratio * tbar  # delivered expected values under the proportional rule
    found = _violations(
        menu, served=served, m=m, t=t, ratio=ratio, tbar=tbar, d=d, c=c, f=f,
        strict=scenario.solver.ic_margin,
    )  # fmt: skip
    found.sort(key=lambda v: -v.size)
    return CheckReport(
        violations=tuple(found),
        tolerance=tolerance,
        belief=chosen,
        t_bar=tuple(float(x) for x in tbar),
        delivered=tuple(float(x) for x in d),
        exact=model.exact,
    )

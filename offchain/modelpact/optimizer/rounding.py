"""Integer menus for the chain: m rounded to whole rows, t re-solved for a given m.

For a fixed m the t-problem is an LP whose greatest solution is the shortest-path vector of
:func:`~modelpact.optimizer.constraints.greatest_t`; it is feasible iff IR holds there. So an
integer menu is a choice of integer rows per served type, and :func:`integerize_menu` searches
them around the continuous optimum:

* **Neighbourhood.** Width w gives each served type the 2w integers floor(m) - w + 1 ..
  floor(m) + w (w = 1: floor and ceiling). Widths grow from 1 until a feasible menu appears,
  then one more width is searched (the best menu is often a row or two further out, e.g. paper
  Scenario 3 needs the cheapest type two rows below its floor), up to ``max_width``.
* **Exclusion.** 0 rows means the type is not served (it keeps its outside option, and the
  exclusion constraints keep it out); a continuous m of 0 is therefore an exclusion, never a
  forced row, and a type whose m is within w rows of 0 may be excluded if that is better.
* **Order.** IC forces m non-decreasing in type (cheaper types contribute more), so only
  non-decreasing choices over the served types are visited.
* **Speed.** Candidates are evaluated in batches, over blocks of outcomes small enough to stay
  in cache; whole candidates on whole outcome counts pool whole rows, so the curve and the
  valuation are looked up per pooled size (:class:`_Tables`). The sums run in another order
  than :func:`~modelpact.optimizer.expectations.evaluate`'s, so a candidate's values agree
  with it to ~1e-14 relative, not bit for bit (property-tested at 1e-12). Up to
  :data:`_EXHAUSTIVE_LIMIT` candidates per width are enumerated, beyond that (many served
  types) a coordinate search from the nearest rounding takes over.

The best feasible menu by expected accuracy wins. The budget is the one the menu was solved
with: t_bar under the scenario's belief and participation, shaded by z se for sampled
expectations, under the curve's lower band for ``[solver] robust``; ``ic_margin`` applies.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from modelpact.errors import InfeasibleScenarioError, SolverError
from modelpact.menu import Menu
from modelpact.optimizer.constraints import greatest_t, ir_violation
from modelpact.optimizer.economy import Economy, economy_model, make_economy, single_blas_thread
from modelpact.optimizer.expectations import evaluate, tbar_spread
from modelpact.optimizer.menu_rows import menu_options
from modelpact.optimizer.robust import lower_band, robust_margin
from modelpact.optimizer.types import Belief, BoolArray, FloatArray, IntArray
from modelpact.outcomes import BeliefModel
from modelpact.scenario import Scenario, scenario_sha256

__all__ = ["DEFAULT_MAX_WIDTH", "integerize_menu", "menu_for_m"]

DEFAULT_MAX_WIDTH = 4  # rows on each side of the continuous m searched at most
_EXHAUSTIVE_LIMIT = 60_000  # candidates per width enumerated; beyond, coordinate search
_BATCH = 256  # candidates evaluated at once
_TABLE_MAX = 1 << 24  # pooled sizes tabulated at most (128 MiB a table); beyond, in place


@dataclass(frozen=True)
class _Rounded:
    """A feasible integer m with its re-solved t and what it achieves."""

    objective: float
    m: FloatArray
    served: BoolArray
    t: FloatArray
    tbar: FloatArray  # the budget t_bar published (robust: under the band)
    value: float


@dataclass(frozen=True)
class _Tables:
    """The curve, the valuation and (robust) the band's valuation at 0, 1, ..., top pooled rows.

    Integer candidates pool whole rows from a short range, each size many times over (a round
    of N participants has ~N^(K-1) outcomes, dozens of candidates share them): every function
    is evaluated once per whole number and looked up. All are elementwise, so a looked-up entry
    is bit for bit the in-place evaluation (tested)."""

    accuracy: FloatArray
    value: FloatArray
    low: FloatArray | None  # v(a_low(x)) under ``[solver] robust``, else None

    @staticmethod
    def upto(scenario: Scenario, top: int) -> _Tables:
        grid = np.arange(top + 1, dtype=np.float64)
        accuracy = scenario.accuracy(grid)
        robust = scenario.solver.robust is not None
        low = scenario.valuation(lower_band(scenario, grid)) if robust else None
        return _Tables(accuracy, scenario.valuation(accuracy), low)

    def at(self, index: IntArray) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        low = None if self.low is None else self.low[index]
        return self.accuracy[index], self.value[index], low


@dataclass(frozen=True)
class _Search:
    """What a search needs besides the candidates."""

    econ: Economy
    model: BeliefModel
    z_one: float  # sampled: one-sided z of the budget shading (0 when exact)
    # The model's counts are whole numbers >= 0, so whole candidates pool whole rows, at most
    # ``reach`` x max(m) of them (checked once here, not on every (outcomes x candidates) array).
    whole: bool = False
    reach: float = math.inf
    tables: list[_Tables] = field(default_factory=list, compare=False, repr=False)  # memo

    @staticmethod
    def of(econ: Economy, model: BeliefModel, z_one: float) -> _Search:
        base = model.base
        whole = float(base.min(initial=0.0)) >= 0.0 and bool(np.array_equal(base, np.floor(base)))
        reach = float(base.sum(axis=1).max(initial=0.0)) + (1.0 if model.shifted else 0.0)
        return _Search(econ=econ, model=model, z_one=z_one, whole=whole, reach=reach)

    def table_for(self, ms: FloatArray) -> _Tables | None:
        """Lookup tables covering every pooled size of ``ms``, or None when the candidates are
        not whole rows or tabulating costs more than evaluating in place (few outcomes)."""
        if not self.whole or float(ms.min(initial=0.0)) < 0.0:
            return None
        top = self.reach * float(ms.max(initial=0.0))
        cells = self.model.size * len(ms) * (ms.shape[1] if self.model.shifted else 1)
        if top >= _TABLE_MAX or 4.0 * (top + 1.0) >= cells:
            return None
        if not np.array_equal(ms, np.floor(ms)):
            return None
        if not self.tables or len(self.tables[0].accuracy) <= top:
            self.tables[:] = [_Tables.upto(self.econ.scenario, int(top))]
        return self.tables[0]


_CELLS = 1 << 16  # outcome x candidate entries per pass: the temporaries stay in cache (the
# whole (M, C) arrays of one batch were 0.2 GB at N = 1,000 and cost 10x more, page faults too)


@dataclass
class _Totals:
    """Running sums over outcome blocks: objective, value (C,), tbar, budget (K, C)."""

    objective: FloatArray
    value: FloatArray
    tbar: FloatArray
    budget: FloatArray

    @staticmethod
    def zero(c: int, k: int) -> _Totals:
        return _Totals(np.zeros(c), np.zeros(c), np.zeros((k, c)), np.zeros((k, c)))


def _batch_values(
    search: _Search, ms: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(objective (C,), tbar (C, K), budget (C, K), value (C,)) of candidates ``ms`` (C, K).

    Summed over blocks of outcomes: per block, the pooled rows of every candidate (one matrix
    product), the curve there (looked up when whole), and weighted sums (matrix products)."""
    model = search.model
    robust = search.econ.scenario.solver.robust is not None
    table = search.table_for(ms)
    shifts = ms.T.astype(np.intp) if table is not None else ms.T  # (K, C): type i's own rows
    totals = _Totals.zero(len(ms), ms.shape[1])
    step = max(1, _CELLS // max(1, len(ms)))
    for start in range(0, model.size, step):
        part = slice(start, start + step)
        s0 = model.base[part] @ ms.T  # (B, C), whole numbers exactly when ``table``
        pooled = s0.astype(np.intp) if table is not None else s0
        if model.shifted:
            for i, shift in enumerate(shifts):
                a, v, low = _curve_at(search, table, pooled + shift)
                _add_shifted(totals, model, part, i, a, v, low)
        else:
            a, v, low = _curve_at(search, table, pooled)
            w = model.stacked_weights[part]  # (B, 1 + K): objective | t_bar_1..K
            totals.objective += w[:, 0] @ a
            sums = w.T @ v
            totals.value += sums[0]
            totals.tbar += sums[1:]
            if low is not None:
                totals.budget += w[:, 1:].T @ low
    budget = totals.budget if robust else totals.tbar
    return totals.objective, totals.tbar.T, budget.T, totals.value


def _add_shifted(
    totals: _Totals,
    model: BeliefModel,
    part: slice,
    i: int,
    a: FloatArray,
    v: FloatArray,
    low: FloatArray | None,
) -> None:
    """Add type i's view of the outcomes in ``part`` (pooled rows shifted by its own m_i)."""
    ow, tw = model.objective_weights[i, part], model.tbar_weights[i, part]
    totals.objective += ow @ a
    totals.value += ow @ v
    totals.tbar[i] += tw @ v
    if low is not None:
        totals.budget[i] += tw @ low


def _curve_at(
    search: _Search, table: _Tables | None, pooled: FloatArray | IntArray
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """(a, v(a), v(a_low) when robust) at ``pooled`` rows: looked up in ``table`` (integer
    ``pooled``), or evaluated in place (fractional or few pooled sizes)."""
    if table is not None:
        return table.at(pooled.astype(np.intp, copy=False))
    scenario = search.econ.scenario
    rows = np.asarray(pooled, dtype=np.float64)  # already float here: no copy
    a = scenario.accuracy(rows)
    robust = scenario.solver.robust is not None
    low = scenario.valuation(lower_band(scenario, rows)) if robust else None
    return a, scenario.valuation(a), low


def _greatest_t_batch(
    econ: Economy, served: BoolArray, m: FloatArray, budget: FloatArray
) -> FloatArray:
    """:func:`~modelpact.optimizer.constraints.greatest_t` (with IC) for every candidate row of
    ``served``, ``m``, ``budget`` (C, K) at once: the same bounds relaxed in the same order, so
    each row equals the scalar result (checked by a unit test)."""
    c, f, d = econ.costs, econ.reservation, econ.ic_margin
    k = m.shape[1]
    t = np.where(served, budget, 0.0)
    for j in range(k):
        cap = (f[j] - d) + c[j] * m
        t = np.where(served & ~served[:, j : j + 1], np.minimum(t, cap), t)
    passes = served.sum(axis=1) + 1  # as the scalar version: |served| + 1 passes at most
    for sweep in range(k + 1):
        changed = False
        live = sweep < passes
        for i in range(k):
            # every j at once: the bounds from i read t_i only, which they never lower (j != i),
            # so this is the scalar version's inner loop over j, value for value
            bound = t[:, i : i + 1] + c[i] * (m - m[:, i : i + 1]) - d
            lower = (live & served[:, i])[:, None] & served
            lower[:, i] = False
            lower &= t - bound > 1e-15 * np.maximum(1.0, np.abs(t))
            if lower.any():
                t = np.where(lower, bound, t)
                changed = True
        if not changed:
            break
    result: FloatArray = np.where(served, t, 0.0)
    return result


def _shortfall_batch(econ: Economy, served: BoolArray, m: FloatArray, t: FloatArray) -> FloatArray:
    """:func:`~modelpact.optimizer.constraints.ir_violation` of every candidate row, or its IC
    violation when that is larger: with ic_margin > 0 some m admit no IC-consistent t at all
    (two types on the same rows cannot each prefer their own option strictly), and the
    relaxation then ends with IC still violated."""
    c, d = econ.costs, econ.ic_margin
    slack = t - c * m - econ.reservation
    worst = np.max(np.where(served, -slack, -np.inf), axis=1)
    negative = np.max(np.where(served, -t, -np.inf), axis=1)
    # IC_ij residual: (t_j - c_i m_j) - (t_i - c_i m_i) + d over served pairs i != j
    own = t - c * m  # (C, K): type i's utility of its own option
    other = t[:, None, :] - c[None, :, None] * m[:, None, :]  # [c, i, j]: type i takes option j
    pairs = served[:, :, None] & served[:, None, :] & ~np.eye(len(c), dtype=bool)[None]
    ic = np.max(np.where(pairs, other - own[:, :, None] + d, -np.inf), axis=(1, 2))
    tolerance = 1e-9 * max(1.0, econ.v_sup)
    ic = np.where(ic > tolerance, ic, 0.0)
    result: FloatArray = np.maximum(0.0, np.maximum(np.maximum(worst, negative), ic))
    return result


def _judge(search: _Search, ms: FloatArray) -> list[tuple[float, float, _Rounded]]:
    """(IR shortfall, -objective, menu) of every candidate row of ``ms`` (0 rows = excluded)."""
    econ = search.econ
    out: list[tuple[float, float, _Rounded]] = []
    for start in range(0, len(ms), _BATCH):
        part = ms[start : start + _BATCH]
        objective, _, budget, value = _batch_values(search, part)
        served = part > 0
        t = _greatest_t_batch(econ, served, part, budget)
        short = _shortfall_batch(econ, served, part, t)
        for c in range(len(part)):
            rounded = _Rounded(
                float(objective[c]), part[c], served[c], t[c], budget[c], float(value[c])
            )
            out.append((float(short[c]), -float(objective[c]), rounded))
    return out


def _sampled_ok(search: _Search, rounded: _Rounded) -> _Rounded | None:
    """Re-solve t under the sampled budget shading (tbar - z se); None if IR then fails."""
    econ = search.econ
    se, _ = tbar_spread(econ.scenario, search.model, rounded.m)
    t = greatest_t(econ, rounded.served, rounded.m, rounded.tbar - search.z_one * se, True)
    if ir_violation(econ, rounded.served, rounded.m, t) > 0.0:
        return None
    return replace(rounded, t=t)


def _monotone(choices: list[list[int]], limit: int) -> Iterator[tuple[int, ...]] | None:
    """Every non-decreasing choice over the served types (0 = excluded, skipped by the order),
    or None when there are more than ``limit`` of them."""
    count = _count_monotone(choices)
    if count > limit:
        return None

    def walk(i: int, floor: int, prefix: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if i == len(choices):
            yield prefix
            return
        for value in choices[i]:
            if value == 0:
                yield from walk(i + 1, floor, (*prefix, 0))
            elif value >= floor:
                yield from walk(i + 1, value, (*prefix, value))

    return walk(0, 1, ())


def _count_monotone(choices: list[list[int]]) -> int:
    """How many sequences :func:`_monotone` yields (dynamic programming over the last value)."""
    ways: dict[int, int] = {1: 1}  # last positive value (1 = none yet) -> sequences
    for values in choices:
        nxt: dict[int, int] = {}
        for last, n in ways.items():
            for value in values:
                if value == 0:
                    nxt[last] = nxt.get(last, 0) + n
                elif value >= last:
                    nxt[value] = nxt.get(value, 0) + n
        ways = nxt
    return sum(ways.values())


def _choices(m_cont: FloatArray, idx: list[int], width: int) -> list[list[int]]:
    """Integers floor(m) - width + 1 .. floor(m) + width per served type, 0 meaning excluded."""
    out = []
    for i in idx:
        base = math.floor(m_cont[i])
        out.append(list(range(max(0, base - width + 1), base + width + 1)))
    return out


def _coordinate_search(
    search: _Search, m_cont: FloatArray, idx: list[int], width: int
) -> list[tuple[float, float, _Rounded]]:
    """Many served types: from the nearest monotone rounding, move one type by one row at a time
    (within ``width``), to the neighbour with the smallest IR shortfall, then the best accuracy."""
    k = len(m_cont)
    lo = {i: max(0, math.floor(m_cont[i]) - width + 1) for i in idx}
    hi = {i: math.floor(m_cont[i]) + width for i in idx}
    current = np.zeros(k)
    current[idx] = np.maximum.accumulate(np.round(m_cont[idx]))
    best = _judge(search, current[None, :])[0]
    seen: list[tuple[float, float, _Rounded]] = [best]
    for _ in range(8 * width * len(idx)):
        moves = []
        for i in idx:
            for step in (-1.0, 1.0):
                trial = best[2].m.copy()
                trial[i] += step
                pos = trial[idx][trial[idx] > 0]
                if lo[i] <= trial[i] <= hi[i] and np.all(np.diff(pos) >= 0):
                    moves.append(trial)
        if not moves:
            break
        judged = _judge(search, np.array(moves))
        seen.extend(judged)
        top = min(judged, key=lambda r: (r[0], r[1]))
        if (top[0], top[1]) >= (best[0], best[1]):
            break
        best = top
    return seen


def _search(search: _Search, served: BoolArray, m_cont: FloatArray, max_width: int) -> _Found:
    """The best feasible rounding over growing widths (module doc), and the closest miss."""
    idx = [int(i) for i in np.flatnonzero(served)]
    k = len(m_cont)
    judged: list[tuple[float, float, _Rounded]] = []
    seen: set[tuple[int, ...]] = set()  # a wider neighbourhood contains the narrower ones
    stop = max_width
    for width in range(1, max_width + 1):
        choices = _choices(m_cont, idx, width)
        combos = _monotone(choices, _EXHAUSTIVE_LIMIT)
        if combos is None:
            judged.extend(_coordinate_search(search, m_cont, idx, width))
        else:
            rows = [c for c in combos if any(c) and c not in seen]
            seen.update(rows)
            ms = np.zeros((len(rows), k))
            if rows:
                ms[:, idx] = np.array(rows, dtype=np.float64)
                judged.extend(_judge(search, ms))
        if any(r[0] <= 0.0 for r in judged) and stop == max_width:
            stop = min(max_width, width + 1)
        if width >= stop:
            break
    return _Found.of(search, judged)


@dataclass(frozen=True)
class _Found:
    """The best feasible menu of a search (None if none) and the closest infeasible one."""

    best: _Rounded | None
    closest: tuple[float, _Rounded] | None

    @staticmethod
    def of(search: _Search, judged: list[tuple[float, float, _Rounded]]) -> _Found:
        feasible = sorted((r for r in judged if r[0] <= 0.0), key=lambda r: r[1])
        best = None
        for _, _, rounded in feasible:
            best = rounded if search.z_one == 0.0 else _sampled_ok(search, rounded)
            if best is not None:
                break
        misses = [r for r in judged if r[0] > 0.0]
        closest = min(misses, key=lambda r: (r[0], r[1])) if misses else None
        return _Found(best, None if closest is None else (closest[0], closest[2]))


def _no_rounding(scenario: Scenario, m_cont: FloatArray, found: _Found, width: int) -> Exception:
    """The error when no integer menu is feasible, with the fix that would help most."""
    served = m_cont > 0
    what = f"no integer menu within {width} rows of the continuous m satisfies IR"
    if found.closest is not None:
        short, near = found.closest
        what += f" (closest: m = {[int(x) for x in near.m]}, short by {short:.3g} value units)"
    if np.any(served) and float(np.min(m_cont[served])) < 10.0:
        hint = (
            f"the menu asks as little as {float(np.min(m_cont[served])):.3g} rows, so one row is "
            "a large step: use a smaller data unit (more rows per unit) in the scenario"
        )
    elif scenario.solver.ic_margin > 0.0:
        hint = (
            f"lower [solver] ic_margin ({scenario.solver.ic_margin:g}): a strict margin "
            "separates every pair of types by whole rows, which the budget may not pay for"
        )
    else:
        hint = (
            f"the budget leaves no slack at whole rows: search wider (max_width > {width}), "
            'or solve with serve = "optimal" so a type whose rows bind can be excluded'
        )
    return InfeasibleScenarioError(what, hint=hint)


@single_blas_thread
def integerize_menu(scenario: Scenario, menu: Menu, *, max_width: int = DEFAULT_MAX_WIDTH) -> Menu:
    """Round m to integer rows (0 = the type is excluded) and re-solve t for those rows.

    Searches up to ``max_width`` rows on each side of the continuous m (module doc) and returns
    the feasible integer menu with the highest expected accuracy; raises
    :class:`InfeasibleScenarioError` (naming the closest miss and what would help) if none is.
    """
    started = time.perf_counter()
    belief: Belief = "paper" if menu.belief == "paper" else "bayes"
    effective = scenario.with_solver(belief=belief, expectation=menu.expectation)
    if len(menu.options) != effective.n_types:
        raise SolverError(
            f"menu has {len(menu.options)} options but the scenario has {effective.n_types} types",
            hint="integerize the menu solved from this scenario",
        )
    econ = make_economy(effective, belief)
    m_cont = np.array([o.m if o.served else 0.0 for o in menu.options])
    sampled = effective.solver.expectation == "sampled"
    model = economy_model(effective, belief=belief, stream=1) if sampled else econ.model
    search = _Search.of(econ, model, _budget_z(effective) if sampled else 0.0)
    if not np.any(m_cont > 0):
        raise InfeasibleScenarioError(
            "the menu asks no type for any row, so there is nothing to deploy",
            hint="collaboration does not pay in this scenario; check costs and the curve",
        )
    found = _search(search, m_cont > 0, m_cont, max_width)
    if found.best is None:
        raise _no_rounding(effective, m_cont, found, max_width)
    return _integer_menu(menu, search, found.best, m_cont, started)


def _budget_z(scenario: Scenario) -> float:
    """The one-sided z of the sampled budget shading (Bonferroni over the types). Only sampled
    searches need it: importing scipy.special cost an exact round's first call ~0.2 s."""
    from scipy.special import ndtri  # norm.ppf's function, without importing scipy.stats

    return float(ndtri(1.0 - (1.0 - scenario.solver.confidence) / scenario.n_types))


def _integer_menu(
    menu: Menu, search: _Search, best: _Rounded, m_cont: FloatArray, started: float
) -> Menu:
    econ, scenario = search.econ, search.econ.scenario
    accuracy_ci = menu.accuracy_ci
    if search.z_one > 0.0:
        _, se_f = tbar_spread(scenario, search.model, best.m)
        from scipy.special import ndtri  # norm.ppf's function, without importing scipy.stats

        half = float(ndtri(0.5 + scenario.solver.confidence / 2.0)) * se_f
        accuracy_ci = (best.objective - half, best.objective + half)
    return replace(
        menu,
        accuracy_ci=accuracy_ci,
        options=menu_options(econ, best.served, best.m, best.t, best.tbar),
        expected_accuracy=best.objective,
        expected_value=best.value,
        upper_bound=max(menu.upper_bound, best.objective),
        integer=True,
        solve_seconds=menu.solve_seconds + (time.perf_counter() - started),
        extra={**menu.extra, "continuous_m": [float(x) for x in m_cont]},
    )


@single_blas_thread
def menu_for_m(
    scenario: Scenario,
    m: FloatArray,
    *,
    belief: Belief | None = None,
    served: BoolArray | None = None,
) -> Menu:
    """The menu with data vector ``m`` and the greatest t meeting BC, IC and exclusion.

    IR is not enforced (check the result with :func:`modelpact.checker.check_menu`): this is the
    t-re-solve used by :func:`integerize_menu`, exposed for auditors and property tests. Exact
    expectations only (a sampled scenario is evaluated on its solve sample); the budget is under
    the curve's lower band for ``[solver] robust``.
    """
    chosen: Belief = belief if belief is not None else scenario.solver.belief
    effective = scenario.with_solver(belief=chosen)
    econ = make_economy(effective, chosen)
    k = effective.n_types
    mask = np.ones(k, dtype=bool) if served is None else np.asarray(served, dtype=bool)
    m_arr = np.where(mask, np.asarray(m, dtype=np.float64), 0.0)
    vals = evaluate(effective, econ.model, m_arr, hessians=False)
    budget = vals.tbar - robust_margin(effective, econ.model, m_arr)
    t = greatest_t(econ, mask, m_arr, budget, True)
    return Menu(
        options=menu_options(econ, mask, m_arr, t, budget),
        expected_accuracy=vals.objective,
        expected_value=vals.value,
        upper_bound=math.nan,
        belief=chosen,
        expectation=effective.solver.expectation,
        scenario_sha256=scenario_sha256(effective),
        solve_seconds=0.0,
        participants=effective.participants,
        method="t re-solved for a given m",
    )

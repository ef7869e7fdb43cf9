"""One grid point: the optimal menu under incomplete information, the paper's complete-information
contract, the information cost and each type's information rent.

Definitions (value units, v(a(.))):

* information cost = E v(a(n . m)) under the optimal menu minus E v(a(S(n))) under complete
  information, both over n ~ Multinomial(N, p) (the paper's definition). It is <= 0 in the
  paper's studies, but it is not a bound: the per-outcome contract cannot move value across
  outcomes as a menu's expectations do, so with very unequal costs (c = (0.5, 0.001), N = 2)
  the menu is worth more and the cost is positive;
* information rent of type i = t_i - c_i m_i - f_i, what the menu leaves a served type above its
  reservation utility (complete information leaves exactly 0);
* under the paper belief, the IR shortfall of a Bayesian participant: the menu pays
  ratio_i v(a(n . m)), which a participant who knows its type values at ratio_i tbar_i^bayes(m),
  so its shortfall is max(0, f_i + c_i m_i - ratio_i tbar_i^bayes(m)).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from modelpact.errors import SolverError
from modelpact.scenario import Scenario
from modelpact.studies.complete import CompleteInformation, complete_information, type_weights

__all__ = ["PointResult", "solve_point"]

Belief = Literal["bayes", "paper"]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ParamValue = int | float | str | list[float]

# The optimizer reuses compiled cvxpy problems per process and is not thread-safe; a Dask worker
# may run several tasks in threads, so solves in one process take turns.
_SOLVE_LOCK = threading.Lock()


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class PointResult:
    """Everything computed at one grid point (per type tuples in type order, type 1 = highest
    cost). ``status`` is ``"ok"`` or ``"failed"`` (then ``message`` says why and the menu
    fields are empty; the complete-information fields are filled when the scenario was valid)."""

    index: int
    params: Mapping[str, ParamValue]
    belief: Belief
    status: Literal["ok", "failed"]
    message: str
    participants: int = 0
    costs: tuple[float, ...] = ()
    probabilities: tuple[float, ...] = ()
    reservation: tuple[float, ...] = ()
    reservation_m: tuple[float, ...] = ()
    complete_value: float = math.nan
    complete_accuracy: float = math.nan
    complete_m: tuple[float, ...] = ()
    complete_t: tuple[float, ...] = ()
    served: tuple[bool, ...] = ()
    m: tuple[float, ...] = ()
    t: tuple[float, ...] = ()
    t_bar: tuple[float, ...] = ()
    ratio: tuple[float, ...] = ()
    expected_value: float = math.nan
    expected_accuracy: float = math.nan
    upper_bound: float = math.nan
    information_cost: float = math.nan
    information_rent: tuple[float, ...] = ()
    bayes_ir_shortfall: tuple[float, ...] | None = None

    def to_row(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes null), one JSON Lines row of a sweep."""
        row: dict[str, Any] = {
            "index": self.index,
            "params": dict(self.params),
            "belief": self.belief,
            "status": self.status,
            "message": self.message,
            "participants": self.participants,
            "costs": list(self.costs),
            "probabilities": list(self.probabilities),
            "reservation": list(self.reservation),
            "reservation_m": list(self.reservation_m),
            "served": list(self.served),
            "m": list(self.m),
            "t": list(self.t),
            "t_bar": list(self.t_bar),
            "ratio": list(self.ratio),
            "expected_value": self.expected_value,
            "expected_accuracy": self.expected_accuracy,
            "upper_bound": self.upper_bound,
            "complete_value": self.complete_value,
            "complete_accuracy": self.complete_accuracy,
            "complete_m": list(self.complete_m),
            "complete_t": list(self.complete_t),
            "information_cost": self.information_cost,
            "information_rent": list(self.information_rent),
            "bayes_ir_shortfall": (
                None if self.bayes_ir_shortfall is None else list(self.bayes_ir_shortfall)
            ),
        }
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()
        }


def _shortfall(
    scenario: Scenario, ci: CompleteInformation, m: FloatArray, ratio: FloatArray, served: BoolArray
) -> tuple[float, ...]:
    """IR shortfall of a Bayesian participant under a menu, on the complete-information outcomes:
    tbar_i^bayes(m) = E[v(a(n . m)) | one participant is of type i], the outcomes of
    Multinomial(N, p) reweighted by n_i / (N p_i) (the other N - 1 are Multinomial(N - 1, p))."""
    seen = type_weights(ci.counts, ci.weights, scenario.probabilities, belief="bayes")
    tbar_bayes = seen @ scenario.valuation(scenario.accuracy(ci.counts @ m))
    gap = ci.reservation + scenario.costs * m - ratio * tbar_bayes
    return _floats(np.where(served, np.maximum(gap, 0.0), 0.0))


def _complete_fields(ci: CompleteInformation) -> dict[str, Any]:
    return {
        "reservation": _floats(ci.reservation),
        "reservation_m": _floats(ci.reservation_m),
        "complete_value": ci.expected_value,
        "complete_accuracy": ci.expected_accuracy,
        "complete_m": _floats(ci.expected_m),
        "complete_t": _floats(ci.expected_t),
    }


def solve_point(
    *,
    scenario: Scenario,
    belief: Belief,
    index: int = 0,
    params: Mapping[str, ParamValue] | None = None,
) -> PointResult:
    """Solve ``scenario`` under ``belief`` and compare it with complete information.

    The serve mode and expectation come from the scenario's ``[solver]``. An infeasible or
    uncertified solve, or too many outcomes, is a ``status = "failed"`` row with the error's
    message, not raised: in a sweep it is a result.
    """
    from modelpact.optimizer import solve  # cvxpy: imported by whoever solves

    common: dict[str, Any] = {
        "index": index,
        "params": dict(params or {}),
        "belief": belief,
        "participants": scenario.participants,
        "costs": _floats(scenario.costs),
        "probabilities": _floats(scenario.probabilities),
    }
    try:
        ci = complete_information(scenario=scenario, belief=belief)
    except SolverError as error:  # too many outcomes to enumerate: a failed row, not an OOM
        return PointResult(status="failed", message=error.one_line(), **common)
    common |= _complete_fields(ci)
    try:
        with _SOLVE_LOCK:
            menu = solve(scenario, belief=belief, benchmarks=False)
    except SolverError as error:
        return PointResult(status="failed", message=error.one_line(), **common)
    opts = menu.options
    served = np.array([o.served for o in opts])
    m = np.array([o.m for o in opts])
    t = np.array([o.t for o in opts])
    ratio = np.array([o.ratio for o in opts])
    rent = np.where(served, t - scenario.costs * m - ci.reservation, 0.0)
    return PointResult(
        status="ok",
        message="",
        served=tuple(bool(s) for s in served),
        m=_floats(m),
        t=_floats(t),
        t_bar=_floats(o.t_bar for o in opts),
        ratio=_floats(ratio),
        expected_value=menu.expected_value,
        expected_accuracy=menu.expected_accuracy,
        upper_bound=menu.upper_bound,
        information_cost=menu.expected_value - ci.expected_value,
        information_rent=_floats(rent),
        bayes_ir_shortfall=(
            _shortfall(scenario, ci, m, ratio, served) if belief == "paper" else None
        ),
        **common,
    )

"""The first-moment problem, solved to a certified optimum.

    maximise   F(m) = E_n[a(n . m)]
    subject to IR_i : t_i - c_i m_i >= f_i                  (served i)
               IC_ij: t_i - c_i m_i >= t_j - c_i m_j        (all served pairs)
               BC_i : t_i <= tbar_i(m)                       (served i)
               EX_j : t_i - c_j m_i <= f_j                   (unserved j, served i)
               m, t >= 0; unserved types have m = t = 0

F and every tbar_i are smooth concave functions of only K variables, evaluated with derivatives
vectorised over the outcomes of :mod:`modelpact.outcomes`. One module per job:

    types         array and literal types
    economy       the economy of one solve (costs, reservation utilities, outcome model)
    expectations  F and t_bar with gradients and Hessians over the outcomes
    constraints   IR / IC / exclusion rows; greatest and least t for a fixed m
    subproblem    the convex trust-region subproblem (cvxpy Parameters, Clarabel)
    sqp           the SQP loop for one served set, feasibility, the certified solution
    smallk        the fast path for K <= 3 (dense SQP, certified the same way, else the SQP)
    certificate   the weak-duality upper bound and small KKT multipliers
    lsq           NNLS, LDP and small dense QPs (Lawson-Hanson) without importing scipy
    selection     which types to serve; complete-information and no-collaboration benchmarks
    sampled       sampled expectations: budget shading, out-of-sample certification, and a
                  deterministic (Jensen) upper bound
    truncation    what a truncated exact solve publishes about the outcomes it dropped
    rounding      integer menus for the chain (integerize_menu, menu_for_m)
    menu_rows     the published menu rows
    api           solve()

A new menu constraint is a row in ``constraints`` (plus the budget row in ``subproblem`` if it
is nonlinear in m).

Published t: for the optimal m, t is the greatest vector with BC, IC and EX (a shortest-path
computation over the IC graph): the lowest-cost type gets t_K = tbar_K and the local downward ICs
bind, as in the paper; then IR is checked.
"""

from __future__ import annotations

from modelpact.optimizer.api import solve
from modelpact.optimizer.economy import (
    EXACT_LIMIT,
    conditional_values,
    economy_model,
)
from modelpact.optimizer.economy import make_economy as _economy
from modelpact.optimizer.expectations import evaluate as _evaluate
from modelpact.optimizer.rounding import integerize_menu, menu_for_m

__all__ = [
    "EXACT_LIMIT",
    "conditional_values",
    "economy_model",
    "integerize_menu",
    "menu_for_m",
    "solve",
]
# _economy and _evaluate stay importable for the derivative tests (private: not in __all__)
_PRIVATE_FOR_TESTS = (_economy, _evaluate)

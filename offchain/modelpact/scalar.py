"""Two scalar searches the curves need at construction: a bracketed root and a bracketed maximum.

Written by hand instead of ``scipy.optimize.brentq`` / ``minimize_scalar`` because importing
``scipy.optimize`` costs ``modelpact solve`` 0.2-0.4 s of CPU at start (scipy 1.17 pulls its array
API layer, numpy.f2py, numpy.ma and more), ten times the Sec. 6.2 solve itself. Both are the
textbook methods with their guarantees kept explicit: the root search (false position, Illinois
variant, safeguarded by bisection) keeps a sign change inside the bracket until it is narrower
than the tolerance; golden-section keeps the maximiser of a unimodal function inside the
bracket. tests/unit/test_scalar.py checks them against scipy's.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["bisect_root", "golden_max"]

_INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0  # 0.618...: the golden section


def bisect_root(
    f: Callable[[float], float], lo: float, hi: float, *, xtol: float, rtol: float
) -> float:
    """An x within ``xtol + rtol |x|`` of a root of ``f`` in [lo, hi], where f(lo) and f(hi)
    have opposite signs (or one is 0); raises ValueError if they do not.

    Each step keeps a sign change inside [lo, hi]. It tries the Illinois variant of false
    position (superlinear on smooth f; the stale end's value is halved so both ends move) and
    bisects whenever two steps have not halved the bracket, so it is never slower than about
    twice bisection."""
    f_lo, f_hi = f(lo), f(hi)
    if f_lo == 0.0:
        return lo
    if f_hi == 0.0:
        return hi
    if (f_lo > 0.0) == (f_hi > 0.0):
        raise ValueError(f"f({lo!r}) and f({hi!r}) have the same sign: no bracketed root")
    side, width, steps = 0, hi - lo, 0
    while hi - lo > xtol + rtol * max(abs(lo), abs(hi)):
        steps += 1
        if steps % 2 == 0 and hi - lo > 0.5 * width:
            x = lo + 0.5 * (hi - lo)  # false position stalled: bisect
        else:
            x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
            if not lo < x < hi:
                x = lo + 0.5 * (hi - lo)
        if steps % 2 == 0:
            width = hi - lo
        if x in (lo, hi):  # the bracket is two adjacent floats
            break
        f_x = f(x)
        if f_x == 0.0:
            return x
        if (f_x > 0.0) == (f_lo > 0.0):
            lo, f_lo = x, f_x
            if side == 1:
                f_hi *= 0.5
            side = 1
        else:
            hi, f_hi = x, f_x
            if side == -1:
                f_lo *= 0.5
            side = -1
    return lo + 0.5 * (hi - lo)


def golden_max(f: Callable[[float], float], lo: float, hi: float, *, xtol: float) -> float:
    """The maximiser of a unimodal ``f`` on [lo, hi] to within ``xtol`` (golden-section search:
    the bracket shrinks by 0.618 per evaluation and always holds the maximiser)."""
    a, b = lo, hi
    c, d = b - _INV_PHI * (b - a), a + _INV_PHI * (b - a)
    f_c, f_d = f(c), f(d)
    while b - a > xtol:
        if f_c >= f_d:  # the maximiser is in [a, d]
            b, d, f_d = d, c, f_c
            c = b - _INV_PHI * (b - a)
            f_c = f(c)
        else:  # in [c, b]
            a, c, f_c = c, d, f_d
            d = a + _INV_PHI * (b - a)
            f_d = f(d)
    return c if f_c >= f_d else d

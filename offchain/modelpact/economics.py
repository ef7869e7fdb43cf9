"""Accuracy functions, valuations and reservation utilities (pure numpy, no chain code).

Every accuracy function maps data units ``x >= 0`` (float array, any shape) to an accuracy in
``[0, 1]`` and gives its first and second derivatives, vectorised. Each one also knows its
*concave majorant* (``envelope=True``): the curves here are 0 (clipped) up to some data size and
concave beyond a tangent point ``x_t``; the majorant replaces ``[0, x_t]`` by the chord from the
origin. The optimizer solves with the true curve and certifies an upper bound with the majorant,
which is valid everywhere (a relaxation) and equal to the curve wherever the optimum lives.

Units: data in "units" (rows), accuracy as a fraction, value in the valuation's money units.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelpact.scalar import bisect_root, golden_max

__all__ = [
    "AccuracyFunction",
    "ExponentialValuation",
    "LinearValuation",
    "OptionChoice",
    "PowerAccuracy",
    "SgbAccuracy",
    "TableAccuracy",
    "Valuation",
    "best_option",
    "choose_option",
    "composite",
    "option_utilities",
    "reservation_utilities",
    "reservation_utility",
    "take_option",
    "worth_joining",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@runtime_checkable
class AccuracyFunction(Protocol):
    """An increasing accuracy curve a(x), concave beyond ``tangent_point``."""

    @property
    def kind(self) -> str:
        """``"sgb"``, ``"power"`` or ``"table"``."""
        ...

    def __call__(self, x: ArrayLike) -> FloatArray:
        """Accuracy at ``x`` data units (same shape as ``x``)."""
        ...

    def evaluate(
        self, x: ArrayLike, *, envelope: bool = False
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(a, a', a'') at ``x``; with ``envelope`` those of the concave majorant."""
        ...

    @property
    def tangent_point(self) -> float:
        """Where the concave majorant leaves the chord from the origin and meets a(x)."""
        ...

    @property
    def supremum(self) -> float:
        """sup_x a(x), an upper bound on every accuracy this curve can give."""
        ...

    def params(self) -> dict[str, object]:
        """The validated parameters, as written in a scenario file (for canonical encoding)."""
        ...


def _as_array(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _tangent_from_origin(evaluate: _Evaluator, lo: float, hi: float) -> float:
    """The x where a(x) = x a'(x): the chord from (0, 0) touches the concave part of the curve."""

    def gap(x: float) -> float:
        a, a1, _ = evaluate(np.array([x]))
        return float(a[0] - x * a1[0])

    lo *= 1.0 + 1e-9  # just past the zero point, where the clipped derivative is positive
    if gap(lo) >= 0.0:
        # A curve so steep (e.g. sgb with k = 1e12) that it is already concave, in floating
        # point, just past its zero point: the chord touches there.
        return float(lo)
    while gap(hi) <= 0.0:
        hi *= 2.0
    return bisect_root(gap, lo, hi, xtol=1e-12, rtol=1e-14)


class _Evaluator(Protocol):
    def __call__(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]: ...


def _with_envelope(
    raw: _Evaluator, x: FloatArray, tangent: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Replace the curve below ``tangent`` by its chord from the origin."""
    a, a1, a2 = raw(x)
    if tangent <= 0.0:
        return a, a1, a2
    at, _, _ = raw(np.array([tangent]))
    slope = float(at[0]) / tangent
    below = x < tangent
    a = np.where(below, slope * x, a)
    a1 = np.where(below, slope, a1)
    a2 = np.where(below, 0.0, a2)
    return a, a1, a2


class _Curve:
    """What every accuracy curve shares: evaluation through ``_raw`` (a, a', a'') and the
    tangent point from the origin below which ``envelope`` takes the chord (0 for a curve that
    is concave already, so the envelope is the curve itself)."""

    _tangent: float

    def _raw(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        raise NotImplementedError

    def _value(self, x: FloatArray) -> FloatArray:
        """a alone; a curve overrides it where skipping a' and a'' pays (the rounding search
        evaluates millions of sampled outcomes and needs no derivative)."""
        return self._raw(x)[0]

    def __call__(self, x: ArrayLike) -> FloatArray:
        return self._value(_as_array(x))

    def evaluate(
        self, x: ArrayLike, *, envelope: bool = False
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        xs = _as_array(x)
        return _with_envelope(self._raw, xs, self._tangent) if envelope else self._raw(xs)

    @property
    def tangent_point(self) -> float:
        return self._tangent


_SGB_TANGENTS: dict[tuple[float, float], float] = {}  # (a_opt, k) -> tangent point


@dataclass(frozen=True)
class SgbAccuracy(_Curve):
    """The paper's standard generalisation bound, clipped at 0.

    a(x) = a_opt - (sqrt(2 k (2 + ln(x/k))) + 4) / sqrt(x), and 0 where that is negative or
    where ln(x/k) < -2. For k = 1 it is 0 up to x ~ 55.8.
    """

    a_opt: float = 1.0
    k: float = 1.0
    kind: Literal["sgb"] = "sgb"
    _tangent: float = field(default=0.0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # a pure function of (a_opt, k), computed once per process: a grid of 1,500 scenarios
        # with one curve paid ~0.6 ms of bisection per scenario for the same number
        key = (self.a_opt, self.k)
        if key not in _SGB_TANGENTS:
            zero = self.zero_point()
            _SGB_TANGENTS[key] = _tangent_from_origin(self._raw, zero, 4.0 * zero)
        object.__setattr__(self, "_tangent", _SGB_TANGENTS[key])

    def zero_point(self) -> float:
        """Largest x where the unclipped bound is still <= 0 (accuracy starts rising here)."""
        lo = self.k * math.exp(-2.0) * (1.0 + 1e-12)

        def unclipped(x: float) -> float:
            g = math.sqrt(2.0 * self.k * (2.0 + math.log(x / self.k)))
            return self.a_opt - (g + 4.0) / math.sqrt(x)

        hi = max(2.0 * lo, 1.0)
        while unclipped(hi) <= 0.0:
            hi *= 2.0
        if unclipped(lo) > 0.0:  # pragma: no cover - only for a_opt huge relative to k
            return lo
        return bisect_root(unclipped, lo, hi, xtol=1e-12, rtol=1e-14)

    def _g(self, x: FloatArray) -> tuple[BoolArray, FloatArray, FloatArray]:
        """(valid, x where valid else 1, g = sqrt(2 k (2 + ln(x/k)))): shared by _raw and _value
        so that both compute a with the same operations, bit for bit."""
        k = self.k
        valid = x > k * math.exp(-2.0)
        xs = np.where(valid, x, 1.0)
        inner = np.log(xs * (1.0 / k))
        inner += 2.0
        np.maximum(inner, 1e-300, out=inner)
        return valid, xs, np.sqrt(inner * (2.0 * k))

    def _value(self, x: FloatArray) -> FloatArray:
        valid, xs, g = self._g(x)
        a = self.a_opt - (g + 4.0) * (1.0 / np.sqrt(xs))
        a[~(valid & (a > 0.0))] = 0.0
        return a

    def _raw(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        # vectorised over large outcome grids: products instead of powers, few temporaries
        k = self.k
        valid, xs, g = self._g(x)
        gx = g * xs
        g1 = k / gx  # g' = k / (g x)
        g2 = -k * (g + xs * g1) / (gx * gx)
        rs = 1.0 / np.sqrt(xs)
        rs2 = rs * rs
        g4 = g + 4.0
        h = g4 * rs
        a = self.a_opt - h
        positive = valid & (a > 0.0)
        h1 = rs * (g1 - 0.5 * g4 * rs2)
        h2 = rs * (g2 - rs2 * (g1 - 0.75 * g4 * rs2))
        a[~positive] = 0.0
        h1[~positive] = 0.0
        h2[~positive] = 0.0
        return a, -h1, -h2

    @property
    def supremum(self) -> float:
        return self.a_opt

    def params(self) -> dict[str, object]:
        return {"kind": "sgb", "a_opt": self.a_opt, "k": self.k}


@dataclass(frozen=True)
class PowerAccuracy(_Curve):
    """A fitted learning curve a(x) = a_max - b x^(-alpha), clipped at 0."""

    a_max: float
    b: float
    alpha: float
    kind: Literal["power"] = "power"
    _tangent: float = field(default=0.0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        zero = (self.b / self.a_max) ** (1.0 / self.alpha)
        object.__setattr__(
            self, "_tangent", _tangent_from_origin(self._raw, zero, 4.0 * zero + 1e-9)
        )

    def _value(self, x: FloatArray) -> FloatArray:
        a = self.a_max - self.b * np.where(x > 0.0, x, 1.0) ** -self.alpha
        return np.where((x > 0.0) & (a > 0.0), a, 0.0)

    def _raw(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        xs = np.where(x > 0.0, x, 1.0)
        p = self.b * xs**-self.alpha
        a = self.a_max - p
        positive = (x > 0.0) & (a > 0.0)
        return (
            np.where(positive, a, 0.0),
            np.where(positive, self.alpha * p / xs, 0.0),
            np.where(positive, -self.alpha * (self.alpha + 1.0) * p / xs**2, 0.0),
        )

    @property
    def supremum(self) -> float:
        return self.a_max

    def params(self) -> dict[str, object]:
        return {"kind": "power", "a_max": self.a_max, "b": self.b, "alpha": self.alpha}


@dataclass(frozen=True)
class TableAccuracy(_Curve):
    """Measured (data, accuracy) points, interpolated concavely and smoothly.

    The interpolant is the least concave majorant of the points and the origin (piecewise
    linear, flat after the last point), with every kink rounded by a concave quadratic arc over a
    window of a quarter of the shorter adjacent segment so that a' is continuous (the solver
    uses second derivatives). The arc lies below a hull vertex by (slope drop) * window / 4.
    """

    data: tuple[float, ...]
    accuracy: tuple[float, ...]
    kind: Literal["table"] = "table"
    _knots: tuple[tuple[float, float], ...] = field(default=(), init=False, repr=False)
    _tangent = 0.0  # the concave majorant is already its own envelope (class constant, no field)

    def __post_init__(self) -> None:
        points = sorted(zip(self.data, self.accuracy, strict=True))
        hull: list[tuple[float, float]] = [(0.0, 0.0)]
        for x, y in points:
            if x <= hull[-1][0]:
                if x == hull[-1][0] and y > hull[-1][1]:
                    hull[-1] = (x, y)
                continue
            hull.append((x, y))
            while len(hull) >= 3:
                (x0, y0), (x1, y1), (x2, y2) = hull[-3], hull[-2], hull[-1]
                if (y1 - y0) * (x2 - x1) <= (y2 - y1) * (x1 - x0):  # middle not above chord
                    del hull[-2]
                else:
                    break
        # drop a decreasing tail: the majorant is flat after the highest point
        top = max(range(len(hull)), key=lambda j: hull[j][1])
        object.__setattr__(self, "_knots", tuple(hull[: top + 1]))

    def _raw(self, x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        xs = np.array([p[0] for p in self._knots])
        ys = np.array([p[1] for p in self._knots])
        n = len(xs)
        slopes = np.append(np.diff(ys) / np.diff(xs), 0.0)  # slope after each knot
        a = np.interp(x, xs, ys)
        seg = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, n - 1)
        a1 = slopes[seg]
        a2 = np.zeros_like(x)
        lengths = np.diff(xs)
        for j in range(1, n):
            left = lengths[j - 1]
            right = lengths[j] if j < n - 1 else left
            w = 0.25 * min(left, right)
            s_l, s_r = slopes[j - 1], slopes[j]
            if s_l - s_r <= 0.0 or w <= 0.0:
                continue
            inside = np.abs(x - xs[j]) < w
            if not inside.any():
                continue
            u = x - (xs[j] - w)
            curv = (s_r - s_l) / (4.0 * w)
            line_l = ys[j] + s_l * (x - xs[j])
            a = np.where(inside, line_l + curv * u**2, a)
            a1 = np.where(inside, s_l + 2.0 * curv * u, a1)
            a2 = np.where(inside, 2.0 * curv, a2)
        a = np.where(x > 0.0, a, 0.0)
        return a, a1, a2

    @property
    def supremum(self) -> float:
        return max(p[1] for p in self._knots)

    def params(self) -> dict[str, object]:
        return {"kind": "table", "data": list(self.data), "accuracy": list(self.accuracy)}


class Valuation(Protocol):
    """Money-equivalent value v(r) of a model with accuracy r: increasing, concave, v(0) = 0."""

    @property
    def kind(self) -> str:
        """``"linear"`` or ``"exponential"``."""
        ...

    def evaluate(self, r: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(v, v', v'') at accuracies ``r``."""
        ...

    def __call__(self, r: ArrayLike) -> FloatArray:
        """v(r)."""
        ...

    def params(self) -> dict[str, object]:
        """The validated parameters, as written in a scenario file."""
        ...


@dataclass(frozen=True)
class LinearValuation:
    """v(r) = scale * r (the paper: scale = 100). The only valuation the chain accepts."""

    scale: float = 100.0
    kind: Literal["linear"] = "linear"

    def evaluate(self, r: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        return self.scale * r, np.full_like(r, self.scale), np.zeros_like(r)

    def __call__(self, r: ArrayLike) -> FloatArray:
        return self.scale * _as_array(r)

    def params(self) -> dict[str, object]:
        return {"kind": "linear", "scale": self.scale}


@dataclass(frozen=True)
class ExponentialValuation:
    """Concave alternative: v(r) = scale * (1 - exp(-rate r)) / (1 - exp(-rate)), v(1) = scale."""

    scale: float = 100.0
    rate: float = 1.0
    kind: Literal["exponential"] = "exponential"

    def evaluate(self, r: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        norm = self.scale / -math.expm1(-self.rate)
        e = np.exp(-self.rate * r)
        return norm * (1.0 - e), norm * self.rate * e, -norm * self.rate**2 * e

    def __call__(self, r: ArrayLike) -> FloatArray:
        return self.evaluate(_as_array(r))[0]

    def params(self) -> dict[str, object]:
        return {"kind": "exponential", "scale": self.scale, "rate": self.rate}


def composite(
    accuracy: AccuracyFunction, valuation: Valuation, x: FloatArray, *, envelope: bool = False
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(u, u', u'') of u(x) = v(a(x)) by the chain rule."""
    a, a1, a2 = accuracy.evaluate(x, envelope=envelope)
    v, v1, v2 = valuation.evaluate(a)
    return v, v1 * a1, v2 * a1**2 + v1 * a2


def reservation_utility(
    accuracy: AccuracyFunction, valuation: Valuation, cost: float
) -> tuple[float, float]:
    """(f, m*): f = max(0, max_m v(a(m)) - cost m) and the data size that attains it (0 if f = 0).

    A log-spaced grid over (0, v_max / cost] brackets the maximum (the curve is flat near 0, so a
    gradient method started there would stall), then a golden-section search refines it.
    """
    v_sup = float(valuation(np.array([accuracy.supremum]))[0])
    hi = v_sup / cost
    if not math.isfinite(hi) or hi <= 0.0:
        return 0.0, 0.0
    grid = np.geomspace(hi * 1e-9, hi, 2001)
    values = valuation(accuracy(grid)) - cost * grid
    j = int(np.argmax(values))
    if values[j] <= 0.0:
        return 0.0, 0.0
    lo_x = grid[max(j - 1, 0)]
    hi_x = grid[min(j + 1, len(grid) - 1)]

    def utility(x: float) -> float:
        return float(valuation(accuracy(np.array([x])))[0] - cost * x)

    best_x = golden_max(utility, float(lo_x), float(hi_x), xtol=1e-10 * hi_x)
    best = utility(best_x)
    if best < values[j]:
        best_x, best = float(grid[j]), float(values[j])
    if best <= 0.0:
        return 0.0, 0.0
    return best, best_x


def reservation_utilities(
    accuracy: AccuracyFunction, valuation: Valuation, costs: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Vectors (f_i, m_i) of :func:`reservation_utility` for every cost."""
    pairs = [reservation_utility(accuracy, valuation, float(c)) for c in _as_array(costs)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


class _MenuLike(Protocol):
    @property
    def offered(self) -> tuple[_OptionLike, ...]: ...


class _OptionLike(Protocol):
    @property
    def m(self) -> float: ...

    @property
    def t(self) -> float: ...


TIE_TOLERANCE = 1e-6
"""Utilities within this many value units of the best count as ties: at the optimum the local
downward IC constraints bind (a type is indifferent between its own option and the next one
down), and the menu is published in WAD, so exact ties become noise of about 1e-18 relative."""


def take_option(
    utilities: Sequence[float] | FloatArray,
    *,
    own: int | None = None,
    tolerance: float = TIE_TOLERANCE,
) -> int:
    """THE rule for which option a participant takes (wallet, demo and simulator use it).

    The best utility wins; among the options within ``tolerance`` of the best, the one designed
    for the participant's type (``own``, when it knows it and that option is among them), else
    the largest contribution (the highest option id). This is the paper's convention that an
    indifferent agent takes the option designed for its type: downward ICs bind at the optimum,
    so floating-point noise must not push a type onto the option of the type below it.
    """
    values = [float(u) for u in utilities]
    if not values:
        from modelpact.errors import ModelpactError

        raise ModelpactError(
            "the menu offers no option", hint="solve a scenario that serves a type"
        )
    best = max(values)
    tied = [i for i, u in enumerate(values) if u >= best - tolerance]
    return own if own in tied else max(tied)


def worth_joining(utility: float, outside: float, *, tolerance: float = TIE_TOLERANCE) -> bool:
    """Whether an option worth ``utility`` is worth taking against an ``outside`` option
    (training alone, or 0 for staying out), with the tie tolerance of :func:`take_option`."""
    return utility >= outside - tolerance


def option_utilities(menu: _MenuLike, cost: float) -> FloatArray:
    """Utility t_j - cost * m_j of each offered option (``menu.offered``: the on-chain option
    ids, in order) for a participant with private ``cost``."""
    offered = menu.offered
    if not offered:
        from modelpact.errors import ModelpactError

        raise ModelpactError(
            "the menu offers no option", hint="solve a scenario that serves a type"
        )
    m = np.array([o.m for o in offered], dtype=np.float64)
    t = np.array([o.t for o in offered], dtype=np.float64)
    return t - cost * m


def best_option(menu: _MenuLike, cost: float) -> tuple[int, FloatArray]:
    """The plain argmax of :func:`option_utilities` (lowest index on exact ties) and the
    utilities. Which option a participant actually takes is :func:`take_option`."""
    utilities = option_utilities(menu, cost)
    return int(np.argmax(utilities)), utilities


@dataclass(frozen=True)
class OptionChoice:
    """A participant's decision: best offered option and both outside options.

    ``index`` is into ``menu.offered`` (the on-chain option id). ``joins`` is True when the best
    option's utility is at least the reservation utility (training alone) and at least 0 (not
    joining at all); a participant who would rather train alone should not join.
    """

    index: int
    utilities: FloatArray
    best_utility: float
    outside_utility: float  # 0: stay out and train nothing
    reservation_utility: float  # f: train alone on the data size that is best alone
    reservation_data: float
    joins: bool


def choose_option(
    menu: _MenuLike, cost: float, accuracy: AccuracyFunction, valuation: Valuation
) -> OptionChoice:
    """:func:`take_option` plus the comparison with not joining (0) and training alone (f)."""
    utilities = option_utilities(menu, cost)
    index = take_option(utilities)
    f, m_alone = reservation_utility(accuracy, valuation, cost)
    best = float(utilities[index])
    return OptionChoice(
        index=index,
        utilities=utilities,
        best_utility=best,
        outside_utility=0.0,
        reservation_utility=f,
        reservation_data=m_alone,
        joins=worth_joining(best, max(f, 0.0)),
    )

"""TOML scenarios: parse, validate strictly, and encode canonically (the chain stores the sha256).

Shape (more keys are rejected so typos do not pass silently)::

    participants = 10
    [[types]]              # one table per type, highest cost first
    cost = 0.2
    probability = 0.2
    [accuracy]
    kind = "sgb"           # a_opt, k | "power": a_max, b, alpha | "table": data, accuracy
    [valuation]
    kind = "linear"        # scale | "exponential": scale, rate
    [solver]
    belief = "bayes"       # or "paper"
    expectation = "exact"  # or "sampled" (samples, seed, confidence)
    serve = "all"          # or "optimal", or a list of served type numbers (1-based)
    robust = 0.95          # optional: budget against the curve's lower band at this confidence
    ic_margin = 0.01       # optional (default 0): each type prefers its option by this much

Optional parts, each absent by default (and then absent from the canonical encoding, so older
scenarios keep their hash):

* ``[accuracy.fitted_on]``, ``[accuracy.uncertainty]``, ``[accuracy] tolerance`` and
  ``tolerance_confidence``: what a learned curve was fitted on and how uncertain it is
  (:mod:`modelpact.curve_record`, written by ``modelpact curve``);
* ``[valuation] unit_wei``: the wei price of one value unit, which makes the on-chain shortfall
  rate rho = scale x unit_wei (:mod:`modelpact.compensation`);
* ``[participation]``: the quorum and the law of the number of participants
  (:mod:`modelpact.participation`); without it every seat fills and the quorum is N.
* ``[solver] robust`` (a confidence in [0.5, 1), needs ``[accuracy.uncertainty]``) and
  ``ic_margin`` (value units, >= 0): :mod:`modelpact.optimizer.robust` and
  :mod:`modelpact.optimizer.constraints`.

The canonical encoding is compact JSON with sorted keys of the *validated* values (floats as
Python's shortest round-trip repr), prefixed by a format tag; it does not depend on comments,
key order, or how a number was written (``0.2`` and ``2e-1`` encode the same).
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeGuard, cast

import numpy as np
from numpy.typing import NDArray

from modelpact.curve_record import RECORD_FIELDS, CurveRecord, parse_curve_record
from modelpact.economics import (
    AccuracyFunction,
    ExponentialValuation,
    LinearValuation,
    PowerAccuracy,
    SgbAccuracy,
    TableAccuracy,
    Valuation,
)
from modelpact.errors import ScenarioError
from modelpact.participation import Participation, parse_participation

__all__ = [
    "CANONICAL_FORMAT",
    "Scenario",
    "SolverOptions",
    "TypeSpec",
    "canonical_bytes",
    "load_scenario",
    "parse_scenario",
    "scenario_from_document",
    "scenario_sha256",
]

CANONICAL_FORMAT = "modelpact-scenario/1"
Belief = Literal["bayes", "paper"]
Expectation = Literal["exact", "sampled"]
_PROBABILITY_TOLERANCE = 1e-9


@dataclass(frozen=True)
class TypeSpec:
    """One participant type: marginal cost per data unit and prior probability."""

    cost: float
    probability: float


@dataclass(frozen=True)
class SolverOptions:
    """How to solve: belief model, expectation, type selection.

    ``serve`` is ``"all"``, ``"optimal"`` or a tuple of served type numbers (1-based, sorted).
    """

    belief: Belief = "bayes"
    expectation: Expectation = "exact"
    samples: int = 20000
    seed: int = 7
    confidence: float = 0.99
    serve: Literal["all", "optimal"] | tuple[int, ...] = "all"
    robust: float | None = None
    ic_margin: float = 0.0

    def params(self) -> dict[str, object]:
        """Validated values for the canonical encoding (robust and ic_margin only when set, so
        scenarios without them keep their hash)."""
        out: dict[str, object] = {
            "belief": self.belief,
            "expectation": self.expectation,
            "samples": self.samples,
            "seed": self.seed,
            "confidence": self.confidence,
            "serve": self.serve if isinstance(self.serve, str) else list(self.serve),
        }
        if self.robust is not None:
            out["robust"] = self.robust
        if self.ic_margin != 0.0:
            out["ic_margin"] = self.ic_margin
        return out


@dataclass(frozen=True)
class Scenario:
    """A validated economy: N participants, K types (type 1 = highest cost), curves, solver."""

    participants: int
    types: tuple[TypeSpec, ...]
    accuracy: AccuracyFunction
    valuation: Valuation
    solver: SolverOptions
    source: str = "<string>"
    curve: CurveRecord = field(default_factory=CurveRecord)
    participation: Participation | None = None
    unit_wei: int | None = None  # wei per value unit ([valuation] unit_wei)

    @property
    def quorum(self) -> int:
        """Q, the minimum participation the menu is solved for (N without [participation])."""
        return self.participation.quorum if self.participation is not None else self.participants

    @property
    def n_types(self) -> int:
        """K, the number of types."""
        return len(self.types)

    @property
    def costs(self) -> NDArray[np.float64]:
        """c, shape (K,), strictly decreasing."""
        return np.array([t.cost for t in self.types], dtype=np.float64)

    @property
    def probabilities(self) -> NDArray[np.float64]:
        """p, shape (K,), positive, summing to 1."""
        return np.array([t.probability for t in self.types], dtype=np.float64)

    def with_solver(self, **changes: object) -> Scenario:
        """A copy with some solver options replaced (values are validated again)."""
        merged = {**self.solver.params(), **{k: v for k, v in changes.items() if v is not None}}
        solver = _solver(merged, self.source)
        if isinstance(solver.serve, tuple) and not all(
            1 <= s <= self.n_types for s in solver.serve
        ):
            raise _fail(
                self.source,
                f"serve lists a type outside 1..{self.n_types}: {list(solver.serve)}",
                "name served types by their 1-based position in [[types]]",
            )
        _check_robust(solver, self.curve, self.source)
        return replace(self, solver=solver)


def _fail(source: str, what: str, hint: str) -> ScenarioError:
    return ScenarioError(f"{source}: {what}", hint=hint)


def _is_int(value: object) -> TypeGuard[int]:
    """A TOML integer: Python's bool is an int, TOML's true is not."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    """A TOML integer or float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_level(value: object) -> TypeGuard[int | float]:
    """A confidence level: a number in [0.5, 1)."""
    return _is_number(value) and 0.5 <= float(value) < 1.0


def _number(table: Mapping[str, object], key: str, where: str, source: str) -> float:
    if key not in table:
        raise _fail(source, f"missing field {where}.{key}".replace("..", "."), f"add `{key} = ...`")
    value = table[key]
    if not _is_number(value):
        raise _fail(source, f"{where}.{key} must be a number, got {value!r}", "write a number")
    number = float(value)
    if not math.isfinite(number):
        raise _fail(source, f"{where}.{key} must be finite, got {value!r}", "write a finite number")
    return number


_MAX_MAGNITUDE = 1e9
"""The largest cost, probability, value scale or curve parameter a scenario may state. A billion
value units is far above any round (values are in units of the model's worth, costs per row),
while numbers near the float limit (``cost = 1e308``, ``scale = 1e300``) overflow the solver's
products into inf and end in a solver error instead of a menu."""


def _positive(table: Mapping[str, object], key: str, where: str, source: str) -> float:
    value = _number(table, key, where, source)
    if value <= 0.0:
        word = "negative" if value < 0 else "zero"
        raise _fail(
            source, f"{where}.{key} must be > 0, got {word} {value!r}", "use a positive value"
        )
    if value > _MAX_MAGNITUDE:
        raise _fail(
            source,
            f"{where}.{key} = {value:g} is out of range (at most {_MAX_MAGNITUDE:g})",
            "state values in units where the numbers stay below a billion",
        )
    return value


def _table(data: Mapping[str, object], key: str, source: str) -> Mapping[str, object]:
    if key not in data:
        raise _fail(
            source, f"missing table [{key}]", f"add a [{key}] table (see the example scenarios)"
        )
    value = data[key]
    if not isinstance(value, dict):
        raise _fail(source, f"{key} must be a table", f"write it as [{key}]")
    return cast(Mapping[str, object], value)


def _only(table: Mapping[str, object], allowed: set[str], where: str, source: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise _fail(
            source,
            f"unknown field {where}.{extra[0]}".replace("..", "."),
            f"allowed fields here: {', '.join(sorted(allowed))}",
        )


def _accuracy(table: Mapping[str, object], source: str) -> AccuracyFunction:
    kind = table.get("kind")
    if kind == "sgb":
        _only(table, {"kind", "a_opt", "k"}, "accuracy", source)
        a_opt = _positive(table, "a_opt", "accuracy", source) if "a_opt" in table else 1.0
        k = _positive(table, "k", "accuracy", source) if "k" in table else 1.0
        if a_opt > 1.0:
            raise _fail(
                source, f"accuracy.a_opt must be <= 1, got {a_opt!r}", "accuracy is a fraction"
            )
        return SgbAccuracy(a_opt=a_opt, k=k)
    if kind == "power":
        _only(table, {"kind", "a_max", "b", "alpha"}, "accuracy", source)
        a_max = _positive(table, "a_max", "accuracy", source)
        if a_max > 1.0:
            raise _fail(
                source, f"accuracy.a_max must be <= 1, got {a_max!r}", "accuracy is a fraction"
            )
        return PowerAccuracy(
            a_max=a_max,
            b=_positive(table, "b", "accuracy", source),
            alpha=_positive(table, "alpha", "accuracy", source),
        )
    if kind == "table":
        _only(table, {"kind", "data", "accuracy"}, "accuracy", source)
        xs = _numbers(table, "data", source)
        ys = _numbers(table, "accuracy", source)
        if len(xs) != len(ys) or not xs:
            raise _fail(
                source,
                f"accuracy.data and accuracy.accuracy must be non-empty and of equal length "
                f"(got {len(xs)} and {len(ys)})",
                "give one accuracy per data size",
            )
        if any(x <= 0 for x in xs) or any(not 0 <= y <= 1 for y in ys):
            raise _fail(
                source,
                "accuracy.data must be > 0 and accuracy.accuracy within [0, 1]",
                "use positive data sizes and accuracies as fractions",
            )
        if len(set(xs)) != len(xs):
            raise _fail(source, "accuracy.data has duplicate sizes", "give each size once")
        return TableAccuracy(data=tuple(xs), accuracy=tuple(ys))
    if "kind" not in table:
        raise _fail(source, "missing field accuracy.kind", 'add kind = "sgb", "power" or "table"')
    raise _fail(source, f"unknown accuracy kind {kind!r}", 'use kind = "sgb", "power" or "table"')


def _participation(table: object, participants: int, source: str) -> Participation | None:
    return None if table is None else parse_participation(table, participants, source)


def _accuracy_and_record(
    table: Mapping[str, object], source: str
) -> tuple[AccuracyFunction, CurveRecord]:
    """The curve of ``[accuracy]`` and its record (the keys of :data:`RECORD_FIELDS`)."""
    accuracy = _accuracy({k: v for k, v in table.items() if k not in RECORD_FIELDS}, source)
    fields = {k: v for k, v in table.items() if k in RECORD_FIELDS}
    return accuracy, parse_curve_record(fields, table.get("kind"), source)


def _numbers(table: Mapping[str, object], key: str, source: str) -> list[float]:
    if key not in table:
        raise _fail(source, f"missing field accuracy.{key}", f"add `{key} = [...]`")
    value = table[key]
    if not isinstance(value, list) or not all(_is_number(v) and math.isfinite(v) for v in value):
        raise _fail(source, f"accuracy.{key} must be a list of numbers", "write [1.0, 2.0, ...]")
    return [float(v) for v in value]


def _unit_wei(table: Mapping[str, object], source: str) -> int | None:
    if "unit_wei" not in table:
        return None
    value = table["unit_wei"]
    if not _is_int(value) or value < 1:
        raise _fail(
            source,
            f"valuation.unit_wei must be an integer >= 1 (wei per value unit), got {value!r}",
            "e.g. unit_wei = 1000000000000 (1e12 wei per value unit)",
        )
    return value


def _valuation(table: Mapping[str, object], source: str) -> Valuation:
    kind = table.get("kind", "linear")
    if kind == "linear":
        _only(table, {"kind", "scale", "unit_wei"}, "valuation", source)
        return LinearValuation(scale=_positive(table, "scale", "valuation", source))
    if kind == "exponential":
        _only(table, {"kind", "scale", "rate", "unit_wei"}, "valuation", source)
        return ExponentialValuation(
            scale=_positive(table, "scale", "valuation", source),
            rate=_positive(table, "rate", "valuation", source),
        )
    raise _fail(source, f"unknown valuation kind {kind!r}", 'use kind = "linear" or "exponential"')


def _check_robust(solver: SolverOptions, curve: CurveRecord, source: str) -> None:
    if solver.robust is not None and curve.uncertainty is None:
        raise _fail(
            source,
            "solver.robust needs the curve's uncertainty, but [accuracy.uncertainty] is missing",
            "learn the curve with `modelpact curve` (it writes [accuracy.uncertainty])",
        )


def _robust_and_margin(table: Mapping[str, object], source: str) -> tuple[float | None, float]:
    robust = table.get("robust")
    if robust is not None and not _is_level(robust):
        raise _fail(source, f"solver.robust must be in [0.5, 1), got {robust!r}", "e.g. 0.95")
    margin = table.get("ic_margin", 0.0)
    if not _is_number(margin) or not math.isfinite(float(margin)) or float(margin) < 0.0:
        raise _fail(source, f"solver.ic_margin must be a number >= 0, got {margin!r}", "e.g. 0.01")
    return (None if robust is None else float(robust)), float(margin)


def _solver(table: Mapping[str, object], source: str) -> SolverOptions:
    _only(
        table,
        {"belief", "expectation", "samples", "seed", "confidence", "serve", "robust", "ic_margin"},
        "solver",
        source,
    )
    belief = table.get("belief", "bayes")
    if belief not in ("bayes", "paper"):
        raise _fail(source, f"unknown solver.belief {belief!r}", 'use "bayes" or "paper"')
    expectation = table.get("expectation", "exact")
    if expectation not in ("exact", "sampled"):
        raise _fail(
            source, f"unknown solver.expectation {expectation!r}", 'use "exact" or "sampled"'
        )
    samples = table.get("samples", 20000)
    if not _is_int(samples) or samples < 100:
        raise _fail(
            source, f"solver.samples must be an integer >= 100, got {samples!r}", "e.g. 20000"
        )
    seed = table.get("seed", 7)
    if not _is_int(seed) or seed < 0:
        raise _fail(source, f"solver.seed must be a non-negative integer, got {seed!r}", "e.g. 7")
    confidence = table.get("confidence", 0.99)
    if not _is_level(confidence):
        raise _fail(
            source, f"solver.confidence must be in [0.5, 1), got {confidence!r}", "e.g. 0.99"
        )
    serve_raw = table.get("serve", "all")
    serve: Literal["all", "optimal"] | tuple[int, ...]
    if serve_raw in ("all", "optimal"):
        serve = serve_raw
    elif isinstance(serve_raw, list | tuple) and serve_raw and all(_is_int(v) for v in serve_raw):
        serve = tuple(sorted(set(cast(list[int], list(serve_raw)))))
    else:
        raise _fail(
            source,
            f'solver.serve must be "all", "optimal" or a list of type numbers, got {serve_raw!r}',
            'e.g. serve = "all"',
        )
    robust, ic_margin = _robust_and_margin(table, source)
    return SolverOptions(
        belief=belief,
        expectation=expectation,
        samples=samples,
        seed=seed,
        confidence=float(confidence),
        serve=serve,
        robust=robust,
        ic_margin=ic_margin,
    )


def _types(raw_types: object, source: str) -> list[TypeSpec]:
    """The validated [[types]]: positive costs strictly decreasing, probabilities summing to 1."""
    if not isinstance(raw_types, list) or not raw_types:
        raise _fail(
            source, "missing [[types]]", "add one [[types]] table (cost, probability) per type"
        )
    types: list[TypeSpec] = []
    for index, entry in enumerate(raw_types, start=1):
        if not isinstance(entry, dict):
            raise _fail(source, f"types[{index}] must be a table", "write it as [[types]]")
        where = f"types[{index}]"
        _only(entry, {"cost", "probability", "name"}, where, source)
        types.append(
            TypeSpec(
                cost=_positive(entry, "cost", where, source),
                probability=_positive(entry, "probability", where, source),
            )
        )
    for index in range(1, len(types)):
        if not types[index].cost < types[index - 1].cost:
            raise _fail(
                source,
                f"type costs must be strictly decreasing (type 1 = highest cost), but "
                f"types[{index + 1}].cost = {types[index].cost!r} >= "
                f"types[{index}].cost = {types[index - 1].cost!r}",
                "list the [[types]] from the highest cost to the lowest",
            )
    total = math.fsum(t.probability for t in types)
    if abs(total - 1.0) > _PROBABILITY_TOLERANCE:
        raise _fail(
            source,
            f"type probabilities sum to {total!r}, not 1",
            "make the probability fields of [[types]] add up to 1",
        )
    return types


def parse_scenario(text: str, *, source: str = "<string>") -> Scenario:
    """Parse and validate TOML ``text``; errors name ``source`` and the offending field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _fail(source, f"not valid TOML ({error})", "fix the TOML syntax") from error
    return scenario_from_document(data, source=source)


def scenario_from_document(data: Mapping[str, object], *, source: str = "<string>") -> Scenario:
    """Validate a scenario given as the parsed TOML document (what a parameter sweep edits)."""
    _only(
        data,
        {
            "participants",
            "types",
            "accuracy",
            "valuation",
            "solver",
            "participation",
            "name",
            "description",
        },
        "",
        source,
    )
    if "participants" not in data:
        raise _fail(source, "missing field participants", "add `participants = N` (N >= 1)")
    n = data["participants"]
    if not _is_int(n) or n < 1:
        raise _fail(
            source, f"participants must be an integer >= 1, got {n!r}", "e.g. participants = 10"
        )
    types = _types(data.get("types"), source)
    accuracy, curve = _accuracy_and_record(_table(data, "accuracy", source), source)
    valuation_table = _table(data, "valuation", source)
    valuation = _valuation(valuation_table, source)
    solver_table = data.get("solver", {})
    if not isinstance(solver_table, dict):
        raise _fail(source, "solver must be a table", "write it as [solver]")
    solver = _solver(solver_table, source)
    if isinstance(solver.serve, tuple) and not all(1 <= s <= len(types) for s in solver.serve):
        raise _fail(
            source,
            f"solver.serve lists a type outside 1..{len(types)}: {list(solver.serve)}",
            "name served types by their 1-based position in [[types]]",
        )
    _check_robust(solver, curve, source)
    participation = data.get("participation")
    return Scenario(
        participants=n,
        types=tuple(types),
        accuracy=accuracy,
        valuation=valuation,
        solver=solver,
        source=source,
        curve=curve,
        participation=_participation(participation, n, source),
        unit_wei=_unit_wei(valuation_table, source),
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the TOML scenario at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ScenarioError(f"{p}: no such scenario file", hint="check the path") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{p}: cannot read ({error})", hint="pass a UTF-8 TOML file") from error
    return parse_scenario(text, source=str(p))


def canonical_bytes(scenario: Scenario) -> bytes:
    """Deterministic encoding of the validated scenario: compact sorted-key JSON, UTF-8."""
    valuation = scenario.valuation.params()
    if scenario.unit_wei is not None:
        valuation["unit_wei"] = scenario.unit_wei
    document: dict[str, object] = {
        "format": CANONICAL_FORMAT,
        "participants": scenario.participants,
        "types": [{"cost": t.cost, "probability": t.probability} for t in scenario.types],
        "accuracy": {**scenario.accuracy.params(), **scenario.curve.params()},
        "valuation": valuation,
        "solver": scenario.solver.params(),
    }
    if scenario.participation is not None:
        document["participation"] = scenario.participation.params()
    return json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def scenario_sha256(scenario: Scenario) -> str:
    """Hex sha256 of :func:`canonical_bytes` (64 lowercase hex digits; bytes32 on chain)."""
    return hashlib.sha256(canonical_bytes(scenario)).hexdigest()

"""The menu (contract) the optimizer produces, and its JSON format.

JSON field names are consumed by the contract deployer, the wallet scripts and the auditor; keep
them. Per option: ``type`` (1-based), ``cost``, ``probability``, ``served``, ``m``, ``t``,
``t_bar``, ``ratio`` (= t / t_bar), ``reservation_utility``, ``utility`` (= t - cost * m). Top
level: ``expected_accuracy``, ``expected_value``, ``upper_bound`` (on expected accuracy),
``belief``, ``expectation``, ``scenario_sha256``, ``solve_seconds``, ``serve``, ``method``,
``integer``, ``participants``, ``accuracy_ci`` (or null), ``certification``, ``benchmarks``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from modelpact.errors import ModelpactError

__all__ = [
    "MENU_FORMAT",
    "Benchmarks",
    "Menu",
    "MenuError",
    "MenuOption",
    "menu_from_json",
    "menu_to_json",
    "read_menu_json",
    "write_menu_json",
]

MENU_FORMAT = "modelpact-menu/1"


class MenuError(ModelpactError, ValueError):
    """A menu file is malformed or does not match its scenario."""


@dataclass(frozen=True)
class MenuOption:
    """One row of the menu: what type ``type`` contributes (m) and the model value it gets (t)."""

    type: int
    cost: float
    probability: float
    served: bool
    m: float
    t: float
    t_bar: float
    ratio: float
    reservation_utility: float
    utility: float


@dataclass(frozen=True)
class Benchmarks:
    """What the menu is compared with (expected accuracy of the collective model, and values).

    ``complete_information``: the no-IC benchmark, the same menu problem under the same belief
    without the IC constraints (the JSON field keeps its old name). It is not the paper's
    complete-information contract, which is solved outcome by outcome with the types observed
    (:mod:`modelpact.studies.complete`).
    ``no_collaboration``: each participant trains alone on its reservation data (accuracy of the
    model a random participant ends up with), utilities = reservation utilities.
    """

    complete_information_accuracy: float
    complete_information_value: float
    no_collaboration_accuracy: float
    no_collaboration_value: float


@dataclass(frozen=True)
class Menu:
    """A solved contract: options in type order (type 1 = highest cost) plus solve metadata."""

    options: tuple[MenuOption, ...]
    expected_accuracy: float
    expected_value: float
    upper_bound: float
    belief: str
    expectation: str
    scenario_sha256: str
    solve_seconds: float
    participants: int
    serve: str = "all"
    method: str = "all types served"
    integer: bool = False
    accuracy_ci: tuple[float, float] | None = None
    certification: str = ""
    benchmarks: Benchmarks | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def offered(self) -> tuple[MenuOption, ...]:
        """The served options, in order: what the chain publishes (option id = index here)."""
        return tuple(o for o in self.options if o.served)

    @property
    def gap(self) -> float:
        """upper_bound - expected_accuracy (>= 0 up to rounding for a certified solve)."""
        return self.upper_bound - self.expected_accuracy


def menu_to_json(menu: Menu) -> dict[str, Any]:
    """The JSON document of ``menu`` (plain dict, field names as in the module doc)."""
    document: dict[str, Any] = {
        "format": MENU_FORMAT,
        "participants": menu.participants,
        "options": [asdict(o) for o in menu.options],
        "expected_accuracy": menu.expected_accuracy,
        "expected_value": menu.expected_value,
        "upper_bound": menu.upper_bound,
        "belief": menu.belief,
        "expectation": menu.expectation,
        "scenario_sha256": menu.scenario_sha256,
        "solve_seconds": menu.solve_seconds,
        "serve": menu.serve,
        "method": menu.method,
        "integer": menu.integer,
        "accuracy_ci": list(menu.accuracy_ci) if menu.accuracy_ci is not None else None,
        "certification": menu.certification,
        "benchmarks": {  # a benchmark that could not be computed is null
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(menu.benchmarks).items()
        }
        if menu.benchmarks is not None
        else None,
    }
    if menu.extra:
        document["extra"] = menu.extra
    return document


def _get(document: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in document:
        raise MenuError(f"{where}: missing field {key!r}", hint="write menus with write_menu_json")
    value = document[key]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise MenuError(f"{where}: field {key!r} must be a number", hint="fix the menu file")
    if not isinstance(value, kind):
        raise MenuError(f"{where}: field {key!r} has the wrong type", hint="fix the menu file")
    return value


# What a required field accepts in JSON and how it is converted, by its declared annotation:
# options and menus are read from their own dataclass fields, so the two stay in step.
_JSON_KINDS: dict[str, tuple[type | tuple[type, ...], Callable[[Any], Any]]] = {
    "int": (int, int),
    "float": ((int, float), float),
    "bool": (bool, bool),
    "str": (str, str),
}


def _required_fields(
    cls: type[MenuOption] | type[Menu],
    document: dict[str, Any],
    where: str,
    *,
    skip: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Every field of ``cls`` without a default (but ``skip``, parsed by the caller), read
    strictly from ``document`` in declaration order, so the first bad field is the one
    reported."""
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in skip or f.default is not MISSING or f.default_factory is not MISSING:
            continue
        kind, convert = _JSON_KINDS[str(f.type)]
        out[f.name] = convert(_get(document, f.name, kind, where))
    return out


def menu_from_json(document: dict[str, Any], *, source: str = "<menu>") -> Menu:
    """Parse a document produced by :func:`menu_to_json` (strict about the documented fields)."""
    if not isinstance(document, dict):
        raise MenuError(
            f"{source}: a menu must be a JSON object", hint="write it with write_menu_json"
        )
    options = []
    raw_options = _get(document, "options", list, source)
    for index, raw in enumerate(raw_options):
        where = f"{source}: options[{index}]"
        if not isinstance(raw, dict):
            raise MenuError(f"{where} must be an object", hint="fix the menu file")
        options.append(MenuOption(**_required_fields(MenuOption, raw, where)))
    ci = document.get("accuracy_ci")
    bench = document.get("benchmarks")
    return Menu(
        options=tuple(options),
        **_required_fields(Menu, document, source, skip=("options",)),
        serve=str(document.get("serve", "all")),
        method=str(document.get("method", "")),
        integer=bool(document.get("integer", False)),
        accuracy_ci=(float(ci[0]), float(ci[1])) if isinstance(ci, list) and len(ci) == 2 else None,
        certification=str(document.get("certification", "")),
        benchmarks=Benchmarks(**{k: math.nan if v is None else float(v) for k, v in bench.items()})
        if isinstance(bench, dict)
        else None,
        extra=_extra(document.get("extra", {}), source),
    )


def _extra(value: object, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MenuError(
            f"{source}: extra must be an object, got {type(value).__name__}",
            hint="write extra as a JSON object or leave it out",
        )
    return dict(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise MenuError("a menu value is not finite", hint="re-solve the scenario")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def write_menu_json(menu: Menu, path: str | Path) -> None:
    """Write ``menu`` to ``path`` as indented JSON (UTF-8, trailing newline)."""
    text = json.dumps(_finite(menu_to_json(menu)), indent=2, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def read_menu_json(path: str | Path) -> Menu:
    """Read a menu written by :func:`write_menu_json`."""
    p = Path(path)
    try:
        document = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise MenuError(f"{p}: no such menu file", hint="check the path") from error
    except (OSError, ValueError) as error:
        raise MenuError(
            f"{p}: not a JSON menu ({error})", hint="write it with write_menu_json"
        ) from error
    return menu_from_json(document, source=str(p))

"""Menu JSON format: field names, round trip, strict reading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelpact.menu import (
    Benchmarks,
    Menu,
    MenuError,
    MenuOption,
    menu_to_json,
    read_menu_json,
    write_menu_json,
)

OPTION_FIELDS = {
    "type",
    "cost",
    "probability",
    "served",
    "m",
    "t",
    "t_bar",
    "ratio",
    "reservation_utility",
    "utility",
}
TOP_FIELDS = {
    "expected_accuracy",
    "expected_value",
    "upper_bound",
    "belief",
    "expectation",
    "scenario_sha256",
    "solve_seconds",
}


def _menu() -> Menu:
    options = (
        MenuOption(1, 0.2, 0.5, True, 391.5, 85.1, 86.4, 85.1 / 86.4, 6.77, 6.8),
        MenuOption(2, 0.1, 0.5, False, 0.0, 0.0, 86.5, 0.0, 13.1, 0.0),
    )
    return Menu(
        options=options,
        expected_accuracy=0.86,
        expected_value=86.0,
        upper_bound=0.8600001,
        belief="bayes",
        expectation="exact",
        scenario_sha256="ab" * 32,
        solve_seconds=0.1,
        participants=10,
        accuracy_ci=(0.85, 0.87),
        benchmarks=Benchmarks(0.89, 89.0, 0.47, 47.0),
    )


def test_json_uses_issue_field_names() -> None:
    """Every option and top-level field name required by issue 2 is present."""
    doc = menu_to_json(_menu())
    assert set(doc) >= TOP_FIELDS
    assert all(set(o) == OPTION_FIELDS for o in doc["options"])


def test_round_trip(tmp_path: Path) -> None:
    """write_menu_json then read_menu_json gives back an equal menu."""
    path = tmp_path / "menu.json"
    write_menu_json(_menu(), path)
    assert read_menu_json(path) == _menu()
    assert read_menu_json(path).offered == (_menu().options[0],)


def test_missing_field_is_named(tmp_path: Path) -> None:
    """A menu file without a required field fails with MenuError naming the field."""
    doc = menu_to_json(_menu())
    del doc["options"][1]["t_bar"]
    path = tmp_path / "menu.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(MenuError, match="t_bar"):
        read_menu_json(path)


def test_not_json_is_a_menu_error(tmp_path: Path) -> None:
    """Garbage and missing files are MenuErrors, not tracebacks."""
    path = tmp_path / "menu.json"
    path.write_text("{not json")
    with pytest.raises(MenuError, match="not a JSON menu"):
        read_menu_json(path)
    with pytest.raises(MenuError, match="no such menu file"):
        read_menu_json(tmp_path / "missing.json")


def test_missing_benchmark_is_null(tmp_path: Path) -> None:
    """A benchmark that could not be computed (NaN) is written as null and read back as NaN."""
    import math
    from dataclasses import replace

    menu = replace(_menu(), benchmarks=Benchmarks(math.nan, math.nan, 0.47, 47.0))
    path = tmp_path / "menu.json"
    write_menu_json(menu, path)
    assert json.loads(path.read_text())["benchmarks"]["complete_information_accuracy"] is None
    back = read_menu_json(path)
    assert back.benchmarks is not None
    assert math.isnan(back.benchmarks.complete_information_accuracy)


def test_menu_extra_that_is_not_an_object_is_a_menu_error(tmp_path: Path) -> None:
    """A menu file whose `extra` is not a JSON object is refused as a MenuError (one line for
    the CLI), never a TypeError traceback."""
    doc = menu_to_json(_menu())
    doc["extra"] = True
    path = tmp_path / "menu.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(MenuError, match="extra must be an object"):
        read_menu_json(path)

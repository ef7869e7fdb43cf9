"""Scenario parsing, validation and canonical hashing."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpact.economics import PowerAccuracy, SgbAccuracy, TableAccuracy
from modelpact.errors import ScenarioError
from modelpact.scenario import canonical_bytes, load_scenario, parse_scenario, scenario_sha256

SCENARIOS = Path(__file__).resolve().parents[2] / "offchain" / "modelpact" / "data" / "scenarios"

GOOD = """
participants = 10
[[types]]
cost = 0.2
probability = 0.5
[[types]]
cost = 0.1
probability = 0.5
[accuracy]
kind = "sgb"
a_opt = 1.0
k = 1.0
[valuation]
kind = "linear"
scale = 100.0
[solver]
belief = "paper"
expectation = "sampled"
samples = 5000
seed = 3
serve = "optimal"
"""


def test_issue_shape_parses() -> None:
    """The exact TOML shape of issue 2 parses into the validated values."""
    s = parse_scenario(GOOD)
    assert s.participants == 10
    assert s.costs.tolist() == [0.2, 0.1]
    assert isinstance(s.accuracy, SgbAccuracy)
    assert s.solver.belief == "paper"
    assert s.solver.expectation == "sampled"
    assert s.solver.samples == 5000
    assert s.solver.serve == "optimal"


def test_shipped_paper_scenarios_load() -> None:
    """Both shipped paper scenarios load and have five types with decreasing costs."""
    for name in ("paper_case1.toml", "paper_case2.toml"):
        s = load_scenario(SCENARIOS / name)
        assert s.n_types == 5
        assert all(a > b for a, b in zip(s.costs, s.costs[1:], strict=False))


def test_power_and_table_kinds() -> None:
    """power and table accuracy kinds build the matching curve objects."""
    power = GOOD.replace(
        'kind = "sgb"\na_opt = 1.0\nk = 1.0', 'kind = "power"\na_max = 0.9\nb = 5.0\nalpha = 0.5'
    )
    assert isinstance(parse_scenario(power).accuracy, PowerAccuracy)
    table = GOOD.replace(
        'kind = "sgb"\na_opt = 1.0\nk = 1.0',
        'kind = "table"\ndata = [50, 100]\naccuracy = [0.3, 0.5]',
    )
    assert isinstance(parse_scenario(table).accuracy, TableAccuracy)


def test_hash_ignores_formatting_but_not_values() -> None:
    """The hash ignores comments, key order and number spelling; values change it."""
    a = parse_scenario(GOOD)
    b = parse_scenario("# comment\n" + GOOD.replace("cost = 0.2", "cost = 2e-1"))
    assert canonical_bytes(a) == canonical_bytes(b)
    assert scenario_sha256(a) == scenario_sha256(b)
    assert len(scenario_sha256(a)) == 64
    c = parse_scenario(GOOD.replace("participants = 10", "participants = 11"))
    assert scenario_sha256(c) != scenario_sha256(a)


def test_hash_golden_value() -> None:
    """The paper case 1 hash is pinned: the chain stores it, so the encoding must not drift."""
    s = load_scenario(SCENARIOS / "paper_case1.toml")
    assert canonical_bytes(s).startswith(b'{"accuracy":{"a_opt":1.0,"k":1.0,"kind":"sgb"}')
    assert scenario_sha256(s) == GOLDEN_CASE1


GOLDEN_CASE1 = "75e0a42cac12eae7345bbc604707d5484d453705408ac40f6be78c4aaed44765"


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda t: t.replace("participants = 10\n", ""), "missing field participants"),
        (lambda t: t.replace("cost = 0.1", "cost = 0.3"), "strictly decreasing"),
        (
            lambda t: t.replace("probability = 0.5\n[[types]]", "probability = 0.6\n[[types]]"),
            "sum to",
        ),
        (lambda t: t.replace("cost = 0.1", "cost = -0.1"), "must be > 0"),
        (lambda t: t.replace('kind = "sgb"', 'kind = "cubic"'), "unknown accuracy kind"),
        (lambda t: t.replace('belief = "paper"', 'belief = "naive"'), "solver.belief"),
        (lambda t: t.replace("[accuracy]", "[accuracyy]"), "unknown field"),
        (lambda t: t.replace("scale = 100.0", "scale = 0"), "valuation.scale"),
        (lambda t: t.replace('serve = "optimal"', "serve = [1, 7]"), "outside 1..2"),
        (lambda t: t + "\n[[[", "not valid TOML"),
    ],
)
def test_bad_scenarios_give_one_specific_line(edit, needle: str) -> None:
    """Each malformed scenario raises ScenarioError naming the problem, on one line, with a hint."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(edit(GOOD), source="bad.toml")
    line = info.value.one_line()
    assert needle in line
    assert "\n" not in line
    assert line.startswith("bad.toml")
    assert info.value.hint


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    """A missing file is a ScenarioError (and a FileNotFoundError-free message), not a traceback."""
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")


def test_every_shipped_example_scenario_parses() -> None:
    """Every scenario file shipped in data/scenarios parses (the examples stay valid)."""
    paths = sorted(SCENARIOS.glob("*.toml"))
    assert len(paths) >= 4
    for path in paths:
        assert load_scenario(path).n_types >= 1

"""The grid engine: grid files, parameters, resumable JSON Lines sweeps, local and Dask runs."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest

from modelpact.errors import ModelpactError
from modelpact.studies.grid import GridError, Workers, build_scenario, load_grid, run_grid
from modelpact.studies.paper import base_document
from modelpact.studies.sweep import read_rows, sweep

DATA = Path(__file__).resolve().parents[2] / "offchain" / "modelpact" / "data"
BASE = DATA / "scenarios" / "paper_two_type.toml"


def write_grid(tmp_path: Path, sweep_table: str, extra: str = "") -> Path:
    path = tmp_path / "grid.toml"
    shutil.copy(BASE, tmp_path / "base.toml")
    path.write_text(f'scenario = "base.toml"\n{extra}\n[sweep]\n{sweep_table}\n')
    return path


def test_grid_expands_ranges_and_orders_points(tmp_path: Path) -> None:
    """range and linspace expand like Python's range and numpy's linspace; points are numbered
    beliefs outermost, then parameters in file order (first slowest)."""
    path = write_grid(
        tmp_path,
        "participants = { range = [2, 7, 2] }\np1 = { linspace = [0.2, 0.8, 3] }",
        'beliefs = ["paper", "bayes"]',
    )
    spec = load_grid(path)
    assert spec.parameters[0] == ("participants", (2, 4, 6))
    assert spec.parameters[1][1] == pytest.approx((0.2, 0.5, 0.8))
    points = spec.points()
    assert spec.size == len(points) == 18
    assert [p.belief for p in points[:9]] == ["paper"] * 9
    assert [(p.params["participants"], p.params["p1"]) for p in points[:2]] == [(2, 0.2), (2, 0.5)]
    assert [p.index for p in points] == list(range(18))


def test_dotted_parameter_names_need_no_quotes(tmp_path: Path) -> None:
    """TOML reads ``accuracy.k = [...]`` and ``types.2.cost = [...]`` in [sweep] as nested
    tables; they name the same parameters (and the same grid) as the quoted keys."""
    bare = load_grid(write_grid(tmp_path, "accuracy.k = [1.0, 2.0]\ntypes.2.cost = [0.005]"))
    quoted = load_grid(write_grid(tmp_path, '"accuracy.k" = [1.0, 2.0]\n"types.2.cost" = [0.005]'))
    assert bare.parameters == (("accuracy.k", (1.0, 2.0)), ("types.2.cost", (0.005,)))
    assert bare.sha256() == quoted.sha256()


def test_shipped_example_grid_loads() -> None:
    """The example grid shipped with the package names its base scenario relatively and has
    3 N x 5 p1 x 2 beliefs = 30 points."""
    spec = load_grid(DATA / "grids" / "two_type_small.toml")
    assert spec.size == 30
    assert spec.beliefs == ("paper", "bayes")


def test_p1_rescales_the_other_types_and_named_fields_apply() -> None:
    """p1 sets type 1's probability and rescales the others; types.<i>.cost, accuracy.<f> and
    participants land in the scenario that is solved."""
    scenario = build_scenario(
        base_document(),
        {"participants": 4, "p1": 0.3, "types.2.cost": 0.005, "accuracy.k": 2.0},
        source="t",
    )
    assert scenario.participants == 4
    assert scenario.probabilities.tolist() == pytest.approx([0.3, 0.7])
    assert scenario.costs.tolist() == [0.02, 0.005]
    assert scenario.accuracy.params()["k"] == 2.0


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("alpha = [1, 2]", "unknown sweep parameter 'alpha'"),
        ('"types.3.cost" = [0.1]', "names a type outside 1..2"),
        ('"accuracy.wrong" = [1.0]', "unknown field accuracy.wrong"),
        ("p1 = [nan]", "non-finite value nan"),
        ("participants = [inf]", "non-finite value inf"),
        ("p1 = [1.5]", "sweep.p1 values must be in (0, 1)"),
        ('"solver.belief" = ["paper"]', "use beliefs = [...]"),
        ("participants = []", "sweep.participants has no values"),
        ("participants = { range = [2, 10] }", "takes three numbers"),
        ("costs = [[0.01, 0.02]]", "strictly decreasing"),
        ("participants = { range = [2, 2000000002, 1] }", "2,000,000,000 points, more than"),
        ("p1 = { linspace = [0.1, 0.9, 5000000] }", "sweep.p1 has 5,000,000 points"),
        (
            "participants = { range = [2, 2002, 1] }\np1 = { linspace = [0.1, 0.9, 1000] }",
            "the grid has 2,000,000 points",
        ),
        ("accuracy.wrong = [1.0]", "unknown field accuracy.wrong"),
    ],
)
def test_bad_parameters_fail_before_any_work(tmp_path: Path, table: str, expected: str) -> None:
    """Every bad parameter or value is refused when the grid is loaded, naming the problem."""
    with pytest.raises(ModelpactError) as caught:
        load_grid(write_grid(tmp_path, table))
    assert expected in caught.value.one_line()


def test_resumed_sweep_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    """A sweep file cut after two rows plus half of a third (a crash mid-write) resumes into the
    same rows as an uninterrupted run: the torn line is dropped, finished rows are kept and not
    solved again, the missing ones are appended."""
    spec = load_grid(write_grid(tmp_path, "participants = [2, 3]\np1 = [0.3, 0.7]"))
    whole = tmp_path / "whole.jsonl"
    first = sweep(spec=spec, out=whole)
    assert (first.solved, first.resumed, first.failed) == (4, 0, 0)
    lines = whole.read_bytes().split(b"\n")
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"\n".join(lines[:3]) + b"\n" + lines[3][: len(lines[3]) // 2])
    resumed = sweep(spec=spec, out=cut)
    assert (resumed.resumed, resumed.solved) == (2, 2)
    assert read_rows(cut) == read_rows(whole)
    again = sweep(spec=spec, out=cut)
    assert (again.resumed, again.solved) == (4, 0)


def test_sweep_refuses_the_file_of_another_grid(tmp_path: Path) -> None:
    """Resuming into a file written for a different grid is refused (use --restart)."""
    out = tmp_path / "rows.jsonl"
    sweep(spec=load_grid(write_grid(tmp_path, "participants = [2]")), out=out)
    other = load_grid(write_grid(tmp_path, "participants = [3]"))
    with pytest.raises(GridError, match="rows of another grid"):
        sweep(spec=other, out=out)
    assert sweep(spec=other, out=out, restart=True).solved == 1


def test_a_bad_combination_is_a_failed_row(tmp_path: Path) -> None:
    """Values valid one by one but not together (c_1 = 0.015 < c_2 = 0.018) give a failed row
    with the scenario's message, and the row is strict JSON (nulls, no NaN)."""
    spec = load_grid(write_grid(tmp_path, '"types.1.cost" = [0.015]\n"types.2.cost" = [0.018]'))
    rows = run_grid(spec=spec)
    assert rows[0].status == "failed"
    assert "strictly decreasing" in rows[0].message
    row = rows[0].to_row()
    assert row["expected_value"] is None
    json.dumps(row, allow_nan=False)


def test_dask_local_cluster_gives_the_same_rows() -> None:
    """The same grid on a Dask LocalCluster (two worker processes) gives exactly the rows of the
    in-process run."""
    distributed = pytest.importorskip("distributed")
    spec = load_grid(DATA / "grids" / "two_type_small.toml")
    small = type(spec)(
        base=spec.base,
        parameters=(("participants", (2, 10)), ("p1", (0.3, 0.7))),
        beliefs=spec.beliefs,
        source=spec.source,
    )
    local = [r.to_row() for r in run_grid(spec=small)]
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = [r.to_row() for r in run_grid(spec=small, scheduler=cluster.scheduler_address)]
    assert remote == local
    assert all(math.isfinite(r["information_cost"]) for r in remote)


def test_sweep_refuses_a_row_outside_the_grid(tmp_path: Path) -> None:
    """A row whose index is not a point of this grid (a hand-edited or merged file) is refused
    instead of being counted as done."""
    spec = load_grid(write_grid(tmp_path, "participants = [2]"))
    out = tmp_path / "rows.jsonl"
    sweep(spec=spec, out=out)
    with out.open("a") as handle:
        handle.write(json.dumps({"index": 7}) + "\n")
    with pytest.raises(GridError, match=r"index 7, outside this grid's 0\.\.0"):
        sweep(spec=spec, out=out)


def test_a_killed_worker_is_a_grid_error_not_a_traceback() -> None:
    """A worker process that dies abruptly (here it exits mid-job, as under the OOM killer)
    surfaces as one GridError saying what happened and to run again, not BrokenProcessPool."""
    with Workers(workers=2) as pool, pytest.raises(GridError, match="ended abruptly"):
        list(pool.unordered(os._exit, [(1,), (1,)]))

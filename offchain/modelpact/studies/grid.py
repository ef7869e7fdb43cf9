"""The grid engine: a base scenario, parameters to sweep, every combination solved in parallel.

A grid file (TOML)::

    scenario = "two_type.toml"        # base scenario, relative to this file (or an inline table)
    beliefs = ["paper", "bayes"]      # optional; default: the base scenario's solver.belief
    [sweep]                           # first parameter varies slowest
    participants = { range = [2, 101, 2] }        # ints: start, stop (exclusive), step
    p1 = { linspace = [0.01, 0.99, 30] }          # start, stop, count
    # or a plain list: "types.2.cost" = [0.01, 0.005]

Parameters: ``participants``; ``p1`` (probability of type 1, the other types rescaled to keep
their proportions); ``probabilities`` and ``costs`` (whole vectors); ``types.<i>.cost`` and
``types.<i>.probability`` (1-based); ``accuracy.<field>``, ``valuation.<field>``;
``solver.<field>`` except the belief (use ``beliefs``). Each value is checked against the base
scenario before any work starts; a combination the scenario rules reject becomes a failed row.

Points are numbered beliefs-outermost then parameters in file order; the runner hands
consecutive points to workers in chunks (so a chunk often shares N and its cached
complete-information roots) through a process pool or a Dask distributed cluster.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import sys
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import numpy as np

from modelpact.errors import ModelpactError
from modelpact.scenario import Scenario, scenario_from_document, scenario_sha256
from modelpact.studies.point import ParamValue, PointResult, solve_point

__all__ = [
    "GridError",
    "GridPoint",
    "GridSpec",
    "Workers",
    "build_scenario",
    "grid_from_document",
    "load_grid",
    "run_grid",
]

Belief = Literal["bayes", "paper"]
_T = TypeVar("_T")
Progress = Callable[[int, int], None]
GRID_FORMAT = "modelpact-grid/1"
_TOP_LEVEL = {"scenario", "beliefs", "sweep", "name", "description"}
_SOLVER_FIELDS = {"expectation", "samples", "seed", "confidence", "serve"}


class GridError(ModelpactError, ValueError):
    """A grid file, a sweep parameter or a study's output file or directory is unusable."""


@dataclass(frozen=True)
class GridPoint:
    """One combination: its position, the swept values and the belief it is solved under."""

    index: int
    params: Mapping[str, ParamValue]
    belief: Belief


@dataclass(frozen=True)
class GridSpec:
    """A validated grid: base scenario document, ordered parameters and their values, beliefs."""

    base: Mapping[str, Any]
    parameters: tuple[tuple[str, tuple[ParamValue, ...]], ...]
    beliefs: tuple[Belief, ...]
    source: str = "<grid>"

    @property
    def size(self) -> int:
        """Number of grid points."""
        return len(self.beliefs) * math.prod(len(v) for _, v in self.parameters)

    def points(self) -> tuple[GridPoint, ...]:
        """Every point, in index order (beliefs outermost, then parameters in order)."""
        names = [name for name, _ in self.parameters]
        combos = list(itertools.product(*(values for _, values in self.parameters)))
        return tuple(
            GridPoint(index=i, params=dict(zip(names, combo, strict=True)), belief=belief)
            for i, (belief, combo) in enumerate(itertools.product(self.beliefs, combos))
        )

    def sha256(self) -> str:
        """Identity of the grid (base scenario, parameters, values, beliefs) for resuming."""
        document = {
            "format": GRID_FORMAT,
            "base": scenario_sha256(build_scenario(self.base, {}, source=self.source)),
            "parameters": [[name, list(values)] for name, values in self.parameters],
            "beliefs": list(self.beliefs),
        }
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()


def _fail(source: str, what: str, hint: str) -> GridError:
    return GridError(f"{source}: {what}", hint=hint)


def _type_index(name: str, document: Mapping[str, Any], source: str) -> int:
    parts = name.split(".")
    count = len(document.get("types", []))
    if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in ("cost", "probability"):
        raise _fail(source, f"unknown sweep parameter {name!r}", "e.g. types.1.cost")
    index = int(parts[1])
    if not 1 <= index <= count:
        raise _fail(
            source, f"sweep parameter {name!r} names a type outside 1..{count}", "1-based types"
        )
    return index - 1


def _set_vector(doc: dict[str, Any], key: str, value: ParamValue, name: str, source: str) -> None:
    types = doc["types"]
    if not isinstance(value, list) or len(value) != len(types):
        raise _fail(
            source, f"sweep.{name} values must be lists of {len(types)} numbers", "one per type"
        )
    for entry, number in zip(types, value, strict=True):
        entry[key] = number


def _set_p1(doc: dict[str, Any], value: ParamValue, source: str) -> None:
    types = doc["types"]
    if len(types) < 2:
        raise _fail(source, "sweep.p1 needs at least two types", "sweep probabilities instead")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 < value < 1.0:
        raise _fail(source, f"sweep.p1 values must be in (0, 1), got {value!r}", "e.g. 0.5")
    rest = math.fsum(float(t.get("probability", 0.0)) for t in types[1:])
    if rest <= 0.0:
        raise _fail(source, "the base scenario's types 2.. have no probability", "fix the base")
    scale = (1.0 - float(value)) / rest
    types[0]["probability"] = float(value)
    for entry in types[1:]:
        entry["probability"] = float(entry["probability"]) * scale


def _apply(doc: dict[str, Any], name: str, value: ParamValue, source: str) -> None:
    """Set parameter ``name`` to ``value`` in the scenario document ``doc`` (in place)."""
    head = name.split(".", 1)[0]
    if name == "participants":
        doc["participants"] = value
    elif name == "p1":
        _set_p1(doc, value, source)
    elif name in ("costs", "probabilities"):
        _set_vector(doc, "cost" if name == "costs" else "probability", value, name, source)
    elif head == "types":
        doc["types"][_type_index(name, doc, source)][name.rsplit(".", 1)[1]] = value
    elif head in ("accuracy", "valuation") and name.count(".") == 1:
        doc.setdefault(head, {})[name.split(".")[1]] = value
    elif head == "solver" and name.count(".") == 1 and name.split(".")[1] in _SOLVER_FIELDS:
        doc.setdefault("solver", {})[name.split(".")[1]] = value
    elif name == "solver.belief":
        raise _fail(source, "sweep.solver.belief is not a parameter", "use beliefs = [...]")
    else:
        raise _fail(
            source,
            f"unknown sweep parameter {name!r}",
            "use participants, p1, costs, probabilities, types.<i>.cost|probability, "
            "accuracy.<field>, valuation.<field> or solver.<field>",
        )


def build_scenario(
    base: Mapping[str, Any], params: Mapping[str, ParamValue], *, source: str
) -> Scenario:
    """The base scenario document with ``params`` applied, validated into a :class:`Scenario`."""
    doc = copy.deepcopy(dict(base))
    doc.setdefault("types", [])
    for name, value in params.items():
        _apply(doc, name, value, source)
    where = f"{source} [{', '.join(f'{k}={v!r}' for k, v in params.items())}]" if params else source
    return scenario_from_document(doc, source=where)


def _finite(value: object, name: str, source: str) -> ParamValue:
    if isinstance(value, bool):
        raise _fail(source, f"sweep.{name} has a boolean value", "use numbers or strings")
    if isinstance(value, int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(
                source, f"sweep.{name} has a non-finite value {value!r}", "use finite numbers"
            )
        return value
    if isinstance(value, list):
        return [cast(float, _finite(v, name, source)) for v in value]
    raise _fail(source, f"sweep.{name} has an unusable value {value!r}", "numbers or strings")


MAX_POINTS = 1_000_000  # a grid is held in memory and validated value by value before work


def _check_size(count: int, what: str, source: str) -> None:
    """Refuse a grid too large to hold, before building it (a typo in a range could ask for
    billions of points and exhaust memory with no message)."""
    if count > MAX_POINTS:
        raise _fail(
            source,
            f"{what} has {count:,} points, more than {MAX_POINTS:,}",
            "check the range, or split the grid into several files (each resumes on its own)",
        )


def _expand(name: str, raw: object, source: str) -> tuple[ParamValue, ...]:
    """The values of one parameter: a list, {range = [start, stop, step]} or {linspace = ...}."""
    if isinstance(raw, dict):
        if len(raw) != 1 or next(iter(raw)) not in ("range", "linspace"):
            raise _fail(
                source,
                f"sweep.{name} must be a list, {{range = [...]}} or {{linspace = [...]}}",
                "e.g. p1 = { linspace = [0.01, 0.99, 30] }",
            )
        kind, args = next(iter(raw.items()))
        nums = _finite(args, name, source)
        if not isinstance(nums, list) or len(nums) != 3:
            raise _fail(source, f"sweep.{name}.{kind} takes three numbers", f"{kind} = [a, b, c]")
        if kind == "range":
            if not all(isinstance(v, int) for v in nums) or nums[2] == 0:
                raise _fail(source, f"sweep.{name}.range takes integers, step != 0", "[2, 101, 2]")
            span = range(int(nums[0]), int(nums[1]), int(nums[2]))
            _check_size(len(span), f"sweep.{name}", source)
            values: list[ParamValue] = list(span)
        else:
            if not isinstance(nums[2], int) or nums[2] < 1:
                raise _fail(source, f"sweep.{name}.linspace count must be an integer >= 1", "30")
            _check_size(int(nums[2]), f"sweep.{name}", source)
            values = [float(v) for v in np.linspace(nums[0], nums[1], int(nums[2]))]
    elif isinstance(raw, list):
        values = [_finite(v, name, source) for v in raw]
    else:
        values = [_finite(raw, name, source)]
    if not values:
        raise _fail(source, f"sweep.{name} has no values", "give at least one value")
    return tuple(values)


def _beliefs(raw: object, default: Belief, source: str) -> tuple[Belief, ...]:
    items = [raw] if isinstance(raw, str) else raw if raw is not None else [default]
    if not isinstance(items, list) or not items or any(b not in ("paper", "bayes") for b in items):
        raise _fail(source, f"beliefs must be paper and/or bayes, got {raw!r}", 'e.g. ["paper"]')
    return tuple(dict.fromkeys(cast(list[Belief], items)))


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, object]]:
    """Parameter names and raw values; TOML reads an unquoted ``accuracy.k = [...]`` as a nested
    table, which names the same parameter as the quoted ``"accuracy.k" = [...]``."""
    for key, value in table.items():
        if isinstance(value, dict) and value and not {"range", "linspace"} & set(value):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def grid_from_document(
    document: Mapping[str, Any], *, base: Mapping[str, Any], source: str
) -> GridSpec:
    """Validate a parsed grid document whose base scenario document is ``base``."""
    extra = sorted(set(document) - _TOP_LEVEL)
    if extra:
        raise _fail(
            source, f"unknown field {extra[0]}", f"allowed: {', '.join(sorted(_TOP_LEVEL))}"
        )
    sweep = document.get("sweep", {})
    if not isinstance(sweep, dict):
        raise _fail(source, "sweep must be a table", "write it as [sweep]")
    parameters = tuple((name, _expand(name, raw, source)) for name, raw in _flatten(sweep))
    _check_size(math.prod(len(values) for _, values in parameters), "the grid", source)
    base_scenario = build_scenario(base, {}, source=source)
    beliefs = _beliefs(document.get("beliefs"), base_scenario.solver.belief, source)
    for name, values in parameters:  # each value alone on the base: typos fail before any work
        for value in values:
            build_scenario(base, {name: value}, source=source)
    return GridSpec(base=dict(base), parameters=parameters, beliefs=beliefs, source=source)


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise GridError(f"{path}: no such {what} file", hint="check the path") from error
    except (OSError, UnicodeDecodeError) as error:
        raise GridError(f"{path}: cannot read ({error})", hint="pass a UTF-8 TOML file") from error
    except tomllib.TOMLDecodeError as error:
        raise GridError(f"{path}: not valid TOML ({error})", hint="fix the TOML syntax") from error


def load_grid(path: str | Path) -> GridSpec:
    """Read and validate the grid file at ``path`` (and the base scenario it names)."""
    p = Path(path)
    document = _read_toml(p, "grid")
    raw = document.get("scenario")
    if isinstance(raw, str):
        base = _read_toml(p.parent / raw, "scenario")
    elif isinstance(raw, dict):
        base = raw
    elif raw is None:
        raise _fail(str(p), "missing scenario", 'add scenario = "base.toml" or a [scenario] table')
    else:
        raise _fail(
            str(p),
            f"scenario must be a file name or a table, got {raw!r}",
            'e.g. scenario = "base.toml"',
        )
    return grid_from_document(document, base=base, source=str(p))


# ------------------------------------------------------------------------------------------
# Running: chunks of points through a process pool or a Dask cluster
# ------------------------------------------------------------------------------------------


def _run_chunk(
    base: Mapping[str, Any], source: str, points: Sequence[GridPoint]
) -> list[PointResult]:
    """Solve consecutive points in one worker (a failed scenario is a failed row)."""
    results = []
    for point in points:
        try:
            scenario = build_scenario(base, point.params, source=source)
        except ModelpactError as error:
            results.append(
                PointResult(
                    index=point.index,
                    params=point.params,
                    belief=point.belief,
                    status="failed",
                    message=error.one_line(),
                )
            )
            continue
        results.append(
            solve_point(
                scenario=scenario, belief=point.belief, index=point.index, params=point.params
            )
        )
    return results


def _chunks(points: Sequence[GridPoint], workers: int) -> list[list[GridPoint]]:
    """Consecutive points in chunks of at most 8: few enough messages, yet a Ctrl-C (which
    lets running chunks finish) and the progress bar never wait on more than 8 solves."""
    size = max(1, min(8, math.ceil(len(points) / max(1, 8 * workers))))
    return [list(points[i : i + size]) for i in range(0, len(points), size)]


def _die_with_parent() -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (it stops the pool; a worker's own
    KeyboardInterrupt would only print a traceback), and on Linux the kernel ends this worker
    when the sweep process dies, so a killed sweep leaves no orphan solving points (a resumed
    run redoes them anyway)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def _dask_client(scheduler: str) -> Any:
    try:
        from distributed import Client
    except ImportError as error:
        raise GridError(
            "the Dask engine needs the optional 'cluster' dependencies",
            hint="pip install 'modelpact[cluster]' (dask and distributed)",
        ) from error
    try:
        return Client(scheduler, timeout="5s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        raise GridError(
            f"cannot reach the Dask scheduler at {scheduler} ({type(error).__name__})",
            hint="start one (`dask scheduler`) or run without --scheduler",
        ) from error


class Workers:
    """Where work runs: this process (``workers=1``), local worker processes, or the Dask
    cluster at ``scheduler``. A context manager; the processes start at the first job, so a
    fully resumed sweep starts none.

    Local workers are spawned, not forked: the caller may run threads (a progress bar) that a
    fork would copy mid-lock.
    """

    def __init__(self, *, workers: int = 1, scheduler: str | None = None) -> None:
        self.workers = workers
        self.scheduler = scheduler
        self._pool: ProcessPoolExecutor | None = None
        self._client: Any = None

    def __enter__(self) -> Workers:
        if self.scheduler is not None:
            self._client = _dask_client(self.scheduler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def unordered(
        self, function: Callable[..., _T], jobs: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, _T]]:
        """Run ``function(*job)`` for every job; yield (job position, result) as each ends."""
        if self._client is not None:
            from distributed import as_completed as dask_completed

            futures = [self._client.submit(function, *job, pure=False) for job in jobs]
            where = {future.key: i for i, future in enumerate(futures)}
            for future in dask_completed(futures):  # type: ignore[no-untyped-call]
                yield where[future.key], cast(_T, future.result())
            return
        if self.workers <= 1 or len(jobs) <= 1:
            for i, job in enumerate(jobs):
                yield i, function(*job)
            return
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_die_with_parent
            )
        pending = {self._pool.submit(function, *job): i for i, job in enumerate(jobs)}
        try:
            for future in as_completed(pending):
                try:
                    result = future.result()
                except BrokenProcessPool as error:  # a worker was killed (OOM killer, kill -9)
                    raise GridError(
                        "a worker process ended abruptly (killed, or out of memory)",
                        hint="run the same command again (a sweep resumes); fewer --workers "
                        "use less memory",
                    ) from error
                yield pending[future], result
        finally:
            for future in pending:
                future.cancel()


def run_grid(
    *,
    spec: GridSpec,
    workers: int = 1,
    scheduler: str | None = None,
    pool: Workers | None = None,
    skip: Iterable[int] = (),
    on_result: Callable[[PointResult], None] | None = None,
    progress: Progress | None = None,
    collect: bool = True,
) -> list[PointResult]:
    """Solve every point of ``spec`` not in ``skip``; results in index order (none when
    ``collect`` is False: a long sweep keeps only what ``on_result`` stores).

    Runs on ``pool`` if given, else on ``workers`` local processes (1: this process) or the
    Dask cluster at ``scheduler``. ``on_result`` sees each result as it arrives (completion
    order), ``progress(done, total)`` after each chunk, counting skipped points as done.
    """
    skipped = set(skip)
    todo = [p for p in spec.points() if p.index not in skipped]
    if pool is None:
        with Workers(workers=workers, scheduler=scheduler) as own:
            return run_grid(spec=spec, pool=own, skip=skipped, on_result=on_result,
                            progress=progress, collect=collect)  # fmt: skip
    total = spec.size
    done = total - len(todo)
    if progress is not None:
        progress(done, total)
    jobs = [(spec.base, spec.source, chunk) for chunk in _chunks(todo, pool.workers)]
    results: list[PointResult] = []
    for _, batch in pool.unordered(_run_chunk, jobs):
        for result in batch:
            if on_result is not None:
                on_result(result)
            if collect:
                results.append(result)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return sorted(results, key=lambda r: r.index)

"""Sweeps of one's own: a grid solved into JSON Lines, resumable after a crash.

File layout: line 1 is a header (format, the grid's sha256, point count, parameters, beliefs);
each further line is one grid point (:meth:`PointResult.to_row`), in completion order, keyed by
``index``. Each row is written with a single ``write`` of the whole line followed by ``fsync``, so
after a crash the file holds every finished row plus at most one torn last line; resuming drops
that line, skips the indices already present and appends the rest. A resumed file therefore holds
the same rows as an uninterrupted run (:func:`read_rows` returns them in index order).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelpact.studies.grid import GridError, GridSpec, run_grid
from modelpact.studies.point import PointResult

__all__ = ["SWEEP_FORMAT", "SweepSummary", "read_rows", "sweep"]

SWEEP_FORMAT = "modelpact-sweep/1"


@dataclass(frozen=True)
class SweepSummary:
    """What one ``sweep`` call did: points in the grid, found done, solved now, failed rows."""

    out: Path
    points: int
    resumed: int
    solved: int
    failed: int
    seconds: float


def _header(spec: GridSpec) -> dict[str, Any]:
    return {
        "format": SWEEP_FORMAT,
        "grid_sha256": spec.sha256(),
        "points": spec.size,
        "parameters": {name: list(values) for name, values in spec.parameters},
        "beliefs": list(spec.beliefs),
        "source": spec.source,
    }


def _unwritable(path: Path, error: OSError) -> GridError:
    reason = error.strerror or type(error).__name__
    return GridError(f"cannot write {path} ({reason})", hint="choose a writable --out")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(path: Path, header: dict[str, Any]) -> None:
    """Write a file holding only the header, atomically (temporary file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(header, allow_nan=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as error:
        raise _unwritable(path, error) from error


def read_rows(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, rows in index order) of a sweep file; a torn last line is ignored."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as error:
        raise GridError(f"{p}: cannot read ({error.strerror})", hint="check the path") from error
    lines = data.split(b"\n")
    complete = lines[:-1]  # the part after the last newline is empty or a torn row
    try:
        header = json.loads(complete[0]) if complete else {}
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != SWEEP_FORMAT:
        raise GridError(
            f"{p}: not a sweep file (no {SWEEP_FORMAT} header)", hint="use another --out"
        )
    unique: dict[int, dict[str, Any]] = {}
    for number, line in enumerate(complete[1:], start=2):
        if line.strip():
            row = _row(line, p, number)
            unique.setdefault(row["index"], row)
    return header, [unique[i] for i in sorted(unique)]


def _row(line: bytes, path: Path, number: int) -> dict[str, Any]:
    """One finished row; a damaged one names its line (the other rows stay usable)."""
    try:
        row = json.loads(line)
    except ValueError:
        row = None
    index = row.get("index") if isinstance(row, dict) else None
    if not isinstance(row, dict) or isinstance(index, bool) or not isinstance(index, int):
        raise GridError(
            f"{path}: line {number} is not a sweep row",
            hint=f"delete line {number} (the other rows are kept) and run again",
        )
    return row


def _resume(path: Path, header: dict[str, Any]) -> set[int]:
    """Indices already written to ``path`` (same grid), after dropping a torn last line."""
    found, rows = read_rows(path)
    if found.get("grid_sha256") != header["grid_sha256"]:
        raise GridError(
            f"{path} holds rows of another grid",
            hint="pass --restart to overwrite it or another --out",
        )
    stray = sorted({int(r["index"]) for r in rows} - set(range(header["points"])))
    if stray:
        raise GridError(
            f"{path} holds a row with index {stray[0]}, outside this grid's "
            f"0..{header['points'] - 1}",
            hint="use another --out, or --restart to overwrite it",
        )
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep < len(data):
        try:
            with path.open("r+b") as handle:
                handle.truncate(keep)
                os.fsync(handle.fileno())
        except OSError as error:
            raise _unwritable(path, error) from error
    return {int(r["index"]) for r in rows}


class _Appender:
    """Appends one row per write (O_APPEND) and fsyncs it."""

    def __init__(self, path: Path) -> None:
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except OSError as error:
            raise _unwritable(path, error) from error
        self.failed = 0
        self.written = 0

    def __call__(self, result: PointResult) -> None:
        line = (json.dumps(result.to_row(), allow_nan=False) + "\n").encode()
        os.write(self._fd, line)
        os.fsync(self._fd)
        self.written += 1
        self.failed += result.status != "ok"

    def close(self) -> None:
        os.close(self._fd)


def sweep(
    *,
    spec: GridSpec,
    out: str | Path,
    workers: int = 1,
    scheduler: str | None = None,
    restart: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SweepSummary:
    """Solve every point of ``spec`` not yet in ``out`` and append its row (see module doc)."""
    started = time.perf_counter()
    path = Path(out)
    if path.is_dir():
        raise GridError(f"{path} is a directory", hint="pass a file name to --out")
    header = _header(spec)
    done: set[int] = set()
    if restart or not path.exists():
        _create(path, header)
    else:
        done = _resume(path, header)
    appender = _Appender(path)
    try:
        run_grid(
            spec=spec,
            workers=workers,
            skip=done,
            on_result=appender,
            progress=progress,
            scheduler=scheduler,
            collect=False,
        )
    finally:
        appender.close()
    return SweepSummary(
        out=path,
        points=spec.size,
        resumed=len(done),
        solved=appender.written,
        failed=appender.failed,
        seconds=time.perf_counter() - started,
    )

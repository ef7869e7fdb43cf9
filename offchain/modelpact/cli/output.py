"""Printing a command's result: as text for people, or as one JSON document with ``--json``.

Every command that prints a result takes ``--json`` (declared once here as :data:`JsonOpt`)
and prints through :func:`emit`, so scripts get the same fields the text shows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ForceOpt", "JsonOpt", "check_outputs", "emit", "jsonable"]

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON document instead of text.")
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force", help="Replace existing output files (never a keystore, state file or record)."
    ),
]


def check_outputs(*, force: bool, **paths: Path | None) -> None:
    """Check every output path a command was given (option name -> path; None and ``-`` for
    stdout skipped) under :func:`modelpact.outputs.check_output`'s rules, before any long work
    starts: an existing file needs ``--force``, a folder or a missing folder is refused."""
    from modelpact.outputs import check_output

    for option, path in paths.items():
        if path is not None and path != Path("-"):
            check_output(path, force=force, option="--" + option.replace("_", "-"))


def jsonable(value: object) -> object:
    """``value`` as plain JSON data: dataclasses as objects, paths as strings, bytes as 0x hex,
    enums by name, tuples as lists, numpy numbers as Python numbers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Enum):
        return value.name.lower()
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


def emit(result: object, *, as_json: bool, text: Callable[[], None]) -> None:
    """Print ``result`` as JSON (``as_json``) or call ``text`` to print it for people."""
    if as_json:
        typer.echo(json.dumps(jsonable(result), indent=2, sort_keys=True))
    else:
        text()

"""Where a command may write a file it produces (a menu, a report, a plot, a model).

Rules every writing command follows (issue 12), checked BEFORE any long work starts:

- an output path that is a directory, or whose folder does not exist, is one line naming it;
- an existing file is replaced only with ``--force``;
- a keystore, a modelpact state file or a deployment record is NEVER replaced, even with
  ``--force``: those hold keys, secrets and the only copy of what a round committed to, and no
  command produces them as an "output". They are recognised by their content (a keystore's
  ``crypto`` section, a state file's ``version`` with its identity fields, a record's ``abi`` and
  ``chain_id``), so renaming them does not lower their protection.

Pure standard library: the core modules that write (the curve fitter, the simulator) use it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from modelpact.errors import ModelpactError

__all__ = ["OutputError", "check_output", "protected_kind", "write_output_bytes"]

_SNIFF_BYTES = 1 << 20  # a keystore, state file or record is far smaller; larger files are data


class OutputError(ModelpactError, ValueError):
    """An output path cannot (or must not) be written."""


def protected_kind(path: Path) -> str | None:
    """``"keystore"``, ``"state file"`` or ``"deployment record"`` when ``path`` holds one,
    else None (also for unreadable, large or non-JSON files)."""
    try:
        if not path.is_file() or path.stat().st_size > _SNIFF_BYTES:
            return None
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    keys = {str(k).lower() for k in document}
    if "crypto" in keys:
        return "keystore"
    if "version" in keys and keys & {"deployment", "sender", "account"}:
        return "state file"
    if {"abi", "chain_id", "address"} <= keys:
        return "deployment record"
    return None


def check_output(path: Path, *, force: bool, option: str = "--out") -> Path:
    """Refuse (one line) to write ``path`` unless it is a new file in an existing folder, or an
    existing plain file and ``force``; never a keystore, state file or record. Returns ``path``.
    """
    if path.is_symlink():
        raise OutputError(
            f"{option} {path} is a symbolic link",
            hint="pass the real path of a new file; nothing was written",
        )
    if path.is_dir():
        raise OutputError(
            f"{option} {path} is a folder",
            hint="pass the path of a file (inside that folder or elsewhere)",
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(
            f"{option} {path}: folder {folder} does not exist",
            hint=f"create it first (mkdir -p {folder}) or pass another path",
        )
    if path.exists():
        kind = protected_kind(path)
        if kind is not None:
            raise OutputError(
                f"{option} {path} is a {kind}; modelpact never overwrites one, even with --force",
                hint="pass another path",
            )
        if not force:
            raise OutputError(
                f"{option} {path} already exists",
                hint="pass another path, or --force to replace it",
            )
    return path


def write_output_bytes(path: Path, data: bytes, *, force: bool, option: str = "--out") -> Path:
    """Write ``data`` to ``path`` under :func:`check_output`'s rules, atomically (a temporary
    file in the same folder renamed over the target: a reader never sees half a file, and a
    symbolic link planted at the target is replaced, never followed)."""
    check_output(path, force=force, option=option)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        check_output(path, force=force, option=option)  # nothing appeared meanwhile
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path

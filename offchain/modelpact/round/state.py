"""Crash-safe local state: small JSON documents written atomically.

Every workflow step records what it is about to do (e.g. the hash of a transaction it just sent)
before waiting for the result, so a re-run after a crash can look at the chain first instead of
repeating the step. Writes go to a temporary file in the same directory, are fsynced, then
renamed over the target (``os.replace`` is atomic on POSIX), so a reader sees either the old or
the new document, never a torn one.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelpact.errors import ModelpactError

__all__ = ["JsonState", "StateError", "atomic_write_bytes", "atomic_write_json"]


class StateError(ModelpactError, ValueError):
    """A local state file is corrupt or belongs to another deployment or account."""


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename, fsync the directory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_json(path: Path, document: Any, *, mode: int = 0o644) -> None:
    """Write ``document`` as indented, key-sorted JSON, atomically."""
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode(), mode=mode)


@dataclass(frozen=True)
class JsonState:
    """A JSON object on disk, updated one atomic write at a time.

    ``identity`` fields (e.g. deployment address and account) are written on first use and checked
    on every load, so a state file is never applied to the wrong round.
    """

    path: Path
    identity: tuple[tuple[str, str], ...] = ()

    def load(self) -> dict[str, Any]:
        """The current document (empty with the identity fields if the file does not exist)."""
        if not self.path.exists():
            return dict(self.identity)
        try:
            data = json.loads(self.path.read_text())
        except ValueError as error:
            raise StateError(
                f"local state {self.path} is not valid JSON",
                hint="restore it from a backup; the chain holds the authoritative state",
            ) from error
        if not isinstance(data, dict):
            raise StateError(f"local state {self.path} is not a JSON object", hint="restore it")
        for key, expected in self.identity:
            if data.get(key) != expected:
                raise StateError(
                    f"local state {self.path} belongs to {key}={data.get(key)!r}, not {expected!r}",
                    hint="pass another --state-dir or the matching deployment/account",
                )
        return data

    def get(self, key: str, default: Any = None) -> Any:
        """One field of the current document."""
        return self.load().get(key, default)

    def update(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into the document and write it atomically; return the new document."""
        data = self.load()
        data.update(fields)
        atomic_write_json(self.path, data, mode=0o600)
        return data

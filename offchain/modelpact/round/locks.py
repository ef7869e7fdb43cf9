"""One process at a time per local state file (per state directory, deployment and account).

Two commands for the same keystore and round (two terminals, a retry script) would otherwise
both read the state, both decide to send, and both write it back: with a node 150 ms away two
concurrent joins once left the state holding the losing process's secret (issue 12). Every
command that reads a state file to decide what to send holds an advisory ``flock`` on
``<state file>.lock`` for its whole run; a second command finds it taken and stops at once, in
one line naming the process that holds it, before anything is sent.

``flock`` locks belong to the open file: the kernel releases them when the process exits, even
by SIGKILL, so a crashed command never leaves a stale lock. The lock file itself stays (deleting
it would let a third process lock a new inode while the second still holds the old one). POSIX
only, like the rest of the local state handling.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modelpact.errors import ModelpactError

__all__ = ["LOCK_SUFFIX", "StateLockedError", "holding", "lock_path"]

LOCK_SUFFIX = ".lock"
_HOLDER_BYTES = 400


class StateLockedError(ModelpactError, RuntimeError):
    """Another process holds the lock of this state file."""


def lock_path(state_path: Path) -> Path:
    """The lock file that guards ``state_path``."""
    return state_path.with_name(state_path.name + LOCK_SUFFIX)


def _describe_self() -> bytes:
    argv = " ".join(["modelpact", *sys.argv[1:]]) if sys.argv else "modelpact"
    return f"pid {os.getpid()}: {argv}"[:_HOLDER_BYTES].encode()


@contextmanager
def holding(state_path: Path, *, what: str) -> Iterator[None]:
    """Hold the lock of ``state_path`` for the block; :class:`StateLockedError` (one line, naming
    the holder) if another process holds it. ``what`` names what is guarded, for that line."""
    path = lock_path(state_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, _HOLDER_BYTES, 0).decode(errors="replace").strip()
            raise StateLockedError(
                f"another modelpact process ({holder or 'starting up'}) is working on {what}",
                hint="wait for it to finish, then re-run this command; nothing was sent",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, _describe_self(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock

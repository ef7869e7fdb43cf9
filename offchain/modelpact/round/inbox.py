"""The delivery inbox: a folder (often shared) where participants drop their committed rows and
the coordinator picks them up (issue 11.5).

A shared folder is writable by others, so neither side trusts what it finds there:

- entries are named by the participant's EXACT checksummed address (``0xAbC...npy``); the
  coordinator refuses (never reads) a name that is not a checksummed address, e.g. one that
  differs from a participant's only in letter case (two files claiming one participant, which
  also collide on case-insensitive file systems);
- nobody follows a symbolic link: a participant writes a temporary file with
  ``O_CREAT | O_EXCL | O_NOFOLLOW`` and renames it over its target (``rename`` replaces the
  directory entry, so a link planted there is replaced, never written through: it could
  otherwise make the participant overwrite any file it can write); the coordinator refuses links
  and opens each entry with ``O_NOFOLLOW``;
- the coordinator reads only regular files (a FIFO would block it forever), into a private copy
  that it then parses; where an address has both a ``.npy`` and a ``.csv``, the ``.npy`` (what
  the wallet writes) is read and the other refused.

Planted entries never stop an honest delivery: the participant's own file replaces whatever sits
at its exact name, and look-alike names are ignored, not held against anyone.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from eth_utils.address import is_checksum_address, to_checksum_address

from modelpact.errors import ModelpactError

__all__ = [
    "DELIVERY_SUFFIXES",
    "InboxError",
    "InboxScan",
    "check_inbox",
    "deliver_rows",
    "read_delivery",
    "scan_inbox",
]

DELIVERY_SUFFIXES = (".npy", ".csv")
_MAX_DELIVERY_BYTES = 1 << 30  # 1 GiB: far above any round's rows, below exhausting memory


class InboxError(ModelpactError, ValueError):
    """An inbox entry cannot be written or read safely."""


def check_inbox(inbox: Path) -> None:
    """Make sure a delivery can be written to ``inbox`` (a plain folder, created if missing,
    writable) before anything is sent: a join whose delivery then fails would cost the bond."""
    if inbox.is_symlink() or (inbox.exists() and not inbox.is_dir()):
        raise InboxError(
            f"--inbox {inbox} is not a plain folder", hint="pass the inbox folder's real path"
        )
    try:
        inbox.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InboxError(
            f"cannot create --inbox {inbox} ({error.strerror or type(error).__name__})",
            hint="pass a folder you can write to; nothing was sent",
        ) from error
    if not os.access(inbox, os.W_OK | os.X_OK):
        raise InboxError(f"--inbox {inbox} is not writable", hint="pass a folder you can write to")


def deliver_rows(rows_file: Path, *, inbox: Path, address: str) -> Path:
    """Put the bytes of ``rows_file`` (the participant's private copy of its committed rows) at
    ``inbox/<checksummed address>.npy``, never writing through a link planted there (see the
    module doc). Idempotent: an identical regular file already there is left as it is."""
    name = f"{to_checksum_address(address)}.npy"
    check_inbox(inbox)
    target = inbox / name
    data = rows_file.read_bytes()
    if not target.is_symlink() and target.is_file() and target.read_bytes() == data:
        return target
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=inbox)  # O_EXCL, 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # the coordinator reads it
        os.replace(tmp, target)  # replaces the entry itself: never follows a planted link
    except IsADirectoryError:
        Path(tmp).unlink(missing_ok=True)
        raise InboxError(
            f"{target} is a folder", hint="ask the coordinator to remove it; nothing was written"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


@dataclass(frozen=True)
class InboxScan:
    """The deliveries found in an inbox (by checksummed address) and the entries refused (file
    name -> why), which are never read."""

    files: dict[str, Path] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def _refusal(entry: os.DirEntry[str], stem: str) -> str | None:
    """Why an inbox entry is not read, or None."""
    if entry.is_symlink():
        return "a symbolic link"
    if not entry.is_file(follow_symlinks=False):
        return "not a regular file"
    if not is_checksum_address(stem):
        return "not named by an exact checksummed address"
    return None


def scan_inbox(inbox: Path) -> InboxScan:
    """Deliveries ``<checksummed address>.npy|.csv`` in ``inbox``. Entries that look like
    deliveries (``0x...`` with a delivery suffix) but are links, not regular files or not exact
    checksummed names are refused (never read); of two files for one address the ``.npy`` is
    read and the other refused."""
    if not inbox.is_dir():
        raise InboxError(f"inbox {inbox} does not exist", hint="pass the right --inbox")
    scan = InboxScan()
    entries = sorted(os.scandir(inbox), key=lambda e: (e.name.lower().endswith(".csv"), e.name))
    for entry in entries:  # .npy first: it wins over a .csv for the same address
        stem, suffix = os.path.splitext(entry.name)
        if suffix.lower() not in DELIVERY_SUFFIXES or not stem.lower().startswith("0x"):
            continue
        why = _refusal(entry, stem)
        if why is None and stem in scan.files:
            why = f"a second delivery for {stem} ({scan.files[stem].name} is read)"
        if why is not None:
            scan.refused[entry.name] = why
        else:
            scan.files[stem] = Path(entry.path)
    return scan


def read_delivery(path: Path, private_dir: Path) -> Path:
    """A private copy (in ``private_dir``) of the delivery at ``path``, read without following a
    symbolic link and only from a regular file; the caller parses the copy."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise InboxError(
            f"cannot open delivery {path.name}: {error.strerror}",
            hint="only regular files named <checksummed address>.npy|.csv are read",
        ) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_DELIVERY_BYTES:
            raise InboxError(
                f"delivery {path.name} is not a regular file of at most 1 GiB",
                hint="ask the participant to deliver its committed rows again",
            )
        data = handle.read(_MAX_DELIVERY_BYTES + 1)
    private_dir.mkdir(parents=True, exist_ok=True)
    copy = private_dir / path.name  # same name: messages about its rows name the delivery
    copy.write_bytes(data)
    return copy

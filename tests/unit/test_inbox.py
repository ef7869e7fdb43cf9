"""A shared delivery inbox cannot hurt anyone (issue 11.5): the participant never writes through
a planted link, and the coordinator reads only regular files named by an exact checksummed
address, never following a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelpact.round.inbox import InboxError, deliver_rows, read_delivery, scan_inbox

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil #1, checksummed


def test_delivery_replaces_a_planted_link_instead_of_writing_through_it(tmp_path: Path) -> None:
    """A symbolic link planted at the participant's inbox name (pointing at a file of the
    participant's) is replaced by the delivery; the file it pointed at is unchanged."""
    inbox, victim, rows = tmp_path / "inbox", tmp_path / "precious.txt", tmp_path / "rows.npy"
    inbox.mkdir()
    victim.write_text("keep me")
    rows.write_bytes(b"rows")
    (inbox / f"{ALICE}.npy").symlink_to(victim)
    target = deliver_rows(rows, inbox=inbox, address=ALICE.lower())
    assert target == inbox / f"{ALICE}.npy"
    assert not target.is_symlink()
    assert target.read_bytes() == b"rows"
    assert victim.read_text() == "keep me"
    assert deliver_rows(rows, inbox=inbox, address=ALICE) == target  # idempotent


def test_scan_refuses_links_look_alikes_and_non_files(tmp_path: Path) -> None:
    """Only regular files named by an exact checksummed address are read; a lower-case twin, a
    link, a FIFO and a folder are refused with the reason; a .npy wins over a .csv."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / f"{ALICE}.npy").write_bytes(b"a")
    (inbox / f"{ALICE}.csv").write_text("1,2\n")
    (inbox / f"{ALICE.lower()}.npy").write_bytes(b"twin")
    other = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    (inbox / f"{other}.npy").symlink_to(tmp_path / "elsewhere.npy")
    fifo = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
    os.mkfifo(inbox / f"{fifo}.npy")
    folder = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
    (inbox / f"{folder}.npy").mkdir()
    (inbox / "notes.txt").write_text("ignored")
    scan = scan_inbox(inbox)
    assert scan.files == {ALICE: inbox / f"{ALICE}.npy"}
    assert scan.refused == {
        f"{ALICE}.csv": f"a second delivery for {ALICE} ({ALICE}.npy is read)",
        f"{ALICE.lower()}.npy": "not named by an exact checksummed address",
        f"{other}.npy": "a symbolic link",
        f"{fifo}.npy": "not a regular file",
        f"{folder}.npy": "not a regular file",
    }


def test_read_delivery_never_follows_a_link(tmp_path: Path) -> None:
    """A delivery swapped for a link after the scan is not read (O_NOFOLLOW)."""
    secret = tmp_path / "secret.npy"
    secret.write_bytes(b"coordinator's private file")
    link = tmp_path / f"{ALICE}.npy"
    link.symlink_to(secret)
    with pytest.raises(InboxError, match="cannot open delivery"):
        read_delivery(link, tmp_path / "private")

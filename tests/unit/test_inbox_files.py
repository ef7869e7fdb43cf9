"""Issue 11.5: a shared inbox cannot hurt anyone (found by the hostile review of v2)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from eth_utils.address import to_checksum_address

from modelpact.round.coordinator import inbox_files
from modelpact.round.participant import deliver

ADDRESS = to_checksum_address("0xabc0000000000000000000000000000000000001")


def test_deliver_never_writes_through_a_symlink_planted_in_the_inbox(tmp_path: Path) -> None:
    """A symlink named like the participant's delivery must not make `deliver` overwrite the
    file it points to: the delivery replaces the link with a regular file."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    rows = tmp_path / "rows.npy"
    rows.write_bytes(b"rows")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / f"{ADDRESS}.npy").symlink_to(victim)
    state = SimpleNamespace(load=lambda: SimpleNamespace(rows_file=str(rows)))
    target = deliver(cast(Any, state), inbox=inbox, address=ADDRESS)
    assert victim.read_text() == "precious"
    assert not target.is_symlink()
    assert target.read_bytes() == b"rows"


def test_inbox_takes_only_exact_checksummed_regular_files(tmp_path: Path) -> None:
    """A case-colliding name (written by someone else) cannot replace a participant's delivery,
    and a symlinked entry is not read."""
    (tmp_path / f"{ADDRESS}.npy").write_bytes(b"honest")
    (tmp_path / f"{ADDRESS.lower()}.npy").write_bytes(b"garbage")
    other = "0x" + "1" * 40
    (tmp_path / f"{other}.npy").symlink_to(tmp_path / f"{ADDRESS}.npy")
    found = inbox_files(tmp_path)
    assert found == {ADDRESS: tmp_path / f"{ADDRESS}.npy"}

"""Typed local state and typed deployment records: versioned JSON that old files still load
into, and that a newer, corrupt or foreign file is refused by in one line naming the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelpact.round.records import DeploymentRecord, RoundExtras, UnknownDeploymentError
from modelpact.round.state import (
    STATE_VERSION,
    CoordinatorProgress,
    ParticipantProgress,
    StateError,
    StateFile,
    coalesced_state_writes,
)


def _participant(path: Path) -> StateFile[ParticipantProgress]:
    return StateFile(path, ParticipantProgress, deployment="0xround", account="0xalice")


def test_updates_are_typed_versioned_and_identity_checked(tmp_path: Path) -> None:
    """A missing file loads as its identity; updates write the version and read back typed;
    a file of another account is refused; an unknown field name is refused before writing."""
    state = _participant(tmp_path / "p.json")
    assert state.load() == ParticipantProgress("0xround", "0xalice")
    state.update(join_tx="0x01", row_count=12)
    loaded = state.load()
    assert (loaded.join_tx, loaded.row_count, loaded.secret) == ("0x01", 12, None)
    assert json.loads((tmp_path / "p.json").read_text())["version"] == STATE_VERSION
    other = StateFile(
        tmp_path / "p.json", ParticipantProgress, deployment="0xround", account="0xbob"
    )
    with pytest.raises(StateError, match="belongs to account='0xalice'"):
        other.load()
    with pytest.raises(StateError, match="no field 'join_txx'"):
        state.update(join_txx="0x02")


def test_unversioned_files_of_0_1_still_load(tmp_path: Path) -> None:
    """A coordinator state written by modelpact 0.1 (no version, tiers as a list) loads."""
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {"deployment": "0xround", "secret": "0xaa", "tiers": ["0x01"], "models_trained": 3}
        )
    )
    loaded = StateFile(path, CoordinatorProgress, deployment="0xround").load()
    assert loaded.tiers == ("0x01",)
    assert loaded.models_trained == 3


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": STATE_VERSION + 1}, "written by a newer modelpact"),
        ({"colour": "red"}, "unknown field 'colour'"),
        ({"row_count": "12"}, "field 'row_count' has a value of the wrong type"),
        ({"version": "two"}, "invalid version"),
    ],
)
def test_newer_foreign_or_corrupt_files_are_refused(
    tmp_path: Path, document: dict[str, object], message: str
) -> None:
    """Each bad file is one StateError saying what is wrong and what to do."""
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"deployment": "0xround", "account": "0xalice", **document}))
    with pytest.raises(StateError, match=message) as caught:
        _participant(path).load()
    assert caught.value.hint


def test_an_old_plaintext_delivery_key_is_ignored_and_removed_on_the_next_write(
    tmp_path: Path,
) -> None:
    """Issue 15: the round's delivery secret key is no longer kept in the state (fetch and
    dispute derive it from the keystore). A file an older version wrote with one still loads
    (the value is ignored), and the next write removes it from disk; no field can write it."""
    path = tmp_path / "p.json"
    old = {"deployment": "0xround", "account": "0xalice", "version": 2, "delivery_key": "0x2a"}
    path.write_text(json.dumps(old))
    state = _participant(path)
    assert not hasattr(state.load(), "delivery_key")
    state.update(reveal_tx="0x01")
    assert "delivery_key" not in json.loads(path.read_text())
    with pytest.raises(StateError):
        state.update(delivery_key="0x2a")


def test_transaction_slots_name_hash_fields_only(tmp_path: Path) -> None:
    """A slot is a str | None field: it records and reads back a hash; other fields refuse."""
    state = _participant(tmp_path / "p.json")
    slot = state.slot("reveal_tx")
    assert slot.get() is None
    slot.put("0xabc")
    assert slot.get() == "0xabc"
    assert state.load().reveal_tx == "0xabc"
    with pytest.raises(StateError, match="no hash field"):
        state.slot("row_count")


def test_record_extras_are_typed_and_round_trip() -> None:
    """The record's extra object parses into RoundExtras (unknown notes ignored, missing fields
    at their defaults) and writes back without empty fields; a wrong type names the field."""
    extras = RoundExtras.from_json(
        {"curve": [[8, 10**17]], "participant_bond_wei": 5, "dataset": "digits", "note": "x"}
    )
    assert extras.curve == ((8, 10**17),)
    assert (extras.files_dir, extras.models_dir, extras.rpc_url) == (".", "models", None)
    assert RoundExtras.from_json(extras.to_json()) == extras
    assert "rpc_url" not in extras.to_json()
    with pytest.raises(UnknownDeploymentError, match=r"extra\.seed"):
        RoundExtras.from_json({"seed": [1]})
    with pytest.raises(UnknownDeploymentError, match=r"extra\.curve"):
        RoundExtras.from_json({"curve": "steep"})


def test_record_paths_resolve_next_to_the_record(tmp_path: Path) -> None:
    """Published files, the model store and the test set resolve against the record's
    directory, as the extras say."""
    record = DeploymentRecord(
        chain_id=1,
        address="0x" + "ab" * 20,  # type: ignore[arg-type]
        tx_hash="0x",
        block_number=1,
        coordinator="0x" + "cd" * 20,  # type: ignore[arg-type]
        compiler_version="0.8.28",
        compiler_settings={},
        abi=[],
        runtime_bytecode_sha3="",
        scenario_file="files/scenario.toml",
        scenario_sha256="",
        menu_file="files/menu.json",
        menu_sha256="",
        test_set_file="files/test_set.npy",
        extra=RoundExtras(files_dir="files"),
    )
    assert record.files_dir(tmp_path) == (tmp_path / "files").resolve()
    assert record.models_dir(tmp_path) == (tmp_path / "files" / "models").resolve()
    assert record.test_set_path(tmp_path) == (tmp_path / "files" / "test_set.npy").resolve()


def _count_directory_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    from modelpact.round import state as st

    synced: list[Path] = []
    real = st._fsync_directory

    def counting(directory: Path) -> None:
        synced.append(directory)
        real(directory)

    monkeypatch.setattr(st, "_fsync_directory", counting)
    return synced


def test_coalesced_state_writes_keeps_hashes_durable_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a deferring block a plain update is held in memory, where every load sees it (also
    through another StateFile of the same path), and written at the block's end with one
    directory fsync; a transaction hash recorded through a slot is written and durable at once
    (its directory fsynced before put returns), with the updates held for its file."""
    from modelpact.round.state import coalesced_state_writes

    synced = _count_directory_fsyncs(monkeypatch)
    alice, bob = _participant(tmp_path / "a.json"), _participant(tmp_path / "b.json")
    with coalesced_state_writes():
        alice.update(row_count=3)
        bob.update(row_count=4)
        bob.update(secret="0x02")
        assert (alice.load().row_count, bob.load().row_count) == (3, 4)
        assert _participant(tmp_path / "b.json").load().secret == "0x02"
        assert synced == []
        assert not (tmp_path / "a.json").exists()
        assert not (tmp_path / "b.json").exists()
        alice.slot("join_tx").put("0x01")
        assert synced == [tmp_path]
        on_disk = json.loads((tmp_path / "a.json").read_text())
        assert (on_disk["join_tx"], on_disk["row_count"]) == ("0x01", 3)
        assert not (tmp_path / "b.json").exists()
    assert synced == [tmp_path, tmp_path]
    on_disk = json.loads((tmp_path / "b.json").read_text())
    assert (on_disk["row_count"], on_disk["secret"]) == (4, "0x02")
    alice.update(row_count=5)  # outside a block: every write is durable at once
    assert len(synced) == 3


def test_coalesced_state_writes_syncs_on_error_and_nests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block left by an exception still writes the updates it holds and fsyncs the
    directories it owes; a nested block leaves both to the outermost one."""
    from modelpact.round.state import coalesced_state_writes

    synced = _count_directory_fsyncs(monkeypatch)
    state = _participant(tmp_path / "p.json")
    seen_inside: list[list[Path]] = []

    def fail_after_writing() -> None:
        with coalesced_state_writes():
            with coalesced_state_writes():
                state.update(row_count=1)
            seen_inside.append(list(synced))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_writing()
    assert seen_inside == [[]]
    assert synced == [tmp_path]
    assert json.loads((tmp_path / "p.json").read_text())["row_count"] == 1


def test_a_held_document_is_identity_checked_like_a_written_one(tmp_path: Path) -> None:
    """Inside a coalesced_state_writes block the held document of a file is refused to a
    StateFile of another deployment or account, as the written file is outside one: the block
    never hands one round's secret or hashes to another round's command."""
    from modelpact.round.state import coalesced_state_writes

    path = tmp_path / "p.json"
    other = StateFile(path, ParticipantProgress, deployment="0xother", account="0xalice")
    with coalesced_state_writes():
        _participant(path).update(secret="0x02")
        with pytest.raises(StateError, match="belongs to deployment"):
            other.load()


def test_a_block_holding_hashes_writes_them_once_at_its_end(tmp_path: Path) -> None:
    """coalesced_state_writes(hashes=True): a hash recorded through a slot is held with the
    other updates (readable, not on disk) until the block's end, then written once."""
    state = StateFile(tmp_path / "p.json", ParticipantProgress, deployment="0xd", account="0xa")
    with coalesced_state_writes(hashes=True):
        state.update(option_id=2)
        state.slot("join_tx").put("0x" + "ab" * 32)
        assert state.slot("join_tx").get() == "0x" + "ab" * 32
        assert not state.path.exists()
    written = StateFile(tmp_path / "p.json", ParticipantProgress, deployment="0xd", account="0xa")
    assert written.load().join_tx == "0x" + "ab" * 32
    assert written.load().option_id == 2
    with coalesced_state_writes():  # by default a hash is durable at once
        state.slot("reveal_tx").put("0x" + "cd" * 32)
        assert json.loads(state.path.read_text())["reveal_tx"] == "0x" + "cd" * 32

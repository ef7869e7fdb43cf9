"""Local pieces of the round workflow: keystores, crash-safe state, deployment records, report."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from modelpact.round.records import (
    DeploymentRecord,
    UnknownDeploymentError,
    find_record,
    read_record,
    record_filename,
    write_record,
)
from modelpact.round.report import (
    Check,
    ParticipantOutcome,
    RoundReport,
    TypeInfo,
    write_report,
)
from modelpact.round.state import JsonState, StateError, atomic_write_json
from modelpact.round.wallet import (
    KeystoreError,
    MissingKeystoreError,
    WrongPasswordError,
    create_keystore,
    import_keystore,
    keystore_address,
    load_account,
)

KEY = "0x" + "11" * 32


def test_keystore_roundtrip_and_permissions(tmp_path: Path) -> None:
    """A created keystore decrypts with its password to the same address and is mode 0600."""
    path = tmp_path / "k" / "alice.json"
    address = create_keystore(path, password="pw")
    assert keystore_address(path) == address
    assert load_account(path, password="pw").address == address
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_keystore_wrong_password_missing_and_overwrite(tmp_path: Path) -> None:
    """Wrong password, missing file and overwriting are distinct clear errors; nothing changes."""
    path = tmp_path / "bob.json"
    address = import_keystore(path, private_key=KEY, password="right")
    before = path.read_bytes()
    with pytest.raises(WrongPasswordError, match="wrong password"):
        load_account(path, password="wrong")
    with pytest.raises(MissingKeystoreError, match="no keystore"):
        load_account(tmp_path / "nobody.json", password="x")
    with pytest.raises(KeystoreError, match="already exists"):
        import_keystore(path, private_key=KEY, password="other")
    with pytest.raises(KeystoreError, match="32-byte"):
        import_keystore(tmp_path / "bad.json", private_key="0x1234", password="pw")
    assert path.read_bytes() == before
    assert load_account(path, password="right").address == address


def test_state_updates_merge_and_identity_is_checked(tmp_path: Path) -> None:
    """Updates merge atomically (no temp files left) and a state of another round is refused."""
    path = tmp_path / "s.json"
    state = JsonState(path, identity=(("deployment", "0xabc"),))
    state.update(join_tx="0x01")
    state.update(secret="0x02")
    assert state.load() == {"deployment": "0xabc", "join_tx": "0x01", "secret": "0x02"}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    with pytest.raises(StateError, match="belongs to"):
        JsonState(path, identity=(("deployment", "0xdef"),)).load()
    path.write_text("{not json")
    with pytest.raises(StateError, match="not valid JSON"):
        state.load()


def _record(address: str = "0x" + "Ab" * 20) -> DeploymentRecord:
    return DeploymentRecord(
        chain_id=31337,
        address=address,  # type: ignore[arg-type]
        tx_hash="0x" + "00" * 32,
        block_number=3,
        coordinator="0x" + "cd" * 20,  # type: ignore[arg-type]
        compiler_version="0.8.28",
        compiler_settings={"optimizer": {"enabled": True, "runs": 200}},
        abi=[{"type": "function", "name": "phase"}],
        runtime_bytecode_sha3="0x" + "11" * 32,
        scenario_file="scenario.toml",
        scenario_sha256="aa",
        menu_file="menu.json",
        menu_sha256="bb",
    )


def test_record_roundtrip_and_lookup(tmp_path: Path) -> None:
    """A written record reads back equal, by path, by address and as 'latest'."""
    record = _record()
    path = write_record(record, tmp_path / record_filename(record.chain_id, record.address))
    assert read_record(path) == DeploymentRecord.from_json(record.to_json())
    assert find_record(str(path), deploy_dir=tmp_path)[0] == read_record(path)
    assert find_record(record.address.lower(), deploy_dir=tmp_path)[0].tx_hash == record.tx_hash
    assert find_record("latest", deploy_dir=tmp_path)[1] == path.resolve()


def test_record_validation_names_the_problem(tmp_path: Path) -> None:
    """Unknown or malformed deployments raise UnknownDeploymentError naming what is wrong."""
    with pytest.raises(UnknownDeploymentError, match="unknown deployment"):
        find_record("latest", deploy_dir=tmp_path)
    with pytest.raises(UnknownDeploymentError, match="unknown deployment"):
        find_record("0x" + "99" * 20, deploy_dir=tmp_path)
    data = _record().to_json()
    del data["abi"]
    bad = tmp_path / "bad.json"
    atomic_write_json(bad, data)
    with pytest.raises(UnknownDeploymentError, match="'abi'"):
        read_record(bad)
    data = _record().to_json()
    data["address"] = "0x12"
    atomic_write_json(bad, data)
    with pytest.raises(UnknownDeploymentError, match="not an address"):
        read_record(bad)


def test_report_writes_json_and_pngs(tmp_path: Path) -> None:
    """The report writes report.json (with passed = all checks) and three non-empty PNGs."""
    outcomes = [
        ParticipantOutcome(
            i, f"0x{i:040x}", 1 + i % 2, 1.0, i % 2, 100, 50.0, 0.5, 0.5, 50.0, 1, "0x00", 0.0, True
        )
        for i in range(4)
    ]
    report = RoundReport(
        chain="embedded",
        chain_id=1,
        address="0x0",
        participants=4,
        seed=0,
        collective_accuracy=0.9,
        collective_value=90.0,
        predicted_accuracy=0.88,
        total_data=400,
        total_gas=1,
        wall_seconds=1.0,
        menu=[
            {"data_count": 100.0, "promised_value": 50.0},
            {"data_count": 200.0, "promised_value": 80.0},
        ],
        types=[TypeInfo(1, 0.3, 0.5, 0.0), TypeInfo(2, 0.1, 0.5, 10.0)],
        outcomes=outcomes,
        checks=[Check("a", True, "ok"), Check("b", False, "bad")],
    )
    paths = write_report(tmp_path, report)
    document = json.loads(paths["json"].read_text())
    assert document["passed"] is False
    assert len(document["outcomes"]) == 4
    for name in ("menu", "rewards", "promised"):
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_revert_decoding_from_web3_and_eth_tester_errors() -> None:
    """A custom-error revert decodes to its name and arguments whether web3 (hex data) or
    eth-tester (bytes repr in the message) raised it; an unknown selector decodes to
    UnknownError and an exception without revert data to None."""
    from eth_abi.abi import encode
    from eth_tester.exceptions import TransactionFailed
    from eth_utils.crypto import keccak
    from web3.exceptions import ContractCustomError

    from modelpact.chain import revert_from_exception
    from modelpact.compiler import compile_round

    abi = compile_round().abi
    raw = keccak(text="JoinClosed(uint256,uint256,uint256,uint256)")[:4] + encode(
        ["uint256"] * 4, [5, 4, 3, 2]
    )
    for error in (
        ContractCustomError("reverted", data="0x" + raw.hex()),
        TransactionFailed(f"execution reverted: {raw!r}"),
    ):
        decoded = revert_from_exception(abi, error, action="join")
        assert decoded is not None
        assert (decoded.error_name, decoded.args) == ("JoinClosed", (5, 4, 3, 2))
        assert decoded.hint
    unknown = revert_from_exception(abi, ContractCustomError("x", data="0xdeadbeef"))
    assert unknown is not None
    assert unknown.error_name == "UnknownError"
    assert revert_from_exception(abi, ValueError("not a revert")) is None

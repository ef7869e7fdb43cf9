"""Unit tests of the audit's input resolution: which node a deployment record is audited on.

A deployment record names the chain id and address but (usually) no node URL: auditing it needs
``--rpc`` unless the record carries an ``rpc_url``. No chain is started here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelpact.audit import AuditError, run_audit
from modelpact.errors import ModelpactError
from modelpact.round.records import DeploymentRecord, write_record

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
COORD = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _record(tmp_path: Path, **extra: object) -> Path:
    (tmp_path / "scenario.toml").write_text("# published scenario\n")
    record = DeploymentRecord(
        chain_id=31337,
        address=ADDRESS,  # type: ignore[arg-type]
        tx_hash="0x" + "ab" * 32,
        block_number=1,
        coordinator=COORD,  # type: ignore[arg-type]
        compiler_version="0.8.28",
        compiler_settings={},
        abi=[],
        runtime_bytecode_sha3="",
        scenario_file="scenario.toml",
        scenario_sha256="",
        menu_file="menu.json",
        menu_sha256="",
        extra=dict(extra),
    )
    return write_record(record, tmp_path / "deployment.json")


def test_record_without_rpc_url_asks_for_rpc(tmp_path) -> None:
    """Auditing a record that names no node, without --rpc, is one AuditError saying exactly
    that the record has no RPC URL and --rpc is needed."""
    path = _record(tmp_path)
    with pytest.raises(AuditError) as caught:
        run_audit(deployment=path)
    line = caught.value.one_line()
    assert "names no RPC URL" in line
    assert "--rpc" in line


def test_address_without_rpc_asks_for_rpc() -> None:
    """--address alone is one AuditError asking for --rpc."""
    with pytest.raises(AuditError, match="--address needs --rpc"):
        run_audit(address=ADDRESS)


def test_record_rpc_url_is_used(tmp_path) -> None:
    """A record carrying an rpc_url is audited on that node without --rpc: with nothing
    listening there the error is the chain adapter's (node unavailable), not the missing-RPC one."""
    path = _record(tmp_path, rpc_url="http://127.0.0.1:9")
    with pytest.raises(ModelpactError) as caught:
        run_audit(deployment=path)
    assert not isinstance(caught.value, AuditError)
    assert "127.0.0.1:9" in caught.value.one_line()


def test_cli_prints_one_line_and_exits_2(tmp_path, capsys, monkeypatch) -> None:
    """`modelpact audit --deployment RECORD` without --rpc exits 2 with one line naming --rpc."""
    from modelpact.cli import main

    monkeypatch.delenv("MODELPACT_RPC", raising=False)
    path = _record(tmp_path)
    code = main(["audit", "--deployment", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("error: ")
    assert "--rpc" in err

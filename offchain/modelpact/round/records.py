"""Deployment records: everything needed to find, trust and audit a deployed round.

A record is written when the coordinator deploys (``deploy/<chain-id>-<address>.json``, and
``deployment.json`` in a demo's output directory). Other commands and the auditor take it as
input: it names the chain and address, the deployment transaction, the compiler and its settings,
the ABI and the hash of the runtime bytecode (so anyone can compare the deployed code with a
rebuild), and the scenario and menu files with their sha256 hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address

from modelpact.errors import ModelpactError
from modelpact.round.state import atomic_write_json

__all__ = [
    "RECORD_VERSION",
    "DeploymentRecord",
    "RoundExtras",
    "UnknownDeploymentError",
    "file_sha256",
    "find_record",
    "list_records",
    "read_record",
    "record_filename",
    "write_record",
]

RECORD_VERSION = 1


class UnknownDeploymentError(ModelpactError, FileNotFoundError):
    """No deployment record matches what the user named, or the record is invalid."""


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class RoundExtras:
    """What a record says beyond the chain facts (the ``extra`` object of the JSON): the
    committed curve knots and the bonds, where the published files are (``files_dir`` and the
    model store ``models_dir`` inside it, relative to the record), how the round was planned
    (dataset, public test set size, seed), and optionally a node URL to audit it on."""

    curve: tuple[tuple[int, int], ...] = ()
    participant_bond_wei: int | None = None
    coordinator_bond_wei: int | None = None
    files_dir: str = "."
    models_dir: str = "models"
    dataset: str = "digits"
    test_size: int | None = None
    seed: int | None = None
    rpc_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``extra`` object (fields without a value are left out)."""
        document = asdict(self)
        document["curve"] = [list(k) for k in self.curve]
        return {k: v for k, v in document.items() if v is not None}

    @classmethod
    def from_json(cls, data: Any, *, source: str = "record") -> RoundExtras:
        """Parse the ``extra`` object; fields it does not know are ignored (records may carry
        notes), known fields of the wrong type are refused naming the field."""
        if not isinstance(data, Mapping):
            raise UnknownDeploymentError(
                f"{source} field 'extra' should be an object", hint="restore the record"
            )
        values: dict[str, Any] = {}
        for f in fields(cls):
            if data.get(f.name) is None:
                continue
            value = data[f.name]
            if f.name == "curve":
                values["curve"] = _knots(value, source)
            elif not isinstance(value, int | str) or isinstance(value, bool):
                raise UnknownDeploymentError(
                    f"{source} field 'extra.{f.name}' has the wrong type: {value!r}",
                    hint="the record was edited by hand or is corrupt; restore it",
                )
            else:
                values[f.name] = value
        return cls(**values)


def _knots(value: Any, source: str) -> tuple[tuple[int, int], ...]:
    try:
        return tuple((int(x), int(a)) for x, a in value)
    except (TypeError, ValueError):
        raise UnknownDeploymentError(
            f"{source} field 'extra.curve' is not a list of (rows, accuracy) pairs",
            hint="the record was edited by hand or is corrupt; restore it",
        ) from None


@dataclass(frozen=True)
class DeploymentRecord:
    """One deployed round. Paths are relative to the record's directory when stored."""

    chain_id: int
    address: ChecksumAddress
    tx_hash: str
    block_number: int
    coordinator: ChecksumAddress
    compiler_version: str
    compiler_settings: dict[str, Any]
    abi: list[dict[str, Any]]
    runtime_bytecode_sha3: str
    scenario_file: str
    scenario_sha256: str
    menu_file: str
    menu_sha256: str
    scenario_hash_onchain: str = ""
    test_set_file: str = ""
    test_set_root: str = ""
    extra: RoundExtras = field(default_factory=RoundExtras)
    version: int = RECORD_VERSION

    def __post_init__(self) -> None:
        # Callers of modelpact 0.1 passed ``extra`` as a plain mapping: read it the same way.
        extra: object = self.extra
        if not isinstance(extra, RoundExtras):
            object.__setattr__(self, "extra", RoundExtras.from_json(extra))

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-ready dict."""
        document = {f.name: getattr(self, f.name) for f in fields(self)}
        document["extra"] = self.extra.to_json()
        return document

    @classmethod
    def from_json(cls, data: Any, *, source: str = "record") -> DeploymentRecord:
        """Parse and validate a record; every problem names the field."""
        if not isinstance(data, dict):
            raise UnknownDeploymentError(
                f"{source} is not a JSON object", hint="pass a record written by coordinator deploy"
            )
        required = {
            "chain_id": int,
            "address": str,
            "tx_hash": str,
            "block_number": int,
            "coordinator": str,
            "compiler_version": str,
            "compiler_settings": dict,
            "abi": list,
            "runtime_bytecode_sha3": str,
            "scenario_file": str,
            "scenario_sha256": str,
            "menu_file": str,
            "menu_sha256": str,
        }
        for name, kind in required.items():
            if name not in data:
                raise UnknownDeploymentError(
                    f"{source} has no '{name}' field",
                    hint="pass a deployment record written by `modelpact coordinator deploy`",
                )
            if not isinstance(data[name], kind) or (kind is int and isinstance(data[name], bool)):
                raise UnknownDeploymentError(
                    f"{source} field '{name}' should be {kind.__name__}",
                    hint="the record was edited by hand or is corrupt; restore it",
                )
        for name in ("address", "coordinator"):
            if not is_address(data[name]):
                raise UnknownDeploymentError(
                    f"{source} field '{name}' is not an address: {data[name]!r}",
                    hint="restore the record from the deployment output",
                )
        version = data.get("version", RECORD_VERSION)
        if version != RECORD_VERSION:
            raise UnknownDeploymentError(
                f"{source} has record version {version}, this modelpact reads {RECORD_VERSION}",
                hint="upgrade modelpact or redeploy",
            )
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        values["address"] = to_checksum_address(data["address"])
        values["coordinator"] = to_checksum_address(data["coordinator"])
        values["extra"] = RoundExtras.from_json(data.get("extra", {}), source=source)
        return cls(**values)

    def scenario_path(self, base: Path) -> Path:
        """Absolute path of the scenario file, relative paths resolved against ``base``."""
        return (base / self.scenario_file).resolve()

    def menu_path(self, base: Path) -> Path:
        """Absolute path of the menu file, relative paths resolved against ``base``."""
        return (base / self.menu_file).resolve()

    def test_set_path(self, base: Path) -> Path:
        """Absolute path of the public test set, relative paths resolved against ``base``."""
        return (base / self.test_set_file).resolve()

    def files_dir(self, base: Path) -> Path:
        """Directory of the published files (delivered data, model store), against ``base``."""
        return (base / self.extra.files_dir).resolve()

    def models_dir(self, base: Path) -> Path:
        """The coordinator's content-addressed model store, against ``base``."""
        return (self.files_dir(base) / self.extra.models_dir).resolve()


def record_filename(chain_id: int, address: str) -> str:
    """``<chain-id>-<checksum address>.json``."""
    return f"{chain_id}-{to_checksum_address(address)}.json"


def write_record(record: DeploymentRecord, path: Path) -> Path:
    """Write ``record`` to ``path`` atomically and return the path."""
    atomic_write_json(path, record.to_json())
    return path


def read_record(path: Path) -> DeploymentRecord:
    """Read and validate a record file."""
    if not path.is_file():
        raise UnknownDeploymentError(
            f"unknown deployment: no record at {path}",
            hint="pass the record written by `modelpact coordinator deploy` (deploy/*.json)",
        )
    try:
        data = json.loads(path.read_text())
    except ValueError as error:
        raise UnknownDeploymentError(
            f"deployment record {path} is not valid JSON", hint="restore the record file"
        ) from error
    return DeploymentRecord.from_json(data, source=f"deployment record {path}")


VERIFICATION_SUFFIXES = (".input.json", ".metadata.json")
"""Files written beside a record for source verification; never records themselves."""


def list_records(deploy_dir: Path) -> list[Path]:
    """The deployment records in ``deploy_dir``, oldest first (verification files left out)."""
    found = (p for p in deploy_dir.glob("*.json") if not p.name.endswith(VERIFICATION_SUFFIXES))
    return sorted(found, key=lambda p: p.stat().st_mtime)


def find_record(reference: str, *, deploy_dir: Path) -> tuple[DeploymentRecord, Path]:
    """Resolve a deployment named by a record path, an address, or ``latest``.

    Returns the record and the path it was read from (relative file names resolve against its
    directory).
    """
    candidate = Path(reference)
    if candidate.suffix == ".json" or candidate.is_file():
        return read_record(candidate), candidate.resolve()
    records = list_records(deploy_dir)
    if reference == "latest":
        if not records:
            raise UnknownDeploymentError(
                f"unknown deployment: no records in {deploy_dir}",
                hint="deploy with `modelpact coordinator deploy` or pass --deployment FILE",
            )
        return read_record(records[-1]), records[-1].resolve()
    if is_address(reference):
        wanted = to_checksum_address(reference)
        for path in reversed(records):
            if path.name.endswith(f"-{wanted}.json"):
                return read_record(path), path.resolve()
    raise UnknownDeploymentError(
        f"unknown deployment {reference!r}: no record in {deploy_dir}",
        hint="pass --deployment with a deploy/*.json file or the address of a recorded round",
    )

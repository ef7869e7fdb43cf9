"""Participant wallets: eth-account encrypted keystores (Web3 Secret Storage v3, scrypt).

A keystore file holds one account. The password comes from the caller (the CLI reads it from
``MODELPACT_PASSWORD`` or a prompt); it is never stored. Keystores are written atomically with
mode 0600 and are never overwritten by accident.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from modelpact.errors import ModelpactError
from modelpact.round.state import atomic_write_bytes

__all__ = [
    "PASSWORD_ENV",
    "KeystoreError",
    "MissingKeystoreError",
    "WrongPasswordError",
    "create_keystore",
    "import_keystore",
    "keystore_address",
    "load_account",
]

PASSWORD_ENV = "MODELPACT_PASSWORD"


class KeystoreError(ModelpactError, ValueError):
    """A keystore file is unreadable, malformed or would be overwritten."""


class MissingKeystoreError(KeystoreError, FileNotFoundError):
    """The keystore file does not exist."""


class WrongPasswordError(KeystoreError):
    """The password does not decrypt the keystore (MAC mismatch)."""


def _write_keystore(path: Path, keystore: dict[str, Any]) -> None:
    if path.exists():
        raise KeystoreError(
            f"keystore {path} already exists",
            hint="choose another --keystore path or delete the old file if you are sure",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps(keystore, indent=2).encode(), mode=0o600)


def create_keystore(path: Path, *, password: str) -> ChecksumAddress:
    """Create a fresh account, encrypt it with ``password`` into ``path``; return its address."""
    if not password:
        raise KeystoreError("empty password", hint=f"type a password or set {PASSWORD_ENV}")
    account: LocalAccount = Account.create()
    _write_keystore(path, Account.encrypt(account.key, password))
    return to_checksum_address(account.address)


def import_keystore(path: Path, *, private_key: str, password: str) -> ChecksumAddress:
    """Encrypt an existing private key (hex) with ``password`` into ``path``; return its address."""
    if not password:
        raise KeystoreError("empty password", hint=f"type a password or set {PASSWORD_ENV}")
    try:
        account: LocalAccount = Account.from_key(private_key.strip())
    except (ValueError, TypeError) as error:
        raise KeystoreError(
            "the private key is not a 32-byte hex string",
            hint="pass the key as 0x followed by 64 hex digits",
        ) from error
    _write_keystore(path, Account.encrypt(account.key, password))
    return to_checksum_address(account.address)


def _read_keystore(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise MissingKeystoreError(
            f"no keystore at {path}",
            hint="create one with `modelpact participant new-account --keystore PATH` "
            "or pass the right --keystore",
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise KeystoreError(
            f"keystore {path} is not valid JSON", hint="restore the file from your backup"
        ) from error
    if not isinstance(data, dict) or "crypto" not in data:
        raise KeystoreError(
            f"{path} is not an encrypted keystore (no 'crypto' section)",
            hint="pass a keystore written by `modelpact participant new-account`",
        )
    return data


def keystore_address(path: Path) -> ChecksumAddress:
    """The address stored in a keystore, read without the password."""
    data = _read_keystore(path)
    if "address" not in data:
        raise KeystoreError(f"keystore {path} has no address field", hint="re-import the key")
    return to_checksum_address("0x" + str(data["address"]).removeprefix("0x"))


def load_account(path: Path, *, password: str) -> LocalAccount:
    """Decrypt the keystore at ``path``; raise :class:`WrongPasswordError` on a bad password."""
    data = _read_keystore(path)
    try:
        key = Account.decrypt(data, password)
    except Exception as error:  # eth-keyfile raises KeyError/TypeError/its own on odd fields
        if isinstance(error, ValueError) and "MAC mismatch" in str(error):
            raise WrongPasswordError(
                f"wrong password for keystore {path}",
                hint=f"retype the password (or fix {PASSWORD_ENV}); nothing was changed",
            ) from error
        why = " ".join(f"{type(error).__name__}: {error}".split())[:120]
        raise KeystoreError(
            f"keystore {path} cannot be decrypted ({why})",
            hint="pass a version-3 keystore as `modelpact participant new-account` writes, or "
            "restore the file from your backup",
        ) from None
    account: LocalAccount = Account.from_key(key)
    stated = data.get("address")
    if stated is not None and str(stated).lower().removeprefix("0x") != account.address.lower()[2:]:
        raise KeystoreError(  # the local state is keyed by the stated address: refuse a mix-up
            f"keystore {path} states address {stated} but holds the key of {account.address}",
            hint="the file was edited or mixed up: restore it from your backup",
        )
    return account

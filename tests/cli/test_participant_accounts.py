"""Wallet commands through the real entry point: the password prompt, the environment variable,
and the keystore errors (each one line, exit 2, the keystore untouched)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _run(cwd: Path, *args: str, stdin: str = "", env_password: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != "MODELPACT_PASSWORD"}
    if env_password is not None:
        env["MODELPACT_PASSWORD"] = env_password
    return subprocess.run(
        [sys.executable, "-m", "modelpact", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )


def test_new_account_prompts_twice_and_refuses_overwrite(tmp_path: Path) -> None:
    """Without MODELPACT_PASSWORD, new-account prompts for the password and its confirmation,
    writes an encrypted keystore (no plaintext key), and a second run on the same path is refused
    in one line without touching the file."""
    done = _run(
        tmp_path, "participant", "new-account", "--keystore", "me.json", stdin="s3cret\ns3cret\n"
    )
    assert done.returncode == 0, done.stderr
    assert "created account 0x" in done.stdout
    keystore = json.loads((tmp_path / "me.json").read_text())
    assert "crypto" in keystore
    assert "ciphertext" in keystore["crypto"]
    before = (tmp_path / "me.json").read_bytes()
    again = _run(tmp_path, "participant", "new-account", "--keystore", "me.json", env_password="x")
    assert again.returncode == 2
    assert again.stderr.startswith("error: keystore me.json already exists")
    assert again.stderr.count("\n") == 1
    assert (tmp_path / "me.json").read_bytes() == before


def test_import_account_with_env_password_and_bad_key(tmp_path: Path) -> None:
    """import-account reads the password from MODELPACT_PASSWORD and prints the key's address;
    a malformed key is one line naming the expected format, and no keystore is written."""
    (tmp_path / "good.key").write_text("0x" + "11" * 32 + "\n")
    done = _run(
        tmp_path,
        "participant",
        "import-account",
        "--keystore",
        "k.json",
        "--private-key-file",
        "good.key",
        env_password="pw",
    )
    assert done.returncode == 0, done.stderr
    assert "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A" in done.stdout
    (tmp_path / "bad.key").write_text("0x1234")
    bad = _run(
        tmp_path,
        "participant",
        "import-account",
        "--keystore",
        "b.json",
        "--private-key-file",
        "bad.key",
        env_password="pw",
    )
    assert bad.returncode == 2
    assert "32-byte hex" in bad.stderr
    assert not (tmp_path / "b.json").exists()

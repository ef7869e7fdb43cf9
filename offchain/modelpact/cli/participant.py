"""``modelpact participant ...``: a participant's wallet scripts.

Each command parses its options, calls one function of :mod:`modelpact.round.participant` with
keyword-only arguments, and prints the result. Passwords come from ``MODELPACT_PASSWORD`` or a
prompt, never from the command line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from modelpact.cli._app import app
from modelpact.round.wallet import PASSWORD_ENV, create_keystore, import_keystore

__all__ = ["participant_app"]

participant_app = typer.Typer(
    name="participant",
    help="Participant wallet scripts: account, menu, commit, join, reveal, claim, fetch, verify.",
    no_args_is_help=True,
)
app.add_typer(participant_app)

KeystoreOpt = Annotated[
    Path,
    typer.Option("--keystore", help="Encrypted keystore file of the participant's account."),
]


def _password(*, confirm: bool = False) -> str:
    """The keystore password from MODELPACT_PASSWORD, else a hidden prompt."""
    value = os.environ.get(PASSWORD_ENV)
    if value is not None:
        return value
    entered: str = typer.prompt("keystore password", hide_input=True, confirmation_prompt=confirm)
    return entered


@participant_app.command("new-account")
def new_account(keystore: KeystoreOpt) -> None:
    """Create a fresh account in an encrypted keystore (password from MODELPACT_PASSWORD or a
    prompt) and print its address."""
    address = create_keystore(keystore, password=_password(confirm=True))
    typer.echo(f"created account {address} in {keystore}")


@participant_app.command("import-account")
def import_account(
    keystore: KeystoreOpt,
    private_key_file: Annotated[
        Path,
        typer.Option("--private-key-file", help="File holding the hex private key to import."),
    ],
) -> None:
    """Encrypt an existing private key into a keystore and print its address."""
    key = private_key_file.read_text().strip()
    address = import_keystore(keystore, private_key=key, password=_password(confirm=True))
    typer.echo(f"imported account {address} into {keystore}")

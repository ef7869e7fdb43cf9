"""The ``modelpact`` command line: thin shells over the core.

Each command module parses and validates its arguments, calls one core function with keyword-only
arguments, and renders the result (as text, or one JSON document with ``--json``). Domain errors
(:class:`modelpact.errors.ModelpactError`) and usage errors (a missing option, a bad value) become
one line on stderr, ``error: <what was wrong>; <how to fix it>``, and exit code 2; nothing else is
caught, so a bug still shows its traceback. Shell completion: ``modelpact --install-completion``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import typer

from modelpact.cli import _app
from modelpact.errors import ModelpactError

__all__ = ["COMMAND_MODULES", "app", "load_commands", "main"]

EXIT_USER_ERROR = 2

COMMAND_MODULES: dict[str, str] = {
    "solve": "solve",
    "version": "solve",
    "curve": "curve",
    "simulate": "simulate",
    "participant": "participant",
    "demo": "demo",
    "coordinator": "coordinator",
    "audit": "audit",
    "reproduce": "reproduce",
    "sweep": "sweep",
    "dev": "dev",
}
"""Each top-level command and the module under ``modelpact.cli`` that registers it on the root
app when imported. In this order every module is imported for ``--help`` (the order the help
lists the commands in); a named command imports only its own module, so ``modelpact solve``
does not pay for web3, the chain adapters and the ML stack (tests check the table is whole)."""


def load_commands(command: str | None = None) -> typer.Typer:
    """The root app with ``command``'s module imported, or every module when ``command`` is None
    or not a known command (help, completion and "no such command" then see them all)."""
    module = COMMAND_MODULES.get(command) if command is not None else None
    for name in dict.fromkeys(COMMAND_MODULES.values()) if module is None else (module,):
        importlib.import_module(f"modelpact.cli.{name}")
    return _app.app


def __getattr__(name: str) -> Any:
    """``modelpact.cli.app``: the root app with every command registered (PEP 562)."""
    if name == "app":
        return load_commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _command_of(args: Sequence[str]) -> str | None:
    """The command an argument list names: its first word (the root takes no options but
    --help and the completion ones, which want every command loaded)."""
    return args[0] if args and not args[0].startswith("-") else None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``modelpact`` console script; returns the process exit code."""
    # typer vendors click; these are click's own exception classes (help without arguments
    # and every usage error), raised to us because standalone_mode is off.
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    args = list(argv) if argv is not None else sys.argv[1:]
    app = load_commands(_command_of(args))
    try:
        code = app(
            args=args,
            prog_name="modelpact",
            standalone_mode=False,
        )
    except ModelpactError as error:
        typer.echo(f"error: {error.one_line()}", err=True)
        return EXIT_USER_ERROR
    except NoArgsIsHelpError as shown:
        shown.show()
        return int(shown.exit_code)
    except UsageError as error:
        typer.echo(f"error: {usage_line(error)}", err=True)
        return EXIT_USER_ERROR
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 1
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as error:  # the last line of defence: never a traceback
        if os.environ.get("MODELPACT_DEBUG"):
            raise
        typer.echo(f"error: {unexpected_line(error)}", err=True)
        return EXIT_USER_ERROR if isinstance(error, OSError) else 1
    return code if isinstance(code, int) else 0


def unexpected_line(error: Exception) -> str:
    """One line for an error no module turned into a :class:`ModelpactError`: a file-system
    error names the path, a nonce race says what happened; anything else says how to report it.
    Re-running is safe either way: every transaction is recorded before it is waited for."""
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        reason = error.strerror or type(error).__name__
        return f"cannot use{where}: {reason}; check the path and its permissions"
    text = " ".join(str(error).split())
    if "nonce too low" in text.lower():
        return (
            "another transaction from this account was sent at the same time (nonce too low); "
            "re-run the command: it looks at the chain before sending again"
        )
    return (
        f"unexpected {type(error).__name__}: {text[:200]}; re-running is safe (sent "
        "transactions are recorded); set MODELPACT_DEBUG=1 to see where, and report it"
    )


def usage_line(error: typer.TyperException) -> str:
    """A usage error as one line: what was wrong, then where the command's help is."""
    text = " ".join(error.format_message().split()).rstrip(".")
    context = getattr(error, "ctx", None)
    where = context.command_path if context is not None else "modelpact"
    return f"{text}; see `{where} --help`"


if __name__ == "__main__":
    sys.exit(main())

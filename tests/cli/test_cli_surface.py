"""The command line as typed: every command's help works and shows an example that parses,
every command that prints a result takes ``--json``, completion is on, ``--chain`` is a real
choice, usage errors are one line, and every hint or help text that names a command, an option
or an environment variable names a real one (walked from the real Typer application)."""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup

from modelpact.cli import app, main
from modelpact.cli._app import EXAMPLE_PREFIX

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "offchain" / "modelpact"
ROOT_COMMAND = typer.main.get_command(app)


def _commands(
    command: typer.core.TyperGroup | typer.core.TyperCommand, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], object]]:
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))  # type: ignore[arg-type]


COMMANDS = dict(_commands(ROOT_COMMAND))  # type: ignore[arg-type]
LEAVES = {path: c for path, c in COMMANDS.items() if not isinstance(c, TyperGroup)}


def _options(command: object) -> set[str]:
    return {opt for p in command.params for opt in p.opts}  # type: ignore[attr-defined]


ALL_OPTIONS = set().union(*(_options(c) for c in COMMANDS.values()))


def _resolve(argv: list[str]) -> tuple[tuple[str, ...], object]:
    """Parse ``argv`` (after ``modelpact``) like the real entry point, without running it:
    every option is checked against the command, required options and choices included."""
    command, context, args, name, path = ROOT_COMMAND, None, list(argv), "modelpact", ()
    while True:
        context = command.make_context(name, args, parent=context)
        if not isinstance(command, TyperGroup):
            return path, command
        rest = [*context._protected_args, *context.args]
        name, command, args = command.resolve_command(context, rest)
        path = (*path, name)


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p) or "modelpact")
def test_help_shows_an_example_that_parses(path: tuple[str, ...], capsys) -> None:
    """`--help` exits 0 and ends with one example; the example parses to that very command."""
    assert main([*path, "--help"]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert EXAMPLE_PREFIX.strip() in printed
    epilog = str(COMMANDS[path].epilog)  # type: ignore[attr-defined]
    assert epilog.startswith(EXAMPLE_PREFIX + "modelpact")
    argv = shlex.split(epilog.removeprefix(EXAMPLE_PREFIX))[1:]
    resolved, _ = _resolve(argv)
    assert resolved[: len(path)] == path


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_every_command_prints_json_on_request(path: tuple[str, ...]) -> None:
    """Every command prints a result, and every one takes --json."""
    assert "--json" in _options(LEAVES[path])


def test_completion_is_on_and_chain_is_a_choice(capsys) -> None:
    """The root offers shell completion; --chain completes and refuses anything else in one
    line naming the choices (exit 2)."""
    assert {"--install-completion", "--show-completion"} <= _options(ROOT_COMMAND)
    (chain,) = [p for p in LEAVES[("coordinator", "status")].params if "--chain" in p.opts]
    assert [c.value for c in chain.shell_complete(None, "")] == ["embedded", "anvil"]  # type: ignore[arg-type]
    assert main(["coordinator", "status", "--chain", "mainnet"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "unknown --chain 'mainnet'" in line
    assert "--chain embedded, --chain anvil" in line


def test_usage_errors_are_one_line(capsys) -> None:
    """A missing required option is one line with exit 2, naming the command's help."""
    assert main(["coordinator", "deploy"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ")
    assert "--scenario" in line
    assert "`modelpact coordinator deploy --help`" in line


def _strings(node: ast.AST) -> str:
    """The literal text of an expression (f-string holes become spaces)."""
    parts = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant)]
    return " ".join(p for p in parts if isinstance(p, str))


def _texts() -> Iterator[tuple[str, str]]:
    """Every error message with a hint (its message and its ``hint=``) and every option help
    (``help=``) in the package, with where it is."""
    for source in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{source.relative_to(ROOT)}:{node.lineno}"
            keywords = {k.arg: k.value for k in node.keywords}
            if "hint" in keywords:
                yield where, " ".join(_strings(n) for n in (*node.args[:1], keywords["hint"]))
            if "help" in keywords:
                yield where, _strings(keywords["help"])


TEXTS = list(_texts())
_ENV_READ = re.compile(r"""["'](MODELPACT_[A-Z_]+)["']""")


def _env_vars_read() -> set[str]:
    """Environment variables the package reads: a full-string constant in its source (passed
    to ``os.environ``, an option's ``envvar``, or a constant that is), and the Foundry tool
    overrides ``modelpact.toolchain`` names from its tool list."""
    from modelpact.toolchain import FOUNDRY_TOOLS

    literal = {m for f in PACKAGE.rglob("*.py") for m in _ENV_READ.findall(f.read_text())}
    return literal | {f"MODELPACT_{tool.upper()}" for tool in FOUNDRY_TOOLS}


def test_hints_name_real_commands_options_and_environment_variables() -> None:
    """Every `command` a hint or help text names (in backticks) is a real command and every
    option after it is that command's; every other --option named is some command's; every
    MODELPACT_* variable named is one the package reads, and the RPC variable is MODELPACT_RPC."""
    assert len(TEXTS) > 100
    known_env = _env_vars_read()
    top = {path[0] for path in COMMANDS if path}
    problems = []
    for where, text in TEXTS:
        for span in re.findall(r"`([^`]+)`", text):
            words = span.split()
            if words and words[0] == "modelpact":
                words = words[1:]
            if not words or words[0] not in top:
                continue
            path = tuple(w for w in words if not w.startswith("-"))[:2]
            command = COMMANDS.get(path) or COMMANDS.get(path[:1])
            if command is None:
                problems.append(f"{where}: no command `{span}`")
                continue
            for opt in (w.split("=")[0] for w in words if w.startswith("--")):
                if opt not in _options(command):
                    problems.append(f"{where}: `{span}` has no option {opt}")
        problems += [
            f"{where}: no option {opt}"
            for opt in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text)
            if opt not in ALL_OPTIONS
        ]
        problems += [
            f"{where}: {var} is not read"
            for var in re.findall(r"MODELPACT_[A-Z_]+", text)
            if var not in known_env
        ]
    assert problems == []
    assert "MODELPACT_RPC_URL" not in {v for _, t in TEXTS for v in re.findall(r"MODELPACT_\w+", t)}


def test_readme_command_lines_parse() -> None:
    """Every `modelpact ...` line of README.md's examples parses against the real commands
    (options, choices and required options), so the walkthrough cannot drift from the CLI."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [m.strip() for m in re.findall(r"(?m)^\s*(modelpact [^\n#]*)", text)]
    assert len(lines) >= 10
    for line in lines:
        path, _ = _resolve(shlex.split(line)[1:])
        assert path, line

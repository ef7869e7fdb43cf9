"""Find the pinned Foundry binaries (forge, anvil) for the platform this process runs on.

package.json pins ``@foundry-rs/<tool>-<platform>`` for every platform Foundry publishes on npm,
as optional dependencies: ``npm ci`` installs only the one whose ``os``/``cpu`` match this machine.
This module is the one place that maps the running platform to that package, for Python callers
(:mod:`modelpact.chain.backends.anvil`) and for the shell scripts (``python -m modelpact.toolchain
forge`` prints the path).
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from modelpact.errors import ModelpactError

__all__ = ["FOUNDRY_TOOLS", "ToolchainError", "foundry_binary", "main", "npm_platform"]

FOUNDRY_TOOLS = ("forge", "anvil")
"""The Foundry tools package.json pins."""

_OS = {"linux": "linux", "darwin": "darwin", "win32": "win32"}
_CPU = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class ToolchainError(ModelpactError, RuntimeError):
    """A pinned tool is not installed for this platform."""


def npm_platform(system: str | None = None, machine: str | None = None) -> str:
    """The ``<os>-<cpu>`` suffix of Foundry's npm packages for this (or the given) platform."""
    os_name = _OS.get(sys.platform if system is None else system)
    cpu = _CPU.get((platform.machine() if machine is None else machine).lower())
    if os_name is None or cpu is None:
        raise ToolchainError(
            f"Foundry publishes no npm binaries for {system or sys.platform} "
            f"{machine or platform.machine()}",
            hint="install forge/anvil 1.7.1 yourself and set MODELPACT_FORGE / MODELPACT_ANVIL",
        )
    return f"{os_name}-{cpu}"


def _checkout() -> Path:
    """The checkout holding this package (where ``npm ci`` put node_modules)."""
    return Path(__file__).resolve().parents[2]


def foundry_binary(tool: str, *, root: Path | None = None) -> Path:
    """The pinned ``tool`` binary: ``$MODELPACT_<TOOL>``, else the npm package for this platform.

    Raises :class:`ToolchainError` naming the expected path and the fix when it is missing.
    """
    if tool not in FOUNDRY_TOOLS:
        raise ToolchainError(
            f"unknown Foundry tool {tool!r}", hint=f"name one of {', '.join(FOUNDRY_TOOLS)}"
        )
    env_name = f"MODELPACT_{tool.upper()}"
    override = os.environ.get(env_name)
    if override:
        path = Path(override)
    else:
        base = _checkout() if root is None else root
        exe = f"{tool}.exe" if sys.platform == "win32" else tool
        path = base / "node_modules" / "@foundry-rs" / f"{tool}-{npm_platform()}" / "bin" / exe
    if not path.is_file():
        raise ToolchainError(
            f"{tool} is not installed at {path}",
            hint=f"run ./scripts/bootstrap (installs the pinned npm tools) or set {env_name}",
        )
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m modelpact.toolchain TOOL``: print the binary's path (exit 2 with one line if
    it is missing)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(
            f"usage: python -m modelpact.toolchain {{{','.join(FOUNDRY_TOOLS)}}}", file=sys.stderr
        )
        return 2
    try:
        print(foundry_binary(args[0]))
    except ToolchainError as error:
        print(f"error: {error.one_line()}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

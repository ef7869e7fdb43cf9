"""One exception root for the project, with specific subclasses.

Every error a user can provoke derives from :class:`ModelpactError`; the CLI maps these to a
one-line message and a non-zero exit code. Where a builtin fits, subclasses also inherit it (as
web3.py does), so callers can catch ``ValueError`` or ``FileNotFoundError`` too.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "InfeasibleScenarioError",
    "ModelpactError",
    "ScenarioError",
    "SolverError",
]


class ModelpactError(Exception):
    """Root of every error modelpact raises on purpose.

    ``hint`` says how to fix the problem; the CLI prints ``message (hint)`` on one line.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and the fix, on a single line, as the CLI prints it."""
        text = self.message if self.hint is None else f"{self.message}; {self.hint}"
        return " ".join(text.split())

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt without calling the constructor, from its arguments and attributes: a
        # subclass's constructor may take other arguments than its message (a revert's decoded
        # name and arguments), and Exception's pickling would call it with ``args`` alone. An
        # error a forked worker raises (modelpact.parallel) arrives whole in its parent.
        return (_rebuilt, (type(self), self.args), self.__dict__)


def _rebuilt(cls: type[ModelpactError], args: tuple[Any, ...]) -> ModelpactError:
    """A pickled :class:`ModelpactError` before its attributes are restored."""
    error = cls.__new__(cls)
    error.args = args
    return error


class ScenarioError(ModelpactError, ValueError):
    """A scenario file is malformed or describes an invalid economy."""


class SolverError(ModelpactError, RuntimeError):
    """The optimizer could not certify a solution (numerical trouble, solver failure)."""


class InfeasibleScenarioError(SolverError):
    """The scenario admits no contract satisfying the requested constraints."""

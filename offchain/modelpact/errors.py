"""One exception root for the project, with specific subclasses.

Every error a user can provoke derives from :class:`ModelpactError`; the CLI maps these to a
one-line message and a non-zero exit code. Where a builtin fits, subclasses also inherit it (as
web3.py does), so callers can catch ``ValueError`` or ``FileNotFoundError`` too.
"""

from __future__ import annotations

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


class ScenarioError(ModelpactError, ValueError):
    """A scenario file is malformed or describes an invalid economy."""


class SolverError(ModelpactError, RuntimeError):
    """The optimizer could not certify a solution (numerical trouble, solver failure)."""


class InfeasibleScenarioError(SolverError):
    """The scenario admits no contract satisfying the requested constraints."""

"""Findings and the audit report: named checks with pass/fail and their evidence.

Every check has a stable id (``menu.ic``, ``balance.reconciles``, ...). A finding aggregates all
the subjects one rule looked at (every participant for ``reveal.commitment``); each failed subject
carries its evidence as expected versus found values. The report is plain data; the CLI renders it
with rich and :meth:`AuditReport.to_json` gives the machine-readable form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["AuditReport", "Evidence", "Finding", "Status", "make_finding", "skipped"]


class Status(StrEnum):
    """Outcome of one check."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # not applicable (phase not reached) or input not supplied


@dataclass(frozen=True)
class Evidence:
    """Why one subject failed (or, for single-subject checks, what was compared)."""

    subject: str
    expected: str
    found: str
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        out = {"subject": self.subject, "expected": self.expected, "found": self.found}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Finding:
    """The outcome of one named check.

    ``checked`` counts the subjects examined; ``failures`` holds evidence for each failed one;
    ``evidence`` holds the compared values of a passing single-subject check (for the record).
    """

    id: str
    title: str
    status: Status
    detail: str
    checked: int = 0
    failures: tuple[Evidence, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    @property
    def passed(self) -> bool:
        """True unless the check failed (a skipped check is not a failure)."""
        return self.status is not Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "detail": self.detail,
            "checked": self.checked,
            "failures": [e.to_dict() for e in self.failures],
            "evidence": [e.to_dict() for e in self.evidence],
        }


def make_finding(
    check_id: str,
    title: str,
    *,
    checked: int,
    failures: Iterable[Evidence],
    detail_pass: str,
    detail_fail: str | None = None,
    evidence: Iterable[Evidence] = (),
) -> Finding:
    """A PASS finding when ``failures`` is empty, a FAIL one otherwise."""
    failed = tuple(failures)
    if failed:
        detail = detail_fail or f"{len(failed)} of {checked} failed"
        return Finding(check_id, title, Status.FAIL, detail, checked, failed, tuple(evidence))
    return Finding(check_id, title, Status.PASS, detail_pass, checked, (), tuple(evidence))


def skipped(check_id: str, title: str, reason: str) -> Finding:
    """A finding for a check that does not apply or lacks its input."""
    return Finding(check_id, title, Status.SKIP, reason)


@dataclass(frozen=True)
class AuditReport:
    """All findings of one audit, in check order, plus what was audited."""

    chain_id: int
    address: str
    block_number: int
    phase: str
    findings: tuple[Finding, ...]
    tolerances: dict[str, float]
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True iff no check failed."""
        return all(f.passed for f in self.findings)

    @property
    def failed(self) -> tuple[Finding, ...]:
        """The failed findings."""
        return tuple(f for f in self.findings if f.status is Status.FAIL)

    def finding(self, check_id: str) -> Finding:
        """The finding with id ``check_id`` (KeyError if that check was not run)."""
        for f in self.findings:
            if f.id == check_id:
                return f
        raise KeyError(check_id)

    def failed_ids(self) -> set[str]:
        """Ids of the failed checks."""
        return {f.id for f in self.failed}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        counts = {s.value: sum(f.status is s for f in self.findings) for s in Status}
        return {
            "ok": self.ok,
            "chain_id": self.chain_id,
            "address": self.address,
            "block_number": self.block_number,
            "phase": self.phase,
            "counts": counts,
            "tolerances": self.tolerances,
            "elapsed_s": round(self.elapsed_s, 3),
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        """Indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

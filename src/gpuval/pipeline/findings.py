"""What ``gpuval check`` reports: one :class:`CheckResult` per check, gathered in a
:class:`CheckReport` (its ``passed`` is True only when every check passes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.workbook.workbook import Workbook

__all__ = ["MAX_DETAILS", "CheckReport", "CheckResult", "capped"]

#: Most details listed under one check; the rest are counted ("... and 3 more").
MAX_DETAILS = 20


@dataclass
class CheckResult:
    name: str
    description: str
    passed: bool
    details: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    workbook: Path
    results: list[CheckResult]
    #: the recalculated workbook the checks read (values, ``data_only``), for publish to reuse
    values: Workbook | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "workbook": str(self.workbook),
            "passed": self.passed,
            "checks": [
                {"name": r.name, "description": r.description, "passed": r.passed,
                 "details": r.details}
                for r in self.results
            ],
        }  # fmt: skip


def capped(details: list[str]) -> list[str]:
    """The first :data:`MAX_DETAILS` details, then a line counting the others."""
    if len(details) > MAX_DETAILS:
        return [*details[:MAX_DETAILS], f"... and {len(details) - MAX_DETAILS} more"]
    return details


def first_few(items: list[str], limit: int = 5) -> str:
    """The first ``limit`` items, comma-separated, and " ..." when there are more."""
    return ", ".join(items[:limit]) + (" ..." if len(items) > limit else "")

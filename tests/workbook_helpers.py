"""Helpers shared by the workbook tests: defined-name lookups and error scanning."""

from __future__ import annotations

from typing import Any

from openpyxl.workbook.workbook import Workbook

ERRORS = ("#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "Err:")


def named_cell(wb: Workbook, name: str) -> Any:
    """The cell a single-cell defined name points at; for a per-company input (a row of the
    Assumptions sheet), the target's cell."""
    title, coord = next(iter(wb.defined_names[name].destinations))
    cells = wb[title][coord.replace("$", "")]
    if not isinstance(cells, tuple):
        return cells
    ids_title, ids = next(iter(wb.defined_names["data_assumption_ids"].destinations))
    header = [c.value for c in wb[ids_title][ids.replace("$", "")][0]]
    target = named_cell(wb, "in_target").value
    return cells[0][header.index(target)]


def names(wb: Workbook, prefix: str) -> list[str]:
    return sorted(n for n in wb.defined_names if n.startswith(prefix))


def error_cells(wb: Workbook) -> list[str]:
    """Every cell (sheet!coord) whose value is a spreadsheet error."""
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(ERRORS):
                    bad.append(f"{ws.title}!{cell.coordinate}={cell.value}")
    return bad


def close(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """Equal numbers to ``rel`` (relative), or both "not available" (None / "n/a")."""
    if a in (None, "n/a") or b in (None, "n/a"):
        return a in (None, "n/a") and b in (None, "n/a")
    return abs(a - b) <= rel * max(abs(a), abs(b))

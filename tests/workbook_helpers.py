"""Helpers shared by the workbook tests: defined-name lookups, error scanning and stored values."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl.workbook.workbook import Workbook

from gpuval.workbook.sheets import peers

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


def chart_cells(wb: Workbook) -> set[str]:
    """Every cell (sheet!coord) of a chart column (defined names ``chart_*``), where ``#N/A``
    marks a point the chart skips."""
    cells = set()
    for name in (n for n in wb.defined_names if n.startswith("chart_")):
        for title, ref in wb.defined_names[name].destinations:
            for row in wb[title][ref.replace("$", "")]:
                cells |= {f"{title}!{c.coordinate}" for c in row}
    return cells


def error_cells(wb: Workbook) -> list[str]:
    """Every cell (sheet!coord) whose value is a spreadsheet error, except ``#N/A`` in a chart
    column."""
    bad = []
    skipped = chart_cells(wb)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                where = f"{ws.title}!{cell.coordinate}"
                if cell.value == "#N/A" and where in skipped:
                    continue
                if isinstance(cell.value, str) and cell.value.startswith(ERRORS):
                    bad.append(f"{where}={cell.value}")
    return bad


def close(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """Equal numbers to ``rel`` (relative), or both "not available" (None / "n/a")."""
    if a in (None, "n/a") or b in (None, "n/a"):
        return a in (None, "n/a") and b in (None, "n/a")
    return abs(a - b) <= rel * max(abs(a), abs(b))


def target_list(wb: Workbook) -> list[str]:
    """The companies the Target drop-down offers (its data validation's list), read from the
    workbook, not from gpuval's code."""
    title, coord = next(iter(wb.defined_names["in_target"].destinations))
    cell = coord.replace("$", "")
    ws = wb[title]
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list" and cell in dv.sqref:
            listed = dv.formula1 or ""
            if listed.startswith('"'):
                return [t.strip() for t in listed.strip('"').split(",")]
            sheet, _, area = listed.lstrip("=").rpartition("!")
            cells = wb[sheet.strip("'")][area.replace("$", "")]
            return [row[0].value for row in cells if row[0].value]
    raise AssertionError(f"no list validation on the in_target cell {title}!{cell}")


def formulas_without_values(path: Path) -> list[str]:
    """``Sheet!A1`` of every formula cell the package stores no computed value for: no ``<v>``,
    or an empty one on a cell that is not a string (``t="str"`` with an empty ``<v>`` is a
    computed empty text, e.g. ``=IFERROR(...,"")``). Read from the XML: openpyxl reads both an
    empty text and a missing value as None."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    missing = []
    with zipfile.ZipFile(path) as z:
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        parts = {r.get("Id"): str(r.get("Target")).lstrip("/").removeprefix("xl/") for r in rels}
        for sheet in etree.fromstring(z.read("xl/workbook.xml")).iter(f"{main}sheet"):
            root = etree.fromstring(z.read("xl/" + parts[sheet.get(rel)]))
            for c in root.iter(f"{main}c"):
                if c.find(f"{main}f") is None:
                    continue
                v = c.find(f"{main}v")
                if v is None or (not v.text and c.get("t") != "str"):
                    missing.append(f"{sheet.get('name')}!{c.get('r')}")
    return missing


def figures(values: Workbook) -> list[dict[str, Any]]:
    """Peer statistics' lines of what each company's figures are, down to the first blank
    line (the companies without a P/S on the basis), as header -> value."""
    ws = values[peers.STATS_TITLE]
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if list(row[: len(peers.FIGURES)]) == peers.FIGURES)
    lines = []
    for row in rows[top + 1 :]:
        if row[0] in (None, ""):
            break
        lines.append(dict(zip(peers.FIGURES, row, strict=False)))
    return lines

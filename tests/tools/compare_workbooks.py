"""Compare two workbooks cell by cell: formulas or values, number formats, fonts, fills, borders,
comments, defined names and sheet order. ``python tests/tools/compare_workbooks.py OLD NEW``
prints one line per difference and exits 1 when there is any."""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import load_workbook


def _style(cell) -> tuple:  # type: ignore[no-untyped-def]
    return (cell.number_format, repr(cell.font), repr(cell.fill), repr(cell.border),
            repr(cell.alignment), cell.style)  # fmt: skip


def differences(old: Path, new: Path) -> list[str]:
    """Every difference between the two workbooks, as ``Sheet!A1: what`` lines."""
    a, b = load_workbook(old), load_workbook(new)
    out: list[str] = []
    if a.sheetnames != b.sheetnames:
        out.append(f"sheets: {a.sheetnames} -> {b.sheetnames}")
    names_a = {n: d.attr_text for n, d in a.defined_names.items()}
    names_b = {n: d.attr_text for n, d in b.defined_names.items()}
    for n in sorted(set(names_a) | set(names_b)):
        if names_a.get(n) != names_b.get(n):
            out.append(f"name {n}: {names_a.get(n)} -> {names_b.get(n)}")
    for title in [t for t in a.sheetnames if t in b.sheetnames]:
        wa, wb = a[title], b[title]
        rows = max(wa.max_row, wb.max_row)
        cols = max(wa.max_column, wb.max_column)
        for r in range(1, rows + 1):
            for c in range(1, cols + 1):
                ca, cb = wa.cell(r, c), wb.cell(r, c)
                where = f"{title}!{ca.coordinate}"
                if ca.value != cb.value:
                    out.append(f"{where}: {ca.value!r} -> {cb.value!r}")
                if _style(ca) != _style(cb):
                    out.append(f"{where}: style differs")
                ta = ca.comment.text if ca.comment else None
                tb = cb.comment.text if cb.comment else None
                if ta != tb:
                    out.append(f"{where}: comment {ta!r} -> {tb!r}")
        if len(wa._charts) != len(wb._charts):
            out.append(f"{title}: {len(wa._charts)} -> {len(wb._charts)} charts")
    return out


if __name__ == "__main__":
    found = differences(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(found) or "no differences")
    sys.exit(1 if found else 0)

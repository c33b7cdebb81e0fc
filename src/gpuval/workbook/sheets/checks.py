"""Checks: every model check with its status, rolled up to the master check (``chk_master``)
that cell A3 of every sheet shows."""

from __future__ import annotations

from gpuval.workbook.sheets.base import Book, Sheet, col

TITLE = "Checks"


def write(book: Book, scanned: list[str]) -> Sheet:
    """``scanned``: the sheets whose cells must hold no error value."""
    sheet = Sheet(book, TITLE, "Every check passes when its status is TRUE; the master check "
                  "is TRUE only when all do.")  # fmt: skip
    sheet.widths({"A": 70, "B": 4, "C": 12})
    sheet.headers(4, ["Check", "", "Passes"])
    checks = list(book.checks)
    for title in scanned:
        ws = book.wb[title]
        last_col = col(max(ws.max_column, 10))
        area = f"'{title}'!A4:{last_col}{max(ws.max_row, 4)}"  # A3 shows the master check
        checks.append((f"No error value on {title}", f"SUMPRODUCT(--ISERROR({area}))=0"))
    for i, (text, formula) in enumerate(checks):
        r = 5 + i
        sheet.put(r, 1, text, "label")
        sheet.put(r, 3, f"={formula}", "calc", "plain")
    last = 4 + len(checks)
    sheet.put(last + 2, 1, "Master check", "section")
    sheet.put(last + 2, 3, f"=AND(C5:C{last})", "output", "plain", "chk_master")
    return sheet

"""Checks: every model check with its status (FALSE where its formula gives an error), rolled
up to the master check (``chk_master``) that cell A3 of every sheet shows.

Chart columns (defined names ``chart_*``, the rightmost columns of their sheet) hold ``#N/A``
where a chart must skip a point; the error scan stops left of them and a separate check allows
``#N/A`` there and nothing else: ``SUMPRODUCT(ISERROR(r)-ISNA(r))=0``."""

from __future__ import annotations

from openpyxl.utils import range_boundaries

from gpuval.workbook.sheets.base import Book, Sheet, col

TITLE = "Checks"


def write(book: Book, scanned: list[str]) -> Sheet:
    """``scanned``: the sheets whose cells must hold no error value."""
    sheet = Sheet(book, TITLE, "Every check passes when its status is TRUE; the master check "
                  "is TRUE only when all do.")  # fmt: skip
    sheet.widths({"A": 70, "B": 4, "C": 12})
    sheet.ws.page_setup.orientation = "portrait"  # a narrow list: one page, not two
    sheet.headers(4, ["Check", "", "Passes"])
    checks = list(book.checks)
    for title in scanned:
        ws = book.wb[title]
        charts = _chart_columns(book, title)
        last_col = col(min(charts) - 1 if charts else max(ws.max_column, 10))
        area = f"'{title}'!A4:{last_col}{max(ws.max_row, 4)}"  # A3 shows the master check
        checks.append((f"No error value on {title}", f"SUMPRODUCT(--ISERROR({area}))=0"))
        if charts:
            errors = "+".join(f"SUMPRODUCT(ISERROR({n})-ISNA({n}))" for n in charts.values())
            checks.append((f"The charts' helper columns on {title}: no error but #N/A (a "
                           "skipped point)", f"{errors}=0"))  # fmt: skip
    for i, (text, formula) in enumerate(checks):
        r = 5 + i
        sheet.put(r, 1, text, "label")
        sheet.put(r, 3, f"=IFERROR({formula},FALSE)", "calc", "plain")  # an error fails
    last = 4 + len(checks)
    sheet.put(last + 2, 1, "Master check", "section")
    sheet.put(last + 2, 3, f"=AND(C5:C{last})", "output", "plain", "chk_master")
    return sheet


def _chart_columns(book: Book, title: str) -> dict[int, str]:
    """Column index -> defined name of the ``chart_*`` columns on sheet ``title``; they must be
    the sheet's last columns, holding nothing outside their named range (a programming error
    otherwise)."""
    found = {}
    for name, target in book.names.items():
        sheet, ref = target.rsplit("!", 1)
        if name.startswith("chart_") and sheet.strip("'") == title:
            min_col, _, max_col, _ = range_boundaries(ref.replace("$", ""))
            assert min_col == max_col, f"{name} must be one column"
            found[int(min_col or 0)] = name
    if found:
        ws = book.wb[title]
        rows = {range_boundaries(book.names[n].rsplit("!", 1)[1].replace("$", ""))[1::2]
                for n in found.values()}  # fmt: skip
        ((top_row, bottom_row),) = rows
        top, bottom = int(top_row or 0), int(bottom_row or 0)
        stray = [c.coordinate for column in ws.iter_cols(min_col=min(found)) for c in column
                 if c.value is not None and not (top <= c.row <= bottom or (c.row < top and
                                                 c.column in found))]  # fmt: skip
        if stray or max(found) != ws.max_column:
            raise ValueError(f"cells right of the chart columns on {title}: {stray}")
    return found

"""The finishing pass over a built workbook: chart axes, print layout and check colours.

Run once on the finished workbook (``polish``), after every sheet is written:

* **charts**: every axis the sheet code left unset is written visible (``<c:delete val="0"/>``;
  an absent element may be read as a hidden axis), every scatter chart gets the ``scatterStyle``
  the ISO/IEC 29500 schema requires, error bars are written in the schema's element order; axes
  a sheet hides on purpose stay hidden;
* **print**: header and footer (sheet name, dataset, print date, page *P* of *N*), the table
  header row repeated on every page, a print area over the used cells and charts, fitted to
  ``pages_wide = ceil(print width / PAGE_CHARS)`` landscape A4 pages across so that no sheet
  prints below about 8 pt;
* **colours**: the master-check cells turn green when every check passes and red otherwise,
  through conditional formatting (the cell style itself stays neutral).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.chart import LineChart, ScatterChart
from openpyxl.chart._chart import ChartBase
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.worksheet import Worksheet

from gpuval.workbook.sheets.base import Book

__all__ = [
    "PAGE_CHARS",
    "check_colours",
    "fix_charts",
    "header_row",
    "order_all_error_bars",
    "order_error_bars",
    "pages_wide",
    "polish",
    "print_extent",
    "print_layout",
    "status_colours",
]

PAGE_CHARS = 170
"""Column-width characters printed on one landscape A4 page: LibreOffice then prints at about
80 % (10 pt text near 8 pt), Excel near 100 %."""
TITLE_COLS_MAX = 45
"""Frozen label columns at most this wide (characters) are repeated on every page across."""

HEADER_STYLE = "gv_header"
GOOD_FILL, GOOD_FONT = "FFC6EFCE", "FF006100"
BAD_FILL, BAD_FONT = "FFFFC7CE", "FF9C0006"
_DEFAULT_WIDTH = 8.43  # characters, Excel's default column width
_DEFAULT_HEIGHT = 15.0  # points, Excel's default row height
_IF_MASTER = re.compile(r'^=IF\(chk_master,"([^"]*)","([^"]*)"\)$')


def polish(book: Book) -> None:
    """Finish every sheet of ``book``: charts, print layout, check colours."""
    fix_charts(book.wb)
    centre = f"gpuval · dataset {book.dataset.version}"
    for ws in book.wb.worksheets:
        print_layout(ws, header_row(ws, book.header_rows.get(ws.title)), centre=centre)
        check_colours(ws)
    if "chk_master" in book.names:  # the Checks sheet: every status down to the master check
        sheet, ref = book.names["chk_master"].rsplit("!", 1)
        ws = book.wb[sheet.strip("'")]
        letter, last = coordinate_from_string(ref.replace("$", ""))
        first = (header_row(ws, book.header_rows.get(ws.title)) or last - 1) + 1
        status_colours(ws, f"{letter}{first}:{letter}{last}")


# -- charts -------------------------------------------------------------------------------------


def _charts(ws: Worksheet) -> Iterable[ChartBase]:
    for chart in ws._charts:  # type: ignore[attr-defined]  # openpyxl keeps charts here
        yield chart
        yield from (c for c in chart._charts if c is not chart)


def fix_charts(wb: Workbook) -> int:
    """Make unset axes explicitly visible, give scatter charts a style and write every line
    series' ``smooth`` (LibreOffice draws a series without it as a curve), order error bars as
    the schema does; return the number of axes changed. ``axis.delete = True`` set by a sheet
    is kept."""
    changed = 0
    seen: set[int] = set()
    for ws in wb.worksheets:
        for chart in _charts(ws):
            if isinstance(chart, ScatterChart) and chart.scatterStyle is None:
                chart.scatterStyle = "lineMarker"  # what Excel writes; series set their lines
            for series in chart.series if isinstance(chart, LineChart | ScatterChart) else ():
                if series.smooth is None:
                    series.smooth = False
            order_error_bars(chart)
            for axis in (getattr(chart, a, None) for a in ("x_axis", "y_axis", "z_axis")):
                if axis is None or id(axis) in seen:
                    continue
                seen.add(id(axis))
                if axis.delete is None:
                    axis.delete = False
                    changed += 1
    return changed


class SchemaErrorBars(ErrorBars):
    """Error bars written in the schema's order: ``CT_ErrBars`` (ISO/IEC 29500-1, 21.2.2.55)
    has ``c:plus`` before ``c:minus``; openpyxl writes them the other way round."""

    __elements__ = ("errDir", "errBarType", "errValType", "noEndCap", "plus", "minus", "val",
                    "spPr")  # fmt: skip
    __attrs__, __nested__ = ErrorBars.__attrs__, ErrorBars.__nested__  # not this class's own


def order_error_bars(chart: ChartBase) -> int:
    """Give every series' error bars the schema's element order; return how many."""
    done = 0
    for series in chart.series:
        bars = getattr(series, "errBars", None)
        if type(bars) is ErrorBars:
            bars.__class__ = SchemaErrorBars
            done += 1
    return done


def order_all_error_bars(wb: Workbook) -> int:
    """``order_error_bars`` on every chart of ``wb``, e.g. one openpyxl has read back (its error
    bars are openpyxl's own again); return how many."""
    return sum(order_error_bars(chart) for ws in wb.worksheets for chart in _charts(ws))


# -- print --------------------------------------------------------------------------------------


def header_row(ws: Worksheet, recorded: list[int] | None = None) -> int | None:
    """The table header row to repeat on every printed page, or None.

    Header rows are those recorded by ``Sheet.headers`` or, failing that, rows holding a
    ``gv_header`` cell. With frozen panes, the last header row above the split (the table the
    sheet freezes for); otherwise the first header row.
    """
    rows = sorted(recorded) if recorded else _styled_header_rows(ws)
    if not rows:
        return None
    split = range_boundaries(ws.freeze_panes)[1] if ws.freeze_panes else None
    above = [r for r in rows if split and r < split]
    return above[-1] if above else rows[0]


def _styled_header_rows(ws: Worksheet) -> list[int]:
    styled = (c for row in ws.iter_rows() for c in row if c.has_style and c.style == HEADER_STYLE)
    return sorted({c.row for c in styled if c.row is not None})


def _column_width(ws: Worksheet, index: int) -> float:
    """Width in characters; looked up without creating a dimension (openpyxl would write a
    new one 13 wide)."""
    dims = ws.column_dimensions.get(get_column_letter(index))
    return float(dims.width) if dims is not None and dims.width else _DEFAULT_WIDTH


def _anchor_cell(chart: ChartBase) -> tuple[int, int]:
    """(column, row), 1-based, of a chart's top-left cell."""
    anchor = chart.anchor
    if isinstance(anchor, str):
        min_col, min_row, _, _ = range_boundaries(anchor)
        return int(min_col or 1), int(min_row or 1)
    return anchor._from.col + 1, anchor._from.row + 1


def print_extent(ws: Worksheet) -> tuple[int, int]:
    """(last column, last row) of the used cells and the charts.

    A chart of width w cm spans w / 2.54 * 96 pixels; a column of width c characters is about
    7c + 5 pixels, a row of h points 4h / 3 pixels.
    """
    last_col, last_row = ws.max_column, ws.max_row
    for chart in ws._charts:  # type: ignore[attr-defined]
        column, row = _anchor_cell(chart)
        pixels = chart.width / 2.54 * 96
        while pixels > 0:
            pixels -= 7 * _column_width(ws, column) + 5
            column += 1
        pixels = chart.height / 2.54 * 96
        while pixels > 0:
            dims = ws.row_dimensions.get(row)
            height = dims.height if dims is not None else None
            pixels -= (float(height) if height else _DEFAULT_HEIGHT) * 4 / 3
            row += 1
        last_col, last_row = max(last_col, column - 1), max(last_row, row - 1)
    return last_col, last_row


def pages_wide(ws: Worksheet, last_col: int, titles: int = 0) -> int:
    """Landscape pages across for columns 1..last_col when columns 1..titles repeat on every
    page: ceil((W - T) / (PAGE_CHARS - T)), W and T the widths in characters; at least 1."""
    width = sum(_column_width(ws, c) for c in range(1, last_col + 1))
    repeated = sum(_column_width(ws, c) for c in range(1, titles + 1))
    return max(1, math.ceil((width - repeated) / (PAGE_CHARS - repeated)))


def _title_columns(ws: Worksheet) -> int:
    """How many frozen label columns to repeat on pages across (0: none, or too wide)."""
    column = (range_boundaries(ws.freeze_panes)[0] or 1) if ws.freeze_panes else 1
    width = sum(_column_width(ws, c) for c in range(1, column))
    return column - 1 if 0 < width <= TITLE_COLS_MAX else 0


def _text(text: str) -> str:
    return text.replace("&", "&&")  # a lone & starts a header code


def print_layout(ws: Worksheet, header: int | None, *, centre: str = "gpuval") -> None:
    """Header and footer, repeated table header, print area (unless the sheet set its own) and
    fit-to-width of one sheet."""
    last_col, last_row = print_extent(ws)
    if ws.print_area:  # a sheet that prints only part of itself (Implied's bisection detail)
        own = range_boundaries(str(ws.print_area).split("!")[-1].replace("$", ""))
        last_col, last_row = own[2] or last_col, own[3] or last_row
    else:
        ws.print_area = f"A1:{get_column_letter(last_col)}{last_row}"
    titles = _title_columns(ws)
    needed = pages_wide(ws, last_col, titles)
    wide = max(int(ws.page_setup.fitToWidth or 1), needed)
    ws.page_setup.fitToWidth = wide
    if ws.page_setup.orientation is None:
        ws.page_setup.orientation = "landscape"
    if header is not None and header < last_row:
        ws.print_title_rows = f"{header}:{header}"
    if wide > 1 and titles:  # repeat the frozen label columns on every page across
        ws.print_title_cols = f"A:{get_column_letter(titles)}"
    head, foot = ws.oddHeader, ws.oddFooter
    assert head is not None and foot is not None  # openpyxl creates both with the sheet
    head.left.text, head.center.text, head.right.text = "&A", _text(centre), "Printed &D"
    foot.left.text, foot.right.text = "&F", "Page &P of &N"
    for section in (head.left, head.center, head.right, foot.left, foot.right):
        section.size = 8


# -- colours ------------------------------------------------------------------------------------


def _good() -> dict[str, object]:
    return {"fill": PatternFill("solid", bgColor=GOOD_FILL), "font": Font(color=GOOD_FONT)}


def _bad() -> dict[str, object]:
    return {"fill": PatternFill("solid", bgColor=BAD_FILL), "font": Font(color=BAD_FONT)}


def check_colours(ws: Worksheet) -> int:
    """Green / red conditional formats on every cell showing ``=IF(chk_master,"ok","bad")``:
    green when the cell reads the ok text, red otherwise (including an error). Returns how
    many cells were coloured."""
    done = 0
    for row in ws.iter_rows():
        for cell in row:
            match = _IF_MASTER.match(cell.value) if isinstance(cell.value, str) else None
            if not match:
                continue
            ok = match.group(1).replace('"', '""')
            test = f'IFERROR({cell.coordinate}="{ok}",FALSE)'
            ws.conditional_formatting.add(
                cell.coordinate, FormulaRule(formula=[test], stopIfTrue=True, **_good())
            )
            ws.conditional_formatting.add(
                cell.coordinate, FormulaRule(formula=[f"NOT({test})"], **_bad())
            )
            done += 1
    return done


def status_colours(ws: Worksheet, ref: str) -> None:
    """Green / red conditional formats on a range of TRUE / FALSE check results: green for
    TRUE, red for FALSE or an error value; blank and text cells stay plain."""
    x = ref.split(":")[0]  # relative to the range's top-left cell
    good = f"AND(ISLOGICAL({x}),{x}=TRUE)"
    bad = f"IF(ISERROR({x}),TRUE,AND(ISLOGICAL({x}),{x}=FALSE))"
    ws.conditional_formatting.add(ref, FormulaRule(formula=[good], **_good()))
    ws.conditional_formatting.add(ref, FormulaRule(formula=[bad], **_bad()))

"""The finishing pass over a built workbook: chart axes, print layout and check colours.

Run once on the finished workbook (``polish``), after every sheet is written:

* **charts**: every axis the sheet code left unset is written visible (``<c:delete val="0"/>``;
  an absent element may be read as a hidden axis), every scatter chart gets the ``scatterStyle``
  the ISO/IEC 29500 schema requires, error bars are written in the schema's element order; axes
  a sheet hides on purpose stay hidden;
* **print**: header and footer (sheet name, "Appendix" on appendix sheets, dataset version,
  as-of date, print date, page *P* of *N*; :func:`header_text`), panes frozen just below the
  table header (below the title block on a sheet of stacked tables), that header row repeated on
  every page, a print area over the used cells and charts, fitted to :func:`pages_wide` A4
  pages across (landscape; Checks portrait) so that no text prints below 8 pt (the scale never
  falls under 8 pt over the sheet's smallest font, :func:`floor_scale`; hidden columns neither
  print nor count; a sheet with collapsed columns in its print area (Peers, Peer statistics,
  Monte Carlo) prints at that scale fixed, so that its columns, once shown, print on more
  pages rather than smaller, with its label columns repeated), charts that alone make a sheet
  wider than a page moved below its cells (:func:`stack_charts`) and manual
  page breaks before a chart that would otherwise straddle a page edge (:func:`chart_breaks`);
* **colours**: green (``gv_link``) only on a formula that fetches a value from another sheet,
  black (``gv_calc``) on every other formula (:func:`link_colours`); the master-check cells
  turn green when every check passes and red otherwise, through conditional formatting (the
  cell style itself stays neutral).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.chart import LineChart, ScatterChart
from openpyxl.chart._chart import ChartBase
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from gpuval.errors import GpuvalError
from gpuval.workbook.sheets.base import Book, column_width
from gpuval.workbook.sheets.contents import APPENDIX

__all__ = [
    "MIN_POINTS",
    "chart_breaks",
    "check_colours",
    "fetches_from",
    "fit_height",
    "fix_charts",
    "freeze_below_header",
    "header_row",
    "header_text",
    "link_colours",
    "order_all_error_bars",
    "order_error_bars",
    "outline_levels",
    "page_px",
    "pages_wide",
    "polish",
    "print_extent",
    "print_layout",
    "set_headers",
    "stack_charts",
    "status_colours",
    "used_extent",
]

MIN_POINTS = 8.0
"""Nothing prints smaller: a sheet whose smallest font is s pt prints at 8 / s or more."""
HEADER_POINTS = 10
"""The header and footer's font size: they scale with the sheet (Excel's default, and
LibreOffice's way), so at the lowest scale, 80 %, they print at 8 pt."""
TITLE_COLS_MAX = 45
"""Frozen label columns at most this wide (characters) are repeated on every page across."""

HEADER_STYLE = "gv_header"
GOOD_FILL, GOOD_FONT = "FFC6EFCE", "FF006100"
BAD_FILL, BAD_FONT = "FFFFC7CE", "FF9C0006"
_DEFAULT_HEIGHT = 15.0  # points, Excel's default row height
TITLE_BLOCK = 4
"""First row below a sheet's title, subtitle and model check (rows 1-3)."""
PAGE_PX = (1000.0, 600.0)
"""Printable (width, height) of a landscape A4 page in pixels at 96 dpi and 100 %: 11.69 in less
0.4 in margins left and right (1045 px; 1000 here: LibreOffice, with Calibri's metric twin
Carlito, fitted a sheet this model put at 0.808 to 0.777, its columns a little wider); 8.27 in
less 1 in top and bottom (header and footer inside)."""
PORTRAIT_PX = (685.0, 930.0)
"""The same of a portrait A4 page: 8.27 in less 0.8 in (717 px, narrowed as :data:`PAGE_PX`'s),
11.69 in less 2 in. A narrow list (Checks) prints portrait, on one page where landscape takes
two."""

_REF = r"(?:'[^']+'|[A-Za-z_][\w.]*)!\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?"
_NAME = r"[A-Za-z_][\w.]*"
#: A formula that only fetches a value: a reference or a defined name, or the target's entry of
#: a table (``INDEX(table,tgt_row)``); any other formula is a calculation.
_FETCH = re.compile(
    rf"=(?:(?P<ref>{_REF}|{_NAME})|INDEX\((?P<table>{_REF}|{_NAME}),tgt_(?:row|col)\))"
)
_A1 = re.compile(r"\$?[A-Z]{1,3}\$?\d+")
_IF_MASTER = re.compile(r'^=IF\(chk_master,"([^"]*)","([^"]*)"\)$')


def polish(book: Book) -> None:
    """Finish every sheet of ``book``: charts, frozen panes, print layout, check colours."""
    from gpuval.workbook.sheets.peers import oldest_used_date

    fix_charts(book.wb)
    link_colours(book)
    try:
        asof = oldest_used_date(book.values)
    except GpuvalError:
        asof = None
    for ws in book.wb.worksheets:
        freeze_below_header(ws, book.header_rows.get(ws.title, []))
        print_layout(ws, header_row(ws, book.header_rows.get(ws.title)))
        check_colours(ws)
        outline_levels(ws)
    set_headers(book.wb, asof, book.dataset.version)
    if "chk_master" in book.names:  # the Checks sheet: every status down to the master check
        sheet, ref = book.names["chk_master"].rsplit("!", 1)
        ws = book.wb[sheet.strip("'")]
        letter, last = coordinate_from_string(ref.replace("$", ""))
        first = (header_row(ws, book.header_rows.get(ws.title)) or last - 1) + 1
        status_colours(ws, f"{letter}{first}:{letter}{last}")


def outline_levels(ws: Worksheet) -> None:
    """Declare the sheet's deepest row and column groups in ``sheetFormatPr`` (outlineLevelRow,
    outlineLevelCol), from which Excel sizes the outline bars and their level buttons (openpyxl
    writes outlineLevelCol before it has looked at the columns, so never, and never
    outlineLevelRow), and mark the row below and the column right of each hidden group
    ``collapsed``, where Excel reads the state of the group's button (+, not -)."""
    hidden_cols = _collapsed_columns(ws)
    hidden_rows = {r for r, d in ws.row_dimensions.items() if d.hidden and d.outlineLevel}
    for c in hidden_cols - {c - 1 for c in hidden_cols}:  # each group's last column
        width = column_width(ws, c + 1)  # before the lookup below makes a dimension 13 wide
        after = ws.column_dimensions[get_column_letter(c + 1)]
        after.width, after.collapsed = width, True
    for r in hidden_rows - {r - 1 for r in hidden_rows}:
        ws.row_dimensions[r + 1].collapsed = True
    deepest = {
        kind: max((d.outlineLevel or 0 for d in dims.values()), default=0) or None
        for kind, dims in (("row", ws.row_dimensions), ("col", ws.column_dimensions))
    }
    ws.sheet_format.outlineLevelRow = deepest["row"]
    ws.column_dimensions.max_outline = deepest["col"]  # openpyxl writes it as outlineLevelCol


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


def _row_height(ws: Worksheet, row: int) -> float:
    """Height in pixels (0 when hidden)."""
    dims = ws.row_dimensions.get(row)
    if dims is not None and dims.hidden:
        return 0.0
    height = dims.height if dims is not None else None
    return (float(height) if height else _DEFAULT_HEIGHT) * 4 / 3


def _anchor_cell(chart: ChartBase) -> tuple[int, int]:
    """(column, row), 1-based, of a chart's top-left cell."""
    anchor = chart.anchor
    if isinstance(anchor, str):
        min_col, min_row, _, _ = range_boundaries(anchor)
        return int(min_col or 1), int(min_row or 1)
    return anchor._from.col + 1, anchor._from.row + 1


def used_extent(ws: Worksheet) -> tuple[int, int]:
    """(last column, last row) holding a value (a styled empty cell does not count)."""
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    return max((int(c.column or 1) for c in cells), default=1), max(
        (int(c.row or 1) for c in cells), default=1
    )


def _chart_end(ws: Worksheet, chart: ChartBase) -> tuple[int, int]:
    """(column, row) just past a chart's bottom-right corner."""
    column, row = _anchor_cell(chart)
    pixels = chart.width / 2.54 * 96
    while pixels > 0:
        pixels -= 7 * column_width(ws, column) + 5
        column += 1
    pixels = chart.height / 2.54 * 96
    while pixels > 0:
        pixels -= _row_height(ws, row) or _DEFAULT_HEIGHT * 4 / 3
        row += 1
    return column, row


def print_extent(ws: Worksheet) -> tuple[int, int]:
    """(last column, last row) of the cells holding a value and the charts.

    A chart of width w cm spans w / 2.54 * 96 pixels; a column of width c characters is about
    7c + 5 pixels, a row of h points 4h / 3 pixels.
    """
    last_col, last_row = used_extent(ws)
    for chart in ws._charts:  # type: ignore[attr-defined]
        column, row = _chart_end(ws, chart)
        last_col, last_row = max(last_col, column - 1), max(last_row, row - 1)
    return last_col, last_row


def _column_px(ws: Worksheet, index: int) -> float:
    """A column's printed width at 100 %: 7 px a character and 5 px a column (hidden: 0)."""
    width = column_width(ws, index)
    return 7 * width + 5 if width else 0.0


def _pixels(ws: Worksheet, first: int, last: int) -> float:
    """Width of columns first..last at 100 % (:func:`_column_px`); 0 for none (first 0)."""
    return sum(_column_px(ws, c) for c in range(max(first, 1), last + 1))


def smallest_font(ws: Worksheet, last_col: int, last_row: int) -> float:
    """The smallest font size (points) of a cell holding a value in columns and rows 1..last."""
    sizes = [
        float(cell.font.sz or 11)
        for row in ws.iter_rows(max_row=last_row, max_col=last_col)
        for cell in row
        if cell.value is not None and cell.font is not None
    ]
    return min(sizes, default=11.0)


def page_px(ws: Worksheet) -> tuple[float, float]:
    """The printable (width, height) of the sheet's page: :data:`PORTRAIT_PX` or :data:`PAGE_PX`."""
    return PORTRAIT_PX if ws.page_setup.orientation == "portrait" else PAGE_PX


def floor_scale(ws: Worksheet, last_col: int, last_row: int) -> float:
    """The lowest print scale at which the sheet's smallest font prints at :data:`MIN_POINTS`:
    min(1, 8 / smallest font), and never under the header's 8 / 10."""
    smallest = min(smallest_font(ws, last_col, last_row), HEADER_POINTS)
    return min(1.0, MIN_POINTS / smallest)


def pages_wide(
    ws: Worksheet, last_col: int, titles: tuple[int, int] = (0, 0), floor: float = 0.8
) -> int:
    """Pages across for columns 1..last_col at a scale of at least ``floor`` when
    columns titles[0]..titles[1] repeat on every page: ceil((W - T) / (P / floor - T)), W and T the
    widths in pixels at 100 %, P the page's (:func:`page_px`); at least 1."""
    width, repeated = _pixels(ws, 1, last_col), _pixels(ws, *titles)
    return max(1, math.ceil((width - repeated) / (page_px(ws)[0] / floor - repeated)))


def _title_columns(ws: Worksheet) -> tuple[int, int]:
    """The (first, last) label columns to repeat on pages across: the sheet's own choice, else
    the frozen ones, else column A alone when those are too wide; (0, 0) for none."""
    if ws.print_title_cols:  # e.g. Peers: the company's name
        first, last = str(ws.print_title_cols).replace("$", "").split(":")
        return column_index_from_string(first), column_index_from_string(last)
    column = (range_boundaries(ws.freeze_panes)[0] or 1) if ws.freeze_panes else 1
    for count in (column - 1, 1):
        if 0 < sum(column_width(ws, c) for c in range(1, count + 1)) <= TITLE_COLS_MAX:
            return 1, count
    return 0, 0


def _text(text: str) -> str:
    return text.replace("&", "&&")  # a lone & starts a header code


def stack_charts(ws: Worksheet, floor: float = 0.8) -> int:
    """Move the charts that make a sheet too wide for one page at ``floor`` (its cells alone
    fitting on one) below the cells, side by side while a row of charts fits the page width,
    each row of charts below the last. Returns how many moved."""
    last_col, last_row = used_extent(ws)
    if (
        pages_wide(ws, print_extent(ws)[0], floor=floor) == 1
        or pages_wide(ws, last_col, floor=floor) > 1
    ):
        return 0
    limit = page_px(ws)[0] / floor  # pixels of one page across at the lowest scale
    moving = [c for c in ws._charts if _chart_end(ws, c)[0] - 1 > last_col]  # type: ignore[attr-defined]
    for chart in ws._charts:  # type: ignore[attr-defined]
        if chart not in moving:
            last_row = max(last_row, _chart_end(ws, chart)[1] - 1)
    row, x, bottom = last_row + 2, 0.0, last_row + 2
    for chart in sorted(moving, key=lambda c: _anchor_cell(c)[::-1]):
        width = chart.width / 2.54 * 96
        if x and x + width > limit:  # a new row of charts
            row, x = bottom + 1, 0.0
        column, left = 1, 0.0
        while left < x:
            left += 7 * column_width(ws, column) + 5
            column += 1
        chart.anchor = f"{get_column_letter(column)}{row}"
        x = left + width + 10
        bottom = max(bottom, _chart_end(ws, chart)[1])
    return len(moving)


def freeze_below_header(ws: Worksheet, headers: Sequence[int]) -> str | None:
    """Freeze panes (unless the sheet froze its own) just below the sheet's table header, or
    below the title block (row :data:`TITLE_BLOCK`) on a sheet of stacked tables, each with its
    own header; nothing on a sheet without a table. Returns the frozen cell."""
    if not ws.freeze_panes and headers:
        rows = sorted(set(headers))
        ws.freeze_panes = f"A{rows[0] + 1}" if len(rows) == 1 else f"A{TITLE_BLOCK}"
    return ws.freeze_panes


def header_text(
    asof: dt.date | None, version: str, *, appendix: bool = False
) -> tuple[str, str, str]:
    """The page header's (left, centre, right) sections in Excel's header codes: the sheet name
    (``&A``; "Appendix: " before it on an appendix sheet), the dataset version, the as-of date
    (the oldest market figure used, Cover!``data_asof``, said so: the target's price is often
    newer; headers cannot read cells, so it is written as text) and the print date (``&D``)."""
    day = asof.isoformat() if asof is not None else "n/a"
    left = "Appendix: &A" if appendix else "&A"
    right = _text(f"Oldest market figure {day}") + " · printed &D"
    return left, _text(f"gpuval · dataset {version}"), right


def set_headers(wb: Workbook, asof: dt.date | None, version: str) -> None:
    """Write :func:`header_text` and the footer (file name, page *P* of *N*) on every sheet
    (a portrait sheet's footer takes the header's centre); sheets of the appendix
    (:data:`~gpuval.workbook.sheets.contents.APPENDIX`) say so."""
    for ws in wb.worksheets:
        head, foot = ws.oddHeader, ws.oddFooter
        assert head is not None and foot is not None  # openpyxl creates both with the sheet
        texts = header_text(asof, version, appendix=ws.title in APPENDIX)
        head.left.text, head.center.text, head.right.text = texts
        foot.left.text, foot.right.text = "&F", "Page &P of &N"
        if ws.page_setup.orientation == "portrait":  # too narrow for three: version at the foot
            foot.center.text, head.center.text = head.center.text, None
        for section in (head.left, head.center, head.right, foot.left, foot.center, foot.right):
            section.size = HEADER_POINTS


def _collapsed_columns(ws: Worksheet) -> set[int]:
    """The columns hidden in a group (one click shows them)."""
    hidden: set[int] = set()
    for letter, d in ws.column_dimensions.items():
        if d.hidden and d.outlineLevel:  # a group() keeps one dimension for min..max
            first = d.min or column_index_from_string(letter)
            hidden |= set(range(first, (d.max or first) + 1))
    return hidden


def _scale(ws: Worksheet, last_col: int, wide: int) -> float:
    """The print scale of a sheet fitted to ``wide`` pages across (at most 100 %)."""
    pixels = _pixels(ws, 1, last_col)
    return min(1.0, wide * page_px(ws)[0] / pixels) if pixels else 1.0


def _page_starts(
    sizes: Sequence[float], limit: float, breaks: set[int], repeat: float
) -> list[int]:
    """1-based indexes that start a printed page, given each row's (column's) size, the page
    length, manual breaks (after index i) and the size of the repeated titles on later pages."""
    starts, used = [1], 0.0
    for i, size in enumerate(sizes, start=1):
        room = limit - (repeat if len(starts) > 1 else 0.0)
        if i > 1 and (i - 1 in breaks or used + size > room):
            starts.append(i)
            used = 0.0
        used += size
    return starts


def chart_breaks(
    ws: Worksheet, scale: float, titles: tuple[int, tuple[int, int]] = (0, (0, 0))
) -> int:
    """Manual page breaks before every chart that would otherwise straddle a page edge (one
    that fits on a page at all): a row break above it, a column break left of it. ``titles``:
    the repeated (rows, columns) at the top and left of later pages. Returns breaks added."""
    added = 0
    for chart in sorted(ws._charts, key=_anchor_cell):  # type: ignore[attr-defined]
        column, row = _anchor_cell(chart)
        last_col, last_row = print_extent(ws)
        for axis, start, length, limit, count in (
            ("row", row, chart.height / 2.54 * 96, page_px(ws)[1] / scale, last_row),
            ("col", column, chart.width / 2.54 * 96, page_px(ws)[0] / scale, last_col),
        ):
            if axis == "row":
                sizes = [_row_height(ws, r) for r in range(1, count + 1)]
                brk, repeat = ws.row_breaks, sizes[titles[0] - 1] if titles[0] else 0.0
            else:
                sizes = [_column_px(ws, c) for c in range(1, count + 1)]
                brk, repeat = ws.col_breaks, _pixels(ws, *titles[1])
            manual = {int(b.id) for b in brk.brk if b.id is not None}
            starts = _page_starts(sizes, limit, manual, repeat)
            first = max(s for s in starts if s <= start)
            top = sum(sizes[first - 1 : start - 1])
            room = limit - (repeat if first > 1 else 0.0)
            covered, stop = 0.0, start  # the chart covers start..stop - 1
            while covered < length and stop <= len(sizes):
                covered += sizes[stop - 1]
                stop += 1
            cut = any(start <= b < stop - 1 for b in manual)  # a manual break inside it
            if (top + length > room + 1 or cut) and length <= room and start > first:
                brk.append(Break(id=start - 1))
                added += 1
    return added


def fit_height(ws: Worksheet, last_row: int, scale: float, floor: float = 0.8) -> bool:
    """Fit a sheet to one page tall when at its width's scale it runs just over one page but
    fits one at ``floor`` (:func:`floor_scale`); not with manual row breaks. True when fitted."""
    height = sum(_row_height(ws, r) for r in range(1, last_row + 1))
    page = page_px(ws)[1]
    if ws.row_breaks.brk or height * scale <= page or height * floor > page:
        return False
    ws.page_setup.fitToHeight = 1
    return True


def _runs_over(ws: Worksheet, header: int, scale: float) -> bool:
    """True when the table under ``header`` (down to the first row with column A empty, the
    first manual break below it, or the last cell) runs past the first page it starts on."""
    below = sorted(int(b.id) for b in ws.row_breaks.brk if b.id is not None and b.id >= header)
    end = below[0] if below else used_extent(ws)[1]
    cells = ws._cells  # (ws.cell() would create the cells)
    blank = (
        r for r in range(header + 1, end + 1) if getattr(cells.get((r, 1)), "value", None) is None
    )
    end = next(blank, end + 1) - 1
    sizes = [_row_height(ws, r) for r in range(1, end + 1)]
    manual = {int(b.id) for b in ws.row_breaks.brk if b.id is not None}
    starts = _page_starts(sizes, page_px(ws)[1] / scale, manual, sizes[header - 1])
    return any(header < s <= end for s in starts)


def print_layout(ws: Worksheet, header: int | None) -> None:
    """Repeated table header (the one the panes freeze below) and label columns, print area
    (unless the sheet set its own), fit-to-width and chart page breaks of one sheet (the header
    and footer: :func:`set_headers`)."""
    floor = floor_scale(ws, *used_extent(ws))
    stack_charts(ws, floor)
    last_col, last_row = print_extent(ws)
    if ws.print_area:  # a sheet that prints only part of itself (Implied's bisection detail)
        own = range_boundaries(str(ws.print_area).split("!")[-1].replace("$", ""))
        last_col, last_row = own[2] or last_col, own[3] or last_row
    else:
        ws.print_area = f"A1:{get_column_letter(last_col)}{last_row}"
    titles = _title_columns(ws)
    wide = pages_wide(ws, last_col, titles, floor)
    ws.page_setup.fitToWidth = wide
    if ws.page_setup.orientation is None:
        ws.page_setup.orientation = "landscape"
    split = range_boundaries(ws.freeze_panes)[1] if ws.freeze_panes else None
    if header is not None and (header >= last_row or split not in (None, header + 1)):
        header = None  # only the header the panes freeze below repeats
    scale = _scale(ws, last_col, wide)
    collapsed = min(_collapsed_columns(ws), default=last_col + 1) <= last_col
    if collapsed:  # a fixed scale: the columns, once shown, print on more pages, not smaller
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=False)
        ws.page_setup.scale = math.floor(100 * scale)
    if (wide > 1 or collapsed) and titles[0]:  # the label columns on every page across
        ws.print_title_cols = f"{get_column_letter(titles[0])}:{get_column_letter(titles[1])}"
    elif wide == 1:
        ws.print_title_cols = None
    chart_breaks(ws, scale, (header or 0, titles if wide > 1 else (0, 0)))
    fitted = fit_height(ws, last_row, scale, floor)
    if header is not None and not fitted and _runs_over(ws, header, scale):
        ws.print_title_rows = f"{header}:{header}"


# -- colours ------------------------------------------------------------------------------------


def _good() -> dict[str, object]:
    return {"fill": PatternFill("solid", bgColor=GOOD_FILL), "font": Font(color=GOOD_FONT)}


def _bad() -> dict[str, object]:
    return {"fill": PatternFill("solid", bgColor=BAD_FILL), "font": Font(color=BAD_FONT)}


def fetches_from(formula: str, names: dict[str, str]) -> str | None:
    """The sheet a formula only fetches a value from: one reference or defined name, or the
    target's entry of a table (``INDEX(table,tgt_row)``); "" for the formula's own sheet
    (a reference without one); None for any other formula (a calculation)."""
    fetch = _FETCH.fullmatch(formula)
    if fetch is None:
        return None
    where = fetch["ref"] or fetch["table"]
    if "!" not in where:
        if _A1.fullmatch(where) or where not in names:  # a cell, TRUE or FALSE
            return "" if _A1.fullmatch(where) else None
        where = names[where]
    return where.rsplit("!", 1)[0].strip("'")


def link_colours(book: Book) -> int:
    """FAST's colours on every calc and link formula once all names are defined: green for a
    direct link to another sheet (:func:`fetches_from`), black for a calculation, whichever
    role the sheet code named. Returns how many are green."""
    green = 0
    for ws in book.wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                formula = cell.value
                if cell.style in ("gv_calc", "gv_link") and str(formula).startswith("="):
                    link = fetches_from(str(formula), book.names) not in (None, "", ws.title)
                    if cell.style != (style := "gv_link" if link else "gv_calc"):
                        # a style resets the cell's own format and alignment: keep those
                        fmt, align = cell.number_format, cell.alignment + Alignment()
                        cell.style = style
                        cell.number_format, cell.alignment = fmt, align
                    green += link
    return green


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

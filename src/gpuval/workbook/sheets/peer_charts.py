"""The Peer statistics charts and the chart columns that feed them.

Chart columns (named ``chart_peers_*``) hold a number or ``#N/A`` (``NA()``), never text (but the
bars' company names): a chart plots text x values as 1, 2, 3 and text y values as 0, but skips
``#N/A``. The Checks sheet leaves these columns out of its error scan and checks instead that
they hold no error other than ``#N/A``.

Both charts read slots, not table rows: slot ``n`` holds the ``n``-th company with a P/S on the
chosen basis, the target first and then in table order (by ``MATCH`` on the order the peer
table's chart columns give), in the slot
columns beside Peer statistics' table of what each figure is, one line per slot, and a chart
reads :func:`bar_slots` of them. So a company without a P/S (or a point) is left out rather
than shown as an empty labelled slot or a legend entry without a point, and a row deleted from or
inserted into the peer table moves no chart reference: the slots close up or fill.

* "P/S on the chosen basis, by company": one bar per company with a P/S, the target's bar drawn
  over it in another colour (``Target P/S`` = its P/S, ``#N/A`` elsewhere), the peer median as
  a line;
* "Market value vs revenue": log-log scatter of market value against revenue on the chosen
  basis, one series per slot labelled with its company's name (so an empty slot shows neither
  a point nor a name) up to :data:`NAMED_POINTS` companies, else one unlabelled series; the
  target's point is a series of its own in the bars' target colour, named after the target
  (the one legend entry).
"""

from __future__ import annotations

from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.legend import Legend, LegendEntry
from openpyxl.chart.series import Series as ChartSeries
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RichTextProperties,
)

from gpuval.workbook.sheets.base import Sheet, col

#: The peer table's chart column header -> defined name of its range (first..last company row).
CHART_COLUMNS = {
    "Chart: revenue (USD; #N/A if no point)": "chart_peers_revenue",
    "Chart: market value (USD; #N/A if no point)": "chart_peers_mv",
    "Chart: target P/S (#N/A elsewhere)": "chart_peers_target_ps",
    "Chart: P/S (#N/A if none)": "chart_peers_ps",
    "Chart: P/S order (the target first, 0 without a P/S)": "chart_peers_ps_order",
}
#: Slot column header (Peer statistics, a line per slot) -> defined name of its range, format.
SLOT_COLUMNS = {
    "Chart bars: company (with a P/S, in order)": ("chart_peers_bar_company", "plain"),
    "Chart bars: P/S": ("chart_peers_bar_ps", "multiple"),
    "Chart bars: target P/S": ("chart_peers_bar_target", "multiple"),
    "Chart bars: peer median P/S": ("chart_peers_bar_median", "multiple"),
    "Chart points: revenue (USD)": ("chart_peers_point_revenue", "usd_bn"),
    "Chart points: market value (USD; #N/A for the target)": ("chart_peers_point_mv", "usd_bn"),
    "Chart points: the target's market value (USD)": ("chart_peers_point_target", "usd_bn"),
}
NAMED_POINTS = 12
"""Up to this many companies the scatter has one series (one labelled point) per company."""
BLUE, ORANGE, GREY = "2F5597", "ED7D31", "7F7F7F"


def chart_formulas(
    revenue: str, mv: str, ps: str, company: str, cell: dict[str, str], above: dict[str, str]
) -> list[str]:
    """A peer table row's chart columns, in :data:`CHART_COLUMNS` order: a point needs a
    positive revenue and market value (log axes); the target's P/S; the company's P/S (none
    where the P/S is "n/a"); its place in the charts, the target first, then the companies with
    a P/S in table order: 1 for the target, else the count of P/S down to this row, less the
    target's when it is above, plus one when the target has a P/S (0 without a P/S). ``cell``
    and ``above``: a chart column's cell in this row and its range from the first row down to
    it, by header."""
    point = f"AND(ISNUMBER({revenue}),ISNUMBER({mv}),N({revenue})>0,N({mv})>0)"
    target, own = "Chart: target P/S (#N/A elsewhere)", "Chart: P/S (#N/A if none)"
    place = (f"IF(ISNUMBER({cell[target]}),1,COUNT({above[own]})-COUNT({above[target]})"
             f"+COUNT({CHART_COLUMNS[target]}))")  # fmt: skip
    return [
        f"=IF({point},{revenue},NA())",
        f"=IF({point},{mv},NA())",
        f"=IF(AND({company}=in_target,ISNUMBER({ps})),{ps},NA())",
        f"=IF(ISNUMBER({ps}),{ps},NA())",
        f"=IF(ISNUMBER({cell[own]}),{place},0)",
    ]


def slot_formulas(k: int) -> list[str]:
    """Slot ``k``'s columns, in :data:`SLOT_COLUMNS` order: the ``k``-th company with a P/S, its
    P/S, the target's P/S again, the peer median, its revenue, and its market value in one of
    two columns, the others' or the target's (blank and ``#N/A`` when fewer companies have one,
    but the revenue: the first point's, so that no series has only empty x values, which a chart
    may plot as 1, 2, 3; a company with a P/S has a point, its market value being > 0)."""
    nth = f"MATCH({k},chart_peers_ps_order,0)"
    target = f"INDEX(chart_peers_target_ps,{nth})"  # a number in the target's slot only
    return [
        f'=IFERROR(INDEX(data_peers_name,{nth}),"")',
        f"=IFERROR(INDEX(chart_peers_ps,{nth}),NA())",
        f"=IFERROR({target},NA())",
        "=IF(ISNUMBER(peer_median),peer_median,NA())",
        f"=IFERROR(INDEX(chart_peers_revenue,{nth}),IFERROR(INDEX(chart_peers_revenue,"
        "MATCH(1,chart_peers_ps_order,0)),NA()))",
        f"=IFERROR(IF(ISNUMBER({target}),NA(),INDEX(chart_peers_mv,{nth})),NA())",
        f"=IFERROR(IF(ISNUMBER({target}),INDEX(chart_peers_mv,{nth}),NA()),NA())",
    ]


def write_slots(on: Sheet, first: int, lines: int) -> dict[str, int]:
    """The slot columns on sheet ``on``, next to its last column (a blank column between would
    print), headed in row ``first - 1``, slot ``k`` in row ``first + k - 1`` for ``lines``
    slots, grouped and collapsed; returns header -> column index."""
    start = on.ws.max_column + 1
    columns = {header: start + i for i, header in enumerate(SLOT_COLUMNS)}
    on.headers(first - 1, list(SLOT_COLUMNS), column=start)
    formulas = [slot_formulas(k) for k in range(1, lines + 1)]
    for i, (name, fmt) in enumerate(SLOT_COLUMNS.values()):
        c = start + i
        for k, line in enumerate(formulas):
            on.put(first + k, c, line[i], "calc", fmt)
        on.book.define(name, on.title, f"${col(c)}${first}:${col(c)}${first + lines - 1}")
    on.widths({col(c): 13 for c in columns.values()})
    on.ws.column_dimensions.group(col(start), col(start + len(columns) - 1), hidden=True,
                                  outline_level=1)  # fmt: skip
    return columns


def bar_slots(ps_by_basis: list[dict[str, float | None]]) -> int:
    """The P/S chart's bars: the companies with a P/S on at least one basis (at least one), so
    that whichever basis the analyst picks, no company with a P/S is cut off."""
    return max(1, sum(any(ps is not None for ps in by_basis.values()) for by_basis in ps_by_basis))


def _small() -> RichText:
    """Text properties of 8-point data labels."""
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=800)),
                                 endParaRPr=None)])  # fmt: skip


def _slanted() -> RichText:
    """Axis text properties with the labels (company names) at 45 degrees, whole words."""
    return RichText(
        bodyPr=RichTextProperties(rot=-2700000, vert="horz"),
        p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties()), endParaRPr=None)],
    )


def draw(
    on: Sheet, columns: dict[str, int], first: int, row: int, slots: int, target_name: str
) -> None:
    """Both charts, side by side from row ``row`` of sheet ``on``; ``columns``: header -> column
    index of its slot columns (:func:`write_slots`), ``first`` the first slot's row, ``slots``
    the bars and points each chart reads (:func:`bar_slots`), ``target_name`` the cell
    (``'Sheet'!$C$6``) showing the target's name."""
    ws = on.ws
    end = first + slots - 1  # the last slot's row

    def ref(header: str) -> Reference:
        return Reference(ws, min_col=columns[header], min_row=first, max_row=end)

    bar = BarChart()
    bar.type = "col"
    bar.overlap = 100  # the target's bar sits exactly over its own
    bar.title = "P/S on the chosen basis, by company"
    bar.y_axis.title = "Market value / revenue (x)"
    bar.y_axis.number_format = '0"x"'
    bar.series.append(Series(ref("Chart bars: P/S"), title="P/S"))
    bar.series.append(Series(ref("Chart bars: target P/S"), title="Target"))
    bar.series[0].graphicalProperties.solidFill = BLUE
    bar.series[1].graphicalProperties.solidFill = ORANGE
    bar.set_categories(ref("Chart bars: company (with a P/S, in order)"))
    bar.x_axis.txPr = _slanted()
    median = LineChart()
    median.series.append(Series(ref("Chart bars: peer median P/S"), title="Peer median"))
    line = median.series[0]
    line.graphicalProperties.line.solidFill = GREY
    line.graphicalProperties.line.dashStyle = "dash"
    line.marker.symbol = "none"
    bar += median
    bar.legend.position = "b"
    bar.height, bar.width = 7.5, 12
    bar.visible_cells_only = False  # plot the collapsed slot columns
    on.ws.add_chart(bar, f"A{row}")

    scatter = ScatterChart()
    scatter.title = "Market value vs revenue on the chosen basis"
    scatter.style = 13
    scatter.x_axis.title = "Revenue on the chosen basis (USD, log scale)"
    scatter.y_axis.title = "Market value (USD, log scale)"
    for axis in (scatter.x_axis, scatter.y_axis):
        axis.scaling.logBase = 10
        axis.number_format = on.book.style.fmt("usd_axis")  # 1 m, 1 bn, 1,000 bn
    xs_col = columns["Chart points: revenue (USD)"]
    names_col = columns["Chart bars: company (with a P/S, in order)"]

    def points(header: str, top: int, bottom: int, colour: str, size: int) -> ChartSeries:
        ys = Reference(ws, min_col=columns[header], min_row=top, max_row=bottom)
        series = Series(ys, Reference(ws, min_col=xs_col, min_row=top, max_row=bottom))
        series.marker.symbol, series.marker.size = "circle", size
        series.marker.graphicalProperties = GraphicalProperties(solidFill=colour)
        series.marker.graphicalProperties.line.solidFill = colour
        series.graphicalProperties.line.noFill = True
        scatter.series.append(series)
        return series

    def labelled(series: ChartSeries, name: str, position: str) -> None:
        series.tx = SeriesLabel(strRef=StrRef(name))
        series.dLbls = DataLabelList(
            showSerName=True, showVal=False, showCatName=False, showLegendKey=False,
            showPercent=False, dLblPos=position, txPr=_small())  # fmt: skip

    named = slots <= NAMED_POINTS
    for top, bottom in [(r, r) for r in range(first, end + 1)] if named else [(first, end)]:
        series = points("Chart points: market value (USD; #N/A for the target)", top, bottom,
                        BLUE, 7)  # fmt: skip
        if named:  # the point labelled with its slot's company: from the second slot (the
            # first is the target's, labelled above by its own series) above, below, above, ...
            name = f"'{ws.title}'!${col(names_col)}${top}"
            labelled(series, name, "t" if (top - first) % 2 == 1 else "b")
        else:
            series.tx = SeriesLabel(v="Companies")
    target = points("Chart points: the target's market value (USD)", first, end, ORANGE, 8)
    labelled(target, target_name, "t")  # named after the target, in the legend too
    others = len(scatter.series) - 1  # the legend shows the target only: the points are named
    scatter.legend = Legend(legendPos="b", legendEntry=[LegendEntry(idx=i, delete=True)
                                                        for i in range(others)])  # fmt: skip
    scatter.height, scatter.width = 7.5, 14
    scatter.visible_cells_only = False  # plot the collapsed slot columns
    on.ws.add_chart(scatter, f"D{row}")  # right of the bars (12 cm: A to C)

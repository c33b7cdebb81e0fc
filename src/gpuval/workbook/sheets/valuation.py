"""Valuation: every method side by side in the listing currency (per share, or the equity value
for a company without a share count, as the labels say), the football field, and the
"x% of NVIDIA" yardstick: ``value = fraction x NVIDIA market value`` (USD; NVIDIA's market value
from the peer table, or its peak as a labelled alternative), per share ``x
listing-currency-per-USD / shares`` (the core's :func:`gpuval.core.fraction_of_nvidia_value`).
"""

from __future__ import annotations

from openpyxl.chart import LineChart, Reference, Series
from openpyxl.chart.data_source import NumDataSource, NumRef
from openpyxl.chart.error_bar import ErrorBars
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.shapes import GraphicalProperties

from gpuval.core.units import TODAY_LABEL_XL, listing_value_xl, per_share_xl
from gpuval.workbook.model import YARDSTICK
from gpuval.workbook.sheets import scenarios
from gpuval.workbook.sheets.base import Book, Sheet, col

TITLE = "Valuation"
NV = 5  # first row of the NVIDIA block
TABLE = 13  # header row of the summary table


def value_label_xl(what: str) -> str:
    """A label that says what a listing-currency value is: per share, or (without a share count)
    the equity value, e.g. ``Value per share (HKD)`` / ``Equity value (CNY)``."""
    return f'=IF(tgt_shares>0,"{what} per share","{what}: equity value")&" ("&tgt_ccy&")"'


def _listing(equity_usd: str) -> str:
    return f'=IF(ISNUMBER({equity_usd}),{listing_value_xl(equity_usd)},"n/a")'


def write(book: Book) -> Sheet:
    sheet = Sheet(book, TITLE, "Summary across methods (per share, or equity value for a company "
                  "without a share count, in the listing currency) and the football "
                  "field.")  # fmt: skip
    sheet.widths({"A": 44, "B": 10, "C": 13, "D": 13, "E": 13, "F": 13, "G": 14})
    sheet.section(NV - 1, '"x% of NVIDIA"')
    row = f'MATCH("{YARDSTICK}",data_peers_id,0)'
    nvidia = (f'IF(in_nvidia_value_basis="peak",in_nvidia_market_cap,'
              f'IFERROR(INDEX(peers_mv_usd,{row}),"n/a"))')  # fmt: skip
    lines = [
        ("NVIDIA market value (Inputs: peer table, or the peak)", "USD", "=" + nvidia, "usd_bn",
         "nvidia_market_value"),
        ("Fraction of NVIDIA", "fraction", "=in_nvidia_fraction", "pct2", None),
        ("Value of that fraction", "USD", f'=IF(ISNUMBER(C{NV}),C{NV}*C{NV + 1},"n/a")',
         "usd_bn", "out_nvidia_share_equity_value"),
        ("... per share (listing currency)", "listing",
         f'=IF(ISNUMBER(C{NV + 2}),{per_share_xl(f"C{NV + 2}")},"n/a")', "price",
         "out_nvidia_share_value"),
        ("Fraction of NVIDIA the target's market value is", "fraction",
         f'=IF(ISNUMBER(C{NV}),tgt_mv_usd/C{NV},"n/a")', "pct2", "out_implied_nvidia_fraction"),
    ]  # fmt: skip
    for i, (label, unit, formula, fmt, name) in enumerate(lines):
        sheet.label(NV + i, label, unit)
        role = "output" if name and name.startswith("out_") else "calc"
        sheet.put(NV + i, 3, formula, role, fmt, name)

    sheet.section(TABLE - 1, "By method")
    sheet.put(TABLE - 1, 3, value_label_xl("Value"), "calc", "plain")
    sheet.headers(TABLE, ["Method", "", "Low", "Mid", "High", "Range", "Today", "Mid to high",
                          "Low to mid"])  # fmt: skip
    sv = scenarios.R["value"]
    methods = [
        ("Peer P/S: 25th-75th percentile, median", *(_listing(f"peer_equity_{k}")
                                                      for k in ("p25", "median", "p75"))),
        ("TAM scenarios: Bear-Bull, weighted", _listing(f"Scenarios!C{sv}"),
         _listing(f"Scenarios!F{sv}"), _listing(f"Scenarios!E{sv}")),
        ("Young-growth DCF", *[_listing("out_dcf_equity_value")] * 3),
        ('"x% of NVIDIA"', *[_listing("out_nvidia_share_equity_value")] * 3),
        ("Market value at the other venue's pricing", *[_listing("gap_market_value")] * 3),
        ("Monte Carlo snapshot: P10-P90, median", "=mc_p10", "=mc_p50", "=mc_p90"),
    ]  # fmt: skip
    first = TABLE + 1
    for i, (label, low, mid, high) in enumerate(methods):
        r = first + i
        sheet.label(r, label)
        for c, formula in ((3, low), (4, mid), (5, high)):
            sheet.put(r, c, formula, "link", "value")
        sheet.put(r, 6, f'=IF(AND(ISNUMBER(C{r}),ISNUMBER(E{r})),E{r}-C{r},"n/a")', "calc",
                  "value")  # fmt: skip
        sheet.put(r, 7, "=tgt_now", "link", "value")
        for c, (a, b) in ((8, ("E", "D")), (9, ("D", "C"))):  # the chart's bar above and below
            sheet.put(r, c, f'=IF(AND(ISNUMBER({a}{r}),ISNUMBER({b}{r})),{a}{r}-{b}{r},"n/a")',
                      "calc", "value")  # fmt: skip
    last = first + len(methods) - 1
    sheet.put(last + 2, 1, TODAY_LABEL_XL, "calc")
    sheet.put(last + 2, 3, "=tgt_now", "link", "value")
    _football_field(sheet, first, last)
    return sheet


def _football_field(sheet: Sheet, first: int, last: int) -> None:
    """Each method's range as a thick bar from Low to High (custom error bars on the Mid: up by
    "Mid to high", down by "Low to mid", so nothing is stacked and nothing masks the axis), the
    Mid as a diamond with its value, and Today (price, or market value) as a straight line, on
    one value axis that scales itself."""
    chart = LineChart()
    chart.title = "Football field vs today"
    chart.y_axis.title = "Listing currency (per share, or equity value)"
    chart.y_axis.majorGridlines = None
    for column, title in ((4, "Mid (bar: low to high)"), (7, "Today")):
        values = Reference(sheet.ws, min_col=column, min_row=first, max_row=last)
        chart.series.append(Series(values, title=title))
    mid, today = chart.series
    mid.graphicalProperties.line.noFill = True
    mid.marker.symbol = "diamond"
    mid.marker.size = 10
    mid.marker.graphicalProperties = GraphicalProperties(solidFill="ED7D31")
    mid.marker.graphicalProperties.line.solidFill = "ED7D31"
    mid.dLbls = DataLabelList(
        showVal=True, showCatName=False, showSerName=False, showLegendKey=False, dLblPos="r"
    )

    def cells(column: int) -> NumDataSource:
        area = f"{sheet.title}!${col(column)}${first}:${col(column)}${last}"
        return NumDataSource(numRef=NumRef(f=area))

    bar = GraphicalProperties()
    bar.line.solidFill, bar.line.width = "2F5597", 152400  # 12 pt: reads as a bar
    mid.errBars = ErrorBars(errDir="y", errBarType="both", errValType="cust", noEndCap=True,
                            plus=cells(8), minus=cells(9), spPr=bar)  # fmt: skip
    today.graphicalProperties.line.solidFill = "C00000"
    today.graphicalProperties.line.width = 28575
    today.marker.symbol = "none"
    for series in chart.series:
        series.smooth = False  # LibreOffice reads a missing smooth element as smooth
    chart.set_categories(Reference(sheet.ws, min_col=1, min_row=first, max_row=last))
    if chart.legend is not None:
        chart.legend.position = "b"
    chart.height, chart.width = 10, 20
    sheet.ws.add_chart(chart, f"J{NV - 1}")

"""Valuation: every method side by side in the listing currency (per share, or the equity value
for a company without a share count, as the labels say), the football field, and the
"x% of NVIDIA" yardstick: ``value = fraction x NVIDIA market value`` (USD; NVIDIA's market value
from the peer table, or its peak as a labelled alternative), per share ``x
listing-currency-per-USD / shares`` (the core's :func:`gpuval.core.fraction_of_nvidia_value`).
"""

from __future__ import annotations

from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.shapes import GraphicalProperties

from gpuval.core.units import listing_value_xl, per_share_xl
from gpuval.workbook.model import YARDSTICK
from gpuval.workbook.sheets import scenarios
from gpuval.workbook.sheets.base import Book, Sheet

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
    sheet.headers(TABLE, ["Method", "", "Low", "Mid", "High", "Range", "Today"])
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
    last = first + len(methods) - 1
    sheet.put(last + 2, 1, '=IF(tgt_shares>0,"Current share price","Market value today")&" ("'
              '&tgt_ccy&")"', "calc")  # fmt: skip
    sheet.put(last + 2, 3, "=tgt_now", "link", "value")
    _football_field(sheet, first, last)
    return sheet


def _football_field(sheet: Sheet, first: int, last: int) -> None:
    """Floating columns from Low to High, stacked: an invisible Low base (no fill, no legend
    name) and a visible ``Range`` = High - Low (the table's Range column), so the axis line stays
    whole; the Mid as a diamond marker and Today (price, or market value) as a line, both on the
    same axes. The value axis scales itself. Vertical, not horizontal: Excel draws a line series
    with column charts, not with horizontal bar charts."""
    bars = BarChart()
    bars.type = "col"
    bars.grouping = "stacked"
    bars.overlap = 100
    bars.gapWidth = 60
    bars.title = "Football field vs today"
    bars.y_axis.title = "Listing currency (per share, or equity value)"
    bars.y_axis.majorGridlines = None
    for column, title in ((3, " "), (6, "Range")):  # the base has no name: a blank legend key
        values = Reference(sheet.ws, min_col=column, min_row=first, max_row=last)
        bars.series.append(Series(values, title=title))
    low, spread = bars.series
    low.graphicalProperties.noFill = True
    low.graphicalProperties.line.noFill = True
    spread.graphicalProperties.solidFill = "2F5597"
    bars.set_categories(Reference(sheet.ws, min_col=1, min_row=first, max_row=last))
    lines = LineChart()
    for column, title in ((4, "Mid"), (7, "Today")):
        values = Reference(sheet.ws, min_col=column, min_row=first, max_row=last)
        lines.series.append(Series(values, title=title))
    mid, price = lines.series
    mid.graphicalProperties.line.noFill = True
    mid.marker.symbol = "diamond"
    mid.marker.size = 10
    mid.marker.graphicalProperties = GraphicalProperties(solidFill="ED7D31")
    mid.marker.graphicalProperties.line.solidFill = "ED7D31"
    price.graphicalProperties.line.solidFill = "C00000"
    price.graphicalProperties.line.width = 28575
    price.marker.symbol = "none"
    mid.dLbls = DataLabelList(
        showVal=True, showCatName=False, showSerName=False, showLegendKey=False, dLblPos="r"
    )
    bars += lines
    bars.legend.position = "b"  # no legendEntry delete: LibreOffice counts entries differently
    bars.height, bars.width = 10, 20
    sheet.ws.add_chart(bars, f"J{NV - 1}")

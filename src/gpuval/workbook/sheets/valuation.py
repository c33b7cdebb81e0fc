"""Valuation: every method side by side in value per share, the football field, and the
"x% of NVIDIA" yardstick: ``value = fraction x NVIDIA market value`` (USD), per share ``x
listing-currency-per-USD / shares`` (the core's :func:`gpuval.core.fraction_of_nvidia_value`).
"""

from __future__ import annotations

from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.legend import LegendEntry
from openpyxl.chart.shapes import GraphicalProperties

from gpuval.core.units import per_share_xl
from gpuval.workbook.sheets import scenarios
from gpuval.workbook.sheets.base import Book, Sheet

TITLE = "Valuation"
NV = 5  # first row of the NVIDIA block
TABLE = 13  # header row of the summary table


def write(book: Book) -> Sheet:
    sheet = Sheet(book, TITLE, "Summary across methods (value per share, listing currency) "
                  "and the football field.")  # fmt: skip
    sheet.widths({"A": 44, "B": 10, "C": 12, "D": 12, "E": 12, "F": 10, "G": 14})
    sheet.section(NV - 1, '"x% of NVIDIA"')
    lines = [
        ("NVIDIA market value", "USD", "=in_nvidia_market_cap", "usd_bn", None),
        ("Fraction of NVIDIA", "fraction", "=in_nvidia_fraction", "pct2", None),
        ("Value of that fraction", "USD", f"=C{NV}*C{NV + 1}", "usd_bn",
         "out_nvidia_share_equity_value"),
        ("... per share (listing currency)", "listing",
         "=" + per_share_xl(f"C{NV + 2}"), "price",
         "out_nvidia_share_value"),
        ("Fraction of NVIDIA the target's market value is", "fraction",
         f"=tgt_mv_usd/C{NV}", "pct2", "out_implied_nvidia_fraction"),
    ]  # fmt: skip
    for i, (label, unit, formula, fmt, name) in enumerate(lines):
        sheet.label(NV + i, label, unit)
        sheet.put(NV + i, 3, formula, "output" if name else "calc", fmt, name)

    sheet.section(TABLE - 1, "Value per share by method")
    sheet.headers(TABLE, ["Method", "", "Low", "Mid", "High", "Range", "Current price"])
    per_share = {  # peer statistic -> its implied value per share on Peers
        "p25": "peer_value_p25", "median": "out_peer_median_implied_value", "p75": "peer_value_p75"
    }  # fmt: skip
    sr = scenarios.R["per_share"]
    methods = [
        ("Peer P/S: 25th-75th percentile, median", f"={per_share['p25']}",
         f"={per_share['median']}", f"={per_share['p75']}"),
        ("TAM scenarios: Bear-Bull, weighted", f"=Scenarios!C{sr}", f"=Scenarios!F{sr}",
         f"=Scenarios!E{sr}"),
        ("Young-growth DCF", "=out_dcf_value_per_share", "=out_dcf_value_per_share",
         "=out_dcf_value_per_share"),
        ('"x% of NVIDIA"', "=out_nvidia_share_value", "=out_nvidia_share_value",
         "=out_nvidia_share_value"),
        ("Market value at the other venue's pricing", "=out_gap_value_per_share",
         "=out_gap_value_per_share", "=out_gap_value_per_share"),
        ("Monte Carlo snapshot: P10-P90, median", "=mc_p10", "=mc_p50", "=mc_p90"),
    ]  # fmt: skip
    first = TABLE + 1
    for i, (label, low, mid, high) in enumerate(methods):
        r = first + i
        sheet.label(r, label)
        for c, formula in ((3, low), (4, mid), (5, high)):
            sheet.put(r, c, formula, "link", "price")
        sheet.put(r, 6, f'=IF(AND(ISNUMBER(C{r}),ISNUMBER(E{r})),E{r}-C{r},"n/a")', "calc",
                  "price")  # fmt: skip
        sheet.put(r, 7, "=tgt_price", "link", "price")
    last = first + len(methods) - 1
    sheet.label(last + 2, "Current share price (listing currency)")
    sheet.put(last + 2, 3, "=tgt_price", "link", "price")
    _football_field(sheet, first, last)
    return sheet


def _football_field(sheet: Sheet, first: int, last: int) -> None:
    """Floating bars from Low to High: a High column overlapped by a white Low column (not
    stacked, so the Mid markers and the price line keep their own values)."""
    bars = BarChart()
    bars.type = "col"
    bars.grouping = "clustered"
    bars.overlap = 100
    bars.gapWidth = 60
    bars.title = "Football field vs current price"
    bars.y_axis.title = "Value per share (listing currency)"
    bars.y_axis.majorGridlines = None
    for column, title in ((5, "High"), (3, "Low")):
        values = Reference(sheet.ws, min_col=column, min_row=first, max_row=last)
        bars.series.append(Series(values, title=title))
    high, low = bars.series
    high.graphicalProperties.solidFill = "2F5597"
    low.graphicalProperties.solidFill = "FFFFFF"
    low.graphicalProperties.line.noFill = True
    bars.set_categories(Reference(sheet.ws, min_col=1, min_row=first, max_row=last))
    lines = LineChart()
    for column, title in ((4, "Mid"), (7, "Current price")):
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
    bars += lines
    bars.legend.position = "b"
    bars.legend.legendEntry = [LegendEntry(idx=1, delete=True)]  # the white "Low" mask
    bars.height, bars.width = 10, 20
    sheet.ws.add_chart(bars, f"J{NV - 1}")

"""Scenarios: Bear, Base, Bull with one layout, TAM -> revenue -> earnings -> exit value ->
present value -> equity value -> per share -> upside, and the probability-weighted value.

Columns C, D, E are Bear, Base, Bull; each row is one formula across them, reading the
target's assumptions (``tgt_<input>_<scenario>`` on the Assumptions sheet). Equations (the
core's :func:`gpuval.core.tam_scenario`):

* TAM(exit year) = TAM_first x (TAM_last / TAM_first)^((exit year - first) / (last - first))
* revenue = share x TAM; earnings = margin x revenue; exit value = exit P/E x earnings
* years = (exit date - valuation date) / days per year; DF = (1 + cost of equity)^-years
* value if it succeeds = exit value x DF / (1 + dilution); value if it fails = its % of that
  (never a share of today's market value, which would make the value follow the price it is
  compared with); equity value = p x success + (1 - p) x value if it fails
* per share = equity value x listing-currency-per-USD / shares; upside = equity / market value - 1
"""

from __future__ import annotations

from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.chart import BarChart, LineChart, Reference, Series

from gpuval.core.tam import (
    discount_factor_xl,
    failure_value_xl,
    scenario_value_xl,
    success_value_xl,
    tam_at_xl,
)
from gpuval.core.units import (
    LISTING_VALUE_LABEL_XL,
    TODAY_LABEL_XL,
    listing_value_xl,
    per_share_xl,
    upside_xl,
)
from gpuval.workbook.sheets import peers
from gpuval.workbook.sheets.base import Book, Sheet, col

TITLE = "Scenarios"
COLS = {"bear": "C", "base": "D", "bull": "E"}
MARKET = ("in_tam_2024", "in_tam_2029", "in_tam_start_year", "in_tam_end_year")
"""The market forecast's endpoints, as :func:`~gpuval.core.tam.tam_at_xl` takes them."""


def _market(year: str) -> str:
    start, end, y0, y1 = MARKET
    return "=" + tam_at_xl(year, start, end, y0, y1)


def _c(key: str) -> str:
    return "{c}{r[" + key + "]}"


#: (key, label, unit, formula with {c} for the column and {r[key]} for rows, format)
ROWS = [
    ("tam", "Market in the exit year", "USD", _market("YEAR(in_exit_date)"), "usd_bn"),
    ("share", "Share of the market", "fraction", "=tgt_share_{s}", "pct2"),
    ("revenue", "Revenue in the exit year", "USD", "={c}{r[share]}*{c}{r[tam]}", "usd_bn"),
    ("margin", "Mature net margin", "fraction", "=tgt_margin_{s}", "pct"),
    ("earnings", "Earnings in the exit year", "USD", "={c}{r[margin]}*{c}{r[revenue]}",
     "usd_bn"),
    ("exit_pe", "Exit P/E", "x", "=tgt_exit_pe_{s}", "multiple"),
    ("exit_value", "Equity value at exit", "USD", "={c}{r[exit_pe]}*{c}{r[earnings]}", "usd_bn"),
    ("years", "Years to exit", "years", "=(in_exit_date-in_valuation_date)/in_days_per_year",
     "years"),
    ("coe", "Cost of equity", "fraction", "=tgt_coe_{s}", "pct"),
    ("df", "Discount factor", "", "=" + discount_factor_xl(_c("coe"), _c("years")), "factor"),
    ("pv", "Present value of exit value", "USD", "={c}{r[exit_value]}*{c}{r[df]}", "usd_bn"),
    ("prob_success", "Probability of commercial success", "fraction",
     "=tgt_prob_success_{s}", "pct"),
    ("dilution", "Dilution before exit", "fraction", "=tgt_dilution_{s}", "pct"),
    ("success", "Value if it succeeds (after dilution)", "USD",
     "=" + success_value_xl(_c("pv"), _c("dilution")), "usd_bn"),
    ("fail_fraction", "Value if it fails, % of the value if it succeeds", "fraction",
     "=tgt_fail_fraction_{s}", "pct"),
    ("distress", "Value if it fails", "USD",
     "=" + failure_value_xl(_c("success"), _c("fail_fraction")), "usd_bn"),
    ("value", "Equity value today", "USD",
     "=" + scenario_value_xl(_c("success"), _c("prob_success"), _c("distress")), "usd_bn"),
    ("per_share", "Value per share (listing currency)", "listing",
     "=" + per_share_xl(_c("value")), "price"),
    ("listing", "Value in the listing currency", "listing",
     "=" + listing_value_xl(_c("value")), "value"),
    ("price", "Today", "listing", "=tgt_now", "value"),
    ("upside", "Upside vs market value", "fraction", "=" + upside_xl(_c("value"), "tgt_mv_usd"),
     "pct"),
    ("prob", "Scenario probability", "fraction", "=tgt_prob_{s}", "pct"),
]  # fmt: skip
#: Rows whose label says what they hold for this target (per share, or equity value).
LABELS = {
    "listing": LISTING_VALUE_LABEL_XL,
    "price": TODAY_LABEL_XL,
}
SHOWN = ("listing",)
"""Rows shown as outputs without a name of their own: the value per share, or the equity value,
in the listing currency (the per-share outputs' row is collapsed)."""
FIRST = 6
R = {key: FIRST + i for i, (key, *_rest) in enumerate(ROWS)}


OUT_OF_VALUATION = "a share of China's AI-chip market, which the Valuation sheet leaves out."


def not_a_china_peer(sheet: Sheet, what: str, first: str = "") -> SheetCell:
    """Row 3, beside the model check, for a target listed outside China's venues (NVIDIA): what
    on the sheet is no valuation of it (``what``), in one sentence; empty for a China peer.
    ``first``: an Excel text expression to show before it (one cell, so neither clips the
    other)."""
    text = f"Not a China peer: {what}"
    note = sheet.put(3, 2, f'={first}IF({peers.COMPARABLE_XL},"","{text}")', "calc")
    note.style = "gv_note"
    return note


def write(book: Book) -> Sheet:
    sheet = Sheet(book, TITLE, "Bear / Base / Bull: TAM share to value per share, "
                  "probability-weighted.")  # fmt: skip
    not_a_china_peer(sheet, f"these scenarios value {OUT_OF_VALUATION}")
    sheet.headers(FIRST - 1, ["Step", "Unit", "Bear", "Base", "Bull", "Weighted"])
    sheet.widths({"A": 35, "B": 10} | {c: 13.5 for c in "CDEFGH"})  # one page wide at 80 %
    sheet.freeze(f"C{FIRST}")
    for key, label, unit, template, fmt in ROWS:
        sheet.label(R[key], label, unit)
        if key in LABELS:
            sheet.put(R[key], 1, LABELS[key], "calc")
        for s, c in COLS.items():
            name = None
            if key in ("per_share", "upside"):
                name = f"out_{'value_per_share' if key == 'per_share' else 'upside'}_{s}"
            formula = template.format(c=c, r=R, s=s)
            role = "output" if name or key in SHOWN else "calc"
            sheet.put(R[key], ord(c) - 64, formula, role, fmt, name)
    # the per-share outputs (named, for the functions and the Monte Carlo), collapsed: the row
    # under them shows the same per share, or the equity value when there is no share count
    sheet.ws.row_dimensions.group(R["per_share"], R["per_share"], outline_level=1, hidden=True)
    w = "F"
    p = f"C{R['prob']}:E{R['prob']}"
    weighted = [
        ("value", f"=SUMPRODUCT(C{R['value']}:E{R['value']},{p})", "usd_bn",
         "out_equity_value_weighted"),
        ("per_share", "=" + per_share_xl(f"{w}{R['value']}"), "price",
         "out_value_per_share_weighted"),
        ("listing", "=" + listing_value_xl(f"{w}{R['value']}"), "value", None),
        ("price", "=tgt_now", "value", None),
        ("upside", "=" + upside_xl(f"{w}{R['value']}", "tgt_mv_usd"), "pct", "out_upside_weighted"),
        ("prob", f"=SUM({p})", "pct", None),
    ]  # fmt: skip
    for key, formula, fmt, name in weighted:
        sheet.put(R[key], 6, formula, "output" if name or key in SHOWN else "calc", fmt, name)
    book.check(
        "Weighted value: SUMPRODUCT equals the scenario-by-scenario sum",
        f"ABS({TITLE}!F{R['value']}-({TITLE}!C{R['value']}*{TITLE}!C{R['prob']}"
        f"+{TITLE}!D{R['value']}*{TITLE}!D{R['prob']}+{TITLE}!E{R['value']}*{TITLE}!E{R['prob']}))"
        f"<=1E-9*ABS({TITLE}!F{R['value']})",
    )
    _tam_path(book, sheet)
    _chart(sheet)
    return sheet


def _tam_path(book: Book, sheet: Sheet) -> None:
    top = R["prob"] + 3
    sheet.section(top, "Market path and the target's revenue at its Base exit-year share")
    sheet.label(top + 1, "Year")
    sheet.label(top + 2, "Market (USD)", "USD")
    # the exit-year share held every year: a yardstick for the path, not a forecast of it
    sheet.label(top + 3, "Revenue at the Base exit-year share", "USD")
    for j in range(6):
        c = col(3 + j)
        year = "=in_tam_start_year" if j == 0 else f"={col(2 + j)}{top + 1}+1"
        sheet.put(top + 1, 3 + j, year, "calc", "int")
        sheet.put(top + 2, 3 + j, _market(f"{c}{top + 1}"), "calc", "usd_bn")
        sheet.put(top + 3, 3 + j, f"=tgt_share_base*{c}{top + 2}", "calc", "usd_bn")
    # One value axis: the market as columns, the target's Base revenue as a line on the same
    # scale (its share of the market is what the picture says).
    market = BarChart()
    market.type = "col"
    market.gapWidth = 50
    market.title = "China AI-chip market and the target's revenue at its Base exit-year share"
    market.y_axis.title = "USD bn"
    market.y_axis.number_format = "#,##0,,,"
    market.series.append(Series(Reference(sheet.ws, min_col=3, max_col=8, min_row=top + 2),
                                title="Market"))  # fmt: skip
    market.series[0].graphicalProperties.solidFill = "BDD7EE"
    market.set_categories(Reference(sheet.ws, min_col=3, max_col=8, min_row=top + 1))
    revenue = LineChart()
    revenue.series.append(Series(Reference(sheet.ws, min_col=3, max_col=8, min_row=top + 3),
                                 title="Target revenue (Base exit-year share)"))  # fmt: skip
    revenue.series[0].graphicalProperties.line.solidFill = "C00000"
    revenue.series[0].marker.symbol = "circle"
    market += revenue
    market.legend.position = "b"
    market.height, market.width = 7.5, 16
    sheet.ws.add_chart(market, f"J{top}")


def _chart(sheet: Sheet) -> None:
    bar = BarChart()
    bar.type = "col"
    bar.title = "Value by scenario vs the market figure on Peers"
    bar.y_axis.title = "Listing currency (per share, or equity value)"
    bar.series.append(Series(Reference(sheet.ws, min_col=3, max_col=6, min_row=R["listing"]),
                             title="Value"))  # fmt: skip
    bar.set_categories(Reference(sheet.ws, min_col=3, max_col=6, min_row=FIRST - 1))
    price = LineChart()
    price.series.append(Series(Reference(sheet.ws, min_col=3, max_col=6, min_row=R["price"]),
                               title="Price or market value on Peers"))  # fmt: skip
    bar += price
    bar.height, bar.width = 7.5, 14
    sheet.ws.add_chart(bar, "H5")

"""Peers: the comparable-company table in one currency (USD), P/S on every revenue basis, the
percentile block, the target's implied value at peer percentiles and the A-share vs HK gap.

The raw columns (price, shares, market value, revenue by basis, backlog) are sourced inputs; each
cell's comment cites its record. Everything right of them is a formula copied down:

* market value (USD) = price x shares x USD-per-listing-unit, or the stated market value;
* revenue (USD) on four bases: trailing; run-rate = H1 x 2; forward (guidance); backlog
  delivered over ``in_backlog_months``: backlog x 12 / months;
* P/S = market value / revenue on each basis; the *headline* P/S is the first available of
  forward, backlog, run-rate, trailing (the basis is shown beside it); a figure the sources do
  not give shows "n/a" (text, which Excel's statistics and charts skip);
* peer statistics on the headline P/S, target and blanks excluded (Excel PERCENTILE = the core's
  ``percentile_inc``);
* venue gap = MEDIAN(A-share headline P/S) / MEDIAN(HK headline P/S), every listed company
  included, applied to the target as ``market value x (1 + closed x (gap - 1))`` for a HK
  listing (divided for an A-share listing).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.worksheet.datavalidation import DataValidation

from gpuval.core.multiples import (
    DCF_BASE_ORDER,
    HEADLINE_ORDER,
    backlog_revenue_xl,
    first_number_xl,
    peer_market_value_xl,
    ps_xl,
    run_rate_revenue_xl,
)
from gpuval.core.peers import peer_stat_xl, rerated_market_value_xl, venue_gap_xl
from gpuval.core.units import per_share_xl, usd_per_unit_xl
from gpuval.data.dataset import Dataset
from gpuval.workbook.sheets.base import Book, Sheet, col, print_setup

TITLE = "Peers"

#: Which dataset record feeds each raw cell of the table, per company (blank when none).
PEER_SOURCES: dict[str, dict[str, str]] = {
    "biren": {"price": "biren.share_price.2026-01-05", "shares": "biren.shares_outstanding",
              "market_value": "biren.market_cap.2026-01-05",
              "revenue_trailing": "biren.revenue.2024", "backlog": "biren.order_backlog"},
    "moore_threads": {"market_value": "moore_threads.market_cap",
                      "revenue_h1": "moore_threads.revenue.2025h1",
                      "revenue_forward": "moore_threads.revenue.2025.high"},
    "metax": {"market_value": "metax.market_cap_peak.s002",
              "revenue_forward": "metax.revenue.2025.high"},
    "cambricon": {"revenue_h1": "cambricon.revenue.2025h1"},
    "kunlunxin": {"revenue_trailing": "kunlunxin.revenue.2024",
                  "revenue_forward": "kunlunxin.revenue.2025"},
    "iluvatar_corex": {},
    "nvidia": {"price": "nvidia.share_price.2025-10-29",
               "shares": "nvidia.shares_outstanding.2025-10-29",
               "market_value": "nvidia.market_cap.2025-10-29",
               "revenue_trailing": "nvidia.revenue_global_implied"},
}  # fmt: skip

#: Raw input columns: key -> (header, number format key).
RAW = {
    "id": ("Id", "plain"),
    "name": ("Company", "plain"),
    "venue": ("Venue", "plain"),
    "listing_ccy": ("Listing ccy", "plain"),
    "reporting_ccy": ("Reporting ccy", "plain"),
    "price": ("Price (listing)", "price"),
    "shares": ("Shares", "shares_bn"),
    "market_value": ("Stated market value (listing)", "ccy_bn"),
    "revenue_trailing": ("Trailing revenue", "ccy_bn"),
    "revenue_h1": ("Half-year revenue", "ccy_bn"),
    "revenue_forward": ("Forward revenue (guidance)", "ccy_bn"),
    "backlog": ("Order backlog", "ccy_bn"),
}
CALC = [
    "USD per listing unit", "USD per reporting unit", "Market value (USD)",
    "Trailing revenue (USD)", "Run-rate revenue (USD, H1 x 2)", "Forward revenue (USD)",
    "Backlog revenue (USD, annualised)", "P/S trailing", "P/S run-rate", "P/S forward",
    "P/S backlog", "Headline P/S", "Headline basis", "Peer P/S (excl. target)", "A-share P/S",
    "HK P/S", "Headline revenue (USD)",
]  # fmt: skip
STATS = [("count", "Count", "count"), ("minimum", "Min", "multiple"),
         ("p25", "25th percentile", "multiple"), ("median", "Median", "multiple"),
         ("mean", "Mean", "multiple"), ("p75", "75th percentile", "multiple"),
         ("maximum", "Max", "multiple")]  # fmt: skip
TABLE_HEADER_ROW = 24
FIRST = TABLE_HEADER_ROW + 1
_C = {key: i + 1 for i, key in enumerate(RAW)}  # raw column indexes 1..12
_K = {name: len(RAW) + 1 + i for i, name in enumerate(CALC)}  # calc column indexes 13..


def peer_rows(dataset: Dataset) -> list[dict[str, Any]]:
    """The table's raw inputs, one dict per company, from the dataset."""
    rows = []
    for entity_id, sources in PEER_SOURCES.items():
        entity = dataset.entities[entity_id]
        revenue_units = {dataset[r].unit for k, r in sources.items() if k.startswith("rev")}
        row: dict[str, Any] = {
            "id": entity.id, "name": entity.name_en, "venue": entity.venue,
            "listing_ccy": entity.listing_currency,
            "reporting_ccy": revenue_units.pop() if revenue_units else entity.listing_currency,
        }  # fmt: skip
        for key, record_id in sources.items():
            row[key] = dataset[record_id].value
        rows.append(row)
    return rows


def market_data_date(dataset: Dataset) -> dt.date:
    """The latest date of the market figures (prices, market values) in the peer table."""
    dates = []
    for sources in PEER_SOURCES.values():
        for key in ("price", "market_value"):
            period = dataset[sources[key]].period if key in sources else ""
            if re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", period):
                dates.append(dt.date.fromisoformat(period if len(period) == 10 else period + "-01"))
    return max(dates)


def _range(column: int, last: int) -> str:
    return f"{TITLE}!${col(column)}${FIRST}:${col(column)}${last}"


def write(book: Book, rows: Sequence[dict[str, Any]] | None = None) -> Sheet:
    rows = list(rows) if rows is not None else peer_rows(book.dataset)
    sheet = Sheet(book, TITLE, "Comparable companies in USD: P/S on every basis, peer "
                  "percentiles, implied value, A-share vs Hong Kong gap.")  # fmt: skip
    last = FIRST + len(rows) - 1
    _table(book, sheet, rows, last)
    _target_block(book, sheet, last)
    _stats_block(book, sheet, last)
    _charts(sheet, last)
    sheet.widths({"A": 50, "B": 16, "C": 14} | {col(i): 13 for i in range(4, _K["HK P/S"] + 2)})
    sheet.freeze(f"C{FIRST}")
    print_setup(sheet.ws, pages_wide=2)
    return sheet


def _table(book: Book, sheet: Sheet, rows: Sequence[dict[str, Any]], last: int) -> None:
    h = TABLE_HEADER_ROW
    sheet.section(h - 1, "Peer table (inputs in blue; blanks are figures the sources do not give)")
    sheet.headers(h, [header for header, _ in RAW.values()] + CALC)
    currency = DataValidation(type="list", formula1='"CNY,HKD,USD"', allow_blank=True)
    sheet.ws.add_data_validation(currency)
    venue = DataValidation(type="list", formula1='"A,HK,US"', allow_blank=True)
    sheet.ws.add_data_validation(venue)
    positive = DataValidation(type="decimal", operator="greaterThan", formula1="0",
                              allow_blank=True)  # fmt: skip
    sheet.ws.add_data_validation(positive)
    for i, row in enumerate(rows):
        r = FIRST + i
        sources = PEER_SOURCES.get(row["id"], {})
        for key, (_, fmt) in RAW.items():
            cell = sheet.put(r, _C[key], row.get(key), "input", fmt)
            if key in sources:
                rec = book.dataset[sources[key]]
                sheet.comment(cell, f"{rec.id}\n{rec.source}\n{rec.quote}")
                book.cite(rec, sheet.ref(r, _C[key], sheet=True))
        for name, formula, fmt in _row_formulas(r):
            sheet.put(r, _K[name], formula, "calc", fmt)
    # One range per validation: adding cells one by one is quadratic in openpyxl.
    currency.add(f"{col(_C['listing_ccy'])}{FIRST}:{col(_C['reporting_ccy'])}{last}")
    venue.add(f"{col(_C['venue'])}{FIRST}:{col(_C['venue'])}{last}")
    positive.add(f"{col(_C['price'])}{FIRST}:{col(_C['backlog'])}{last}")
    for key in RAW:
        book.define(f"data_peers_{key}", TITLE, _range(_C[key], last).split("!")[1])
        book.values[f"data_peers_{key}"] = [row.get(key) for row in rows]
    for name in ("Market value (USD)", "Headline P/S", "Headline revenue (USD)"):
        short = {"Market value (USD)": "mv_usd", "Headline P/S": "headline_ps",
                 "Headline revenue (USD)": "headline_revenue"}[name]  # fmt: skip
        book.define(f"peers_{short}", TITLE, _range(_K[name], last).split("!")[1])


#: Basis key (the core's) -> its revenue and P/S columns and the label the sheet shows.
BASES = {
    "trailing": ("Trailing revenue (USD)", "P/S trailing", "trailing"),
    "run_rate": ("Run-rate revenue (USD, H1 x 2)", "P/S run-rate", "run-rate"),
    "forward": ("Forward revenue (USD)", "P/S forward", "forward"),
    "backlog": ("Backlog revenue (USD, annualised)", "P/S backlog", "backlog"),
}


def _row_formulas(r: int) -> list[tuple[str, str, str]]:
    c = {k: f"{col(v)}{r}" for k, v in _C.items()}
    k = {n: f"{col(v)}{r}" for n, v in _K.items()}
    fr = k["USD per reporting unit"]

    def usd_per(ccy: str) -> str:
        return "=" + usd_per_unit_xl(ccy, "in_fx_usd_per_hkd", "in_fx_cny_per_usd")

    def converted(raw: str, amount: str | None = None) -> str:
        return f'=IF(ISNUMBER({raw}),{amount or raw}*{fr},"n/a")'

    headline = [k[BASES[b][1]] for b in HEADLINE_ORDER]
    labels = [f'"{BASES[b][2]}"' for b in HEADLINE_ORDER]
    revenues = [k[BASES[b][0]] for b in HEADLINE_ORDER]
    hps = k["Headline P/S"]
    mv = k["Market value (USD)"]
    return [
        ("USD per listing unit", usd_per(c["listing_ccy"]), "fx"),
        ("USD per reporting unit", usd_per(c["reporting_ccy"]), "fx"),
        ("Market value (USD)", "=" + peer_market_value_xl(
            c["price"], c["shares"], c["market_value"], k["USD per listing unit"]), "usd_bn"),
        ("Trailing revenue (USD)", converted(c["revenue_trailing"]), "usd_bn"),
        ("Run-rate revenue (USD, H1 x 2)",
         converted(c["revenue_h1"], run_rate_revenue_xl(c["revenue_h1"])), "usd_bn"),
        ("Forward revenue (USD)", converted(c["revenue_forward"]), "usd_bn"),
        ("Backlog revenue (USD, annualised)",
         converted(c["backlog"], backlog_revenue_xl(c["backlog"], "in_backlog_months")), "usd_bn"),
        *[(ps_col, "=" + ps_xl(mv, k[rev_col]), "multiple")
          for rev_col, ps_col, _ in BASES.values()],
        ("Headline P/S", "=" + first_number_xl(headline), "multiple"),
        ("Headline basis", "=" + first_number_xl(headline, labels), "plain"),
        ("Peer P/S (excl. target)",
         f'=IF(OR({c["id"]}=in_target,NOT(ISNUMBER({hps}))),"n/a",{hps})', "multiple"),
        ("A-share P/S", f'=IF(AND({c["venue"]}="A",ISNUMBER({hps})),{hps},"n/a")', "multiple"),
        ("HK P/S", f'=IF(AND({c["venue"]}="HK",ISNUMBER({hps})),{hps},"n/a")', "multiple"),
        ("Headline revenue (USD)", "=" + first_number_xl(headline, revenues), "usd_bn"),
    ]  # fmt: skip


#: The target block: (name, label, unit, formula of (index, column-range function), fmt).
def _target_block(book: Book, sheet: Sheet, last: int) -> None:
    sheet.section(4, "Target (follows the drop-down on Inputs)")

    def pick(column: int) -> str:
        return f"INDEX({_range(column, last)},tgt_row)"

    def first_number(*columns: int) -> str:
        return "=" + first_number_xl([pick(column) for column in columns])

    items = [
        ("tgt_row", "Row in the peer table", "", f"=MATCH(in_target,{_range(_C['id'], last)},0)",
         "int"),
        ("tgt_name", "Company", "", f"={pick(_C['name'])}", "plain"),
        ("tgt_venue", "Venue", "", f"={pick(_C['venue'])}", "plain"),
        ("tgt_ccy", "Listing currency", "", f"={pick(_C['listing_ccy'])}", "plain"),
        ("tgt_fx", "Listing currency per USD", "", f"=1/{pick(_K['USD per listing unit'])}",
         "fx"),
        ("tgt_price", "Share price (0 if not in the sources)", "listing",
         f"=IF(ISNUMBER({pick(_C['price'])}),{pick(_C['price'])},0)", "price"),
        ("tgt_shares", "Shares outstanding (0 if not in the sources)", "shares",
         f"=IF(ISNUMBER({pick(_C['shares'])}),{pick(_C['shares'])},0)", "shares_bn"),
        ("tgt_mv_usd", "Market value", "USD", f"={pick(_K['Market value (USD)'])}", "usd_bn"),
        ("tgt_base_revenue", "Base revenue for the DCF (trailing, else run-rate, else forward)",
         "USD", first_number(*(_K[BASES[b][0]] for b in DCF_BASE_ORDER)), "usd_bn"),
        ("tgt_headline_revenue", "Headline revenue (basis of the headline P/S)", "USD",
         f"={pick(_K['Headline revenue (USD)'])}", "usd_bn"),
        ("tgt_basis", "Headline basis", "", f"={pick(_K['Headline basis'])}", "plain"),
        ("out_backlog_forward_ps", "Backlog-implied forward P/S", "x",
         f'=IF(ISNUMBER({pick(_K["P/S backlog"])}),{pick(_K["P/S backlog"])},"n/a")',
         "multiple"),
    ]  # fmt: skip
    for i, (name, label, unit, formula, fmt) in enumerate(items):
        r = 5 + i
        sheet.label(r, label, unit)
        role = "output" if name.startswith("out_") else "calc"
        sheet.put(r, 3, formula, role, fmt, name)
    book.check("The target is in the peer table with a market value", "ISNUMBER(tgt_mv_usd)")
    book.check(
        "Balance: the target's price x shares equals its market value",
        "IF(tgt_shares>0,ABS(tgt_price*tgt_shares/tgt_fx-tgt_mv_usd)<=1E-9*tgt_mv_usd,TRUE)",
    )


def _stats_block(book: Book, sheet: Sheet, last: int) -> None:
    top = last + 3
    sheet.section(top, "Peer statistics on the headline P/S (target and blanks excluded)")
    sheet.headers(top + 1, ["Statistic", "", "P/S", "Implied equity (USD)",
                            "Implied per share (listing)"])  # fmt: skip
    peers = _range(_K["Peer P/S (excl. target)"], last)
    for i, (key, label, fmt) in enumerate(STATS):
        r = top + 2 + i
        sheet.label(r, label)
        sheet.put(r, 3, "=" + peer_stat_xl(key, peers), "calc", fmt, f"peer_{key}")
        if key == "count":
            continue
        equity = f"C{r}*tgt_headline_revenue"
        sheet.put(r, 4, f'=IF(AND(ISNUMBER(C{r}),ISNUMBER(tgt_headline_revenue)),{equity},"n/a")',
                  "calc", "usd_bn")  # fmt: skip
        name = "out_peer_median_implied_value" if key == "median" else f"peer_value_{key}"
        sheet.put(r, 5, f'=IF(ISNUMBER(D{r}),{per_share_xl(f"D{r}")},"n/a")',
                  "output" if key == "median" else "calc", "price", name)  # fmt: skip
    gap = top + 2 + len(STATS) + 1
    sheet.section(gap, "A-share vs Hong Kong gap (headline P/S, all listed companies)")
    a = _range(_K["A-share P/S"], last)
    hk = _range(_K["HK P/S"], last)
    lines: list[tuple[str, str, str, str | None]] = [
        ("A-share median P/S", "=" + peer_stat_xl("median", a), "multiple", None),
        ("Hong Kong median P/S", "=" + peer_stat_xl("median", hk), "multiple", None),
        ("Gap: A-share / Hong Kong", "=" + venue_gap_xl(f"C{gap + 1}", f"C{gap + 2}"),
         "multiple", "out_venue_gap"),
        ("Target market value at the other venue's pricing (USD)",
         "=" + rerated_market_value_xl("tgt_venue", "tgt_mv_usd", f"C{gap + 3}", "in_gap_closed"),
         "usd_bn", None),
        ("... per share (listing currency)",
         f'=IF(ISNUMBER(C{gap + 4}),{per_share_xl(f"C{gap + 4}")},"n/a")', "price",
         "out_gap_value_per_share"),
    ]  # fmt: skip
    for i, (label, formula, fmt, out_name) in enumerate(lines):
        r = gap + 1 + i
        sheet.label(r, label)
        sheet.put(r, 3, formula, "output" if out_name else "calc", fmt, out_name)


def _charts(sheet: Sheet, last: int) -> None:
    bar = BarChart()
    bar.type = "col"
    bar.title = "Headline P/S by company"
    bar.y_axis.title = "Market value / revenue (x)"
    bar.x_axis.title = "Company"
    data = Reference(sheet.ws, min_col=_K["Headline P/S"], min_row=TABLE_HEADER_ROW, max_row=last)
    bar.add_data(data, titles_from_data=True)
    bar.set_categories(Reference(sheet.ws, min_col=_C["id"], min_row=FIRST, max_row=last))
    bar.y_axis.number_format = '0"x"'
    bar.legend = None
    bar.height, bar.width = 7.5, 12
    sheet.ws.add_chart(bar, "E4")

    scatter = ScatterChart()
    scatter.title = "Market value vs headline revenue"
    scatter.style = 13
    scatter.x_axis.title = "Headline revenue (USD bn, log scale)"
    scatter.y_axis.title = "Market value (USD bn, log scale)"
    scatter.x_axis.scaling.logBase = 10
    scatter.y_axis.scaling.logBase = 10
    xs = Reference(sheet.ws, min_col=_K["Headline revenue (USD)"], min_row=FIRST, max_row=last)
    ys = Reference(sheet.ws, min_col=_K["Market value (USD)"], min_row=FIRST, max_row=last)
    series = Series(ys, xs, title="Companies")
    series.marker.symbol = "circle"
    series.marker.size = 8
    series.marker.graphicalProperties = GraphicalProperties(solidFill="2F5597")
    series.marker.graphicalProperties.line.solidFill = "2F5597"
    series.graphicalProperties.line.noFill = True
    scatter.series.append(series)
    scatter.x_axis.number_format = "#,##0.0,,,"
    scatter.y_axis.number_format = "#,##0.0,,,"
    scatter.legend = None
    scatter.height, scatter.width = 7.5, 12
    sheet.ws.add_chart(scatter, "J4")

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
import math
import re
from collections.abc import Sequence
from typing import Any

from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.worksheet.datavalidation import DataValidation

from gpuval import core
from gpuval.core.validate import positive
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
    sheet.stats_top = _stats_block(book, sheet, last)  # type: ignore[attr-defined]
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


def _row_formulas(r: int) -> list[tuple[str, str, str]]:
    c = {k: f"{col(v)}{r}" for k, v in _C.items()}
    k = {n: f"{col(v)}{r}" for n, v in _K.items()}

    def usd_per(ccy: str) -> str:
        return (f'=IF({ccy}="USD",1,IF({ccy}="HKD",in_fx_usd_per_hkd,'
                f'IF({ccy}="CNY",1/in_fx_cny_per_usd,"n/a")))')  # fmt: skip

    def converted(raw: str, factor: str = "") -> str:
        return f'=IF(ISNUMBER({raw}),{factor}{raw}*{k["USD per reporting unit"]},"n/a")'

    def ps(revenue: str) -> str:
        mv = k["Market value (USD)"]
        both = f"AND(ISNUMBER({mv}),ISNUMBER({revenue}))"
        return f'=IF({both},IF({revenue}>0,{mv}/{revenue},"n/a"),"n/a")'

    order = [("P/S forward", "forward"), ("P/S backlog", "backlog"),
             ("P/S run-rate", "run-rate"), ("P/S trailing", "trailing")]  # fmt: skip
    revenue_order = ["Forward revenue (USD)", "Backlog revenue (USD, annualised)",
                     "Run-rate revenue (USD, H1 x 2)", "Trailing revenue (USD)"]  # fmt: skip
    headline = basis = headline_revenue = '"n/a"'
    for (name, label), rev in zip(reversed(order), reversed(revenue_order), strict=True):
        headline = f"IF(ISNUMBER({k[name]}),{k[name]},{headline})"
        basis = f'IF(ISNUMBER({k[name]}),"{label}",{basis})'
        headline_revenue = f"IF(ISNUMBER({k[name]}),{k[rev]},{headline_revenue})"
    hps = k["Headline P/S"]
    return [
        ("USD per listing unit", usd_per(c["listing_ccy"]), "fx"),
        ("USD per reporting unit", usd_per(c["reporting_ccy"]), "fx"),
        ("Market value (USD)",
         f'=IF(AND(ISNUMBER({c["price"]}),ISNUMBER({c["shares"]})),'
         f'{c["price"]}*{c["shares"]}*{k["USD per listing unit"]},'
         f'IF(ISNUMBER({c["market_value"]}),{c["market_value"]}*{k["USD per listing unit"]},'
         '"n/a"))',
         "usd_bn"),
        ("Trailing revenue (USD)", converted(c["revenue_trailing"]), "usd_bn"),
        ("Run-rate revenue (USD, H1 x 2)", converted(c["revenue_h1"], "2*"), "usd_bn"),
        ("Forward revenue (USD)", converted(c["revenue_forward"]), "usd_bn"),
        ("Backlog revenue (USD, annualised)",
         f'=IF(ISNUMBER({c["backlog"]}),{c["backlog"]}*12/in_backlog_months'
         f'*{k["USD per reporting unit"]},"n/a")', "usd_bn"),
        ("P/S trailing", ps(k["Trailing revenue (USD)"]), "multiple"),
        ("P/S run-rate", ps(k["Run-rate revenue (USD, H1 x 2)"]), "multiple"),
        ("P/S forward", ps(k["Forward revenue (USD)"]), "multiple"),
        ("P/S backlog", ps(k["Backlog revenue (USD, annualised)"]), "multiple"),
        ("Headline P/S", f"={headline}", "multiple"),
        ("Headline basis", f"={basis}", "plain"),
        ("Peer P/S (excl. target)",
         f'=IF(OR({c["id"]}=in_target,NOT(ISNUMBER({hps}))),"n/a",{hps})', "multiple"),
        ("A-share P/S", f'=IF(AND({c["venue"]}="A",ISNUMBER({hps})),{hps},"n/a")', "multiple"),
        ("HK P/S", f'=IF(AND({c["venue"]}="HK",ISNUMBER({hps})),{hps},"n/a")', "multiple"),
        ("Headline revenue (USD)", f"={headline_revenue}", "usd_bn"),
    ]  # fmt: skip


#: The target block: (name, label, unit, formula of (index, column-range function), fmt).
def _target_block(book: Book, sheet: Sheet, last: int) -> None:
    sheet.section(4, "Target (follows the drop-down on Inputs)")

    def pick(column: int) -> str:
        return f"INDEX({_range(column, last)},tgt_row)"

    def first_number(*columns: int) -> str:
        formula = '"n/a"'
        for column in reversed(columns):
            formula = f"IF(ISNUMBER({pick(column)}),{pick(column)},{formula})"
        return f"={formula}"

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
         "USD", first_number(_K["Trailing revenue (USD)"], _K["Run-rate revenue (USD, H1 x 2)"],
                             _K["Forward revenue (USD)"]), "usd_bn"),
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


def _stats_block(book: Book, sheet: Sheet, last: int) -> int:
    top = last + 3
    sheet.section(top, "Peer statistics on the headline P/S (target and blanks excluded)")
    sheet.headers(top + 1, ["Statistic", "", "P/S", "Implied equity (USD)",
                            "Implied per share (listing)"])  # fmt: skip
    peers = _range(_K["Peer P/S (excl. target)"], last)
    functions = {"count": f"COUNT({peers})", "minimum": f"MIN({peers})",
                 "p25": f"PERCENTILE({peers},0.25)", "median": f"MEDIAN({peers})",
                 "mean": f"AVERAGE({peers})", "p75": f"PERCENTILE({peers},0.75)",
                 "maximum": f"MAX({peers})"}  # fmt: skip
    for i, (key, label, fmt) in enumerate(STATS):
        r = top + 2 + i
        sheet.label(r, label)
        guard = f"COUNT({peers})>0"
        sheet.put(r, 3, f'=IF({guard},{functions[key]},"n/a")', "calc", fmt, f"peer_{key}")
        if key == "count":
            continue
        equity = f"C{r}*tgt_headline_revenue"
        sheet.put(r, 4, f'=IF(AND(ISNUMBER(C{r}),ISNUMBER(tgt_headline_revenue)),{equity},"n/a")',
                  "calc", "usd_bn")  # fmt: skip
        name = "out_peer_median_implied_value" if key == "median" else None
        sheet.put(r, 5, f'=IF(AND(ISNUMBER(D{r}),tgt_shares>0),D{r}*tgt_fx/tgt_shares,"n/a")',
                  "output" if name else "calc", "price", name)  # fmt: skip
    gap = top + 2 + len(STATS) + 1
    sheet.section(gap, "A-share vs Hong Kong gap (headline P/S, all listed companies)")
    a = _range(_K["A-share P/S"], last)
    hk = _range(_K["HK P/S"], last)
    lines = [
        ("A-share median P/S", f'=IF(COUNT({a})>0,MEDIAN({a}),"n/a")', "multiple", None),
        ("Hong Kong median P/S", f'=IF(COUNT({hk})>0,MEDIAN({hk}),"n/a")', "multiple", None),
        ("Gap: A-share / Hong Kong", f'=IF(AND(ISNUMBER(C{gap + 1}),ISNUMBER(C{gap + 2})),'
         f'C{gap + 1}/C{gap + 2},"n/a")', "multiple", "out_venue_gap"),
        ("Target market value at the other venue's pricing (USD)",
         f'=IF(ISNUMBER(C{gap + 3}),IF(tgt_venue="HK",tgt_mv_usd*(1+in_gap_closed*(C{gap + 3}-1)),'
         f'IF(tgt_venue="A",tgt_mv_usd/(1+in_gap_closed*(C{gap + 3}-1)),tgt_mv_usd)),"n/a")',
         "usd_bn", None),
        ("... per share (listing currency)",
         f'=IF(AND(ISNUMBER(C{gap + 4}),tgt_shares>0),C{gap + 4}*tgt_fx/tgt_shares,"n/a")',
         "price", "out_gap_value_per_share"),
    ]  # fmt: skip
    for i, (label, formula, fmt, name) in enumerate(lines):
        r = gap + 1 + i
        sheet.label(r, label)
        sheet.put(r, 3, formula, "output" if name else "calc", fmt, name)
    return top


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


# --- the same quantities in Python ---------------------------------------------------------------


def _num(x: Any) -> float:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else math.nan


def usd_per(ccy: Any, v: dict[str, Any]) -> float:
    """USD per unit of ``ccy`` from the FX inputs."""
    for name in ("in_fx_usd_per_hkd", "in_fx_cny_per_usd"):
        positive(name, v[name])
    return {"USD": 1.0, "HKD": v["in_fx_usd_per_hkd"], "CNY": 1 / v["in_fx_cny_per_usd"]}.get(
        ccy, math.nan
    )


def compute(v: dict[str, Any]) -> None:
    """Add the peer quantities and the ``tgt_*`` values to ``v`` (mirrors the formulas)."""
    ids = v["data_peers_id"]
    n = len(ids)
    table: list[dict[str, float]] = []
    for i in range(n):
        raw = {key: v[f"data_peers_{key}"][i] for key in RAW}
        fl, fr = usd_per(raw["listing_ccy"], v), usd_per(raw["reporting_ccy"], v)
        price, shares, stated = (_num(raw[k]) for k in ("price", "shares", "market_value"))
        mv = price * shares * fl if not math.isnan(price * shares) else stated * fl
        revenue = {
            "trailing": _num(raw["revenue_trailing"]) * fr,
            "run-rate": core.run_rate_revenue(raw["revenue_h1"]) * fr
            if not math.isnan(_num(raw["revenue_h1"]))
            else math.nan,
            "forward": _num(raw["revenue_forward"]) * fr,
            "backlog": core.backlog_revenue(raw["backlog"], v["in_backlog_months"]) * fr
            if not math.isnan(_num(raw["backlog"]))
            else math.nan,
        }
        ps = {
            basis: core.price_to_sales(mv, rev) if mv == mv and rev == rev and rev > 0 else math.nan
            for basis, rev in revenue.items()
        }
        basis = next((b for b in ("forward", "backlog", "run-rate", "trailing") if ps[b] == ps[b]),
                     None)  # fmt: skip
        table.append({"mv_usd": mv, "usd_per_listing": fl, "revenue": revenue, "ps": ps,
                      "headline_ps": ps[basis] if basis else math.nan, "basis": basis,
                      "headline_revenue": revenue[basis] if basis else math.nan,
                      "price": price, "shares": shares, "venue": raw["venue"]})  # fmt: skip
    v["peer_table"] = table
    if v["in_target"] not in ids:
        raise core.InputError(f"in_target {v['in_target']!r} is not an id in the peer table.")
    t = table[list(ids).index(v["in_target"])]
    v["tgt_fx"] = 1 / t["usd_per_listing"]
    v["tgt_price"] = t["price"] if t["price"] == t["price"] else 0.0
    v["tgt_shares"] = t["shares"] if t["shares"] == t["shares"] else 0.0
    v["tgt_mv_usd"] = t["mv_usd"]
    v["tgt_venue"] = t["venue"]
    base = [t["revenue"][b] for b in ("trailing", "run-rate", "forward")]
    v["tgt_base_revenue"] = next((x for x in base if x == x), None)
    v["tgt_headline_revenue"] = t["headline_revenue"]
    backlog_ps = t["ps"]["backlog"]
    v["out_backlog_forward_ps"] = backlog_ps if backlog_ps == backlog_ps else None

    peers = {ids[i]: row["headline_ps"] for i, row in enumerate(table)}
    stats = core.peer_stats(peers, target=v["in_target"])
    v["peer_stats"] = stats
    median_equity = stats.median * t["headline_revenue"]
    v["out_peer_median_implied_value"] = (
        core.per_share(median_equity, v["tgt_shares"], v["tgt_fx"])
        if v["tgt_shares"] > 0 and median_equity == median_equity
        else None
    )
    a_share = {ids[i]: r["headline_ps"] for i, r in enumerate(table) if r["venue"] == "A"}
    hong_kong = {ids[i]: r["headline_ps"] for i, r in enumerate(table) if r["venue"] == "HK"}
    gap = core.venue_gap(a_share, hong_kong)
    v["out_venue_gap"] = gap
    if t["venue"] == "HK":
        rerated = core.apply_venue_gap(t["mv_usd"], gap, v["in_gap_closed"])
    elif t["venue"] == "A":
        rerated = t["mv_usd"] / core.apply_venue_gap(1.0, gap, v["in_gap_closed"])
    else:
        rerated = t["mv_usd"]
    v["out_gap_value_per_share"] = (
        core.per_share(rerated, v["tgt_shares"], v["tgt_fx"]) if v["tgt_shares"] > 0 else None
    )

"""Peers: the comparable-company table in one currency (USD), P/S on every revenue basis, the
percentile block on one basis, the target's implied value at peer percentiles and the A-share vs
Hong Kong gap.

The raw columns come from the dataset's ``[[peer]]`` entries (which record feeds which column is
data, not code); each sourced cell's comment cites its record, and text columns say what each
market and revenue figure is (fiscal year, reported / guidance / estimate, bounds and peaks).
Everything right of them is a formula copied down:

* market value (USD) = price x shares x USD-per-listing-unit, or the stated market value;
* revenue (USD) on four bases: the latest full year; run-rate = H1 x 2; forward (a later year's
  guidance or estimate); backlog delivered over the row's months: backlog x 12 / months;
* P/S = market value / revenue on each basis, and on the basis chosen in ``in_peer_basis``
  (one basis for every company; a figure the sources do not give shows "n/a", text, which
  Excel's statistics and charts skip, and the row says why it is left out);
* peer statistics on the chosen basis over the China peers (``In China statistics`` = yes),
  target and blanks excluded (Excel PERCENTILE = the core's ``percentile_inc``), with the sample
  named; on the full-year basis only those of the target's fiscal year, unless ``in_peer_years``
  is "any" (the core's ``fiscal_year_counts``);
* venue gap = MEDIAN(A-share P/S) / MEDIAN(HK P/S) on the chosen basis, China companies with
  the target included (counted as in the statistics), each side's sample named, applied to the
  target as ``market value x (1 + closed x (gap - 1))`` for a HK listing (divided for an A-share
  listing).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container, Mapping, Sequence
from copy import copy
from dataclasses import dataclass
from typing import Any

from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Alignment, Font
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break

from gpuval.core.multiples import (
    DCF_BASE_ORDER,
    backlog_revenue_xl,
    basis_pick_xl,
    bound_direction_xl,
    first_number_xl,
    fiscal_year_counts_xl,
    not_reported_xl,
    peak_xl,
    peer_market_value_xl,
    ps_bound_xl,
    ps_xl,
    run_rate_revenue_xl,
)
from gpuval.core.peers import peer_stat_xl, rerated_market_value_xl, venue_gap_xl
from gpuval.core.units import listing_value_xl, per_share_xl, usd_per_unit_xl
from gpuval.data.dataset import Dataset, Record
from gpuval.data.labels import figure_label
from gpuval.data.peers import COLUMNS, Peer
from gpuval.data.schema import CURRENCIES
from gpuval.workbook.model import (
    CHINA_VENUES,
    NO_ASSUMPTIONS,
    PEER_NUMBERS,
    YARDSTICK,
    Inputs,
    counted_lines,
    listed_in_china,
    peer_line,
)
from gpuval.workbook.sheets.base import (
    WRAP,
    Book,
    Sheet,
    col,
    fitted_height,
    format_rule,
    marked_format,
    wrap_rows,
)
from gpuval.workbook.sheets.peer_charts import (
    CHART_COLUMNS,
    bar_slots,
    chart_formulas,
    draw,
    write_slots,
)
from gpuval.workbook.sheets.reference import note_text

TITLE = "Peers"
STATS_TITLE = "Peer statistics"
ENOUGH_PEERS_XL = "AND(N(peer_count)>0,N(peer_count)>=in_peer_min_count)"
"""The peer statistics have the peers the peer P/S method needs (``in_peer_min_count``;
:meth:`gpuval.workbook.model.PeersResult.implied_equity`)."""
FEW_PEERS = 5
"""Below this many peers, the statistics block says the percentiles interpolate between few."""
SLOTS = "peers_chart_slots"
"""Defined name: the companies the charts have room for (:func:`bar_slots` at build time)."""
CHART_ROWS = 18
"""Rows of 15 points the charts (7.5 cm) cover on Peer statistics, and three to spare."""
SAMPLE_ROWS = 30
"""Rows of the peer table the sample lists on Peer statistics read (:func:`_joined`): a constant,
so that the formula stays what a build of the edited table writes; a check fails beyond it."""
LINES = "peers_figure_lines"
"""Defined name: the companies Peer statistics' table of what each figure is has lines for."""

#: Raw input columns: key -> (header, number format key). Every one is sourced from the dataset's
#: ``[[peer]]`` entry for the company (text columns describe what each figure is).
RAW = {
    "id": ("Id", "plain"), "name": ("Company", "plain"), "venue": ("Venue", "plain"),
    "listing_ccy": ("Listing ccy", "plain"), "reporting_ccy": ("Reporting ccy", "plain"),
    "price": ("Price (listing)", "price"), "shares": ("Shares", "shares_bn"),
    "market_value": ("Stated market value (listing)", "ccy_bn"),
    "revenue_fy": ("Full-year revenue", "ccy_bn"), "revenue_h1": ("Half-year revenue", "ccy_bn"),
    "revenue_forward": ("Forward revenue", "ccy_bn"), "backlog": ("Order backlog", "ccy_bn"),
    "backlog_months": ("Backlog delivered over (months)", "number"),
    "ticker": ("Ticker", "plain"), "in_stats": ("In China statistics", "plain"),
    "market_basis": ("Market figure is", "plain"), "as_of": ("Market figure date", "date"),
    "fy_year": ("Fiscal year of the full-year revenue", "int"),
    "fy_basis": ("Full-year figure is", "plain"), "forward_basis": ("Forward figure is", "plain"),
    "h1_basis": ("Half-year figure is", "plain"), "backlog_basis": ("Backlog figure is", "plain"),
}  # fmt: skip
DESCRIBED = {"revenue_fy": "fy_basis", "revenue_forward": "forward_basis",
             "revenue_h1": "h1_basis", "backlog": "backlog_basis"}  # fmt: skip
"""Revenue column -> the text column saying what its figure is."""
ADDED = ("h1_basis", "backlog_basis")
"""Raw columns a workbook built before 2026-12-01 lacks: readers skip them when not defined."""
FIGURE_IS = {"full_year": ("revenue_fy", "fy_basis", '&""'),
             "run_rate": ("revenue_h1", "h1_basis", '&", x 2"'),
             "forward": ("revenue_forward", "forward_basis", '&""')}  # fmt: skip
"""Basis key -> its raw revenue column, the column saying what that figure is, and what to add
to the saying (a half year is doubled). The backlog's adds its months (:func:`_figures_block`)."""
BASE_REVENUE_IS_XL = (
    "IFERROR("
    + first_number_xl(
        [f"INDEX(data_peers_{FIGURE_IS[b][0]},tgt_row)" for b in DCF_BASE_ORDER],
        [f"INDEX(data_peers_{FIGURE_IS[b][1]},tgt_row){FIGURE_IS[b][2]}" for b in DCF_BASE_ORDER],
    )
    + ',"n/a")'
)
"""What the target's DCF base revenue is ("FY2025 guidance, upper bound"), picked in the DCF's
order (:data:`~gpuval.core.multiples.DCF_BASE_ORDER`)."""
CALC = [
    "USD per listing unit", "USD per reporting unit", "Market value (USD)",
    "Full-year revenue (USD)", "Run-rate revenue (USD, H1 x 2)", "Forward revenue (USD)",
    "Backlog revenue (USD, annualised)", "P/S full year", "P/S run-rate", "P/S forward",
    "P/S backlog", "P/S on the chosen basis", "Revenue on the chosen basis (USD)",
    "Peer P/S (statistics)", "A-share P/S", "HK P/S", "Statistics: counted, or why not",
    "Statistics sample", "A-share sample", "HK sample", "Date if used", *CHART_COLUMNS,
]  # fmt: skip
STATS = [("count", "Count", "count"), ("minimum", "Min", "multiple"),
         ("p25", "25th percentile", "multiple"), ("median", "Median", "multiple"),
         ("mean", "Mean", "multiple"), ("p75", "75th percentile", "multiple"),
         ("maximum", "Max", "multiple")]  # fmt: skip
TABLE_HEADER_ROW = 5
"""The peer table comes first, its header just below the title block (the panes freeze below
it); the target's block, the charts and the statistics follow under the table."""
FIRST = TABLE_HEADER_ROW + 1
_C = {key: i + 1 for i, key in enumerate(RAW)}  # raw column indexes 1..
_K = {name: len(RAW) + 1 + i for i, name in enumerate(CALC)}  # calc column indexes
HEADERS = [header for header, _ in RAW.values()] + CALC
"""The table's header row, column A first."""


@dataclass(frozen=True)
class Cell:
    """A raw cell's value and the record it comes from (None for a derived label or a blank)."""

    value: Any
    record: Record | None = None


def period_date(period: str, listed: dt.date | None = None) -> dt.date | str:
    """A market figure's date: the day of a ``YYYY-MM-DD`` period; for a month-only ``YYYY-MM``
    period its FIRST day (never younger than the source), or the company's listing day
    (``listed``) when it listed within that month (it had no market value before); else the
    period text unchanged."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", period):
        return dt.date.fromisoformat(period)
    if re.fullmatch(r"\d{4}-\d{2}", period):
        first = dt.date.fromisoformat(period + "-01")
        same_month = listed is not None and listed.replace(day=1) == first
        return listed if same_month and listed is not None else first
    return period


def listing_day(dataset: Dataset, entity: str) -> dt.date | None:
    """The company's listing day from its ``listing_date`` records (the earliest a sentence
    gives as a day), or None."""
    days = [period_date(r.period) for r in dataset.records.values()
            if r.entity == entity and r.metric == "listing_date"]  # fmt: skip
    return min((d for d in days if isinstance(d, dt.date)), default=None)


def peer_cells(dataset: Dataset, peer: Peer) -> dict[str, Cell]:
    """The raw cells of one company's row, from its ``[[peer]]`` entry."""
    entity = dataset.entities[peer.entity]
    recs = {key: dataset[record_id] for key, record_id in peer.sources().items()}
    revenue_units = {r.unit for k, r in recs.items() if k.startswith("rev") or k == "backlog"}
    cells = {key: Cell(rec.value, rec) for key, rec in recs.items()}
    cells |= {
        "id": Cell(entity.id), "name": Cell(entity.name_en), "ticker": Cell(entity.ticker),
        "venue": Cell(entity.venue), "listing_ccy": Cell(entity.listing_currency),
        "reporting_ccy": Cell(revenue_units.pop() if len(revenue_units) == 1
                              else entity.listing_currency),
        "in_stats": Cell("yes" if peer.in_stats else "no"),
    }  # fmt: skip
    # the figure the market value rests on: price x shares, else the stated market value
    priced = "price" in recs and "shares" in recs
    market = recs["price"] if priced else recs.get("market_value", recs.get("price"))
    if market is not None:
        cells["market_basis"] = Cell(figure_label(market))
        cells["as_of"] = Cell(period_date(market.period, listing_day(dataset, peer.entity)))
    for key, label in DESCRIBED.items():
        if key in recs:
            cells[label] = Cell(figure_label(recs[key]))
    if "revenue_fy" in recs and recs["revenue_fy"].period[:4].isdigit():
        cells["fy_year"] = Cell(int(recs["revenue_fy"].period[:4]))
    months = [dataset[m].number for m in peer.backlog_months or ()]
    if months:
        cells["backlog_months"] = Cell(sum(months) / len(months), dataset[peer.backlog_months[0]])
    return cells


def raw_keys(names: Container[str]) -> list[str]:
    """The raw columns a workbook defines (``data_peers_<key>``): all of :data:`RAW` but the
    :data:`ADDED` ones it lacks, so that refresh and check read a workbook built before them."""
    return [key for key in RAW if key not in ADDED or f"data_peers_{key}" in names]


def peer_rows(dataset: Dataset) -> list[dict[str, Any]]:
    """The table's raw inputs, one dict per company of the dataset's peer universe."""
    return [{key: cell.value for key, cell in peer_cells(dataset, peer).items()}
            for peer in dataset.peers]  # fmt: skip


def peer_sources(dataset: Dataset) -> dict[str, dict[str, str]]:
    """Company id -> {raw column key: the record id it shows}."""
    return {
        peer.entity: {key: cell.record.id for key, cell in peer_cells(dataset, peer).items()
                      if cell.record is not None}
        for peer in dataset.peers
    }  # fmt: skip


NOT_USED = "not used"
"""The "Date if used" of a row the valuation does not use (text, which MIN ignores)."""
NO_DATE = "no date"
"""The "Date if used" of a row the valuation uses whose market figure date is empty or text (an
empty cell would read as Excel's day 0, 1899-12-30); the as-of date is then "no date" too."""
#: The defined name of the "Date if used" column: the date of every market figure the valuation
#: uses (:func:`used_dates`: the target's, each company in the statistics while a peer method
#: has a weight and applies to the target, NVIDIA's when x% of NVIDIA reads the peer table and
#: has a weight), "not used" for a row it does not use. The workbook's as-of date: :data:`AS_OF_XL`.
USED_DATES = "peers_used_dates"
AS_OF_XL = f'=IF(COUNTIF({USED_DATES},"{NO_DATE}")>0,"{NO_DATE}",MIN({USED_DATES}))'
"""The workbook's as-of date (the Cover's ``data_asof``): the oldest market figure used, or "no
date" when one has none (:func:`oldest_used_date`: None)."""
VENUES = (*CHINA_VENUES, "US")
"""The venues the peer table knows: the A-share market, Hong Kong and the US (the yardstick's)."""
CHOICES = {"listing_ccy": CURRENCIES, "reporting_ccy": CURRENCIES, "venue": VENUES,
           "in_stats": ("yes", "no")}  # fmt: skip
"""The values each listed column of the peer table takes (its drop-down; check names others)."""
NVIDIA_WEIGHT = "in_weight_nvidia"
"""The Valuation weight of "x% of NVIDIA", which alone makes NVIDIA's market figure used."""
PEER_WEIGHTS = ("in_weight_peers", "in_weight_venue")
"""The Valuation weights of the methods resting on the peers' P/S (the peer statistics, the
venue re-rating): the peers' market figures are used when either is above 0."""
WEIGHTS = (NVIDIA_WEIGHT, *PEER_WEIGHTS)
"""Every weight that decides which market figures date the valuation (:func:`used_dates`)."""
MARKET_BASIS = "data_peers_market_basis"
"""What each company's market figure is ("2025-12 peak market value, lower bound")."""
COMPARABLE_XL = "OR(" + ",".join(f'tgt_venue="{v}"' for v in CHINA_VENUES) + ")"
"""The target is listed on a China venue: the China peers' P/S, and the TAM scenarios' share of
China's AI-chip market, apply to it (not to NVIDIA, listed in the US). Not its "In China
statistics" flag, which leaves a company out of the peers' statistics whatever it is."""


def used_dates(values: Mapping[str, Any]) -> dict[str, Any]:
    """Company id -> its market figure date (``data_peers_as_of``) for every row the valuation
    uses, the rule of the "Date if used" column: the target, a company counted in the peer
    statistics (:func:`~gpuval.workbook.model.counted_lines`) while a method resting on them has
    a weight on Valuation (:data:`PEER_WEIGHTS`) and applies to the target (listed on a China
    venue, :data:`COMPARABLE_XL`), and NVIDIA when "x% of NVIDIA" reads the peer
    table (``in_nvidia_value_basis``) and has a weight (a method of weight 0 does not date the
    valuation). ``values``: ``{defined name: value}`` as the workbook holds them
    (:meth:`~gpuval.workbook.model.Inputs.from_names` plus the dates and :data:`WEIGHTS`)."""
    inputs = Inputs.from_names(values)
    dates = dict(zip(values["data_peers_id"], values["data_peers_as_of"], strict=True))
    counted = set()
    target = next((row for row in inputs.peers if row.id == inputs.target), None)
    comparable = target is not None and listed_in_china(target)
    if comparable and any(_weighted(values[name]) for name in PEER_WEIGHTS):
        counted = {line.row.id for line in counted_lines(
            [peer_line(row, inputs) for row in inputs.peers], inputs)}  # fmt: skip
    yardstick = inputs.nvidia_value_basis == "peer table" and _weighted(values[NVIDIA_WEIGHT])
    used = {}
    for row in inputs.peers:
        if row.id in (inputs.target, *counted) or (row.id == YARDSTICK and yardstick):
            used[row.id] = dates.get(row.id)
    return used


def _weighted(weight: Any) -> bool:
    """A weight above 0, as the sheet's ``N(weight)>0`` (text or a blank is 0)."""
    return isinstance(weight, int | float) and not isinstance(weight, bool) and weight > 0


def oldest_used_date(values: Mapping[str, Any]) -> dt.date | None:
    """The workbook's as-of date: MIN of :func:`used_dates` (``data_asof`` = MIN of the "Date if
    used" column); None when a used row has no date."""
    days = [d.date() if isinstance(d, dt.datetime) else d for d in used_dates(values).values()]
    if not days or not all(isinstance(d, dt.date) for d in days):
        return None
    return min(days)


def _joined(stat: int, pieces: int, last: int) -> str:
    """The names in sample column ``pieces`` (``"Moore Threads, "`` or ``""`` a row) joined, or
    "none" when column ``stat`` counts no company: slot by slot, ``INDEX(column, k)`` for k = 1 to
    :data:`SAMPLE_ROWS` (Excel 2016 has no TEXTJOIN), so a row deleted or inserted in the table
    shrinks or grows the range and the list follows (``&""``: a blank inserted row is "", where
    IFERROR alone may return Excel's 0), the last ", " dropped by marking the end with "|" (the
    joined text once, where LEFT(text, LEN(text) - 2) would repeat it)."""
    column = _range(pieces, last)
    names = "&".join(f'IFERROR(INDEX({column},{k})&"","")' for k in range(1, SAMPLE_ROWS + 1))
    return f'IF(COUNT({_range(stat, last)})=0,"none",SUBSTITUTE({names}&"|",", |",""))'


def _bold(cell: SheetCell, colour: str | None = None) -> None:
    """The cell's house font in bold (a new ``Font()`` would drop its name and size)."""
    house = cell.font
    cell.font = Font(name=house.name, sz=house.sz, i=house.i, b=True, color=colour or house.color)


def _range(column: int, last: int) -> str:
    return f"{TITLE}!${col(column)}${FIRST}:${col(column)}${last}"


def write(
    book: Book, rows: Sequence[dict[str, Any]] | None = None, lines: int | None = None
) -> Sheet:
    """The peer table on Peers, and from it the target's figures, the statistics, the gap and
    the charts on Peer statistics. The table shows and prints, one page wide, the comparables
    in USD (:data:`SHOWN`), its other columns grouped and collapsed. ``lines``: the companies
    the table of what each figure is has lines for (default: every row; the formula audit
    passes the workbook's own, which a row deleted or inserted since its build does not
    change)."""
    rows = list(rows) if rows is not None else peer_rows(book.dataset)
    lines = len(rows) if lines is None else lines
    marks = f"{BOUND_MARKS[1]} / {BOUND_MARKS[-1]}: a lower / upper bound (on a P/S, a floor / "
    marks += f"ceiling); {PEAK_MARK}: at a past peak, not today's; italics: guidance or an estimate"
    sheet = Sheet(book, TITLE, f"In USD but the price. {marks}. What each figure is: Peer "
                  "statistics.")  # fmt: skip
    last = FIRST + len(rows) - 1
    _table(book, sheet, rows, last)
    described = [_C[key] for key in ("market_basis", *DESCRIBED.values())]
    sheet.widths(_table_widths(described))
    reason = (_K["Statistics: counted, or why not"], NO_TARGET_YEAR)  # the longest it gives
    wrap_rows(sheet.ws, FIRST, last, described, reason)  # "2025-12 peak market value, ..."
    for r in range(FIRST, last + 1):  # clear of the P/S to its left
        status = sheet.ws.cell(r, reason[0])
        status.alignment = copy(status.alignment) + Alignment(horizontal="left", indent=1)
    sheet.ws.row_dimensions[TABLE_HEADER_ROW].height = fitted_height(4)  # "Backlog revenue ..."
    sheet.freeze(f"C{FIRST}")
    _bound_marks(book, sheet, last)
    for c in range(1, len(HEADERS) + 1):  # the rest, a click away: one page wide
        if c not in _SHOWN:
            dims = sheet.ws.column_dimensions[col(c)]
            dims.outline_level, dims.hidden = 1, True

    stats = Sheet(book, STATS_TITLE, "The target's figures, the peer percentiles on the chosen "
                  "basis and its implied value, the A-share vs Hong Kong gap, charts.")  # fmt: skip
    top = TABLE_HEADER_ROW - 1  # the first section, as the table's on Peers
    inputs = Inputs.from_names(book.values)
    slots = bar_slots([peer_line(row, inputs).ps for row in inputs.peers])
    end = _stats_block(book, stats, last, _target_block(book, stats, last, top) + 2)
    figures = end + 2 + CHART_ROWS
    stats.ws.row_breaks.append(Break(id=figures - 1))  # what each figure is: a page of its own
    first_line = _figures_block(stats, last, figures, lines, slots)
    slot_columns = write_slots(stats, first_line, lines)  # beside the lines, same slots
    draw(stats, slot_columns, first_line, end + 2, slots, book.names["tgt_name"])  # under the gap
    # the slots and lines as names, so that the formula is the same whatever the build made room
    # for (the formula audit compares it with a build from the workbook's current peer table)
    book.wb.defined_names[SLOTS] = DefinedName(SLOTS, attr_text=str(slots))
    book.wb.defined_names[LINES] = DefinedName(LINES, attr_text=str(lines))
    shown = "COUNT(chart_peers_ps)"
    warning = stats.put(end + 1, 1, f'=IF({shown}>{SLOTS},"The charts show "&{SLOTS}&IF({shown}>'
                        f'{LINES},", the table below "&{LINES},"")&" of the "&{shown}&" companies '
                        'with a P/S on this basis: the target, then the first in table order (a '
                        'build makes room for the companies with a P/S in its dataset).","")',
                        "calc", "plain")  # fmt: skip
    _bold(warning, "C00000")  # not a model error: no check turns red
    stats.widths({"A": 44, "B": 8, "C": 14, "D": 14, "E": 14, "F": 22, "G": 28, "H": 24})
    stats.freeze(f"A{top}")  # below the title block: the sheet stacks tables
    return sheet


def _table_widths(described: list[int]) -> dict[str, float]:
    """The table's column widths (characters): 12; the id 14 ("iluvatar_corex"), the company
    16 ("Biren Technology"), the venue 6, the listing currency 8, the market value 13, the
    revenues in USD 10, P/S and FX 9, the sample pieces 16 ("Biren Technology, "), the reason
    20 (two lines), the descriptions of ``described`` 24: the columns shown (:data:`SHOWN`) one
    page wide at 80 %."""
    narrow = [
        "USD per listing unit",
        "USD per reporting unit",
        "P/S on the chosen basis",
        "Peer P/S (statistics)",
        "A-share P/S",
        "HK P/S",
        *(ps for _, ps in BASES.values()),
    ]
    wide = ["Statistics sample", "A-share sample", "HK sample"]
    widths: dict[str, float] = {"A": 14, "B": 16, "C": 6, "D": 8}
    widths |= {col(i): 12 for i in range(5, _K["HK sample"] + 2)}
    widths |= {col(_K[revenue]): 10 for revenue, _ in BASES.values()}
    widths[col(_K["Market value (USD)"])] = 13  # "≥1,234.5 bn†"
    widths |= {col(_K[h]): 9 for h in narrow} | {col(_K[h]): 16 for h in wide}
    widths[col(_K["Statistics: counted, or why not"])] = 20
    return widths | {col(c): 24 for c in described}


BOUND_MARKS = {1: "≥", -1: "≤", 0: ""}
"""A figure's direction (:func:`~gpuval.core.multiples.ps_bound`) -> the mark before it."""
PEAK_MARK = "†"
"""After a market value at a past peak, and after its P/S."""
_BASIS_IS = {basis: is_ for basis, (_, is_, _) in FIGURE_IS.items()} | {
    "backlog": DESCRIBED["backlog"]
}
"""Basis key -> the raw column saying what its revenue figure is."""


def _bound_marks(book: Book, sheet: Sheet, last: int) -> None:
    """Conditional formats marking the shown figures as what their descriptions say: ≥ / ≤
    before a market value or revenue that is a lower / upper bound and before a P/S that is one
    (the sign of m - r, :func:`~gpuval.core.multiples.ps_bound`: none when both figures are
    bounds the same way), † after a market value at a past peak and after its P/S, a revenue
    no company reported (guidance, an estimate: :data:`~gpuval.core.multiples.NOT_REPORTED`)
    and its P/S in italics ("n/a" as it is). One rule for each combination, as LibreOffice
    applies only the first that holds."""

    def at(key: str) -> str:
        return f"${col(_C[key])}{FIRST}"

    formats = {name: key for name, _, key in _row_formulas(FIRST)}

    def mark(column: str, direction: str, peak: str | None, ahead: str | None) -> None:
        letter = col(_K[column])
        area, key = f"{letter}{FIRST}:{letter}{last}", formats[column]
        for d, before in BOUND_MARKS.items():
            for at_peak in (False, True) if peak else (False,):
                for forecast in (False, True) if ahead else (False,):
                    if not (d or at_peak or forecast):
                        continue
                    tests = [f"ISNUMBER({letter}{FIRST})", f"{direction}={d}"]
                    tests += [f"{peak}={str(at_peak).upper()}"] if peak else []
                    tests += [f"{ahead}={str(forecast).upper()}"] if ahead else []
                    code = marked_format(book.style.fmt(key), before, PEAK_MARK * at_peak)
                    rule = format_rule(book, f"AND({','.join(tests)})", code, italic=forecast)
                    sheet.ws.conditional_formatting.add(area, rule)

    market = bound_direction_xl(at("market_basis"))
    peak = peak_xl(at("market_basis"))
    mark("Market value (USD)", market, peak, None)
    for basis, (revenue, ps) in BASES.items():
        direction = bound_direction_xl(at(_BASIS_IS[basis]))
        ahead = not_reported_xl(at(_BASIS_IS[basis]))
        mark(revenue, direction, None, ahead)
        mark(ps, f"SIGN({market}-{direction})", peak, ahead)


def _table(book: Book, sheet: Sheet, rows: Sequence[dict[str, Any]], last: int) -> None:
    h = TABLE_HEADER_ROW
    sheet.section(
        h - 1,
        "Peer table (inputs in blue; blanks are figures the sources do not "
        "give; the + buttons above the header show the collapsed columns)",
    )
    sheet.headers(h, HEADERS)
    for key, choices in CHOICES.items():
        rule = DataValidation(type="list", formula1=f'"{",".join(choices)}"', allow_blank=True)
        sheet.ws.add_data_validation(rule)
        rule.add(f"{col(_C[key])}{FIRST}:{col(_C[key])}{last}")
    positive = DataValidation(type="decimal", operator="greaterThan", formula1="0",
                              allow_blank=True)  # fmt: skip
    sheet.ws.add_data_validation(positive)
    sources = {peer.entity: peer for peer in book.dataset.peers}
    for i, row in enumerate(rows):
        r = FIRST + i
        peer = sources.get(row["id"])
        cells = peer_cells(book.dataset, peer) if peer is not None else {}
        for key, (_, fmt) in RAW.items():
            cell = sheet.put(r, _C[key], row.get(key), "input", fmt)
            rec = cells[key].record if key in cells else None
            if rec is not None:
                sheet.comment(cell, note_text(book.dataset, rec))
                book.cite(rec, sheet.ref(r, _C[key], sheet=True))
        for name, formula, fmt in _row_formulas(r):
            sheet.put(r, _K[name], formula, "calc", fmt)
    # One range per validation: adding cells one by one is quadratic in openpyxl.
    for key in (*COLUMNS, "backlog_months"):
        positive.add(f"{col(_C[key])}{FIRST}:{col(_C[key])}{last}")
    for key in RAW:
        book.define(f"data_peers_{key}", TITLE, _range(_C[key], last).split("!")[1])
        book.values[f"data_peers_{key}"] = [row.get(key) for row in rows]
    book.define("peers_mv_usd", TITLE, _range(_K["Market value (USD)"], last).split("!")[1])
    book.define(USED_DATES, TITLE, _range(_K["Date if used"], last).split("!")[1])
    for header, name in CHART_COLUMNS.items():
        book.define(name, TITLE, _range(_K[header], last).split("!")[1])
    formulas = f"{TITLE}!${col(len(RAW) + 1)}${FIRST}:${col(len(RAW) + len(CALC))}${last}"
    book.check(FORMULAS_CHECK, f'SUMPRODUCT((data_peers_id<>"")*ISBLANK({formulas}))=0')
    texts = "+".join(f"ISTEXT(data_peers_{key})" for key in NUMBERS)
    book.check(NUMBERS_CHECK, f"SUMPRODUCT({texts})=0")
    twice = "COUNTIF(data_peers_id,data_peers_id)>1"
    book.check(IDS_CHECK, f'SUMPRODUCT((data_peers_id<>"")*({twice}))=0')


FORMULAS_CHECK = "Every company in the peer table has its formulas (copied down to a row you add)"
"""The in-sheet check that a row with an id has every computed cell (an empty one is a row whose
formulas were not copied down: the company would silently drop out of the statistics)."""
NUMBERS = [key for key in RAW if key in PEER_NUMBERS]
"""The peer table's columns of numbers: text in one ("100", "n/a") reads as no figure, so the
company would drop out of what needs it. (A date as text is "no date", which the data-age check
names where the date is used; a source may date a figure by a quarter, "2025 Q4".)"""
NUMBERS_CHECK = "The peer table's figures are numbers or blank, never text"
IDS_CHECK = "Each company's id appears once in the peer table"
"""A second row with a company's id counts it twice, and refresh cannot tell which row is the
company's. The sheet counts with COUNTIF, in any case as :func:`repeated_ids` (and reads ``*``,
``?`` and ``~`` in an id as patterns, which no id needs)."""


def repeated_ids(ids: Sequence[Any]) -> list[tuple[int, int]]:
    """(first, later) indexes of each id a later row repeats, in any case as the sheet's
    COUNTIF compares (text only; a blank is no id)."""
    first: dict[str, int] = {}
    repeats = []
    for i, ident in enumerate(ids):
        if isinstance(ident, str) and ident:
            j = first.setdefault(ident.lower(), i)
            if j != i:
                repeats.append((j, i))
    return repeats


OTHER_YEAR = "another fiscal year than the target's"
"""Why a company is left out of the statistics under ``in_peer_years`` = "same as the target"."""
NO_TARGET_YEAR = "the target has no full-year fiscal year to match"
"""Why a company is left out under "same as the target" when the target has no full-year
revenue (or no fiscal year for it): nothing to compare with, so no fiscal year is "other"."""
#: Basis key (the core's) -> its revenue and P/S columns.
BASES = {
    "full_year": ("Full-year revenue (USD)", "P/S full year"),
    "run_rate": ("Run-rate revenue (USD, H1 x 2)", "P/S run-rate"),
    "forward": ("Forward revenue (USD)", "P/S forward"),
    "backlog": ("Backlog revenue (USD, annualised)", "P/S backlog"),
}
SHOWN = ("Id", "Company", "Venue", "Listing ccy", "Price (listing)", "Market value (USD)",
         *(header for pair in BASES.values() for header in pair),
         "Statistics: counted, or why not")  # fmt: skip
"""The Peers columns shown and printed (one page wide at 80 %): the comparables in USD. The
others (the figures as the sources give them and what each is, the exchange rates, the
statistics' and the charts' workings) are grouped and collapsed."""
_SHOWN = {i for i, header in enumerate(HEADERS, 1) if header in SHOWN}


def _row_formulas(r: int) -> list[tuple[str, str, str]]:
    """Row ``r``'s formulas."""
    c = {k: f"{col(v)}{r}" for k, v in _C.items()}
    k = {n: f"{col(v)}{r}" for n, v in _K.items()}
    fr = k["USD per reporting unit"]

    def usd_per(ccy: str) -> str:
        return "=" + usd_per_unit_xl(ccy, "in_fx_usd_per_hkd", "in_fx_cny_per_usd")

    def converted(raw: str, amount: str | None = None) -> str:
        return f'=IF(ISNUMBER({raw}),{amount or raw}*{fr},"n/a")'

    bps = k["P/S on the chosen basis"]
    mv = k["Market value (USD)"]
    year = fiscal_year_counts_xl("in_peer_basis", "in_peer_years", c["fy_year"], "tgt_base_year")
    counted = f'AND({c["in_stats"]}="yes",ISNUMBER({bps}),{year})'

    def sample(stat: str) -> str:
        """The company's name and ", " when it is counted in ``stat``, else "": Peer
        statistics joins the rows' pieces (:func:`_joined`)."""
        return f'=IF(ISNUMBER({k[stat]}),{c["name"]}&", ","")'

    return [
        ("USD per listing unit", usd_per(c["listing_ccy"]), "fx"),
        ("USD per reporting unit", usd_per(c["reporting_ccy"]), "fx"),
        ("Market value (USD)", "=" + peer_market_value_xl(
            c["price"], c["shares"], c["market_value"], k["USD per listing unit"]), "usd_bn"),
        ("Full-year revenue (USD)", converted(c["revenue_fy"]), "usd_bn"),
        ("Run-rate revenue (USD, H1 x 2)",
         converted(c["revenue_h1"], run_rate_revenue_xl(c["revenue_h1"])), "usd_bn"),
        ("Forward revenue (USD)", converted(c["revenue_forward"]), "usd_bn"),
        ("Backlog revenue (USD, annualised)",
         f'=IF(AND(ISNUMBER({c["backlog"]}),ISNUMBER({c["backlog_months"]})),'
         f'{backlog_revenue_xl(c["backlog"], c["backlog_months"])}*{fr},"n/a")', "usd_bn"),
        *[(ps_col, "=" + ps_xl(mv, k[rev_col]), "multiple") for rev_col, ps_col in BASES.values()],
        ("P/S on the chosen basis",
         "=" + basis_pick_xl("in_peer_basis", {b: k[v[1]] for b, v in BASES.items()}), "multiple"),
        ("Revenue on the chosen basis (USD)",
         "=" + basis_pick_xl("in_peer_basis", {b: k[v[0]] for b, v in BASES.items()}), "usd_bn"),
        ("Peer P/S (statistics)",
         f'=IF(AND({c["id"]}<>in_target,{counted}),{bps},"n/a")', "multiple"),
        ("A-share P/S", f'=IF(AND({c["venue"]}="A",{counted}),{bps},"n/a")', "multiple"),
        ("HK P/S", f'=IF(AND({c["venue"]}="HK",{counted}),{bps},"n/a")', "multiple"),
        ("Statistics: counted, or why not",
         f'=IF({c["id"]}=in_target,"the target",IF({c["in_stats"]}<>"yes",'
         f'"not in China statistics",IF(NOT(ISNUMBER({mv})),IF(ISNUMBER('
         f'{k["USD per listing unit"]}),"no market value","listing currency none of '
         f'{", ".join(CURRENCIES)}"),IF(NOT(ISNUMBER({bps})),"no "&in_peer_basis&" revenue",'
         f'IF({year},"counted",IF(ISNUMBER(tgt_base_year),"{OTHER_YEAR}",'
         f'"{NO_TARGET_YEAR}"))))))',
         "plain"),
        ("Statistics sample", sample("Peer P/S (statistics)"), "plain"),
        ("A-share sample", sample("A-share P/S"), "plain"),
        ("HK sample", sample("HK P/S"), "plain"),
        ("Date if used", f'=IF(OR({c["id"]}=in_target,AND(ISNUMBER({k["Peer P/S (statistics)"]}),'
         f'{COMPARABLE_XL},OR({",".join(f"N({w})>0" for w in PEER_WEIGHTS)})),'
         f'AND({c["id"]}="{YARDSTICK}",in_nvidia_value_basis="peer table",'
         f"N({NVIDIA_WEIGHT})>0)),"
         f'IF(ISNUMBER({c["as_of"]}),{c["as_of"]},"{NO_DATE}"),"{NOT_USED}")', "date"),
        *zip(CHART_COLUMNS, chart_formulas(
            k["Revenue on the chosen basis (USD)"], mv, bps, c["id"],
            {h: k[h] for h in CHART_COLUMNS},
            {h: f"${col(_K[h])}${FIRST}:{k[h]}" for h in CHART_COLUMNS}),
             ("usd_bn", "usd_bn", "multiple", "multiple", "int"), strict=True),
    ]  # fmt: skip


TARGET_VALUED_XL = "AND(ISNUMBER(tgt_mv_usd),ISNUMBER(tgt_col))"
"""TRUE when the target can be valued: a row of the peer table with a market value, and a column
of assumptions on Assumptions (a company typed into the table has none; the Target list is the
build's, so it still offers a company whose row was deleted)."""
TARGET_PROBLEM_XL = (
    'IF(ISERROR(tgt_row),"Target "&in_target&" is not in the peer table: pick a company that '
    'is.",IF(ISERROR(tgt_mv_usd),"Target "&in_target&"\'s market value on Peers cannot be '
    'computed: check its price, shares, listing currency and the exchange rates on Inputs.",IF('
    f'ISNUMBER(tgt_mv_usd),IF(ISNUMBER(tgt_col),"","Target "&in_target&" {NO_ASSUMPTIONS}"),'
    '"Target "&in_target&" has no market value on Peers (a price and a share '
    'count, or a stated market value): pick a listed company.")))'
)
"""Why the target cannot be valued, one sentence ("" when it can: :data:`TARGET_VALUED_XL`)."""
TARGET_NAME_XL = "IF(ISNUMBER(tgt_row),tgt_name,in_target)"
"""The target's name; its id when it is not in the peer table."""
TARGET_CHECK = "The target can be valued: in the peer table with a market value, and on Assumptions"


def _target_block(book: Book, sheet: Sheet, last: int, top: int) -> int:
    """The target's figures picked from the table, from row ``top``; returns the last row."""
    sheet.section(top, "Target (follows the drop-down on Inputs)")

    def pick(column: int) -> str:
        return f"INDEX({_range(column, last)},tgt_row)"

    fy = pick(_K["Full-year revenue (USD)"])
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
        ("tgt_now", '=IF(tgt_shares>0,"Share price on Peers","Market value on Peers (no share '
         'count)")', "listing",
         "=" + listing_value_xl("tgt_mv_usd"), "value"),
        ("tgt_base_revenue", "DCF base revenue (full year > run-rate > fwd)",
         "USD", "=" + first_number_xl([pick(_K[BASES[b][0]]) for b in DCF_BASE_ORDER]), "usd_bn"),
        ("tgt_base_year", "Fiscal year of the full-year revenue (the DCF's base)", "year",
         f'=IF(AND(ISNUMBER({fy}),ISNUMBER({pick(_C["fy_year"])})),{pick(_C["fy_year"])},"n/a")',
         "int"),
        ("tgt_basis_revenue", "Revenue on the chosen basis", "USD",
         f"={pick(_K['Revenue on the chosen basis (USD)'])}", "usd_bn"),
        ("out_backlog_forward_ps", "Backlog-implied forward P/S", "x",
         f'=IF(ISNUMBER({pick(_K["P/S backlog"])}),{pick(_K["P/S backlog"])},"n/a")',
         "multiple"),
    ]  # fmt: skip
    for i, (name, label, unit, formula, fmt) in enumerate(items):
        r = top + 1 + i
        sheet.label(r, label, unit)
        role = "output" if name.startswith("out_") else "calc"
        sheet.put(r, 3, formula, role, fmt, name)
    book.check(TARGET_CHECK, TARGET_VALUED_XL)
    book.check(
        "Balance: the target's price x shares equals its market value",
        "IF(tgt_shares>0,ABS(tgt_price*tgt_shares/tgt_fx-tgt_mv_usd)<=1E-9*tgt_mv_usd,TRUE)",
    )
    book.check("The DCF has a base revenue for the target", "ISNUMBER(tgt_base_revenue)")
    return top + len(items)


def _stats_block(book: Book, sheet: Sheet, last: int, top: int) -> int:
    """The peer statistics and the A-share vs Hong Kong gap, from row ``top``; returns the last
    row."""
    sheet.section(top, "Peer statistics on the chosen basis (China peers; target and blanks out)")
    sheet.label(top + 1, "Revenue basis (in_peer_basis on Inputs)")
    sheet.put(top + 1, 3, "=in_peer_basis", "link", "plain")
    sheet.label(top + 2, "Sample")
    sample = _joined(_K["Peer P/S (statistics)"], _K["Statistics sample"], last)
    sheet.put(top + 2, 3, "=" + sample, "calc", "plain")
    book.check(
        f"The sample lists read every row of the peer table (at most {SAMPLE_ROWS})",
        f"ROWS(data_peers_id)<={SAMPLE_ROWS}",
    )
    sheet.headers(top + 3, ["Statistic", "", "P/S", "Implied equity (USD)", "", ""])
    for column, what in ((5, "Implied per share"), (6, "Implied equity")):
        sheet.put(top + 3, column, f'="{what} ("&tgt_ccy&")"', "link").style = "gv_header"
    peers = _range(_K["Peer P/S (statistics)"], last)
    for i, (key, label, fmt) in enumerate(STATS):
        r = top + 4 + i
        sheet.label(r, label, "count" if key == "count" else "x")
        sheet.put(r, 3, "=" + peer_stat_xl(key, peers), "calc", fmt, f"peer_{key}")
        if key == "count":  # a small sample said so beside it (Min to Max are its few values)
            few = (f'IF(C{r}=1,"only 1 peer: every statistic is its P/S","only "&C{r}&" peers: '
                   'the percentiles interpolate between them")')  # fmt: skip
            sheet.put(r, 4, f'=IF(N(C{r})=0,"",IF(NOT({ENOUGH_PEERS_XL}),{few}&"; under the "&'
                      f'in_peer_min_count&" the method needs (Inputs): no implied value",IF(C{r}<'
                      f'{FEW_PEERS},{few},"")))', "calc", "plain")  # fmt: skip
            continue
        equity = f"C{r}*tgt_basis_revenue"  # PeersResult.implied_equity
        sheet.put(r, 4, f'=IF(AND(ISNUMBER(C{r}),ISNUMBER(tgt_basis_revenue),{COMPARABLE_XL},'
                  f'{ENOUGH_PEERS_XL}),{equity},"n/a")', "calc", "usd_bn",
                  f"peer_equity_{key}")  # fmt: skip
        name = "out_peer_median_implied_value" if key == "median" else f"peer_value_{key}"
        sheet.put(r, 5, f'=IF(ISNUMBER(D{r}),{per_share_xl(f"D{r}")},"n/a")',
                  "output" if key == "median" else "calc", "price", name)  # fmt: skip
        sheet.put(r, 6, f'=IF(ISNUMBER(D{r}),D{r}*tgt_fx,"n/a")', "calc", "ccy_bn")
    gap = top + 4 + len(STATS) + 1
    sheet.ws.row_breaks.append(Break(id=gap - 1))  # the gap starts a page: it would split
    sheet.section(gap, "A-share vs Hong Kong gap (chosen basis, China companies, target included)")
    a = _range(_K["A-share P/S"], last)
    hk = _range(_K["HK P/S"], last)

    def side(stat: str, pieces: str, venue: str) -> str:
        """The side's sample, and "(the target alone)" when the target is its one company."""
        rng = _range(_K[stat], last)
        alone = f'AND(tgt_venue="{venue}",COUNT({rng})=1,ISNUMBER(INDEX({rng},tgt_row)))'
        return f'={_joined(_K[stat], _K[pieces], last)}&IF({alone}," (the target alone)","")'

    lines: list[tuple[str, str, str, str | None]] = [
        ("A-share median P/S", "=" + peer_stat_xl("median", a), "multiple", None),
        ("Hong Kong median P/S", "=" + peer_stat_xl("median", hk), "multiple", None),
        ("Gap: A-share / Hong Kong", "=" + venue_gap_xl(f"C{gap + 1}", f"C{gap + 2}"),
         "multiple", "out_venue_gap"),
        ('="Target market value with "&TEXT(in_gap_closed,"0%")&" of the gap closed"',
         "=" + rerated_market_value_xl("tgt_venue", "tgt_mv_usd", f"C{gap + 3}", "in_gap_closed"),
         "usd_bn", "gap_market_value"),
        ("... per share (listing currency)",
         f'=IF(ISNUMBER(C{gap + 4}),{per_share_xl(f"C{gap + 4}")},"n/a")', "price",
         "out_gap_value_per_share"),
        ("A-share sample", side("A-share P/S", "A-share sample", "A"), "plain", None),
        ("Hong Kong sample", side("HK P/S", "HK sample", "HK"), "plain", None),
    ]  # fmt: skip
    units = {"multiple": "x", "usd_bn": "USD", "price": "listing"}
    for i, (label, formula, fmt, out_name) in enumerate(lines):
        r = gap + 1 + i
        sheet.label(r, label, units.get(fmt, ""))
        sheet.put(r, 3, formula, "output" if (out_name or "").startswith("out_") else "calc",
                  fmt, out_name)  # fmt: skip
    return gap + len(lines)


FIGURES = ["Company", "Venue", "P/S", "Market value (USD)", "Revenue (USD)", "The P/S is",
           "Market figure is", "Revenue figure is"]  # fmt: skip
"""The columns of the table saying what each company's figures on the chosen basis are."""
READING = "peer_reading"
"""Defined name: how to read the implied values at the peer percentiles (:func:`_reading`)."""
BOUNDS_NOTE = "peer_bounds_note"
"""Defined name: the sentence saying what the bounds, peaks and fiscal years among the peers'
figures make the statistics and the implied values."""
#: The counts over the table's lines: defined name, label, the peer-table column whose number
#: puts a line in the count (the peers in the statistics, or one side of the venue gap), test of
#: line ``r`` (its "The P/S is" in column F; ``{year}``: its fiscal year, ``{target}``: the
#: target's).
COUNTS = [
    ("peer_lower_bounds", "Peers in the statistics whose P/S is a lower bound",
     "Peer P/S (statistics)", 'LEFT(F{r},11)="lower bound"'),
    ("peer_upper_bounds", "... whose P/S is an upper bound", "Peer P/S (statistics)",
     'LEFT(F{r},11)="upper bound"'),
    ("peer_peaks", "... whose P/S is at a peak market value, not today's",
     "Peer P/S (statistics)", 'LEFT(F{r},9)="at a peak"'),
    ("peer_not_points", "... whose P/S is not a point value",
     "Peer P/S (statistics)", 'F{r}<>"point value"'),
    ("peer_later_years", "... whose fiscal year is later than the target's",
     "Peer P/S (statistics)", "ISNUMBER({year})*({year}>{target})"),
    ("peer_earlier_years", "... whose fiscal year is earlier than the target's",
     "Peer P/S (statistics)", "ISNUMBER({year})*({year}<{target})"),
    ("gap_a_bounds", "A-share P/S in the gap: bounds or peaks", "A-share P/S",
     'F{r}<>"point value"'),
    ("gap_hk_bounds", "Hong Kong P/S in the gap: bounds or peaks", "HK P/S",
     'F{r}<>"point value"'),
    ("gap_a_years", "A-share P/S in the gap: another fiscal year",
     "A-share P/S", "ISNUMBER({year})*({year}<>{target})"),
    ("gap_hk_years", "Hong Kong P/S in the gap: another fiscal year",
     "HK P/S", "ISNUMBER({year})*({year}<>{target})"),
]  # fmt: skip
_YEARLY = ("peer_later_years", "peer_earlier_years", "gap_a_years", "gap_hk_years")  # full year


def _figures_block(sheet: Sheet, last: int, top: int, lines: int, slots: int) -> int:
    """From row ``top``: what the peers' figures on the chosen basis are, so that a reader can
    judge like with like (fiscal year, reported or guidance, bounds, peaks). First the counts
    over the peers in the statistics and a sentence on what they make the percentiles and the
    implied values; then a table, slot by slot as the charts read them (the companies with a
    P/S on the chosen basis, the target first, then in table order): each company's P/S,
    market value and revenue and what each figure is. ``lines`` lines: one per company of the
    table at build time, so that none is left out and a formula audit's fresh build has the
    same lines whichever companies have a P/S (a company typed in later may find no line: the
    red line over the charts says so); the first ``slots`` (those with a P/S at build time) two
    text lines tall. Returns the first line's row."""
    sheet.section(top, "Companies with a P/S on the chosen basis: what each figure is")
    sheet.label(top + 1, "A lower-bound market value over a stated or upper-bound revenue "
                "makes the P/S a lower bound (a floor); a guidance range's end counts as a "
                "bound (if the result lands within the guidance); a peak market value is not "
                "today's.")  # fmt: skip
    other = top + 3 + len(COUNTS)  # under the target's revenue and the counts
    reading = other + 1
    note = reading + 1
    first = note + 3  # the table's first line, under a blank row and its header

    def slot(k: int) -> str:
        return f"MATCH({k},chart_peers_ps_order,0)"

    def revenue_is(row: str) -> str:
        """What the revenue on the chosen basis of table row ``row`` (an index) is."""

        def raw(key: str) -> str:
            return f"INDEX({_range(_C[key], last)},{row})"

        return basis_pick_xl("in_peer_basis", {b: raw(text) + add for b, (_, text, add)
                                               in FIGURE_IS.items()} | {
            "backlog": raw("backlog_basis") + '&", over "&' + raw("backlog_months") + '&" months"',
        })  # fmt: skip

    sheet.label(top + 2, "The target's revenue on this basis is")
    sheet.put(top + 2, 3, f'=IF(ISNUMBER(tgt_basis_revenue),{revenue_is("tgt_row")},"not given")',
              "calc", "plain", "tgt_basis_revenue_is")  # fmt: skip
    years = _range(_C["fy_year"], last)
    for i, (name, label, member, test) in enumerate(COUNTS):
        terms = "+".join(
            f"IFERROR(ISNUMBER(INDEX({_range(_K[member], last)},{slot(k)}))*("
            + test.format(r=r, year=f"INDEX({years},{slot(k)})", target="tgt_base_year")
            + "),0)"
            for k, r in enumerate(range(first, first + lines), start=1)
        )
        if name in _YEARLY:  # fiscal years compare on the full-year basis only
            terms = basis_pick_xl("in_peer_basis", {b: '"n/a"' for b in BASES} | {"full_year": (
                f'IF(ISNUMBER(tgt_base_year),{terms},"n/a")')})  # fmt: skip
        sheet.label(top + 3 + i, label, "count")
        sheet.put(top + 3 + i, 3, f"={terms}", "calc", "int", name)
    sheet.label(other, "China peers left out: another fiscal year", "count")
    sheet.put(
        other,
        3,
        f'=COUNTIF({_range(_K["Statistics: counted, or why not"], last)},"{OTHER_YEAR}")',
        "calc",
        "int",
        "peer_other_years",
    )
    sheet.label(reading, "The implied values at the percentiles read as")
    sheet.put(reading, 3, "=" + _reading(), "calc", "plain", READING)
    sentence = sheet.put(note, 1, "=" + _bounds_sentence(), "calc", "plain", BOUNDS_NOTE)
    _bold(sentence)
    sentence.alignment = WRAP
    sheet.ws.merge_cells(start_row=note, start_column=1, end_row=note, end_column=len(FIGURES))
    sheet.ws.row_dimensions[note].height = fitted_height(4)
    sheet.headers(first - 1, FIGURES)
    columns = [
        ('INDEX(data_peers_name,{n})&IF(INDEX(data_peers_id,{n})=in_target," (the target)",'
         'IF(INDEX(data_peers_in_stats,{n})<>"yes"," (not in the statistics)",'
         f'IF(INDEX({_range(_K["Statistics: counted, or why not"], last)},{{n}})="{OTHER_YEAR}",'
         '" (left out: another fiscal year)","")))', "plain"),
        ("INDEX(data_peers_venue,{n})", "plain"),
        ("INDEX(chart_peers_ps,{n})", "multiple"),
        ("INDEX(peers_mv_usd,{n})", "usd_bn"),
        (f"INDEX({_range(_K['Revenue on the chosen basis (USD)'], last)},{{n}})", "usd_bn"),
        (f'IF(ISNUMBER(C{{r}}),{ps_bound_xl("G{r}", "H{r}")},"")', "plain"),
        ('INDEX(data_peers_market_basis,{n})&""', "plain"),
        (revenue_is("{n}"), "plain"),
    ]  # fmt: skip
    for k, r in enumerate(range(first, first + lines), start=1):
        for c, (formula, fmt) in enumerate(columns, start=1):
            none = '"none: no company has a P/S on this basis"' if (k, c) == (1, 1) else '""'
            text = formula.replace("{n}", slot(k)).replace("{r}", str(r))
            cell = sheet.put(r, c, f"=IFERROR({text},{none})", "calc", fmt)
            cell.alignment = cell.alignment + WRAP
            if c > len(FIGURES) - 3:  # the descriptions: left, apart from the numbers
                cell.alignment = cell.alignment + Alignment(horizontal="left", indent=1)
        if k <= slots:  # a long description wraps
            sheet.ws.row_dimensions[r].height = fitted_height(2)
    return first


_TARGET_UPPER = 'ISNUMBER(SEARCH("upper bound",tgt_basis_revenue_is))'
"""The target's revenue on the chosen basis is an upper bound (a guidance range's top)."""


def _reading() -> str:
    """How to read the implied values: "not comparable" for a target listed outside China
    (NVIDIA); "n/a" without a target revenue or with fewer peers than ``in_peer_min_count``
    (no implied value to read); "floors" when every peer's
    P/S is a lower bound and the target's revenue is not an upper bound; "indications" when a
    peer's P/S is not a point value or the target's revenue is an upper bound; else "point
    values"."""
    return (f'IF(NOT({COMPARABLE_XL}),"not comparable",IF(OR(NOT(ISNUMBER('
            f'tgt_basis_revenue)),NOT({ENOUGH_PEERS_XL})),"n/a",IF(AND(peer_lower_bounds=peer_count,NOT('
            f'{_TARGET_UPPER})),"floors",IF(OR(peer_not_points>0,{_TARGET_UPPER}),"indications",'
            f'"point values"))))')  # fmt: skip


def _bounds_sentence() -> str:
    """What the counts make the statistics: no yardstick for a target that is not a China
    peer; floors when every peer's P/S is a lower bound (and the implied values floors too
    unless the target's revenue is an upper bound), indications when some figures are bounds
    or peaks; how many China peers ``in_peer_years`` leaves out for another fiscal year; the
    direction a later or earlier fiscal year (when counted) pulls; the venue gap an indication
    when either side rests on a bound or a peak, and how many of its P/S are of another fiscal
    year than the target's (whose P/S it re-rates)."""
    lead = (f'IF({READING}="not comparable","The target is not a China peer: the China peers\' '
            'P/S are no yardstick for it. ","")')  # fmt: skip
    implied = (f'IF({READING}="floors",", and so are the implied values at them.",IF(AND('
               f'{READING}<>"n/a",{_TARGET_UPPER}),"; the implied values are not: the target\'s '
               'revenue is an upper bound.","."))')  # fmt: skip
    bounds = (f'IF(AND(N(peer_count)>0,peer_lower_bounds=peer_count),IF(peer_count=1,"The one '
              'peer\'s P/S is a lower bound","Every peer\'s P/S is a lower bound")&": the '
              f'percentiles are floors"&{implied},IF(OR(peer_not_points>0,{_TARGET_UPPER}),"Some '
              'of the figures are bounds or at a peak: read the percentiles and the implied '
              'values as indications.",""))')  # fmt: skip

    def years(name: str, which: str, pulls: str) -> str:
        return (f'IF(N({name})>0," For "&{name}&" of the "&peer_count&" peers the full-year '
                f'revenue is of {which} fiscal year than the target\'s: for growing companies '
                f'that {pulls} their P/S and the implied values with it.","")')  # fmt: skip

    gap = ('IF(AND(ISNUMBER(out_venue_gap),gap_a_bounds+gap_hk_bounds>0)," The venue gap '
           'rests on "&gap_a_bounds&" A-share '
           'and "&gap_hk_bounds&" Hong Kong P/S that are bounds or at a peak: read it as an '
           'indication too.","")&IF(AND(ISNUMBER(out_venue_gap),N(gap_a_years)+N(gap_hk_years)>0),'
           '" In the venue gap "&gap_a_years&" A-share and "&gap_hk_years&" Hong Kong P/S are of '
           'another fiscal year than the target\'s, whose P/S it re-rates.","")')  # fmt: skip
    left_out = (f'IF(AND(N(peer_other_years)>0,{READING}<>"not comparable")," "&peer_other_years'
                '&IF(peer_other_years=1," China peer is left out: its"," China peers are left '
                'out: their")&" full-year revenue is of another fiscal year than the target\'s '
                '(in_peer_years on Inputs).","")')  # fmt: skip
    return (f"TRIM({lead}&{bounds}&{left_out}&{years('peer_later_years', 'a later', 'lowers')}&"
            f"{years('peer_earlier_years', 'an earlier', 'raises')}&{gap})")  # fmt: skip

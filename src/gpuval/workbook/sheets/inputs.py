"""Inputs: the general inputs (target, dates, FX, market forecast, NVIDIA yardstick, conventions),
one row each, with unit, bounds, source and comments; each company's own scenario and DCF
assumptions are on the Assumptions sheet (:mod:`gpuval.workbook.sheets.assumptions`).

Columns: A label, B unit, D the value (C and E are spacers), F source or assumption,
G the analyst's comments, H in bounds (TRUE/FALSE), I min, J max. Every input cell is named
``in_<name>`` (scenario rows ``in_<name>_bear|base|bull``), validated, and a sourced input
carries a comment with its article and sentence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from openpyxl.worksheet.datavalidation import DataValidation

from gpuval.core.multiples import PEER_BASES, PEER_YEARS
from gpuval.data.dataset import Dataset
from gpuval.workbook.sheets import peers
from gpuval.workbook.sheets.base import Book, Sheet
from gpuval.workbook.sheets.reference import article, note_text

SCENARIOS = ("bear", "base", "bull")
VALUE_COLUMN = 4


@dataclass(frozen=True)
class InputSpec:
    """One input row. ``default`` is a value, a 3-tuple (Bear, Base, Bull) or None (= the value
    of the ``source`` record)."""

    name: str
    label: str
    unit: str
    fmt: str
    lo: float | dt.date | None
    hi: float | dt.date | None
    default: Any = None
    source: str | None = None
    note: str = ""
    kind: Literal["decimal", "whole", "date", "list"] = "decimal"
    choices: tuple[str, ...] = ()
    """For a list input other than the target: the values it may take."""

    @property
    def scenario(self) -> bool:
        return isinstance(self.default, tuple)

    def names(self) -> list[str]:
        if self.scenario:
            return [f"in_{self.name}_{s}" for s in SCENARIOS]
        return [f"in_{self.name}"]


D = dt.date
GENERAL = [
    InputSpec("target", "Target company", "id", "plain", None, None, "biren",
              note="Pick another company from the list (companies with a market value).",
              kind="list"),
    InputSpec("valuation_date", "Valuation date", "date", "date", D(2020, 1, 1), D(2040, 12, 31),
              D(2026, 1, 5), source="biren.market_cap.2026-01-05",
              note="Date of the latest market value in the sources.", kind="date"),
    InputSpec("exit_date", "Exit date (TAM year)", "date", "date", D(2025, 1, 1), D(2045, 12, 31),
              D(2029, 12, 31), note="Assumption: end of the market forecast's last year.",
              kind="date"),
    InputSpec("fx_usd_per_hkd", "FX: USD per HKD", "USD/HKD", "fx", 0.05, 0.5,
              source="fx.usd_per_hkd", note="Article-implied: 110亿美元 / 855.4亿港元."),
    InputSpec("fx_cny_per_usd", "FX: CNY per USD", "CNY/USD", "fx", 4.0, 12.0,
              source="fx.cny_per_usd", note="Article-implied: 3500亿人民币 / 500亿美元."),
    InputSpec("days_per_year", "Day count: days per year", "days", "years", 360, 366, 365.25,
              note="Convention: actual/365.25 year fractions, as the core."),
    InputSpec("tam_start_year", "Market forecast: first year", "year", "int", 2000, 2100, 2024,
              source="market.size.2024", kind="whole"),
    InputSpec("tam_2024", "China AI-chip market, first year", "USD", "usd_bn", 1e9, 1e13,
              source="market.size.2024"),
    InputSpec("tam_end_year", "Market forecast: last year", "year", "int", 2000, 2100, 2029,
              source="market.size.2029", kind="whole"),
    InputSpec("tam_2029", "China AI-chip market, last year", "USD", "usd_bn", 1e9, 1e13,
              source="market.size.2029"),
    InputSpec("peer_basis", "Revenue basis of peer statistics, implied values and venue gap",
              "basis", "plain", None, None, "full year",
              note="Convention: each company's latest full fiscal year (its label on Peers says "
              "reported, guidance or estimate); one basis for every company, never mixed.",
              kind="list", choices=tuple(PEER_BASES)),
    InputSpec("peer_years", "Full-year basis: the fiscal years counted", "basis", "plain", None,
              None, PEER_YEARS[0],
              note="Convention: like with like, only companies whose full-year revenue is of the "
              'target\'s fiscal year count; "any" counts each one\'s latest year.',
              kind="list", choices=PEER_YEARS),
    InputSpec("peer_min_count", "Peer P/S method: fewest peers it needs", "count", "int", 1, 50,
              3, note="Assumption: under this many China peers in the statistics the percentiles "
              "are one or two companies' P/S, not a market's pricing; the method shows n/a and "
              "its weight goes to the others.", kind="whole"),
    InputSpec("nvidia_value_basis", 'NVIDIA market value for "x% of NVIDIA"', "basis", "plain",
              None, None, "peer table",
              note="Convention: NVIDIA's market value on Peers (moves with refreshed prices); "
              '"peak" uses the peak below instead.', kind="list", choices=("peer table", "peak")),
    InputSpec("nvidia_market_cap", "NVIDIA market value at its peak (alternative)", "USD", "usd_bn",
              1e11, 1e14, source="nvidia.market_cap_peak",
              note='A peak, not today\'s value: used only when the basis above is "peak".'),
    InputSpec("nvidia_fraction", "Share of NVIDIA's value", "fraction", "pct2", 0.0, 1.0,
              source="nvidia.share_case.base", note='The investor\'s "1% of NVIDIA" case.'),
    InputSpec("gap_closed", "A-share vs HK gap closed", "fraction", "pct", 0.0, 1.0, 0.5,
              note="Assumption: share of the venue gap applied (0 none, 1 all)."),
]  # fmt: skip
CONVENTIONS = [
    InputSpec("dcf_search_low", "Implied growth: lowest growth searched", "fraction", "pct",
              -0.99, 10.0, -0.5, note="Convention: the bracket the Implied sheet bisects."),
    InputSpec("dcf_search_high", "Implied growth: highest growth searched", "fraction", "pct",
              -0.99, 10.0, 2.0, note="Convention: the bracket the Implied sheet bisects."),
]  # fmt: skip
SECTIONS = [("General", GENERAL), ("Conventions", CONVENTIONS)]
ALL = [spec for _, specs in SECTIONS for spec in specs]
FIRST_ROW = 5


def _layout() -> dict[str, int]:
    """Row of every input (by spec name): a section title, its rows, a blank row."""
    rows, row = {}, FIRST_ROW
    for _, specs in SECTIONS:
        row += 1
        for spec in specs:
            rows[spec.name] = row
            row += 1
        row += 1
    return rows


INPUT_ROWS = _layout()
LAST_ROW = max(INPUT_ROWS.values())


def out_of_bounds(values: Mapping[str, Any]) -> str | None:
    """The first general input (``{defined name: value}``) that is a number or date outside its
    bounds, as a sentence; None when all are within them (text is the model's to name)."""
    for spec in ALL:
        if spec.kind == "list":
            continue
        for name in spec.names():
            value = values.get(name)
            if isinstance(value, dt.datetime):
                value = value.date()
            comparable = isinstance(value, dt.date) if spec.kind == "date" else (
                isinstance(value, int | float) and not isinstance(value, bool))  # fmt: skip
            if comparable and not spec.lo <= value <= spec.hi:  # type: ignore[operator]
                return (f"{name} = {_shown(value)} is outside its bounds {_shown(spec.lo)} .. "
                        f"{_shown(spec.hi)} ({spec.label}, Inputs)")  # fmt: skip
    return None


def _shown(x: Any) -> str:
    return x.isoformat() if isinstance(x, dt.date) else f"{x:g}"


def default_values(dataset: Dataset, spec: InputSpec, target: str) -> list[Any]:
    """The spec's default(s): its own, or its source record's value (the target for in_target)."""
    if spec.name == "target":
        return [target]
    if spec.scenario:
        return list(spec.default)
    if spec.default is not None:
        return [spec.default]
    return [dataset[spec.source].value]  # type: ignore[index]


def _xl_bound(bound: float | dt.date | None) -> str:
    """A bound as Excel writes it in a formula: ``DATE(y,m,d)`` for a date."""
    if isinstance(bound, dt.date):
        return f"DATE({bound.year},{bound.month},{bound.day})"
    return str(bound)


def validation(spec: InputSpec, targets: str) -> DataValidation:
    """The cell's data validation: the list of targets or choices, or the spec's bounds."""
    if spec.choices:
        return DataValidation(
            type="list", formula1='"' + ",".join(spec.choices) + '"', allow_blank=False,
            showErrorMessage=True, errorTitle="gpuval", error=f"{spec.label}: pick from the list.",
        )  # fmt: skip
    if spec.kind == "list":
        return DataValidation(
            type="list", formula1=targets, allow_blank=False, showErrorMessage=True,
            errorTitle="gpuval", error="Pick a company from the list.",
        )  # fmt: skip
    lo, hi = (_xl_bound(b) for b in (spec.lo, spec.hi))
    return DataValidation(
        type=spec.kind, operator="between", formula1=lo, formula2=hi, allow_blank=False,
        showErrorMessage=True, errorTitle="gpuval",
        error=f"{spec.label}: enter a value between {spec.lo} and {spec.hi}.",
    )  # fmt: skip


def bounds_formula(spec: InputSpec, ranges: list[str]) -> str:
    """TRUE when every cell of ``ranges`` holds a number within the spec's bounds."""
    lo, hi = (_xl_bound(b) for b in (spec.lo, spec.hi))
    return (
        "AND("
        + ",".join(
            f'COUNT({r})=ROWS({r})*COLUMNS({r}),COUNTIF({r},"<"&{lo})=0,COUNTIF({r},">"&{hi})=0'
            for r in ranges
        )
        + ")"
    )


def _source_text(book: Book, spec: InputSpec) -> str:
    if spec.source is None:
        return spec.note or "Assumption."
    rec = book.dataset[spec.source]
    prefix = f"Source: {article(book.dataset, rec.source)} [{rec.source}, record {rec.id}]"
    return f"{prefix}. {spec.note}".strip() if spec.note else prefix


def write(book: Book, targets: str) -> None:
    """``targets``: the drop-down's list of companies."""
    sheet = Sheet(
        book,
        "Inputs",
        "General inputs; each company's scenario and DCF assumptions are on the Assumptions sheet.",
    )
    sheet.headers(4, ["Input", "Unit", "", "Value", "", "Source or assumption",
                      "Your comments", "In bounds", "Min", "Max"])  # fmt: skip
    sheet.widths({"A": 38, "B": 10, "C": 2, "D": 13, "E": 2, "F": 50, "G": 25, "H": 9,
                  "I": 11, "J": 11})  # fmt: skip
    sheet.freeze("C5")
    for title, specs in SECTIONS:
        sheet.section(INPUT_ROWS[specs[0].name] - 1, title)
        for spec in specs:
            row = INPUT_ROWS[spec.name]
            sheet.label(row, spec.label, spec.unit)
            name, value = f"in_{spec.name}", default_values(book.dataset, spec, book.target)[0]
            cell = sheet.put(row, VALUE_COLUMN, value, "input", spec.fmt, name)
            sheet.validate(cell, validation(spec, targets))
            book.values[name] = value
            if spec.source:
                rec = book.dataset[spec.source]
                sheet.comment(cell, note_text(book.dataset, rec))
                book.cite(rec, sheet.ref(row, VALUE_COLUMN, sheet=True))
            if spec.name == "target":  # the reader sees the company's name beside its id
                note = _source_text(book, spec).replace('"', '""')
                text = (
                    f'=IF({peers.TARGET_VALUED_XL},"Company valued: "&tgt_name&". {note}",'
                    f"{peers.TARGET_PROBLEM_XL})"
                )
                sheet.put(row, 6, text, "link").style = "gv_note"
            else:
                sheet.put(row, 6, _source_text(book, spec), "note")
            sheet.put(row, 7, None, "label")
            if spec.choices:
                bound = "=OR(" + ",".join(f'D{row}="{c}"' for c in spec.choices) + ")"
            elif spec.kind == "list":
                bound = f"={peers.TARGET_VALUED_XL}"
            else:
                sheet.put(row, 9, spec.lo, "unit", spec.fmt)
                sheet.put(row, 10, spec.hi, "unit", spec.fmt)
                bound = "=" + bounds_formula(spec, [f"D{row}"])
            sheet.put(row, 8, bound, "calc")
    book.check(
        "Every input is within its bounds", f"COUNTIF(Inputs!H{FIRST_ROW}:H{LAST_ROW},FALSE)=0"
    )
    book.check(
        "Source coverage: every input row says its source or that it is an assumption",
        f'SUMPRODUCT((Inputs!B{FIRST_ROW}:B{LAST_ROW}<>"")*(Inputs!F{FIRST_ROW}:F{LAST_ROW}=""))=0',
    )
    book.check("The valuation date is before the exit date", "in_valuation_date<in_exit_date")
    book.check(
        "The market forecast's first year is before its last",
        "in_tam_start_year<in_tam_end_year",
    )
    book.check("The implied-growth search runs from low to high",
               "in_dcf_search_low<in_dcf_search_high")  # fmt: skip

"""Inputs: every analyst assumption, one row each, with unit, bounds, source and comments.

Columns: A label, B unit, C Bear, D Base (or the single value), E Bull, F source or assumption,
G the analyst's comments, H in bounds (TRUE/FALSE), I min, J max. Every input cell is named
``in_<name>`` (scenario rows ``in_<name>_bear|base|bull``), validated, and a sourced input
carries a comment with its article and sentence.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from openpyxl.worksheet.datavalidation import DataValidation

from gpuval.data.dataset import Dataset
from gpuval.workbook.sheets.base import Book, Sheet

SCENARIOS = ("bear", "base", "bull")
SCENARIO_COLUMNS = {"bear": 3, "base": 4, "bull": 5}
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

    @property
    def scenario(self) -> bool:
        return isinstance(self.default, tuple)

    def names(self) -> list[str]:
        if self.scenario:
            return [f"in_{self.name}_{s}" for s in SCENARIOS]
        return [f"in_{self.name}"]


D = dt.date
GENERAL = [
    InputSpec(
        "target",
        "Target company",
        "id",
        "plain",
        None,
        None,
        "biren",
        note="Company valued: pick from the list (companies with a market value).",
        kind="list",
    ),
    InputSpec(
        "valuation_date",
        "Valuation date",
        "date",
        "date",
        D(2020, 1, 1),
        D(2040, 12, 31),
        D(2026, 1, 5),
        source="biren.market_cap.2026-01-05",
        note="Date of the latest market value in the sources.",
        kind="date",
    ),
    InputSpec(
        "exit_date",
        "Exit date (TAM year)",
        "date",
        "date",
        D(2025, 1, 1),
        D(2045, 12, 31),
        D(2029, 12, 31),
        note="Assumption: end of the market forecast's last year.",
        kind="date",
    ),
    InputSpec(
        "fx_usd_per_hkd",
        "FX: USD per HKD",
        "USD/HKD",
        "fx",
        0.05,
        0.5,
        source="fx.usd_per_hkd",
        note="Article-implied: 110亿美元 / 855.4亿港元.",
    ),
    InputSpec(
        "fx_cny_per_usd",
        "FX: CNY per USD",
        "CNY/USD",
        "fx",
        4.0,
        12.0,
        source="fx.cny_per_usd",
        note="Article-implied: 3500亿人民币 / 500亿美元.",
    ),
    InputSpec(
        "days_per_year",
        "Day count: days per year",
        "days",
        "years",
        360,
        366,
        365.25,
        note="Convention: actual/365.25 year fractions, as the core.",
    ),
    InputSpec(
        "tam_start_year",
        "Market forecast: first year",
        "year",
        "int",
        2000,
        2100,
        2024,
        source="market.size.2024",
        kind="whole",
    ),
    InputSpec(
        "tam_2024",
        "China AI-chip market, first year",
        "USD",
        "usd_bn",
        1e9,
        1e13,
        source="market.size.2024",
    ),
    InputSpec(
        "tam_end_year",
        "Market forecast: last year",
        "year",
        "int",
        2000,
        2100,
        2029,
        source="market.size.2029",
        kind="whole",
    ),
    InputSpec(
        "tam_2029",
        "China AI-chip market, last year",
        "USD",
        "usd_bn",
        1e9,
        1e13,
        source="market.size.2029",
    ),
    InputSpec(
        "backlog_months",
        "Backlog delivered over",
        "months",
        "int",
        1,
        60,
        15,
        source="biren.backlog_delivery_months.low",
        note="Assumption: midpoint of the article's 12-18 months.",
    ),
    InputSpec(
        "nvidia_market_cap",
        "NVIDIA market value",
        "USD",
        "usd_bn",
        1e11,
        1e14,
        source="nvidia.market_cap_peak",
    ),
    InputSpec(
        "nvidia_fraction",
        "Share of NVIDIA's value",
        "fraction",
        "pct2",
        0.0,
        1.0,
        source="nvidia.share_case.base",
        note='The investor\'s "1% of NVIDIA" case.',
    ),
    InputSpec(
        "gap_closed",
        "A-share vs HK gap closed",
        "fraction",
        "pct",
        0.0,
        1.0,
        0.5,
        note="Assumption: share of the venue gap applied (0 none, 1 all).",
    ),
]
SCENARIO = [
    InputSpec(
        "share",
        "2029 share of the China AI-chip market",
        "fraction",
        "pct2",
        0.0,
        1.0,
        (0.005, 0.015, 0.03),
        note="Assumption; NVIDIA's China share fell from 95% (2022) to 50% (2025).",
    ),
    InputSpec(
        "margin",
        "Mature net margin",
        "fraction",
        "pct",
        0.0,
        1.0,
        (0.10, 0.15, 0.20),
        note="Assumption.",
    ),
    InputSpec(
        "exit_pe", "Exit P/E", "x", "multiple", 0.0, 200.0, (20.0, 30.0, 40.0), note="Assumption."
    ),
    InputSpec(
        "coe", "Cost of equity", "fraction", "pct", 0.0, 0.5, (0.14, 0.12, 0.11), note="Assumption."
    ),
    InputSpec(
        "prob_success",
        "Probability of commercial success",
        "fraction",
        "pct",
        0.0,
        1.0,
        (0.5, 0.7, 0.85),
        note="Assumption.",
    ),
    InputSpec(
        "distress",
        "Value if it fails, % of market value",
        "fraction",
        "pct",
        0.0,
        1.0,
        (0.10, 0.15, 0.20),
        note="Assumption.",
    ),
    InputSpec(
        "dilution",
        "New shares before exit, % of today's",
        "fraction",
        "pct",
        0.0,
        5.0,
        (0.25, 0.15, 0.10),
        note="Assumption.",
    ),
    InputSpec(
        "prob",
        "Scenario probability",
        "fraction",
        "pct",
        0.0,
        1.0,
        (0.25, 0.5, 0.25),
        note="Assumption; must sum to 100%.",
    ),
]
DCF = [
    InputSpec("dcf_growth_y1", "Revenue growth, year 1", "fraction", "pct", -0.9, 20.0, 1.94,
              source="biren.order_backlog",
              note="Assumption: Biren's backlog over 15 months, 12.4亿 x 12/15 = 9.92亿, is 2.94x "
              "its 2024 revenue of 3.37亿."),
    InputSpec("dcf_growth_y2_5", "Revenue growth, years 2-5", "fraction", "pct", -0.9, 5.0, 0.8,
              note="Assumption."),
    InputSpec("dcf_high_growth_years", "Years of high growth (then a linear fade to year 10)",
              "years", "int", 1, 9, 5, kind="whole",
              note="Assumption: years 2-5 growth and the years 1-5 cost of capital hold this "
              "long."),
    InputSpec("dcf_terminal_growth", "Terminal growth (year 10 on)", "fraction", "pct", -0.05,
              0.08, 0.03, note="Assumption; below the mature cost of capital."),
    InputSpec("dcf_operating_margin", "Operating margin today", "fraction", "pct", -20.0, 1.0,
              -1.0, note="Assumption; Biren's losses are not in the sources."),
    InputSpec("dcf_target_margin", "Target operating margin", "fraction", "pct", -1.0, 1.0, 0.3,
              note="Assumption."),
    InputSpec("dcf_convergence_year", "Year the target margin is reached", "year", "int", 1, 10,
              10, note="Assumption.", kind="whole"),
    InputSpec("dcf_sales_to_capital", "Sales to capital", "x", "number", 0.05, 20.0, 2.0,
              note="Assumption: revenue added per unit of capital invested."),
    InputSpec("dcf_tax_rate", "Tax rate", "fraction", "pct", 0.0, 1.0, 0.15,
              note="Assumption: high-technology enterprise rate."),
    InputSpec("dcf_nol", "Loss carried forward today", "USD", "usd_bn", 0.0, 1e12, 0.0,
              note="Assumption; not in the sources."),
    InputSpec("dcf_coc", "Cost of capital, years 1-5", "fraction", "pct", 0.0, 0.5, 0.12,
              note="Assumption."),
    InputSpec("dcf_mature_coc", "Cost of capital, mature", "fraction", "pct", 0.0, 0.5, 0.09,
              note="Assumption."),
    InputSpec("dcf_terminal_roc", "Return on capital after year 10", "fraction", "pct", 0.01, 1.0,
              0.12, note="Assumption."),
    InputSpec("dcf_prob_failure", "Probability of failure", "fraction", "pct", 0.0, 1.0, 0.2,
              note="Assumption."),
    InputSpec("dcf_distress", "Proceeds if it fails, % of market value", "fraction", "pct", 0.0,
              1.0, 0.1, note="Assumption."),
    InputSpec("dcf_search_low", "Implied growth: lowest growth searched", "fraction", "pct",
              -0.99, 10.0, -0.5, note="Convention: the bracket the Implied sheet bisects."),
    InputSpec("dcf_search_high", "Implied growth: highest growth searched", "fraction", "pct",
              -0.99, 10.0, 2.0, note="Convention: the bracket the Implied sheet bisects."),
    InputSpec("dcf_cash", "Cash", "USD", "usd_bn", 0.0, 1e13, 0.0,
              note="Assumption; not in the sources."),
    InputSpec("dcf_debt", "Debt", "USD", "usd_bn", 0.0, 1e13, 0.0,
              note="Assumption; not in the sources."),
]  # fmt: skip
SECTIONS = [("General", GENERAL), ("Scenarios", SCENARIO), ("Young-growth DCF", DCF)]
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


def _validation(spec: InputSpec, targets: str) -> DataValidation:
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


def _source_text(book: Book, spec: InputSpec) -> str:
    if spec.source is None:
        return spec.note or "Assumption."
    rec = book.dataset[spec.source]
    prefix = f"Source: {rec.id} ({rec.source})"
    return f"{prefix}. {spec.note}".strip() if spec.note else prefix


def write(book: Book, targets: str, ids: str) -> None:
    """``targets``: the drop-down's list of companies; ``ids``: the peer table's id column."""
    sheet = Sheet(book, "Inputs", "Every assumption of the model; change them here only.")
    sheet.headers(4, ["Input", "Unit", "Bear", "Base / value", "Bull", "Source or assumption",
                      "Your comments", "In bounds", "Min", "Max"])  # fmt: skip
    sheet.widths({"A": 38, "B": 10, "C": 13, "D": 13, "E": 13, "F": 60, "G": 30, "H": 9,
                  "I": 11, "J": 11})  # fmt: skip
    sheet.freeze("C5")
    for title, specs in SECTIONS:
        sheet.section(INPUT_ROWS[specs[0].name] - 1, title)
        for spec in specs:
            row = INPUT_ROWS[spec.name]
            sheet.label(row, spec.label, spec.unit)
            columns = [SCENARIO_COLUMNS[s] for s in SCENARIOS] if spec.scenario else [VALUE_COLUMN]
            for column, name, value in zip(
                columns, spec.names(), default_values(book.dataset, spec, book.target), strict=True
            ):
                cell = sheet.put(row, column, value, "input", spec.fmt, name)
                sheet.validate(cell, _validation(spec, targets))
                book.values[name] = value
                if spec.source:
                    rec = book.dataset[spec.source]
                    sheet.comment(cell, f"{rec.id}\n{rec.source}\n{rec.quote}")
                    book.cite(rec, sheet.ref(row, column, sheet=True))
            sheet.put(row, 6, _source_text(book, spec), "note")
            sheet.put(row, 7, None, "label")
            if spec.kind == "list":
                bound = f"=COUNTIF({ids},D{row})>0"
            else:
                lo, hi = (_xl_bound(b) for b in (spec.lo, spec.hi))
                sheet.put(row, 9, spec.lo, "unit", spec.fmt)
                sheet.put(row, 10, spec.hi, "unit", spec.fmt)
                cells = [f"{chr(64 + c)}{row}" for c in columns]
                bound = (
                    "=AND(" + ",".join(f"ISNUMBER({c}),{c}>={lo},{c}<={hi}" for c in cells) + ")"
                )
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
    book.check(
        "Scenario probabilities sum to 100%",
        "ABS(in_prob_bear+in_prob_base+in_prob_bull-1)<1E-9",
    )

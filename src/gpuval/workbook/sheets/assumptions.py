"""Assumptions: each company's own scenario and DCF assumptions, one column per company, and the
target's column picked by the Target drop-down on Inputs.

Every row is one input; its cells across the companies are one defined name ``in_<name>`` (a row
range, ``in_<name>_bear|base|bull`` for scenario inputs) and column C holds the target's value,
``tgt_<name> = INDEX(in_<name>, tgt_col)``, which every formula of the model reads. An analyst's
edit to one company's column survives switching the target to another company and back. The
columns are headed by the companies' names; their ids, which ``in_target`` holds and
``tgt_col`` matches (``data_assumption_ids``), sit in a grouped, hidden row above.

Defaults: the generic value of each row (:data:`SCENARIO`, :data:`DCF`, labelled generic), replaced
for a company by its entry in ``gpuval/workbook/assumptions.toml`` (with a note, and a source
record where one exists), shown as a comment on the company's cell.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from gpuval.data.dataset import Dataset
from gpuval.errors import GpuvalError
from gpuval.workbook.sheets import peers
from gpuval.workbook.sheets.base import Book, Sheet, col, wrap_rows
from gpuval.workbook.sheets.inputs import SCENARIOS, InputSpec, bounds_formula, validation
from gpuval.workbook.sheets.reference import note_text

TITLE = "Assumptions"
GENERIC = "Generic assumption, not about this company."
SCENARIO = [
    InputSpec("share", "2029 share of the China AI-chip market", "fraction", "pct2", 0.0, 1.0,
              (0.005, 0.015, 0.03),
              note="Assumption; NVIDIA's China share fell from 95% (2022) to 50% (2025)."),
    InputSpec("margin", "Mature net margin", "fraction", "pct", 0.0, 1.0, (0.10, 0.15, 0.20),
              note="Assumption."),
    InputSpec("exit_pe", "Exit P/E", "x", "multiple", 0.0, 200.0, (20.0, 30.0, 40.0),
              note="Assumption."),
    InputSpec("coe", "Cost of equity", "fraction", "pct", 0.0, 0.5, (0.14, 0.12, 0.11),
              note="Assumption."),
    InputSpec("prob_success", "Probability of commercial success", "fraction", "pct", 0.0, 1.0,
              (0.5, 0.7, 0.85), note="Assumption."),
    InputSpec("fail_fraction", "Value if it fails, % of the value if it succeeds", "fraction",
              "pct", 0.0, 1.0, (0.10, 0.15, 0.20),
              note="Assumption; lower than the DCF's fire-sale 50%."),
    InputSpec("dilution", "New shares before exit, % of today's", "fraction", "pct", 0.0, 5.0,
              (0.25, 0.15, 0.10), note="Assumption."),
    InputSpec("prob", "Scenario probability", "fraction", "pct", 0.0, 1.0, (0.25, 0.5, 0.25),
              note="Assumption; must sum to 100%."),
]  # fmt: skip
DCF = [
    InputSpec("dcf_bridge_years", "Bridge: fiscal years from the base year to the valuation",
              "years", "int", 0, 3, 0, kind="whole",
              note="Years between the latest full year and the first valued year; their cash "
              "flows are history by the valuation date (in the cash balance), not valued."),
    InputSpec("dcf_bridge_growth", "Bridge: revenue growth a year through the bridge",
              "fraction", "pct", -0.9, 20.0, 0.0, note="Assumption."),
    InputSpec("dcf_growth_y1", "Revenue growth, first valued year", "fraction", "pct", -0.9,
              20.0, 0.8, note="Assumption."),
    InputSpec("dcf_growth_y2_5", "Revenue growth, years 2 to the end of high growth",
              "fraction", "pct", -0.9, 5.0, 0.5, note="Assumption."),
    InputSpec("dcf_high_growth_years", "Years of high growth (then a linear fade to year 10)",
              "years", "int", 1, 9, 5, kind="whole",
              note="Assumption: the high growth, the first cost of capital and the effective tax "
              "rate hold this long."),
    InputSpec("dcf_terminal_growth", "Terminal growth (year 10 on)", "fraction", "pct", -0.05,
              0.08, 0.03, note="Assumption; below the mature cost of capital."),
    InputSpec("dcf_operating_margin", "Operating margin, base year", "fraction", "pct", -20.0,
              1.0, -1.0, note="Assumption."),
    InputSpec("dcf_target_margin", "Target operating margin", "fraction", "pct", -1.0, 1.0, 0.3,
              note="Assumption."),
    InputSpec("dcf_convergence_year", "Year the target margin is reached", "year", "int", 1, 10,
              10, note="Assumption.", kind="whole"),
    InputSpec("dcf_sales_to_capital", "Sales to capital", "x", "number", 0.05, 20.0, 2.0,
              note="Assumption: revenue added per unit of capital invested."),
    InputSpec("dcf_tax_rate", "Tax rate, effective (through high growth)", "fraction", "pct",
              0.0, 1.0, 0.15, note="Assumption: China's high-technology enterprise rate."),
    InputSpec("dcf_marginal_tax_rate", "Tax rate, marginal (by year 10 and after)", "fraction",
              "pct", 0.0, 1.0, 0.25,
              note="China's statutory corporate rate; Damodaran moves the effective rate to the "
              "marginal rate by the terminal year."),
    InputSpec("dcf_nol", "Losses carried forward at the valuation date", "USD", "usd_bn", 0.0,
              1e12, 0.0, note="Assumption; not in the sources."),
    InputSpec("dcf_coc", "Cost of capital, high-growth years", "fraction", "pct", 0.0, 0.5, 0.12,
              note="Assumption."),
    InputSpec("dcf_mature_coc", "Cost of capital, mature", "fraction", "pct", 0.0, 0.5, 0.09,
              note="Assumption."),
    InputSpec("dcf_terminal_roc", "Return on capital after year 10", "fraction", "pct", 0.01,
              1.0, 0.09, note="Assumption: equal to the mature cost of capital (no excess "
              "returns in perpetuity), as Damodaran's default."),
    InputSpec("dcf_prob_failure", "Probability of failure", "fraction", "pct", 0.0, 1.0, 0.2,
              note="Assumption."),
    InputSpec("dcf_distress", "Proceeds if it fails, % of the going-concern value", "fraction",
              "pct", 0.0, 1.0, 0.5,
              note="Assumption: a fire sale at half the DCF value (not a share of today's market "
              "value, which would make the reverse valuation circular)."),
    InputSpec("dcf_cash", "Cash at the valuation date", "USD", "usd_bn", 0.0, 1e13, 0.0,
              note="Assumption; not in the sources."),
    InputSpec("dcf_ipo_proceeds", "IPO proceeds not yet in cash", "USD", "usd_bn", 0.0, 1e13,
              0.0, note="Assumption; not in the sources: enter the prospectus's net proceeds."),
    InputSpec("dcf_debt", "Debt", "USD", "usd_bn", 0.0, 1e13, 0.0,
              note="Assumption; not in the sources."),
]  # fmt: skip
SPECS = SCENARIO + DCF
HEADER_ROW = 5
ID_ROW = 4  # the company ids the formulas match (a grouped, hidden row; names head the columns)
FIRST_COMPANY_COL = 4  # D: the first company; C is the target's column
TARGET_COL = 3


@dataclass(frozen=True)
class Row:
    """One row of the sheet: a spec and, for a scenario input, its scenario."""

    spec: InputSpec
    scenario: str = ""

    @property
    def name(self) -> str:
        """The row's input name without the ``in_`` prefix, e.g. ``share_bear``."""
        return f"{self.spec.name}_{self.scenario}" if self.scenario else self.spec.name

    @property
    def label(self) -> str:
        return (
            f"{self.spec.label}: {self.scenario.capitalize()}" if self.scenario else self.spec.label
        )

    def generic(self) -> Any:
        default = self.spec.default
        return default[SCENARIOS.index(self.scenario)] if self.scenario else default


def rows() -> list[tuple[str, list[Row]]]:
    """(section title, its rows) in sheet order."""
    scen = [Row(spec, s) for spec in SCENARIO for s in SCENARIOS]
    return [("Scenarios (Bear, Base, Bull)", scen), ("Young-growth DCF", [Row(s) for s in DCF])]


def names() -> list[str]:
    """Every per-company input name, ``in_<row name>``."""
    return [f"in_{row.name}" for _, section in rows() for row in section]


@dataclass(frozen=True)
class Default:
    value: Any
    note: str
    source: str | None = None


@cache
def _overrides() -> dict[str, dict[str, Any]]:
    text = (resources.files("gpuval") / "workbook" / "assumptions.toml").read_text("utf-8")
    return tomllib.loads(text)


def default(row: Row, company: str, dataset: Dataset | None = None) -> Default:
    """The company's default for the row: its own entry in assumptions.toml, else generic."""
    entry = _overrides().get(company, {}).get(row.spec.name)
    if entry is None:
        return Default(row.generic(), f"{GENERIC} {row.spec.note}".strip())
    value = entry["value"]
    if row.scenario:
        if not isinstance(value, list) or len(value) != 3:
            raise GpuvalError(
                f"assumptions.toml: {company}.{row.spec.name} needs [bear, base, bull] values."
            )
        value = value[SCENARIOS.index(row.scenario)]
    source = entry.get("source")
    if source is not None and dataset is not None and source not in dataset.records:
        source = None  # a dataset without that record: the note still says what it rests on
    return Default(value, entry.get("note", ""), source)


def check_overrides() -> None:
    """Every entry of assumptions.toml names a known input (raises one sentence otherwise)."""
    known = {spec.name for spec in SPECS}
    for company, entries in _overrides().items():
        for key in entries:
            if key not in known:
                raise GpuvalError(f"assumptions.toml: [{company}] has an unknown input {key!r}.")


def write(book: Book, companies: list[str]) -> Sheet:
    """The sheet for ``companies`` (the peer table's ids, in order)."""
    check_overrides()
    sheet = Sheet(book, TITLE, "Each company's own assumptions; column C is the target's, "
                  "picked by the Target drop-down on Inputs. Change a company's cells, "
                  "not C.")  # fmt: skip
    last_col = FIRST_COMPANY_COL + len(companies) - 1
    # the note prints beside the companies; the bounds and their check right of it, on screen
    note_col, lo_col, hi_col, ok_col = last_col + 1, last_col + 2, last_col + 3, last_col + 4
    ids = f"${col(FIRST_COMPANY_COL)}${ID_ROW}:${col(last_col)}${ID_ROW}"
    names = [_name(book, company) for company in companies]
    sheet.headers(HEADER_ROW, ["Input", "Unit", "", *names, "Generic assumption: basis", "Min",
                               "Max", "In bounds"])  # fmt: skip
    header = f'="Target: "&{peers.TARGET_NAME_XL}'
    sheet.put(HEADER_ROW, TARGET_COL, header, "link").style = "gv_header"
    book.define("data_assumption_ids", TITLE, ids)
    book.values["data_assumption_ids"] = list(companies)
    sheet.label(ID_ROW, "Company id (what the Target drop-down holds); C: the target's column")
    sheet.put(ID_ROW, TARGET_COL, f"=MATCH(in_target,{ids},0)", "calc", "int", "tgt_col")
    for j, company in enumerate(companies):
        sheet.put(ID_ROW, FIRST_COMPANY_COL + j, company, "unit")
    sheet.ws.row_dimensions.group(ID_ROW, ID_ROW, outline_level=1, hidden=True)
    # one page wide at 80 % (finish.pages_wide) through the note column
    companies_wide = {col(c): 11 for c in range(FIRST_COMPANY_COL, note_col)}
    sheet.widths({"A": 44, "B": 6, "C": 11} | companies_wide
                 | {col(note_col): 32, col(lo_col): 9, col(hi_col): 9, col(ok_col): 9})  # fmt: skip
    sheet.freeze(f"D{HEADER_ROW + 1}")
    row_number = HEADER_ROW + 1
    first = row_number
    for title, section in rows():
        sheet.section(row_number, title)
        row_number += 1
        for row in section:
            _write_row(book, sheet, row, row_number, companies, (note_col, lo_col, hi_col, ok_col))
            row_number += 1
    last = row_number - 1
    wrap_rows(sheet.ws, first, last, [note_col])
    sheet.ws.print_area = f"A1:{col(note_col)}{last}"
    ok = col(ok_col)
    book.check("Every company's assumptions are within their bounds",
               f"COUNTIF({TITLE}!{ok}{first}:{ok}{last},FALSE)=0")  # fmt: skip
    book.check(
        "Every company's scenario probabilities sum to 100%",
        "SUMPRODUCT(--(ABS(in_prob_bear+in_prob_base+in_prob_bull-1)>1E-9))=0",
    )
    return sheet


def _name(book: Book, company: str) -> str:
    """The company's name as readers know it (its id when the dataset has no entity for it)."""
    entity = book.dataset.entities.get(company)
    return entity.name_en if entity is not None else company


def _write_row(book: Book, sheet: Sheet, row: Row, r: int, companies: list[str],
               cols: tuple[int, int, int, int]) -> None:  # fmt: skip
    note_col, lo_col, hi_col, ok_col = cols
    spec, name = row.spec, f"in_{row.name}"
    sheet.label(r, row.label, spec.unit)
    first, last = col(FIRST_COMPANY_COL), col(FIRST_COMPANY_COL + len(companies) - 1)
    book.define(name, TITLE, f"${first}${r}:${last}${r}")
    check = validation(spec, "")
    values = []
    for j, company in enumerate(companies):
        d = default(row, company, book.dataset)
        cell = sheet.put(r, FIRST_COMPANY_COL + j, d.value, "input", spec.fmt)
        sheet.validate(cell, check)
        values.append(d.value)
        text = d.note
        if d.source:
            rec = book.dataset[d.source]
            text = note_text(book.dataset, rec, d.note)
            book.cite(rec, sheet.ref(r, FIRST_COMPANY_COL + j, sheet=True))
        if not text.startswith(GENERIC):
            sheet.comment(cell, text)
    book.values[name] = values
    sheet.put(r, TARGET_COL, f"=INDEX({name},tgt_col)", "calc", spec.fmt, f"tgt_{row.name}")
    sheet.put(r, lo_col, spec.lo, "unit", spec.fmt)
    sheet.put(r, hi_col, spec.hi, "unit", spec.fmt)
    sheet.put(r, ok_col, "=" + bounds_formula(spec, [f"{first}{r}:{last}{r}"]), "calc")
    sheet.put(r, note_col, spec.note or "Assumption.", "note")

"""Implied: what today's market value implies, solved with live formulas (no Goal Seek, no macro).

* **2029 market share** (each scenario): the scenario's equity value is proportional to share,
  ``value(s) = s x value(1)`` (the value if it fails being a fraction of the value if it
  succeeds, both zero at zero share), so ``implied share = market value / value(1)`` (the
  core's :func:`gpuval.core.implied_share`, whose ``value(0)`` is 0 here).
* **Revenue growth from year 2 to the end of high growth** (DCF): bisection on
  ``equity(g) - market value`` over the search bracket on Inputs, one row per step, each row a
  whole DCF laid out across the columns (revenue, losses carried forward and present value for
  years 1..10, then the terminal value). After 50 halvings the bracket is 2.5 / 2^50 ~ 2e-15
  wide (the core's :func:`gpuval.core.implied_growth`).
"""

from __future__ import annotations

from openpyxl.styles import Alignment

from gpuval.core.dcf_rules import (
    distress_value_xl,
    equity_xl,
    growth_xl,
    nol_xl,
    operating_assets_xl,
    reinvestment_xl,
    tax_xl,
    terminal_fcff_xl,
    terminal_value_xl,
)
from gpuval.core.tam import exit_value_xl, failure_value_xl, scenario_value_xl, success_value_xl
from gpuval.workbook.sheets import dcf as dcf_sheet
from gpuval.workbook.sheets import scenarios as sc
from gpuval.workbook.sheets.base import Book, Sheet, col

TITLE = "Implied"
READING = "Reading (over 100%: more than the whole market)"
RIGHT = Alignment(horizontal="right")
STEPS = 50
SHARE_ROW = 6
GROWTH_TOP = 17
# Bisection table columns: A step, B low, C high, D growth tried, E equity value, F equity -
# market value, then (revenue, losses c/f, PV) per year and the PV of the terminal value.
X, EQ_COL, F_COL = 4, 5, 6
YEAR_COLS = {t: F_COL + 1 + 3 * (t - 1) for t in range(1, 11)}  # revenue column of year t
TV_COL = F_COL + 31


def write(book: Book) -> Sheet:
    sheet = Sheet(book, TITLE, "Market-implied 2029 share and DCF growth, solved with formulas.")
    sc.not_a_china_peer(sheet, "only the DCF-implied growth below reads for this target.")
    sheet.widths({"A": 62, "B": 12, "C": 12, "D": 12, "E": 14, "F": 16})
    _share(book, sheet)
    _growth(book, sheet)
    return sheet


def _share(book: Book, sheet: Sheet) -> None:
    r0 = SHARE_ROW
    sheet.section(
        r0 - 1, "Market share of the exit-year market that the market value on Peers implies"
    )
    sheet.headers(r0, ["", "Unit", "Bear", "Base", "Bull"])

    def at_share(share: str) -> str:
        pv = exit_value_xl(share, "{S}{c}{r[tam]}", "{S}{c}{r[margin]}", "{S}{c}{r[exit_pe]}")
        success = success_value_xl(f"{pv}*{{S}}{{c}}{{r[df]}}", "{S}{c}{r[dilution]}")
        fails = failure_value_xl(success, "{S}{c}{r[fail_fraction]}")
        return scenario_value_xl(success, "{S}{c}{r[prob_success]}", fails)

    lines = [
        ("Value at 100% share (the value is proportional to share)", "USD",
         "=" + at_share("1"), "usd_bn"),
        ("Market value (the target's market figure on Peers)", "USD", "=tgt_mv_usd", "usd_bn"),
        ("Implied share: market value / value at 100% share", "fraction",
         '=IF({c}{slope}>0,{c}{mv}/{c}{slope},"n/a")', "pct2"),
        ("Share assumed (Assumptions sheet)", "fraction", "={S}{c}{r[share]}", "pct2"),
    ]  # fmt: skip
    rows = {"slope": r0 + 1, "mv": r0 + 2}
    for i, (label, unit, template, fmt) in enumerate(lines):
        r = r0 + 1 + i
        sheet.label(r, label, unit)
        for s, c in sc.COLS.items():
            name = f"out_implied_share{'' if s == 'base' else '_' + s}" if i == 2 else None
            formula = template.format(S="Scenarios!", c=c, r=sc.R, **rows)
            sheet.put(r, ord(c) - 64, formula, "output" if name else "calc", fmt, name)
    r = r0 + 1 + len(lines)
    sheet.label(r, READING)  # short enough for a column; the label says what over 100% means
    for c in sc.COLS.values():
        share = f"{c}{r0 + 3}"
        sheet.put(r, ord(c) - 64, f'=IF(NOT(ISNUMBER({share})),"n/a: flat",IF({share}>1,'
                  '"over 100%","within 0-100%"))', "calc").alignment = RIGHT  # fmt: skip
    book.check("Market-implied Base share computes", "ISNUMBER(out_implied_share)")


def _dcf_row(r: int, x: str) -> list[tuple[int, str, str]]:
    """A whole DCF in row ``r`` at growth ``x`` from year 2 to the end of high growth (a formula
    or a cell), through the core's year-t rules; margins and discount factors are the DCF
    sheet's."""
    D = dcf_sheet
    cells: list[tuple[int, str, str]] = [(X, x, "pct")]
    for t in range(1, 11):
        rev, nol, pv = YEAR_COLS[t], YEAR_COLS[t] + 1, YEAR_COLS[t] + 2
        dcol = col(D.YEAR0 + t)
        growth = growth_xl(f"DCF!{dcol}${D.R['t']}", "tgt_dcf_growth_y1", f"$D{r}",
                           "tgt_dcf_terminal_growth", D.HIGH)  # fmt: skip
        prev_rev = f"DCF!${col(D.YEAR0)}${D.R['revenue']}" if t == 1 else f"{col(rev - 3)}{r}"
        prev_nol = "tgt_dcf_nol" if t == 1 else f"{col(nol - 3)}{r}"
        ebit = f"DCF!{dcol}${D.R['margin']}*{col(rev)}{r}"
        tax = tax_xl(ebit, prev_nol, f"DCF!{dcol}${D.R['tax_rate']}")
        reinvestment = reinvestment_xl(f"{col(rev)}{r}", prev_rev, "tgt_dcf_sales_to_capital")
        cells += [
            (rev, f"={prev_rev}*(1+{growth})", "usd_bn"),
            (nol, "=" + nol_xl(ebit, prev_nol), "usd_bn"),
            (pv, f"=({ebit}-{tax}-{reinvestment})*DCF!{dcol}${D.R['df']}", "usd_bn"),
        ]
    fcff11 = terminal_fcff_xl(
        f"{col(YEAR_COLS[10])}{r}",
        "tgt_dcf_terminal_growth",
        "tgt_dcf_target_margin",
        "tgt_dcf_marginal_tax_rate",
        "tgt_dcf_terminal_roc",
    )
    tv = terminal_value_xl(fcff11, "tgt_dcf_mature_coc", "tgt_dcf_terminal_growth")
    df10 = f"DCF!{col(D.LAST_YEAR)}${D.R['df']}"
    pvs = "+".join(f"{col(YEAR_COLS[t] + 2)}{r}" for t in range(1, 11))
    going = f"({pvs}+{col(TV_COL)}{r})"
    operating = operating_assets_xl(going, "tgt_dcf_prob_failure",
                                    distress_value_xl(going, "0", "tgt_dcf_distress"))  # fmt: skip
    cells += [
        (TV_COL, f"={tv}*{df10}", "usd_bn"),
        (
            EQ_COL,
            "="
            + equity_xl(
                operating, "tgt_dcf_cash", "tgt_dcf_debt", ipo_proceeds="tgt_dcf_ipo_proceeds"
            ),
            "usd_bn",
        ),
        (F_COL, f"={col(EQ_COL)}{r}-tgt_mv_usd", "usd_bn"),
    ]
    return cells


def _growth(book: Book, sheet: Sheet) -> None:
    top = GROWTH_TOP
    sheet.section(top - 4, "Revenue growth that the market value on Peers implies (DCF), from "
                  "year 2 to the end of high growth")  # fmt: skip
    sheet.label(top - 3, "Implied growth, year 2 to the end of high growth", "fraction")
    last = top + 2 + STEPS
    result = f'=IF(SIGN({col(F_COL)}{top})<>SIGN({col(F_COL)}{top + 1}),D{last},"n/a")'
    sheet.put(top - 3, 3, result, "output", "pct2", "out_implied_growth")
    sheet.label(top - 2, "Bracket searched", "fraction")
    sheet.put(top - 2, 3, "=in_dcf_search_low", "link", "pct")
    sheet.put(top - 2, 4, "=in_dcf_search_high", "link", "pct")
    headers = ["Step", "Low", "High", "Growth tried", "Equity value", "Equity - market value"]
    for t in range(1, 11):
        headers += [f"Revenue {t}", f"Losses c/f {t}", f"PV FCFF {t}"]
    headers += ["PV terminal"]
    sheet.headers(top - 1, headers)
    for t in range(1, 11):  # each valued year headed by its fiscal year, as on DCF
        year = f"DCF!${col(dcf_sheet.YEAR0 + t)}${dcf_sheet.FIRST - 1}"
        for k, what in enumerate(("Revenue ", "Losses c/f ", "PV FCFF ")):
            cell = sheet.put(top - 1, YEAR_COLS[t] + k, f'="{what}"&{year}', "link")
            cell.style = "gv_header"
    lo, hi = f"$C${top - 2}", f"$D${top - 2}"
    for r, label, x in ((top, "Value at the low end", f"={lo}"),
                        (top + 1, "Value at the high end", f"={hi}")):  # fmt: skip
        sheet.put(r, 1, label, "label")
        for c, formula, fmt in _dcf_row(r, x):
            sheet.put(r, c, formula, "calc", fmt)
    f_lo = f"SIGN(${col(F_COL)}${top})"
    for i in range(STEPS + 1):
        r = top + 2 + i
        sheet.put(r, 1, i + 1, "calc", "int")
        if i == 0:
            sheet.put(r, 2, f"={lo}", "calc", "pct")
            sheet.put(r, 3, f"={hi}", "calc", "pct")
        else:
            same = f"SIGN({col(F_COL)}{r - 1})={f_lo}"
            sheet.put(r, 2, f"=IF({same},D{r - 1},B{r - 1})", "calc", "pct")
            sheet.put(r, 3, f"=IF({same},C{r - 1},D{r - 1})", "calc", "pct")
        for c, formula, fmt in _dcf_row(r, f"=(B{r}+C{r})/2"):
            sheet.put(r, c, formula, "calc", fmt)
    for c in range(F_COL + 1, TV_COL + 1):
        sheet.ws.column_dimensions[col(c)].width = 11
    # The year-by-year detail and the bisection steps are working columns and rows: grouped and
    # collapsed (a hidden row or column does not print); the result reads the last step.
    sheet.ws.column_dimensions.group(col(F_COL + 1), col(TV_COL), hidden=True, outline_level=1)
    sheet.ws.row_dimensions.group(top + 2, last, hidden=True, outline_level=1)
    sheet.ws.print_area = f"A1:{col(F_COL)}{last}"  # the year-by-year detail is for the screen
    book.check("DCF-implied growth: the bracket holds a solution",
               f"SIGN({TITLE}!{col(F_COL)}{top})<>SIGN({TITLE}!{col(F_COL)}{top + 1})")  # fmt: skip

"""Implied: what today's market value implies, solved with live formulas (no Goal Seek, no macro).

* **2029 market share** (each scenario): the scenario's equity value is affine in share,
  ``value(s) = value(0) + s x slope`` with ``value(0) = (1 - p) x distress`` and ``slope = p x
  TAM x margin x P/E x DF / (1 + dilution)``, so ``implied share = (market value - value(0)) /
  slope`` (the core's :func:`gpuval.core.implied_share`).
* **Years 2-5 revenue growth** (DCF): bisection on ``equity(g) - market value`` over
  [-50%, 200%], one row per step, each row a whole DCF laid out across the columns (revenue,
  losses carried forward and present value for years 1..10, then the terminal value). After 50
  halvings the bracket is 2.5 / 2^50 ~ 2e-15 wide (the core's
  :func:`gpuval.core.implied_growth`).
"""

from __future__ import annotations

from typing import Any

from gpuval import core
from gpuval.workbook.sheets import dcf as dcf_sheet
from gpuval.workbook.sheets import scenarios as sc
from gpuval.workbook.sheets.base import Book, Sheet, col
from gpuval.workbook.sheets.inputs import SCENARIOS

TITLE = "Implied"
LO, HI, STEPS = -0.5, 2.0, 50
SHARE_ROW = 6
GROWTH_TOP = 16
# Bisection table columns: A step, B low, C high, D growth tried, E equity value, F equity -
# market value, then (revenue, losses c/f, PV) per year and the PV of the terminal value.
X, EQ_COL, F_COL = 4, 5, 6
YEAR_COLS = {t: F_COL + 1 + 3 * (t - 1) for t in range(1, 11)}  # revenue column of year t
TV_COL = F_COL + 31


def write(book: Book) -> Sheet:
    sheet = Sheet(book, TITLE, "Market-implied 2029 share and DCF growth, solved with formulas.")
    sheet.widths({"A": 62, "B": 12, "C": 12, "D": 12, "E": 14, "F": 16})
    _share(book, sheet)
    _growth(book, sheet)
    return sheet


def _share(book: Book, sheet: Sheet) -> None:
    r0 = SHARE_ROW
    sheet.section(r0 - 1, "Market share of the exit-year market that today's market value implies")
    sheet.headers(r0, ["", "Unit", "Bear", "Base", "Bull"])
    lines = [
        ("Value at zero share: (1 - p) x distress", "USD",
         "=(1-{S}{c}{r[prob_success]})*{S}{c}{r[distress]}", "usd_bn"),
        ("Value per unit of share: p x TAM x margin x P/E x DF / (1 + dilution)", "USD",
         "={S}{c}{r[prob_success]}*{S}{c}{r[tam]}*{S}{c}{r[margin]}*{S}{c}{r[exit_pe]}"
         "*{S}{c}{r[df]}/(1+{S}{c}{r[dilution]})", "usd_bn"),
        ("Market value today", "USD", "=tgt_mv_usd", "usd_bn"),
        ("Implied share", "fraction",
         '=IF({c}{slope}>0,({c}{mv}-{c}{v0})/{c}{slope},"n/a")', "pct2"),
        ("Share assumed on Inputs", "fraction", "={S}{c}{r[share]}", "pct2"),
    ]  # fmt: skip
    rows = {"v0": r0 + 1, "slope": r0 + 2, "mv": r0 + 3}
    for i, (label, unit, template, fmt) in enumerate(lines):
        r = r0 + 1 + i
        sheet.label(r, label, unit)
        for s, c in sc.COLS.items():
            name = f"out_implied_share{'' if s == 'base' else '_' + s}" if i == 3 else None
            formula = template.format(S="Scenarios!", c=c, r=sc.R, **rows)
            sheet.put(r, ord(c) - 64, formula, "output" if name else "calc", fmt, name)
    book.check(
        "Market-implied Base share lies between 0 and 1",
        "AND(ISNUMBER(out_implied_share),out_implied_share>=0,out_implied_share<=1)",
    )


def _dcf_row(r: int, x: str) -> list[tuple[int, str, str]]:
    """A whole DCF in row ``r`` at years 2-5 growth ``x`` (a formula or a cell)."""
    D = dcf_sheet
    cells: list[tuple[int, str, str]] = [(X, x, "pct")]
    for t in range(1, 11):
        rev, nol, pv = YEAR_COLS[t], YEAR_COLS[t] + 1, YEAR_COLS[t] + 2
        dcol = col(D.YEAR0 + t)
        growth = (
            "in_dcf_growth_y1" if t == 1
            else f"IF(DCF!{dcol}${D.R['t']}<=DCF!$C$4,$D{r},$D{r}-($D{r}-in_dcf_terminal_growth)"
            f"*(DCF!{dcol}${D.R['t']}-DCF!$C$4)/DCF!$C$4)"
        )  # fmt: skip
        prev_rev = "tgt_base_revenue" if t == 1 else f"{col(rev - 3)}{r}"
        prev_nol = "in_dcf_nol" if t == 1 else f"{col(nol - 3)}{r}"
        ebit = f"DCF!{dcol}${D.R['margin']}*{col(rev)}{r}"
        profit = f"MAX({ebit},0)"
        used = f"MIN({profit},{prev_nol})"
        cells += [
            (rev, f"={prev_rev}*(1+{growth})", "usd_bn"),
            (nol, f"={prev_nol}-{used}+MAX(-{ebit},0)", "usd_bn"),
            (pv, f"=({ebit}-({profit}-{used})*in_dcf_tax_rate-({col(rev)}{r}-{prev_rev})"
                 f"/in_dcf_sales_to_capital)*DCF!{dcol}${D.R['df']}", "usd_bn"),
        ]  # fmt: skip
    rev10 = f"{col(YEAR_COLS[10])}{r}"
    ebit11 = f"in_dcf_target_margin*{rev10}*(1+in_dcf_terminal_growth)"
    nopat11 = f"({ebit11}-MAX({ebit11},0)*in_dcf_tax_rate)"
    df10 = f"DCF!{col(D.LAST_YEAR)}${D.R['df']}"
    pvs = "+".join(f"{col(YEAR_COLS[t] + 2)}{r}" for t in range(1, 11))
    cells += [
        (TV_COL, f"={nopat11}*(1-in_dcf_terminal_growth/in_dcf_terminal_roc)"
                 f"/(in_dcf_mature_coc-in_dcf_terminal_growth)*{df10}", "usd_bn"),
        (EQ_COL, f"=(1-in_dcf_prob_failure)*({pvs}+{col(TV_COL)}{r})"
                 f"+in_dcf_prob_failure*in_dcf_distress*tgt_mv_usd+in_dcf_cash-in_dcf_debt",
         "usd_bn"),
        (F_COL, f"={col(EQ_COL)}{r}-tgt_mv_usd", "usd_bn"),
    ]  # fmt: skip
    return cells


def _growth(book: Book, sheet: Sheet) -> None:
    top = GROWTH_TOP
    sheet.section(top - 4, "Years 2-5 revenue growth that today's market value implies (DCF)")
    sheet.label(top - 3, "Implied growth, years 2-5")
    last = top + 2 + STEPS
    result = f'=IF(SIGN({col(F_COL)}{top})<>SIGN({col(F_COL)}{top + 1}),D{last},"n/a")'
    sheet.put(top - 3, 3, result, "output", "pct2", "out_implied_growth")
    sheet.label(top - 2, "Bracket searched", "")
    sheet.put(top - 2, 3, LO, "calc", "pct")
    sheet.put(top - 2, 4, HI, "calc", "pct")
    headers = ["Step", "Low", "High", "Growth tried", "Equity value", "Equity - market value"]
    for t in range(1, 11):
        headers += [f"Revenue {t}", f"Losses c/f {t}", f"PV FCFF {t}"]
    headers += ["PV terminal"]
    sheet.headers(top - 1, headers)
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
    sheet.ws.print_area = f"A1:{col(F_COL)}{last}"  # the year-by-year detail is for the screen
    book.check("DCF-implied growth: the bracket holds a solution",
               f"SIGN({TITLE}!{col(F_COL)}{top})<>SIGN({TITLE}!{col(F_COL)}{top + 1})")  # fmt: skip


# --- the same quantities in Python ---------------------------------------------------------------


def compute(v: dict[str, Any]) -> None:
    mv = v["tgt_mv_usd"]
    for s in SCENARIOS:
        args = {
            "tam": v["scenario_tam"], "margin": v[f"in_margin_{s}"],
            "exit_multiple": v[f"in_exit_pe_{s}"], "cost_of_equity": v[f"in_coe_{s}"],
            "years": v["scenario_years"], "shares_outstanding": 1.0,
            "prob_success": v[f"in_prob_success_{s}"],
            "distress_value": v[f"in_distress_{s}"] * mv, "dilution": v[f"in_dilution_{s}"],
        }  # fmt: skip
        # The closed form the sheet shows, from the core's scenario at share 0 and 1; the core's
        # implied_share gives the same when the answer lies in 0..1 (it refuses otherwise).
        v0 = core.tam_scenario(0.0, **args).value
        slope = core.tam_scenario(1.0, **args).value - v0
        name = "out_implied_share" + ("" if s == "base" else f"_{s}")
        v[name] = (mv - v0) / slope if slope > 0 else None
    inputs = dcf_sheet.dcf_inputs(v)
    inputs.pop("growth_y2_5")
    inputs["fx"] = 1.0
    try:
        v["out_implied_growth"] = core.implied_growth(mv, lo=LO, hi=HI, **inputs)
    except core.InputError:
        v["out_implied_growth"] = None

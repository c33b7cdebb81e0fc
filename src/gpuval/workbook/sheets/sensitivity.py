"""Sensitivity: two-way grids of the Base scenario's value in the listing currency (per share, or
the equity value for a company without a share count), as live formulas.

Each cell repeats the scenario equation (see :mod:`gpuval.workbook.sheets.scenarios`) with its
row and column inputs taken from the grid's axes and everything else from the Base column; the axes
run Bear, halfway, Base, halfway, Bull. Each cell is shaded against today's price (``tgt_now``, the
market value for a company without a share count) by conditional formatting: green at or above
it, red below; the Base case (the centre) is boxed. The core's
:func:`gpuval.core.sensitivity_grid` over :func:`gpuval.core.tam_scenario` gives the same numbers.
"""

from __future__ import annotations

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Border, Font, PatternFill, Side

from gpuval.core.tam import (
    discount_factor_xl,
    exit_value_xl,
    failure_value_xl,
    scenario_value_xl,
    success_value_xl,
)
from gpuval.core.units import LISTING_VALUE_LABEL_XL, TODAY_LABEL_XL, listing_value_xl
from gpuval.workbook.sheets import scenarios as sc
from gpuval.workbook.sheets.base import Book, Sheet, col

TITLE = "Sensitivity"
GRIDS = [
    # (title, row input, column input, formats, corner label)
    ("Base value: exit P/E (down) x 2029 market share (across)", "exit_pe", "share",
     "multiple", "pct2", "Exit P/E (down) by 2029 market share (across)"),
    ("Base value: cost of equity (down) x probability of success (across)", "coe",
     "prob_success", "pct", "pct",
     "Cost of equity (down) by probability of success (across)"),
]  # fmt: skip
SIZE = 5
PRICE = "tgt_now"
"""The shading threshold: today's price, or the market value without a share count."""
ABOVE = ("FFC6EFCE", "FF006100")  # (fill, font): at or above today
BELOW = ("FFFFC7CE", "FF9C0006")  # below today
BASE_BOX = Side(style="thick", color="FF1F3864")

GRID_TOP = {0: 5, 1: 15}


def axis(key: str, i: int) -> str:
    """Axis point i of 0..4: Bear, halfway to Base, Base, halfway to Bull, Bull."""
    row = sc.R[key]
    points = [f"Scenarios!$C${row}", f"(Scenarios!$C${row}+Scenarios!$D${row})/2",
              f"Scenarios!$D${row}", f"(Scenarios!$D${row}+Scenarios!$E${row})/2",
              f"Scenarios!$E${row}"]  # fmt: skip
    return "=" + points[i]


def cell_formula(row_key: str, col_key: str, row_ref: str, col_ref: str) -> str:
    """Base value per share with two inputs replaced (absolute refs to the Base column)."""

    def scenario(key: str) -> str:
        return f"Scenarios!$D${sc.R[key]}"

    def base(key: str) -> str:
        return {row_key: row_ref, col_key: col_ref}.get(key) or scenario(key)

    exit_value = exit_value_xl(base("share"), scenario("tam"), base("margin"), base("exit_pe"))
    pv = f"{exit_value}*{discount_factor_xl(base('coe'), scenario('years'))}"
    success = success_value_xl(pv, base("dilution"))
    fails = failure_value_xl(success, scenario("fail_fraction"))
    value = scenario_value_xl(success, base("prob_success"), fails)
    return "=" + listing_value_xl(f"({value})")


def write(book: Book) -> Sheet:
    sheet = Sheet(
        book, TITLE, "Two-way grids of the Base value, per share or equity value (live formulas)."
    )
    sc.not_a_china_peer(sheet, f"these grids vary the Base scenario, {sc.OUT_OF_VALUATION}")
    sheet.widths({"A": 30, "B": 12} | {col(c): 12 for c in range(3, 3 + SIZE)})
    for g, (title, row_key, col_key, row_fmt, col_fmt, corner) in enumerate(GRIDS):
        top = GRID_TOP[g]
        sheet.section(top, title)
        sheet.put(top + 2 + SIZE, 1, '="Each cell: "&' + LISTING_VALUE_LABEL_XL[1:], "calc")
        sheet.put(top + 3 + SIZE, 1, TODAY_LABEL_XL, "calc")
        sheet.put(top + 3 + SIZE, 2, f"={PRICE}", "link", "value")
        sheet.put(top + 3 + SIZE, 3, "Cells at or above it green, below it red; the Base case "
                  "boxed.", "note")  # fmt: skip
        sheet.put(top + 1, 1, corner, "header")
        sheet.ws.row_dimensions[top + 1].height = 30  # room for two wrapped lines
        for j in range(SIZE):
            sheet.put(top + 1, 3 + j, axis(col_key, j), "link", col_fmt)
        for i in range(SIZE):
            r = top + 2 + i
            sheet.put(r, 2, axis(row_key, i), "link", row_fmt)
            for j in range(SIZE):
                c = col(3 + j)
                formula = cell_formula(row_key, col_key, f"$B{r}", f"{c}${top + 1}")
                sheet.put(r, 3 + j, formula, "calc", "value")
        _shade(sheet, f"C{top + 2}:{col(2 + SIZE)}{top + 1 + SIZE}")
        box = sheet.ws.cell(top + 2 + SIZE // 2, 3 + SIZE // 2)
        box.border = Border(left=BASE_BOX, right=BASE_BOX, top=BASE_BOX, bottom=BASE_BOX)
        centre = f"{TITLE}!{col(3 + SIZE // 2)}{top + 2 + SIZE // 2}"
        base = f"Scenarios!D{sc.R['listing']}"
        book.check(
            f"Sensitivity grid {g + 1}: the centre equals the Base value",
            f"ABS({centre}-{base})<=1E-9*ABS({base})",
        )
    sheet.freeze(f"A{GRID_TOP[0] - 1}")  # stacked grids: below the title block
    return sheet


def _shade(sheet: Sheet, ref: str) -> None:
    """Green at or above today's price, red below (conditional formats on the grid ``ref``)."""
    for operator, (fill, font) in (("greaterThanOrEqual", ABOVE), ("lessThan", BELOW)):
        rule = CellIsRule(operator=operator, formula=[PRICE], fill=PatternFill("solid",
                          bgColor=fill), font=Font(color=font))  # fmt: skip
        sheet.ws.conditional_formatting.add(ref, rule)
